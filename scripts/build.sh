#!/usr/bin/env bash
# Configure and build into build/ (or $1), with the flags given after it.
#   scripts/build.sh [DIR] [cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir"
