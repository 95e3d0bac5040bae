#!/usr/bin/env bash
# Install what Trainyard needs to build, test and run, from Debian's packages.
# Safe to run again: it installs only what is missing.  Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libhwloc-dev
  libsqlite3-dev libjansson-dev libsodium-dev libyaml-dev libcmocka-dev
  python3 python3-zmq python3-protobuf python3-yaml protobuf-compiler procps
  python3-torch iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
