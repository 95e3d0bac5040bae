#!/usr/bin/env bash
# The whole thing on one machine, with no configuration: installs the
# dependencies, builds, starts a scheduler and two workers in a temp dir on
# free loopback ports, runs example jobs through them (generate data ->
# train two loan-default models in parallel, checkpointing -> pick the
# best), shows `yard nodes`, `yard queue`, `yard logs`, `yard metrics` and
# `yard checkpoints`; then runs the loan-default
# pipeline (examples/loan/pipeline.yaml: prep -> train -> evaluate ->
# register), runs it again to show prep reused, and adds a drifted version
# of the data set, whose trigger runs the drift check and the retraining
# (examples/loan/retrain-on-drift.yaml); and stops everything it started.
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

echo "== starting two workers (w1, w2: 2 CPUs each, their own work dirs)"
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
echo "== part 1: plain jobs, submitted one by one with 'yard submit'"
echo
echo "== job 1: generate the loan-default data set (seeded, synthetic)"
prep=$(yard submit --name prep -- $PY "$repo/examples/loan/gen_loans.py" --out "$dir/data")
yard wait "$prep"
yard logs "$prep"

echo
echo "== jobs 2 and 3: train two models in parallel (a checkpoint every 100 steps)"
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
echo "-- yard checkpoints $t2 (each one announced by the trainer on its metrics"
echo "   channel, stored at once in the scheduler's artifact store; the newest"
echo "   2 are kept, and a job that ends early resumes from the newest)"
yard checkpoints "$t2"

echo
echo "== job 4: pick the best model"
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

# ---- pipelines ---------------------------------------------------------

# The run id from `yard --json pipeline run ...` (the first "id" field).
run_id() {
  yard --json pipeline run "$@" | sed -n 's/^ *"id": *\([0-9]*\),*$/\1/p' | head -n 1
}

echo
echo "== part 2: pipelines (yard pipeline run FILE): steps become jobs when"
echo "   their needs are met, and pass data as artifacts that the workers"
echo "   stage in (\$YARD_INPUTS) and collect (\$YARD_OUTPUTS)"

pp=(--param "bin=$bin/examples/loan" --param "tools=$bin/tools"
    --param "py=$PY" --param epochs=3)
echo
echo "== yard dataset add loans (version 1: the applicants of gen_loans.py)"
$PY "$repo/examples/loan/gen_loans.py" --out "$dir/loans-v1"
yard dataset add loans "$dir/loans-v1"

echo
echo "== the loan-default pipeline: prep -> train -> evaluate -> register"
r1=$(run_id "$repo/examples/loan/pipeline.yaml" "${pp[@]}")
yard pipeline wait "$r1"
yard model list

echo
echo "== the same pipeline again: prep is reused (same code, same data)"
r2=$(run_id "$repo/examples/loan/pipeline.yaml" "${pp[@]}")
yard pipeline wait "$r2"
echo "-- yard pipeline explain $r2 prep (why prep did not run again)"
yard pipeline explain "$r2" prep
echo "-- yard model show loan-default (the retrained model is no better than"
echo "   version 1: \"metric acc > latest\" did not register it)"
yard model show loan-default

echo
echo "== drift: each new version of loans runs the drift check, which"
echo "   retrains when the largest PSI is above 0.2"
yard trigger add loans-drift --on dataset:loans \
  "$repo/examples/loan/retrain-on-drift.yaml" "${pp[@]}"
$PY "$repo/examples/loan/gen_loans.py" --out "$dir/loans-v2" --drift 0.5 --seed 7
yard dataset add loans "$dir/loans-v2"
r3=
for _ in $(seq 100); do
  r3=$(yard --json trigger list | sed -n 's/^ *"last_run": *\([1-9][0-9]*\),*$/\1/p' | head -n 1)
  [ -n "$r3" ] && break
  sleep 0.1
done
[ -n "$r3" ] || { echo "the trigger started no run" >&2; exit 1; }
yard trigger list
echo "-- yard pipeline wait $r3 (the run the trigger started)"
yard pipeline wait "$r3"
drift_job=$(yard --json pipeline status "$r3" | sed -n 's/^ *"job_id": *\([0-9]*\),*$/\1/p' | head -n 1)
echo "-- yard logs $drift_job (the drift check: PSI and KS per column, also its metrics)"
yard logs "$drift_job"
yard metrics --key psi_max "$drift_job"
echo "-- yard model show loan-default (version 2: retrained on the drifted data)"
yard model show loan-default

cat <<EOF

== done.  What ran:
   - jobs: data generation, two trainers in parallel (their metrics and
     checkpoints in the scheduler), a pick-the-best job, a job stopped at
     its time limit;
   - the loan-default pipeline twice (the second run reused prep and
     registered nothing: its model was no better), then a new, drifted
     version of the loans dataset, whose trigger ran the drift check and
     retrained, registering loan-default version 2.

   Where to look next:
   - examples/loan/pipeline.yaml and examples/loan/retrain-on-drift.yaml,
     examples/loan/train_loan.c (a resumable trainer: checkpoints, metrics);
   - docs/user-guide.md (jobs, logs, metrics, checkpoints), docs/pipelines.md,
     docs/resumable-jobs.md, docs/admin-guide.md (running it for real);
   - YARD_DEMO_KEEP=1 scripts/demo.sh keeps the scheduler's state, the
     workers' dirs and the daemons' logs (scheduler.log, w1.log, w2.log).
EOF
