#!/usr/bin/env bash
# Kills the hub (kill -9, then SIGTERM) while its jobs run and wait, and
# restarts it over the same catalog: no job is lost. A job that ended while
# the hub was down is reported with its exit code and output; queued jobs
# run after the restart; nothing runs twice.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/lib.bash"

HUB_HOME=$WORK/hub
start_restartable_hub "$HUB_HOME"

# One CPU's worth of template, so that jobs queue behind each other.
cpus=$("$P" compute show local --json | python3 -c "import json,sys; print(json.load(sys.stdin)['millicpus']//1000)")
"$P" -q template add whole --resource local --cpus "$cpus"
marks=$WORK/marks
mkdir -p "$marks"
a=$("$P" run -d --template whole -- sh -c "echo started >>$marks/a; sleep 2; echo finished-a; exit 5")
b=$("$P" run -d --template whole -- sh -c "echo started >>$marks/b; echo finished-b")
check "the first job runs" wait_state "$a" running
check "the second waits for room" test "$(field "$b" "['state']")" = queued

kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
HUB_PID=
sleep 3  # job a ends while no hub watches
start_hub "$HUB_HOME"
check "a job that ended while the hub was down is reported" wait_state "$a" failed
check "with its exit code" test "$(field "$a" "['exit_code']")" = 5
check "and its output" bash -c "'$P' job logs $a | grep -q finished-a"
check "the queued job runs after the restart" wait_state "$b" succeeded
check "each ran exactly once" test "$(cat "$marks/a" "$marks/b" | wc -l)" = 2

# A graceful stop while a job runs: the job goes on and is picked up again.
c=$("$P" run -d --template whole -- sh -c "sleep 1; echo finished-c")
check "a new job runs" wait_state "$c" running
stop_hub
start_hub "$HUB_HOME"
check "it finishes under the restarted hub" wait_state "$c" succeeded
check "with its output" bash -c "'$P' job logs $c | grep -q finished-c"
check "and a single attempt" test "$(field "$c" "['attempts']")" = 1

finish
