#!/usr/bin/env bash
# The whole thing on one machine, with no configuration: installs the
# dependencies, builds, starts a scheduler and two workers in a temp dir on
# free loopback ports, runs the example training pipeline through them
# (generate data -> train two loan-default models in parallel -> pick the
# best), shows
# `yard nodes`, `yard queue` and `yard logs`, and stops everything it started.
#
#   scripts/demo.sh            (YARD_DEMO_KEEP=1 keeps the temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
scripts/setup.sh
echo "== building"
scripts/build.sh build >/dev/null

bin=$repo/build
PY=/usr/bin/python3
dir=$(mktemp -d "${TMPDIR:-/tmp}/yard-demo.XXXXXX")
pids=()

cleanup() {
  status=$?
  echo "== stopping the workers and the scheduler"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    echo "demo failed; daemon logs:" >&2
    tail -n 20 "$dir"/*.log >&2 || true
  fi
  if [ "${YARD_DEMO_KEEP:-0}" = 1 ]; then
    echo "files kept in $dir"
  else
    rm -rf "$dir"
  fi
  exit "$status"
}
trap cleanup EXIT INT TERM

echo "== starting yard-scheduler in $dir"
"$bin/scheduler/yard-scheduler" --state-dir "$dir/scheduler" \
  --client-endpoint tcp://127.0.0.1:0 --worker-endpoint tcp://127.0.0.1:0 \
  >"$dir/scheduler.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$dir/scheduler/endpoints" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "scheduler exited" >&2; exit 1; }
  sleep 0.1
done
client_ep=$(sed -n 's/^client=//p' "$dir/scheduler/endpoints")
worker_ep=$(sed -n 's/^worker=//p' "$dir/scheduler/endpoints")
export YARD_SCHEDULER=$client_ep
yard() { "$bin/client/yard" "$@"; }

echo "== starting two workers"
for w in w1 w2; do
  "$bin/worker/yard-worker" --scheduler "$worker_ep" --name "$w" \
    --work-dir "$dir/$w" --cpus 2 >"$dir/$w.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 100); do
  [ "$(yard --json nodes | grep -o '"UP"' | wc -l)" -ge 2 ] && break
  sleep 0.1
done
yard nodes

echo
echo "== pipeline step 1: generate the loan-default data set (seeded, synthetic)"
prep=$(yard submit --name prep -- $PY "$repo/examples/loan/gen_loans.py" --out "$dir/data")
yard wait "$prep"
yard logs "$prep"

echo
echo "== pipeline step 2: train two models in parallel (checkpoints every 100 steps)"
trainer=$bin/examples/loan/train_loan
t1=$(yard submit --name train-logreg --time 10m -- "$trainer" --data "$dir/data" \
       --model logreg --epochs 5 --step-delay-ms 2 --out "$dir/models/logreg.txt")
t2=$(yard submit --name train-mlp --time 10m -- "$trainer" --data "$dir/data" \
       --model mlp --hidden 16 --epochs 5 --step-delay-ms 2 --out "$dir/models/mlp.txt")
yard queue
echo "-- yard logs -f $t2"
yard logs -f "$t2"
yard wait "$t1"
yard wait "$t2"
echo "-- yard metrics $t2 (what the trainer reported on YARD_METRICS_FD)"
yard metrics "$t2"

echo
echo "== pipeline step 3: pick the best model"
ev=$(yard submit --name pick-best -- $PY "$repo/examples/loan/pick_best.py" \
       "$dir/models/logreg.txt" "$dir/models/mlp.txt")
yard wait "$ev"
yard logs "$ev"

echo
echo "== a job that overruns its time limit is stopped (TIMEOUT, exit 124)"
slow=$(yard submit --name too-slow --time 2s --grace 1s -- sleep 60)
rc=0; yard wait "$slow" || rc=$?
echo "yard wait exited $rc"

echo
echo "== yard queue --all"
yard queue --all
yard status "$t2"
