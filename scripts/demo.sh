#!/usr/bin/env bash
# The whole thing on one machine, with no configuration: installs the
# dependencies, builds, starts a scheduler and two workers in a temp dir on
# free loopback ports, runs the example training pipeline through them
# (prepare data -> train two models in parallel -> evaluate), shows
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
echo "== pipeline step 1: prepare the data"
prep=$(yard submit --name prep -- $PY "$repo/examples/prep_data.py" --out "$dir/data")
yard wait "$prep"
yard logs "$prep"

echo
echo "== pipeline step 2: train two models in parallel (checkpointing every epoch)"
t1=$(yard submit --name train-lr0.05 --time 10m -- $PY "$repo/examples/train.py" \
       --data "$dir/data" --model "$dir/models/lr0.05.json" --epochs 6 --lr 0.05)
t2=$(yard submit --name train-lr0.5 --time 10m -- $PY "$repo/examples/train.py" \
       --data "$dir/data" --model "$dir/models/lr0.5.json" --epochs 6 --lr 0.5)
yard queue
echo "-- yard logs -f $t1"
yard logs -f "$t1"
yard wait "$t1"
yard wait "$t2"

echo
echo "== pipeline step 3: evaluate"
ev=$(yard submit --name evaluate -- $PY "$repo/examples/evaluate.py" --data "$dir/data" \
       "$dir/models/lr0.05.json" "$dir/models/lr0.5.json")
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
