#!/usr/bin/env bash
# scripts/gpu-check.sh on a node of two stand-in GPUs: YARD_FAKE_GPUS gives
# the worker its GPUs, and an nvidia-smi made from the same list answers the
# script's questions (and the job's).  What needs a real GPU (the CUDA
# trainer, PyTorch on CUDA, NCCL) is skipped; everything else must pass.
#   gpu_check_fake.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/yard-gpufake.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/gpus" <<'EOT'
# PCI_BUS_ID UUID MEMORY_MIB NAME...
0000:17:00.0 GPU-6b1c0000-1111-4222-8333-944455556660 81559 NVIDIA H100 80GB HBM3
0000:65:00.0 GPU-6b1c0001-1111-4222-8333-944455556661 81559 NVIDIA H100 80GB HBM3
EOT
mkdir "$tmp/bin"
cat >"$tmp/bin/nvidia-smi" <<EOT
#!/bin/sh
# a stand-in for nvidia-smi, from $tmp/gpus
grep -v '^#' "$tmp/gpus" | awk -v q="\$*" '
  { name = \$4; for (i = 5; i <= NF; i++) name = name " " \$i }
  q ~ /name/   { print name; next }
  q ~ /bus_id/ { print "0000" \$1; next }
  q == "-L"    { printf "GPU %d: %s (UUID: %s)\n", NR - 1, name, \$2 }'
EOT
chmod +x "$tmp/bin/nvidia-smi"
out=$(PATH="$tmp/bin:$PATH" YARD_FAKE_GPUS="$tmp/gpus" \
      YARD_PY=${YARD_PY:-/usr/bin/python3} TMPDIR="$tmp" \
      "$here/../../scripts/gpu-check.sh" "$build" 2>&1) || {
  echo "$out"
  exit 1
}
echo "$out"
# the checks that need no real GPU all ran
for want in "worker found 2 GPU(s)" "model name matches" "PCI bus id matches" \
            "job sees one GPU" "jobs holding all GPUs did not overlap"; do
  echo "$out" | grep -q "^ok   $want" || { echo "missing: ok $want"; exit 1; }
done
echo "$out" | grep -qE '^(ok   cgroup (v1|v2)|skip cgroups: the worker runs without)' \
  || { echo "missing: cgroup check"; exit 1; }
