#!/usr/bin/env bash
# Runs the worker-process shutdown tests RUNS times each under CPU load and counts failures.
#
#   DATABASE_URL=... REDIS_URL=... bash scripts/stress_worker_stop.sh [RUNS]     (default 50)
#
# The two tests start a real `python -m workers`, let it work, then stop it with SIGTERM and
# assert exit status 0 (issue 12: under load they once exited 1 with a CancelledError). The load
# is `stress-ng --cpu 2` (apt-get install -y stress-ng), started here and stopped at the end.
# Each run is its own pytest process, so every run starts a fresh worker. Prints one line per
# run and a summary; the exit status is 1 when any run failed. Logs of failed runs are kept in
# $LOG_DIR (default /tmp/stress_worker_stop).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-50}"
LOAD="${STRESS_CPU:-2}"
LOG_DIR="${LOG_DIR:-/tmp/stress_worker_stop}"
PY="$ROOT/.venv/bin/python"
TESTS=(
  "tests/workers/test_worker_process.py::test_worker_process_sweeps_and_runs_due_timers"
  "tests/workers/test_recalc_process.py::test_sigkill_mid_nightly_batch_resumes_to_the_uninterrupted_state"
  "tests/workers/test_worker_process.py::test_sigterm_during_start_up_exits_cleanly"
)

command -v stress-ng >/dev/null || { echo "stress-ng is missing: apt-get install -y stress-ng" >&2; exit 2; }
mkdir -p "$LOG_DIR"
cd "$ROOT"

stress-ng --cpu "$LOAD" --timeout 0 --quiet &
STRESS_PID=$!
trap 'kill "$STRESS_PID" 2>/dev/null || true; wait "$STRESS_PID" 2>/dev/null || true' EXIT

declare -A failed=()
for t in "${TESTS[@]}"; do failed[$t]=0; done
started=$(date +%s)
for ((i = 1; i <= RUNS; i++)); do
  log="$LOG_DIR/run$i.log"
  "$PY" -m pytest -q -p no:cacheprovider -rA "${TESTS[@]}" >"$log" 2>&1 || true
  line="run $i/$RUNS:"
  bad=0
  for t in "${TESTS[@]}"; do
    if grep -q "^PASSED $t" "$log"; then
      line+=" ok"
    else
      failed[$t]=$((failed[$t] + 1)); bad=1
      line+=" FAIL(${t##*::})"
    fi
  done
  echo "$line"
  [[ $bad == 0 ]] && rm -f "$log"
done
elapsed=$(( $(date +%s) - started ))

total=0
echo
echo "under stress-ng --cpu $LOAD on $(nproc) vCPU ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $RUNS runs in ${elapsed} s:"
for t in "${TESTS[@]}"; do
  echo "  ${t##*::}: $RUNS runs, ${failed[$t]} failed"
  total=$((total + failed[$t]))
done
[[ $total == 0 ]] || { echo "logs of failed runs: $LOG_DIR"; exit 1; }
