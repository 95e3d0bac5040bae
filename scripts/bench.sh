#!/usr/bin/env bash
# Benchmarks on a local cluster (a scheduler and 2 workers on loopback, in a
# temp dir), printed as a markdown block for docs/benchmarks.md:
#   - raw fork/exec rate of `true` on this machine (the physical limit)
#   - 1,000 `true` jobs end to end on 2 workers (median of RUNS runs)
#   - 10,000 `true` jobs end to end on 2 workers, as one array (one run)
#   - both as arrays again with successors (yard-scheduler --dispatch-ahead)
#   - submit-to-process-start latency on an idle worker, p50/p99, next to
#     the raw spawn-to-start latency of the same command
#   - the scheduler core: 1,000 simulated workers (yard-loadgen) at queue
#     depths of 1K, 100K and 1M pending jobs: pipelined submissions/s,
#     scheduling jobs/s, the same per second of scheduler CPU time (the
#     rate with a core to itself), scheduler RSS per pending job, and the
#     acknowledgement latency of one more client submitting one job at a
#     time meanwhile (in the load generator's polling loop, and on a
#     thread and ZeroMQ context of its own)
#   - metrics: 100 simulated jobs streaming MetricsBatch (points stored/s)
#   - submission from one libyard client to a scheduler with no worker
#     (each acknowledged, so committed), jobs/s: arrays of 10,000 jobs,
#     10,000 different jobs through yard_submit_many, 1,000 one at a time
#
#   scripts/bench.sh [JOBS (1000)] [RUNS (3)] [LATENCY_SAMPLES (200)]
#   scripts/bench.sh --quick    each piece briefly, one run (CI: it checks
#                               that every piece works, not how fast)
#   YARD_BENCH_BUILD=DIR        use the binaries built in DIR
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ "${1:-}" = --quick ]; then
  jobs=50 runs=1 samples=10 big=200
  depths=(1000 10000) core_workers=50 core_measure=2000
  metric_jobs=10 metric_points=2000
else
  jobs=${1:-1000}
  runs=${2:-3}
  samples=${3:-200}
  big=10000
  depths=(1000 100000 1000000) core_workers=1000 core_measure=30000
  metric_jobs=100 metric_points=20000
fi
# YARD_BENCH_BUILD names a tree built already (scripts/test.sh passes its
# own); otherwise a Release tree is built in build-bench/.
if [ -n "${YARD_BENCH_BUILD:-}" ]; then
  bin=$(cd "$YARD_BENCH_BUILD" && pwd)
else
  scripts/setup.sh
  scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  bin=$repo/build-bench
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/yard-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

start_cluster() {   # $1: state dir name; the rest: scheduler options
  local name=$1; shift
  "$bin/scheduler/yard-scheduler" --state-dir "$dir/$name" --log-level warning \
    --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
    "$@" >>"$dir/scheduler.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$dir/$name/endpoints" ] && break; sleep 0.05; done
  export YARD_SCHEDULER=$(sed -n 's/^client=//p' "$dir/$name/endpoints")
  local wep; wep=$(sed -n 's/^worker=//p' "$dir/$name/endpoints")
  for w in w1 w2; do
    "$bin/worker/yard-worker" --scheduler "$wep" --name "$w" --cpus 2 \
      --work-dir "$dir/$name-$w" --log-level warning >>"$dir/$w.log" 2>&1 &
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

fe=(); tp=(); ta=(); tah=(); p50=(); p99=(); r50=(); r99=()
ahead_ms=1000
fe_big=$("$bin/tests/yard-bench" forkexec "$big" 4 | field per_s)
start_cluster big
out=$("$bin/tests/yard-bench" array "$big")
t_big=$(echo "$out" | field wall_s)
sub_big=$(echo "$out" | field submit_s)
stop_cluster
echo "$big jobs as one array: $t_big s (forkexec $fe_big/s)" >&2
# the same with successors (yard-scheduler --dispatch-ahead)
start_cluster big-ahead --dispatch-ahead "$ahead_ms"
t_big_ahead=$("$bin/tests/yard-bench" array "$big" | field wall_s)
stop_cluster
echo "$big jobs as one array, --dispatch-ahead $ahead_ms: $t_big_ahead s" >&2

for r in $(seq "$runs"); do
  fe+=("$("$bin/tests/yard-bench" forkexec "$jobs" 4 | field per_s)")
  start_cluster "run$r"
  tp+=("$("$bin/tests/yard-bench" throughput "$jobs" | field wall_s)")
  ta+=("$("$bin/tests/yard-bench" array "$jobs" | field wall_s)")
  out=$("$bin/tests/yard-bench" latency "$samples")
  p50+=("$(echo "$out" | field p50_ms)"); p99+=("$(echo "$out" | field p99_ms)")
  out=$("$bin/tests/yard-bench" startlat "$samples")
  r50+=("$(echo "$out" | field p50_ms)"); r99+=("$(echo "$out" | field p99_ms)")
  stop_cluster
  start_cluster "run$r-ahead" --dispatch-ahead "$ahead_ms"
  tah+=("$("$bin/tests/yard-bench" array "$jobs" | field wall_s)")
  stop_cluster
  echo "run $r: forkexec ${fe[-1]}/s, $jobs jobs in ${tp[-1]} s (array ${ta[-1]} s, with successors ${tah[-1]} s), latency p50 ${p50[-1]} ms p99 ${p99[-1]} ms" >&2
done

declare -A core_rate core_cpu core_sub core_rss
probe50=(); probe99=(); client50=(); client99=()
for depth in "${depths[@]}"; do
  rates=(); cpus=(); subs=(); rss=()
  for r in $(seq "$runs"); do
    sdir=$dir/core-$depth-$r
    "$bin/scheduler/yard-scheduler" --state-dir "$sdir" --log-level err \
      --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
      >>"$dir/core.log" 2>&1 &
    spid=$!
    for _ in $(seq 200); do [ -s "$sdir/endpoints" ] && break; sleep 0.05; done
    out=$("$bin/tests/yard-loadgen" "$(sed -n 's/^client=//p' "$sdir/endpoints")" \
          "$(sed -n 's/^worker=//p' "$sdir/endpoints")" "$core_workers" \
          "$depth" "$core_measure" "$spid")
    kill -TERM "$spid"; wait "$spid" || true
    [ "$depth" = "${depths[-1]}" ] && [ "$r" = "$runs" ] && keep=$sdir || rm -rf "$sdir"
    rates+=("$(echo "$out" | field sched_jobs_per_s)")
    cpus+=("$(echo "$out" | field sched_jobs_per_cpu_s)")
    if [ "$depth" = "${depths[0]}" ]; then
      probe50+=("$(echo "$out" | field probe_p50_ms)")
      probe99+=("$(echo "$out" | field probe_p99_ms)")
      client50+=("$(echo "$out" | field client_p50_ms)")
      client99+=("$(echo "$out" | field client_p99_ms)")
    fi
    subs+=("$(echo "$out" | field submit_per_s)")
    rss+=("$(echo "$out" | field rss_bytes_per_pending)")
    echo "core depth $depth run $r: $out" >&2
  done
  core_rate[$depth]=$(printf '%s\n' "${rates[@]}" | median)
  core_cpu[$depth]=$(printf '%s\n' "${cpus[@]}" | median)
  core_sub[$depth]=$(printf '%s\n' "${subs[@]}" | median)
  core_rss[$depth]=$(printf '%s\n' "${rss[@]}" | median)
done

# metrics: simulated jobs stream points; the rate at which they are stored
mrate=(); mcpu=()
for r in $(seq "$runs"); do
  sdir=$dir/metrics-$r
  "$bin/scheduler/yard-scheduler" --state-dir "$sdir" --log-level err \
    --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
    >>"$dir/core.log" 2>&1 &
  spid=$!
  for _ in $(seq 200); do [ -s "$sdir/endpoints" ] && break; sleep 0.05; done
  out=$("$bin/tests/yard-loadgen" --metrics \
        "$(sed -n 's/^client=//p' "$sdir/endpoints")" \
        "$(sed -n 's/^worker=//p' "$sdir/endpoints")" "$metric_jobs" \
        "$metric_points" "$spid")
  kill -TERM "$spid"; wait "$spid" || true
  rm -rf "$sdir"
  mrate+=("$(echo "$out" | field points_per_s)")
  mcpu+=("$(echo "$out" | field points_per_cpu_s)")
  echo "metrics run $r: $out" >&2
done

# array submission: arrays of $big jobs to a scheduler with no worker, so
# that the submission is all it does; each acknowledged once committed
sdir=$dir/arrays
"$bin/scheduler/yard-scheduler" --state-dir "$sdir" --log-level err \
  --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
  >>"$dir/core.log" 2>&1 &
spid=$!
for _ in $(seq 200); do [ -s "$sdir/endpoints" ] && break; sleep 0.05; done
export YARD_SCHEDULER
YARD_SCHEDULER=$(sed -n 's/^client=//p' "$sdir/endpoints")
out=$("$bin/tests/yard-bench" submit-array "$big" $((2 * runs + 1)))
arr_rate=$(echo "$out" | field jobs_per_s)
echo "array submission: $out" >&2
# then as many different jobs through yard_submit_many, and the same one by
# one through yard_submit (a tenth as many: each waits for its commit)
out=$("$bin/tests/yard-bench" submit-many "$big" $((2 * runs + 1)))
many_rate=$(echo "$out" | field jobs_per_s)
echo "many submission: $out" >&2
out=$("$bin/tests/yard-bench" submit-one $((big / 10)) $((2 * runs + 1)))
one_rate=$(echo "$out" | field jobs_per_s)
echo "one-by-one submission: $out" >&2
unset YARD_SCHEDULER
kill -TERM "$spid"; wait "$spid" || true
rm -rf "$sdir"

# recovery: restart a scheduler on the state left by the deepest queue;
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
tah_m=$(printf '%s\n' "${tah[@]}" | median)
ahrate=$(awk -v n="$jobs" -v t="$tah_m" 'BEGIN {printf "%.0f", n / t}')
ahratio=$(awk -v r="$ahrate" -v f="$fe_m" 'BEGIN {printf "%.0f", 100 * r / f}')
bahrate=$(awk -v n="$big" -v t="$t_big_ahead" 'BEGIN {printf "%.0f", n / t}')
bahratio=$(awk -v r="$bahrate" -v f="$fe_big" 'BEGIN {printf "%.0f", 100 * r / f}')
rate=$(awk -v n="$jobs" -v t="$tp_m" 'BEGIN {printf "%.0f", n / t}')
ratio=$(awk -v r="$rate" -v f="$fe_m" 'BEGIN {printf "%.0f", 100 * r / f}')
bsub=$(awk -v n="$big" -v t="$sub_big" 'BEGIN {printf "%.0f", n / t}')
brate=$(awk -v n="$big" -v t="$t_big" 'BEGIN {printf "%.0f", n / t}')
bratio=$(awk -v r="$brate" -v f="$fe_big" 'BEGIN {printf "%.0f", 100 * r / f}')
core_row() {  # $1: depth, $2: label
  local rss=${core_rss[$1]}
  [ "$1" -le 1000 ] && rss=- || rss="$rss B"
  echo "| $2 | ${core_rate[$1]} | ${core_cpu[$1]} | ${core_sub[$1]} | $rss |"
}
label() { awk -v d="$1" 'BEGIN { if (d >= 1000000) printf "%gM", d / 1000000; else printf "%gK", d / 1000 }'; }
cat <<EOT
### $(date -u +%Y-%m-%d) — commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)

Machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/^Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r). Median of $runs runs.

| measure | result |
| --- | --- |
| raw fork/exec/wait of \`true\`, 4 at a time | $fe_m /s |
| $jobs \`true\` jobs end to end, 2 workers × 2 cpus, submitted one by one | ${tp_m} s ($rate jobs/s, ${ratio}% of raw fork/exec) |
| the same, submitted as one array | ${ta_m} s ($arate jobs/s, ${aratio}% of raw fork/exec) |
| the same with successors (\`yard-scheduler --dispatch-ahead $ahead_ms\`) | ${tah_m} s ($ahrate jobs/s, ${ahratio}% of raw fork/exec) |
| $big \`true\` jobs end to end as one array (one run; raw fork/exec $fe_big /s) | ${t_big} s ($brate jobs/s, ${bratio}% of raw fork/exec) |
| the same with successors (one run) | ${t_big_ahead} s ($bahrate jobs/s, ${bahratio}% of raw fork/exec) |
| the array submission of those $big jobs, acknowledged (committed) | ${sub_big} s ($bsub jobs/s) |
| submit → process start, idle worker, p50 | $(printf '%s\n' "${p50[@]}" | median) ms |
| submit → process start, idle worker, p99 | $(printf '%s\n' "${p99[@]}" | median) ms |
| raw spawn → process start of the same command, p50 / p99 | $(printf '%s\n' "${r50[@]}" | median) / $(printf '%s\n' "${r99[@]}" | median) ms |

Scheduler core, $core_workers simulated workers (1 cpu each, jobs end at once), $core_measure jobs measured per run:

| pending jobs | scheduling (jobs/s) | scheduling per scheduler CPU second (jobs) | pipelined submissions (jobs/s) | scheduler RSS per pending job |
| --- | --- | --- | --- | --- |
$(for d in "${depths[@]}"; do core_row "$d" "$(label "$d")"; done)

Acknowledged submissions of one more client, one job at a time, while the scheduler runs at that load with $(label "${depths[0]}") pending: p50 $(printf '%s\n' "${probe50[@]}" | median) ms, p99 $(printf '%s\n' "${probe99[@]}" | median) ms (in the load generator's polling loop); p50 $(printf '%s\n' "${client50[@]}" | median) ms, p99 $(printf '%s\n' "${client99[@]}" | median) ms (a client on a thread and ZeroMQ context of its own).

Submission from one libyard client to a scheduler with no worker, each acknowledged once committed, median of $((2 * runs + 1)) rounds: arrays of $big jobs (\`yard_submit_array\`) $arr_rate jobs/s; $big different jobs at once (\`yard_submit_many\`) $many_rate jobs/s; $((big / 10)) jobs one at a time (\`yard_submit\`) $one_rate jobs/s.

Metrics: $metric_jobs simulated jobs each sending $metric_points points in batches of 1,000 (the next once the last is acknowledged): $(printf '%s\n' "${mrate[@]}" | median) points stored/s ($(printf '%s\n' "${mcpu[@]}" | median) per scheduler CPU second).

Recovery with ~$(label "${depths[-1]}") pending jobs in state: ready ${rec_ready} s after start, first dispatch ${rec_first} s after start.
EOT
