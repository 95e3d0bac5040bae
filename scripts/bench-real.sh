#!/usr/bin/env bash
# Real processes on 2 local workers, for comparing builds on a noisy
# machine: for each pair, each build in turn (baseline first) runs, on a
# fresh cluster (a scheduler and 2 workers × 2 cpus on loopback, in a temp
# dir), `yard-bench forkexec N 4` (the raw fork/exec rate, just before),
# `yard-bench array N` (N `true` jobs end to end) and, with SAMPLES > 0,
# `yard-bench startlat` and `yard-bench latency` (raw spawn-to-start and
# submit-to-start of `date`, p50/p99).  Each run prints one line: the
# rate, its share of the raw rate, the CPU per job of the workers, of
# their children (the jobs) and of the scheduler (utime+stime from
# /proc, after the run), and the latencies.
#
#   scripts/bench-real.sh [-n JOBS (1000)] [-p PAIRS (3)] [-s SAMPLES (100)]
#                         BUILD_DIR[,SCHEDULER_OPTION...]...
#
# Options after a comma go to that run's yard-scheduler, so that one tree
# can be compared with itself: `build-bench build-bench,--dispatch-ahead,1000`.
#
# BUILD_DIRs are trees built already (e.g. a Release tree of the baseline
# and one of the change); the daemons come from each, yard-bench from the
# last one (the measuring side stays the same).  A tree with only
# yard-worker built (`--target yard-worker`) runs its worker with the last
# tree's scheduler.  scripts/bench.sh runs the full set once.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=1000 pairs=3 samples=100
while getopts n:p:s: o; do
  case $o in
    n) jobs=$OPTARG ;;
    p) pairs=$OPTARG ;;
    s) samples=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n JOBS] [-p PAIRS] [-s SAMPLES] BUILD_DIR..." >&2; exit 2; }
builds=(); sopts=(); names=()
for b in "$@"; do
  IFS=, read -r -a parts <<<"$b"
  builds+=("$(cd "${parts[0]}" && pwd)")
  sopts+=("${parts[*]:1}")   # the options, space-separated (no spaces inside)
  names+=("$b")
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/yard-bench-real.XXXXXX")
pids=()
stop_cluster() {
  local q
  for q in "${pids[@]}"; do kill -TERM "$q" 2>/dev/null || true; done
  for q in "${pids[@]}"; do wait "$q" 2>/dev/null || true; done
  pids=()
}
trap 'stop_cluster; rm -rf "$dir"' EXIT
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
# "self children" CPU of pid $1 in clock ticks: utime+stime, cutime+cstime
cpu() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13, $14 + $15 }'
}

start_cluster() {  # $1: bin dir, $2: state dir name, $3: scheduler options
  local bin=$1 sd=$dir/$2 sbin=$1
  local -a opts; read -r -a opts <<<"${3:-}"
  # a tree with the worker alone built runs with the last tree's scheduler
  [ -x "$bin/scheduler/yard-scheduler" ] || sbin=${builds[-1]}
  "$sbin/scheduler/yard-scheduler" --state-dir "$sd" --log-level warning \
    --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
    "${opts[@]}" >>"$dir/scheduler.log" 2>&1 &
  pids=($!)
  for _ in $(seq 200); do [ -s "$sd/endpoints" ] && break; sleep 0.05; done
  export YARD_SCHEDULER=$(sed -n 's/^client=//p' "$sd/endpoints")
  local wep; wep=$(sed -n 's/^worker=//p' "$sd/endpoints")
  for w in w1 w2; do
    "$bin/worker/yard-worker" --scheduler "$wep" --name "$w" --cpus 2 \
      --work-dir "$sd-$w" --log-level warning >>"$dir/$w.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 200); do
    [ "$("$sbin/client/yard" --json nodes | grep -o '"UP"' | wc -l)" -ge 2 ] && break
    sleep 0.05
  done
}

hz=$(getconf CLK_TCK)
bench=${builds[-1]}/tests/yard-bench
run=0
for p in $(seq "$pairs"); do
  for i in "${!builds[@]}"; do
    bin=${builds[$i]}
    run=$((run + 1))
    fe=$("$bench" forkexec "$jobs" 4 | field per_s)
    start_cluster "$bin" "r$run" "${sopts[$i]}"
    out=$("$bench" array "$jobs")
    wall=$(echo "$out" | field wall_s)
    read -r s_self _ < <(cpu "${pids[0]}")
    read -r w1_self w1_kids < <(cpu "${pids[1]}")
    read -r w2_self w2_kids < <(cpu "${pids[2]}")
    lat=""
    if [ "$samples" -gt 0 ]; then
      raw=$("$bench" startlat "$samples")
      sub=$("$bench" latency "$samples")
      lat=" raw_p50_ms=$(echo "$raw" | field p50_ms) raw_p99_ms=$(echo "$raw" | field p99_ms) submit_p50_ms=$(echo "$sub" | field p50_ms) submit_p99_ms=$(echo "$sub" | field p99_ms)"
    fi
    stop_cluster
    rm -rf "$dir/r$run" "$dir/r$run-w1" "$dir/r$run-w2"
    awk -v b="${names[$i]}" -v p="$p" -v n="$jobs" -v t="$wall" -v fe="$fe" -v hz="$hz" \
        -v w="$((w1_self + w2_self))" -v k="$((w1_kids + w2_kids))" -v s="$s_self" -v lat="$lat" \
      'BEGIN { printf "build=%s pair=%d jobs=%d wall_s=%.3f jobs_per_s=%.0f forkexec_per_s=%.0f ratio_pct=%.1f worker_ms_per_job=%.2f children_ms_per_job=%.2f scheduler_ms_per_job=%.2f%s\n", b, p, n, t, n / t, fe, 100 * n / t / fe, 1000 * w / hz / n, 1000 * k / hz / n, 1000 * s / hz / n, lat }'
  done
done
