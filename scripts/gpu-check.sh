#!/usr/bin/env bash
# Check the GPU path on a node with NVIDIA GPUs: starts a scheduler and a
# worker in a temp dir on free loopback ports and checks, with the real CLI,
# that
#   1. the worker finds every GPU nvidia-smi lists (model, PCI bus id,
#      memory, local CPUs) and reports them in `yard nodes`;
#   2. a --gpus 1 job sees exactly its GPU (CUDA_VISIBLE_DEVICES, nvidia-smi)
#      and runs in its own cgroup (v1 or v2) with its memory limit and CPUs;
#   3. two jobs that each want every GPU never run at the same time;
#   4. the CUDA loan trainer (train_loan_cuda, -DYARD_CUDA=ON) completes on
#      the GPU, and a run stopped mid-way with `yard requeue` resumes from its
#      checkpoint and ends with the same weights, bit for bit;
#   5. a PyTorch job that keeps the GPU busy gets its GPU use (NVML)
#      recorded: utilisation and peak memory in `yard status --json`;
#   6. a one-node gang job brings up NCCL over the GPU (torch.distributed).
# Parts 4-6 are skipped, with a line saying so, where their program is
# missing (train_loan_cuda not built, no PyTorch with CUDA).
#
#   scripts/gpu-check.sh [BUILD_DIR]     (default: build)
#   YARD_PY=python3   the Python that has PyTorch
#   YARD_GPU_CHECK_KEEP=1   keep the temp dir (logs, state)
# Exit status: 0 every check passed, 1 one failed (each prints ok/FAIL).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$(cd "${1:-build}" && pwd)
PY=${YARD_PY:-python3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/yard-gpu.XXXXXX")
pids=()
fails=0

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
skip() { echo "skip $*"; }
yard() { "$bin/client/yard" "$@"; }
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$fails" -ne 0 ]; then
    echo "-- daemon logs (tail)"
    tail -n 30 "$dir"/*.log
  fi
  if [ "${YARD_GPU_CHECK_KEEP:-0}" = 1 ]; then
    echo "files kept in $dir"
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: not a GPU node" >&2; exit 1; }
smi_names=$(nvidia-smi --query-gpu=name --format=csv,noheader)
smi_bus=$(nvidia-smi --query-gpu=pci.bus_id --format=csv,noheader)
ngpu=$(printf '%s\n' "$smi_names" | grep -c .)
echo "nvidia-smi: $ngpu GPU(s): $(printf '%s' "$smi_names" | tr '\n' ';')"
if [ -d /sys/fs/cgroup ] && [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "cgroup v2: $(cat /sys/fs/cgroup/cgroup.controllers)"
else
  echo "cgroup: v1 or none"
fi

"$bin/scheduler/yard-scheduler" --state-dir "$dir/scheduler" \
  --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
  >"$dir/scheduler.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
  [ -s "$dir/scheduler/endpoints" ] && break
  sleep 0.05
done
export YARD_SCHEDULER=$(sed -n 's/^client=//p' "$dir/scheduler/endpoints")
worker_ep=$(sed -n 's/^worker=//p' "$dir/scheduler/endpoints")
"$bin/worker/yard-worker" --scheduler "$worker_ep" --name gpu0 \
  --work-dir "$dir/w" --log-level debug >"$dir/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  yard --json nodes 2>/dev/null | grep -q '"UP"' && break
  sleep 0.05
done

# 1. discovery
nodes=$(yard --json nodes show gpu0)
echo "$nodes" >"$dir/node.json"
got=$(echo "$nodes" | jq_py 'print(len(d["topology"]["gpus"]))' 2>/dev/null || echo "?")
if [ "$got" = "$ngpu" ]; then ok "worker found $got GPU(s)"; else fail "worker found $got GPU(s), nvidia-smi $ngpu"; fi
echo "$nodes" | jq_py '
for g in d["topology"]["gpus"]:
    print("  gpu %s %s bus %s %d MiB cc %d.%d numa %d cpus %s switch %s" % (g["index"], g["name"], g["pci_bus_id"], g["memory_bytes"] >> 20, g["cc_major"], g["cc_minor"], g["numa_node"], g["local_cpus"], g["pci_switch"] or "-"))' 2>/dev/null
first_name=$(printf '%s\n' "$smi_names" | head -n1)
if echo "$nodes" | grep -qF "$first_name"; then ok "model name matches nvidia-smi ($first_name)"; else fail "model name '$first_name' not reported"; fi
first_bus=$(printf '%s\n' "$smi_bus" | head -n1 | tr 'A-F' 'a-f' | sed 's/^0000//; s/^0*//')
if echo "$nodes" | tr 'A-F' 'a-f' | grep -qF "${first_bus#:}"; then ok "PCI bus id matches nvidia-smi ($first_bus)"; else fail "PCI bus id $first_bus not reported"; fi
yard nodes

# 2. one GPU job: its GPU, its cgroup
cat >"$dir/env.sh" <<'EOF'
echo "CVD=$CUDA_VISIBLE_DEVICES"
# nvidia-smi lists every GPU of the node whatever CUDA_VISIBLE_DEVICES
# says: the one held must be among them; CUDA itself must see only it
nvidia-smi -L | grep -F "$CUDA_VISIBLE_DEVICES" | sed 's/^/SMI /'
echo "NDEV=$("$YARD_PY" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else "-")' 2>/dev/null || echo -)"
echo "AFF=$(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/self/status)"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
  echo "CG2=$cg"
  echo "MEMMAX=$(cat /sys/fs/cgroup$cg/memory.max 2>/dev/null)"
  echo "CPUSET=$(cat /sys/fs/cgroup$cg/cpuset.cpus.effective 2>/dev/null)"
else
  echo "CG1=$(grep -E ':memory:' /proc/self/cgroup | cut -d: -f3)"
fi
EOF
j=$(yard submit --name gpu-env --gpus 1 --cpus 2 --mem 2G --env YARD_PY="$PY" -- sh "$dir/env.sh")
yard wait --timeout 60s "$j" >/dev/null; rc=$?
log=$(yard logs "$j"); echo "$log" | sed 's/^/  /'
st=$(yard --json status "$j")
[ $rc -eq 0 ] && ok "gpu job completed" || fail "gpu job exit $rc"
cvd=$(echo "$log" | sed -n 's/^CVD=//p')
held=$(echo "$st" | jq_py 'print(",".join((d.get("alloc") or {}).get("gpu_uuids", [])))' 2>/dev/null)
ndev=$(echo "$log" | sed -n 's/^NDEV=//p')
if [ -n "$cvd" ] && [ "$cvd" = "$held" ] && [ "$(echo "$log" | grep -c '^SMI GPU')" = 1 ] \
   && { [ "$ndev" = - ] || [ "$ndev" = 1 ]; }; then
  ok "job sees one GPU (CUDA_VISIBLE_DEVICES=$cvd; held: $held; CUDA devices: $ndev)"
else
  fail "job sees: CUDA_VISIBLE_DEVICES='$cvd' (held '$held'), CUDA devices '$ndev'"
fi
if echo "$log" | grep -q '^CG2=.*yard'; then
  mm=$(echo "$log" | sed -n 's/^MEMMAX=//p')
  [ "$mm" = 2147483648 ] && ok "cgroup v2: memory.max $mm" || fail "cgroup v2: memory.max '$mm', want 2147483648"
  aff=$(echo "$log" | sed -n 's/^AFF=//p'); cs=$(echo "$log" | sed -n 's/^CPUSET=//p')
  [ -n "$cs" ] && [ "$aff" = "$cs" ] && ok "cgroup v2: cpuset $cs = affinity" || fail "cgroup v2: cpuset '$cs', affinity '$aff'"
elif echo "$log" | grep -q '^CG1=.*yard'; then
  ok "cgroup v1: $(echo "$log" | sed -n 's/^CG1=//p')"
elif grep -qE 'cgroups off|no writable cgroup' "$dir/worker.log"; then
  skip "cgroups: the worker runs without them here (CPU affinity only; see its log)"
else
  fail "job not in a yard cgroup: $(echo "$log" | grep '^CG')"
fi

# 3. GPU exclusivity: two jobs wanting every GPU run one after the other
a=$(yard submit --name excl-a --gpus "$ngpu" -- sh -c 'date +%s.%N; sleep 1; date +%s.%N')
b=$(yard submit --name excl-b --gpus "$ngpu" -- sh -c 'date +%s.%N; sleep 1; date +%s.%N')
yard wait --timeout 60s "$a" >/dev/null; yard wait --timeout 60s "$b" >/dev/null
ea=$(yard logs "$a" | tail -n1); sb=$(yard logs "$b" | head -n1)
if [ -n "$ea" ] && [ -n "$sb" ] && awk -v e="$ea" -v s="$sb" 'BEGIN{exit !(s >= e)}'; then
  ok "jobs holding all GPUs did not overlap"
else
  fail "GPU jobs overlapped (a ended $ea, b started $sb)"
fi

# 4. the CUDA trainer, straight and interrupted
if [ -x "$bin/examples/loan/train_loan_cuda" ]; then
  "$PY" examples/loan/gen_loans.py --out "$dir/data" >/dev/null
  T="$bin/examples/loan/train_loan_cuda --data $dir/data --model mlp --hidden 64 --epochs 3 --checkpoint-every 50"
  t0=$(date +%s.%N)
  s=$(yard submit --name cuda-straight --gpus 1 -- $T)
  yard wait --timeout 120s "$s" >/dev/null; rc=$?
  t1=$(date +%s.%N)
  fp1=$(yard logs "$s" | sed -n 's/^weights fingerprint //p')
  yard logs "$s" | grep -i 'device\|gpu\|step' | head -n 3 | sed 's/^/  /'
  [ $rc -eq 0 ] && [ -n "$fp1" ] && ok "CUDA trainer completed in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, fingerprint $fp1" \
    || fail "CUDA trainer exit $rc"
  r=$(yard submit --name cuda-requeued --gpus 1 -- $T --step-delay-ms 5)
  for _ in $(seq 600); do
    [ "$(yard --json checkpoints "$r" 2>/dev/null | grep -c '"step"')" -ge 1 ] && break
    sleep 0.05
  done
  yard requeue "$r" >/dev/null || fail "requeue refused"
  yard wait --timeout 180s "$r" >/dev/null; rc=$?
  fp2=$(yard logs "$r" | sed -n 's/^weights fingerprint //p' | tail -n1)
  att=$(yard --json status "$r" | jq_py 'print(d.get("attempt", len(d.get("attempts", []))))' 2>/dev/null)
  yard logs "$r" | grep -i 'resum' | head -n 2 | sed 's/^/  /'
  if [ $rc -eq 0 ] && [ -n "$fp2" ] && [ "$fp1" = "$fp2" ]; then
    ok "requeued CUDA run resumed (attempt $att) and ended with the same weights"
  else
    fail "requeued CUDA run: exit $rc, fingerprint '$fp2' vs '$fp1'"
  fi
else
  skip "CUDA trainer not built (configure with -DYARD_CUDA=ON)"
fi

# 5 and 6 need PyTorch with CUDA
if "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  cat >"$dir/busy.py" <<'EOF'
import json, os, time, torch
fd = int(os.environ.get("YARD_METRICS_FD", "-1"))
x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
n, t0 = 0, time.time()
while time.time() - t0 < 6:
    for _ in range(20):
        y = x @ x
    torch.cuda.synchronize()
    n += 20
    if fd >= 0:
        os.write(fd, (json.dumps({"step": n, "tflops": 2 * 8192**3 * n / (time.time() - t0) / 1e12}) + "\n").encode())
print("device", torch.cuda.get_device_name(0), "products", n)
EOF
  p=$(yard submit --name torch-busy --gpus 1 -- "$PY" "$dir/busy.py")
  yard wait --timeout 120s "$p" >/dev/null; rc=$?
  yard logs "$p" | sed 's/^/  /'
  use=$(yard --json status "$p" | jq_py 'u=d.get("usage") or {}; print(u.get("gpu_util_pct",0), u.get("gpu_peak_memory_bytes",0))' 2>/dev/null)
  echo "  usage: gpu_util_pct, gpu_peak_memory_bytes = $use"
  yard metrics "$p" 2>/dev/null | head -n 4 | sed 's/^/  /'
  util=${use%% *}; peak=${use##* }
  [ $rc -eq 0 ] && ok "PyTorch GPU job completed" || fail "PyTorch GPU job exit $rc"
  if awk -v u="${util:-0}" -v p="${peak:-0}" 'BEGIN{exit !(u > 0 && p > 100000000)}'; then
    ok "NVML use recorded: util ${util}%, peak memory $((${peak%.*} >> 20)) MiB"
  else
    fail "NVML use not recorded (util '$util', peak '$peak')"
  fi
  cat >"$dir/nccl.py" <<'EOF'
import os, torch, torch.distributed as dist
dist.init_process_group("nccl")
r = dist.get_rank()
torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
t = torch.ones(1 << 20, device="cuda") * (r + 1)
dist.all_reduce(t)
print("rank", r, "world", dist.get_world_size(), "sum", t[0].item(), "master", os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"])
dist.destroy_process_group()
EOF
  g=$(yard submit --name nccl --nodes 1 --tasks-per-node 1 --gpus-per-task 1 -- "$PY" "$dir/nccl.py")
  yard wait --timeout 120s "$g" >/dev/null; rc=$?
  yard logs "$g" | tail -n 3 | sed 's/^/  /'
  if [ $rc -eq 0 ] && yard logs "$g" | grep -q 'sum 1.0'; then ok "NCCL gang job completed"; else fail "NCCL gang job exit $rc"; fi
else
  skip "no PyTorch with CUDA in $PY: GPU use (NVML) and NCCL checks"
fi

echo "$fails check(s) failed"
[ "$fails" -eq 0 ]
