#!/usr/bin/env bash
# `proxima run` and `proxima job ...` on the local executor (docs/scheduler.md):
# exit codes, logs, environment, capacity, cancel, timeout, datasets from a
# cache volume and from private clones, and what bad input gets. Runs
# embedded (the CLI schedules) and through a hub (hub/jobs.sh).
source "$(dirname "$0")/lib/common.bash"

# The default compute exists on a fresh install.
out=$("$P" compute ls)
check "a fresh install has the local resource" grep -qE '^local +local +[0-9]+ CPU' <<<"$out"
check "and a default queue" grep -qE '^default ' <<<"$("$P" queue ls)"

# Exit codes and output come back.
out=$("$P" -q run -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 7' 2>/dev/null) && rc=0 || rc=$?
check "run returns the job's exit code" test "$rc" = 7
check "run prints the job's output" grep -q to-stdout <<<"$out"
id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
check "the failed job says why" test "$(field "$id" "['reason']")" = "exited with code 7"
check "job logs has both streams" bash -c "'$P' job logs $id | grep -q to-stderr"
check "run of a succeeding job returns 0" "$P" -q run -- true

# Environment: the job's id, --env, the output folder as working directory.
out=$("$P" -q run --env GREETING=hi -- sh -c 'echo "id=$PROXIMA_JOB_ID g=$GREETING"; pwd; echo x > made.txt')
jid=$(sed -n 's/^id=\([0-9]*\) .*/\1/p' <<<"$out")
check "the job knows its id and its --env" grep -qE "^id=[0-9]+ g=hi$" <<<"$out"
check "a job starts in its own output folder" grep -qE "^/.*/jobs/$jid/output$" <<<"$out"

# Capacity: the default template takes one CPU, so at most $(nproc) run at
# once; the rest wait, saying why.
cpus=$("$P" compute show local --json | python3 -c "import json,sys; print(json.load(sys.stdin)['millicpus']//1000)")
ids=()
for i in $(seq $((cpus + 1))); do ids+=("$("$P" run -d -- sleep 2)"); done
sleep 0.5
running=$("$P" job ls --state running --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
check "no more jobs run than the resource has CPUs ($running of $cpus)" test "$running" -le "$cpus"
last=${ids[-1]}
check "a waiting job says what it waits for" bash -c "'$P' job show $last | grep -q 'waiting for room'"
check "job wait returns once it ran" "$P" -q job wait "$last" --timeout 30s
check "and it succeeded" test "$(field "$last" "['state']")" = succeeded

# Cancel and timeout stop the process. (A duration of our own: other tests
# on this machine sleep too.)
long="30.$$"
id=$("$P" run -d -- sh -c "sleep $long; echo should-not-print")
wait_state "$id" running
"$P" -q job cancel "$id" >/dev/null
check "cancel ends a running job" wait_state "$id" cancelled
out=$("$P" -q run --timeout 1s -- sleep "$long" 2>&1) && rc=0 || rc=$?
check "a job over its timeout is stopped and run fails" test "$rc" = 1
check "and says it timed out" grep -q 'timed_out: ran longer than its timeout of 1s' <<<"$out"
check "nothing of the stopped jobs is left running" bash -c "! pgrep -f 'slee[p] $long' >/dev/null"

# Datasets: a private clone without a volume, the cache once there is one.
mkdir -p "$WORK/ds/sub"
for i in $(seq 30); do echo "row $i" >"$WORK/ds/sub/r$i.csv"; done
"$P" -q data init tab "$WORK/ds"
"$P" -q data sync -C "$WORK/ds" -m one
out=$("$P" -q run --dataset tab -- sh -c 'echo "path=$PROXIMA_DATA_TAB"; cat $PROXIMA_DATA/sub/r7.csv')
check "an uncached dataset is cloned for the job" grep -q '^row 7$' <<<"$out"
check "into the job's folder" grep -qE '^path=.*/jobs/[0-9]+/data/tab$' <<<"$out"
expect_fail "':cached' needs a volume on the resource" "no cache volume" \
  "$P" -q run --dataset tab:cached -- true
mkdir -p "$WORK/vol"
"$P" -q volume add near --path "$WORK/vol" --resource local
out=$("$P" -q run --dataset tab:cached -- sh -c 'echo "path=$PROXIMA_DATA"; find $PROXIMA_DATA -type f | wc -l')
check "a cached dataset is read from the volume" grep -qE "^path=$WORK/vol/tab/[0-9a-f]{64}$" <<<"$out"
check "with every file" grep -qE '^30$' <<<"$out"
check "the cache stays, ready" bash -c "'$P' cache ls | grep -q ready"
id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
check "the placement names the data it found" bash -c "'$P' job show $id | grep -q 'in ready caches'"
check "its lease is gone once it ended" test -z "$("$P" cache show tab --volume near --json | python3 -c "import json,sys; print(json.load(sys.stdin).get('leases') or '')")"

# Templates and queues.
"$P" -q template add small --resource local --cpus 0.5
"$P" -q queue add quick --templates small,local --burst-after 3m
check "queue ls shows the burst delay" bash -c "'$P' queue ls | grep -qE '^quick .* 3m +small,local'"
out=$("$P" -q run --queue quick -- echo on-small)
id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
check "a queue's first template is used" test "$(field "$id" "['template']")" = small
expect_fail "an unknown queue is refused" "quick2|does not exist" "$P" run --queue quick2 -- true
expect_fail "an unknown template is refused" "nope" "$P" run --template nope -- true
expect_fail "--queue and --template together are refused" "not both" \
  "$P" run --queue quick --template small -- true
expect_fail "a bad --env is refused" "NAME=VALUE" "$P" run --env novalue -- true
expect_fail "an unknown dataset is refused" "nosuch" "$P" run --dataset nosuch -- true
expect_fail "a template on a missing resource is refused" "nowhere" \
  "$P" template add t2 --resource nowhere --cpus 1
expect_fail "a queue of missing templates is refused" "ghost" \
  "$P" queue add q2 --templates small,ghost
expect_fail "a used template cannot go" "quick" "$P" template rm small
expect_fail "a bad duration is refused" "burst" "$P" queue add q3 --templates small --burst-after soon
expect_fail "an unknown job is reported" "does not exist" "$P" job show 99999
check "removing in order works" bash -c "'$P' -q queue rm quick && '$P' -q template rm small"

finish
