#!/usr/bin/env bash
# Benchmarks on a local cluster (a scheduler and 2 workers on loopback, in a
# temp dir), printed as a markdown block for docs/benchmarks.md:
#   - raw fork/exec rate of `true` on this machine (the physical limit)
#   - 1,000 `true` jobs end to end on 2 workers (median of RUNS runs)
#   - submit-to-process-start latency on an idle worker, p50/p99
#   - the scheduler core: 1,000 simulated workers (yard-loadgen) at queue
#     depths of 1K, 100K and 1M pending jobs: pipelined submissions/s,
#     scheduling jobs/s, scheduler RSS per pending job
#
#   scripts/bench.sh [JOBS (1000)] [RUNS (3)] [LATENCY_SAMPLES (200)]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
jobs=${1:-1000}
runs=${2:-3}
samples=${3:-200}
scripts/setup.sh
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
bin=$repo/build-bench
dir=$(mktemp -d "${TMPDIR:-/tmp}/yard-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

start_cluster() {   # $1: state dir name
  "$bin/scheduler/yard-scheduler" --state-dir "$dir/$1" --log-level warning \
    --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
    >>"$dir/scheduler.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$dir/$1/endpoints" ] && break; sleep 0.05; done
  export YARD_SCHEDULER=$(sed -n 's/^client=//p' "$dir/$1/endpoints")
  local wep; wep=$(sed -n 's/^worker=//p' "$dir/$1/endpoints")
  for w in w1 w2; do
    "$bin/worker/yard-worker" --scheduler "$wep" --name "$w" --cpus 2 \
      --work-dir "$dir/$1-$w" --log-level warning >>"$dir/$w.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 200); do
    [ "$("$bin/client/yard" --json nodes | grep -o '"UP"' | wc -l)" -ge 2 ] && break
    sleep 0.05
  done
}
stop_cluster() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

fe=(); tp=(); ta=(); p50=(); p99=()
for r in $(seq "$runs"); do
  fe+=("$("$bin/tests/yard-bench" forkexec "$jobs" 4 | field per_s)")
  start_cluster "run$r"
  tp+=("$("$bin/tests/yard-bench" throughput "$jobs" | field wall_s)")
  ta+=("$("$bin/tests/yard-bench" array "$jobs" | field wall_s)")
  out=$("$bin/tests/yard-bench" latency "$samples")
  p50+=("$(echo "$out" | field p50_ms)"); p99+=("$(echo "$out" | field p99_ms)")
  stop_cluster
  echo "run $r: forkexec ${fe[-1]}/s, $jobs jobs in ${tp[-1]} s (array ${ta[-1]} s), latency p50 ${p50[-1]} ms p99 ${p99[-1]} ms" >&2
done

declare -A core_rate core_sub core_rss
for depth in 1000 100000 1000000; do
  rates=(); subs=(); rss=()
  for r in $(seq "$runs"); do
    sdir=$dir/core-$depth-$r
    "$bin/scheduler/yard-scheduler" --state-dir "$sdir" --log-level err \
      --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
      >>"$dir/core.log" 2>&1 &
    spid=$!
    for _ in $(seq 200); do [ -s "$sdir/endpoints" ] && break; sleep 0.05; done
    out=$("$bin/tests/yard-loadgen" "$(sed -n 's/^client=//p' "$sdir/endpoints")" \
          "$(sed -n 's/^worker=//p' "$sdir/endpoints")" 1000 "$depth" 30000 "$spid")
    kill -TERM "$spid"; wait "$spid" || true
    [ "$depth" = 1000000 ] && [ "$r" = "$runs" ] && keep=$sdir || rm -rf "$sdir"
    rates+=("$(echo "$out" | field sched_jobs_per_s)")
    subs+=("$(echo "$out" | field submit_per_s)")
    rss+=("$(echo "$out" | field rss_bytes_per_pending)")
    echo "core depth $depth run $r: $out" >&2
  done
  core_rate[$depth]=$(printf '%s\n' "${rates[@]}" | median)
  core_sub[$depth]=$(printf '%s\n' "${subs[@]}" | median)
  core_rss[$depth]=$(printf '%s\n' "${rss[@]}" | median)
done

# recovery: restart a scheduler on the state left with ~1M pending jobs;
# time from its start to ready (endpoints written) and to its first dispatch
rm -f "$keep/endpoints"
t0=$(date +%s.%N)
"$bin/scheduler/yard-scheduler" --state-dir "$keep" --log-level err \
  --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
  >>"$dir/core.log" 2>&1 &
spid=$!
for _ in $(seq 6000); do [ -s "$keep/endpoints" ] && break; sleep 0.01; done
t_ready=$(date +%s.%N)
"$bin/tests/yard-loadgen" "$(sed -n 's/^client=//p' "$keep/endpoints")" \
  "$(sed -n 's/^worker=//p' "$keep/endpoints")" 1 0 1 >/dev/null
t_first=$(date +%s.%N)
kill -TERM "$spid"; wait "$spid" || true
rm -rf "$keep"
rec_ready=$(awk -v a="$t0" -v b="$t_ready" 'BEGIN {printf "%.2f", b - a}')
rec_first=$(awk -v a="$t0" -v b="$t_first" 'BEGIN {printf "%.2f", b - a}')

fe_m=$(printf '%s\n' "${fe[@]}" | median)
tp_m=$(printf '%s\n' "${tp[@]}" | median)
ta_m=$(printf '%s\n' "${ta[@]}" | median)
arate=$(awk -v n="$jobs" -v t="$ta_m" 'BEGIN {printf "%.0f", n / t}')
aratio=$(awk -v r="$arate" -v f="$fe_m" 'BEGIN {printf "%.0f", 100 * r / f}')
rate=$(awk -v n="$jobs" -v t="$tp_m" 'BEGIN {printf "%.0f", n / t}')
ratio=$(awk -v r="$rate" -v f="$fe_m" 'BEGIN {printf "%.0f", 100 * r / f}')
cat <<EOT
### $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)

Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/^Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r). Median of $runs runs.

| measure | result |
| --- | --- |
| raw fork/exec/wait of \`true\`, 4 at a time | $fe_m /s |
| $jobs \`true\` jobs end to end, 2 workers × 2 cpus, submitted one by one | ${tp_m} s ($rate jobs/s, ${ratio}% of raw fork/exec) |
| the same, submitted as one array | ${ta_m} s ($arate jobs/s, ${aratio}% of raw fork/exec) |
| submit → process start, idle worker, p50 | $(printf '%s\n' "${p50[@]}" | median) ms |
| submit → process start, idle worker, p99 | $(printf '%s\n' "${p99[@]}" | median) ms |

Scheduler core, 1,000 simulated workers (1 cpu each, jobs end at once), 30,000 jobs measured per run:

| pending jobs | scheduling (jobs/s) | pipelined submissions (jobs/s) | scheduler RSS per pending job |
| --- | --- | --- | --- |
| 1K | ${core_rate[1000]} | ${core_sub[1000]} | - |
| 100K | ${core_rate[100000]} | ${core_sub[100000]} | ${core_rss[100000]} B |
| 1M | ${core_rate[1000000]} | ${core_sub[1000000]} | ${core_rss[1000000]} B |

Recovery with ~1M pending jobs in state: ready ${rec_ready} s after start, first dispatch ${rec_first} s after start.
EOT
