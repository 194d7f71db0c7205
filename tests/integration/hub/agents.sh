#!/usr/bin/env bash
# Two `proxima agent` hosts on loopback, each with its own volume folder,
# stand for two sites of one hub (docs/scheduler.md, "Agents"). A job goes
# to the site where its dataset is cached; when that site is full it waits,
# then bursts to the other after the queue's delay (staging the cache
# there); killing an agent mid-job retries the job elsewhere; killing and
# restarting the hub loses no job; an elastic pool grows while jobs wait
# and shrinks when idle.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/lib.bash"

start_restartable_hub "$WORK/hub"

capacity() { "$P" compute show "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['millicpus']//1000)"; }
wait_capacity() {  # wait_capacity RESOURCE CPUS [SECONDS]
  local i
  for i in $(seq $((${3:-20} * 10))); do
    [ "$(capacity "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  echo "resource $1 has $(capacity "$1") CPUs, not $2" >&2
  return 1
}
start_agent() {  # start_agent NAME RESOURCE CPUS
  PROXIMA_HOME=$WORK/$1 "$P" agent --name "$1" --resource "$2" --cpus "$3" >"$WORK/$1.log" 2>&1 &
  eval "PID_${1//-/_}=$!"
  CLEANUPS+=("kill $! 2>/dev/null")
}

for s in a b; do
  "$P" -q compute add "site-$s" --kind agent
  "$P" -q template add "t$s" --resource "site-$s" --cpus 1
  mkdir -p "$WORK/vol-$s"
  "$P" -q volume add "vol-$s" --path "$WORK/vol-$s" --resource "site-$s"
done
"$P" -q queue add any --templates ta,tb
"$P" -q queue add near-b --templates tb,ta --burst-after 4s
"$P" -q template add tb-all --resource site-b --cpus 2
start_agent agent-a site-a 1
start_agent agent-b site-b 2
check "the agents bring their capacity" wait_capacity site-a 1
check "to both sites" wait_capacity site-b 2

# Malformed heartbeats are refused, and say what a heartbeat is.
for body in '{"resource":"site-a","capacity":7}' '{"resource":"site-a","attempts":[1]}' \
  '{"resource":"site-a","attempts":[{"handle":"x","phase":"flying"}]}' '[]' \
  '{"resource":"local"}'; do
  code=$(curl -s -o "$WORK/hb.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
    --data "$body" "$HUB_URL/api/v1/agents/bad-agent/heartbeat")
  check "a malformed heartbeat is refused: $body" test "$code" = 400
done
check "the refusal says what an agent serves" grep -q 'agents serve resources of kind agent' "$WORK/hb.out"

mkdir -p "$WORK/ds"
for i in $(seq 40); do echo "sample $i" >"$WORK/ds/s$i.txt"; done
"$P" -q data init ds "$WORK/ds"
"$P" -q data sync -C "$WORK/ds" -m one
"$P" -q cache add ds --volume vol-b --wait >/dev/null

# Where the data is: site-b, although ta comes first in the queue.
out=$("$P" -q run --queue any --dataset ds:cached -- sh -c 'echo "files $(ls $PROXIMA_DATA | wc -l) at $PROXIMA_DATA"; exit 3' 2>&1) && rc=0 || rc=$?
id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
check "a job goes to the site where its dataset is cached" test "$(field "$id" "['resource']")" = site-b
check "its output comes back through the hub" grep -q "files 40 at $WORK/vol-b/ds/" <<<"$out"
check "and its exit code" test "$rc" = 3
check "job show says why" bash -c "'$P' job show $id | grep -q 'in ready caches'"

# Site b full: the job waits for it, then bursts to site a after 4 s, where
# agent-a stages the cache on vol-a.
blocker=$("$P" run -d --template tb-all -- sleep 30)
check "a long job fills site b" wait_state "$blocker" running
j=$("$P" run -d --queue near-b --dataset ds:cached -- sh -c 'ls $PROXIMA_DATA | wc -l')
sleep 2
check "the next job waits for the site with its data" test "$(field "$j" "['state']")" = queued
check "saying for what" bash -c "'$P' job show $j | grep -q 'bursts after 4s'"
check "after the delay it bursts to the other site" wait_state "$j" succeeded 20
check "which is site a" test "$(field "$j" "['resource']")" = site-a
check "the burst is recorded" bash -c "'$P' job show $j | grep -q 'burst after waiting'"
check "agent a staged the cache on its own volume" bash -c "'$P' cache ls --volume vol-a | grep -q ready"
"$P" -q job cancel "$blocker" >/dev/null
check "cancel reaches the agent" wait_state "$blocker" cancelled

# An agent killed mid-job: its jobs are lost; one that may retry runs again
# on the other site.
"$P" -q queue add either --templates tb,ta
j=$("$P" run -d --template tb --retries 0 -- sleep 30)
k=$("$P" run -d --queue either -- sh -c 'sleep 2; echo survived')
check "a job runs on agent b" wait_state "$j" running
check "another job runs on agent b" wait_state "$k" running
check "both on site b" test "$(field "$k" "['resource']")" = site-b
kill -9 "$PID_agent_b"
check "a job on the lost agent that may not retry fails" wait_state "$j" failed 30
check "as an infrastructure failure" test "$(field "$j" "['failure']")" = infrastructure
check "the other is retried on the other site" wait_state "$k" succeeded 40
check "on site a, in its second attempt" \
  test "$(field "$k" "['resource']")/$(field "$k" "['attempts']")" = site-a/2
check "with its output" bash -c "'$P' job logs $k | grep -q survived"
check "the lost site's capacity goes" wait_capacity site-b 0 20

# The hub killed and restarted while a job runs on an agent: nothing lost.
j=$("$P" run -d --template ta -- sh -c 'sleep 2; echo finished-while-the-hub-was-down')
check "a job runs on agent a" wait_state "$j" running
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
HUB_PID=
sleep 4
start_hub "$WORK/hub"
check "after the restart the agent reports the job's end" wait_state "$j" succeeded 30
check "with its output" bash -c "'$P' job logs $j | grep -q finished-while-the-hub-was-down"

# An elastic pool: provisioned while jobs wait, stopped when idle.
prov="PROXIMA_HOME=$WORK/pool-\$PROXIMA_AGENT_NAME PROXIMA_HUB=$HUB_URL PROXIMA_TOKEN=$ADMIN_TOKEN $P agent --resource pool --cpus 1 >>$WORK/pool.log 2>&1 &"
config=$(python3 -c 'import json,sys; print(json.dumps({"provision": sys.argv[1], "max_agents": 2, "idle_timeout_s": 3}))' "$prov")
"$P" -q compute add pool --kind agent --config "$config"
"$P" -q template add tp --resource pool --cpus 1
check "an elastic pool starts empty" test "$(capacity pool)" = 0
p1=$("$P" run -d --template tp -- sleep 3)
p2=$("$P" run -d --template tp -- sleep 3)
check "jobs waiting for it make it grow to two agents" wait_capacity pool 2 60
check "the first job ran" wait_state "$p1" succeeded 60
check "and the second" wait_state "$p2" succeeded 60
check "idle agents are stopped, and the pool shrinks" wait_capacity pool 0 30
check "their processes ended" bash -c "! pgrep -f 'agen[t] --resource pool' >/dev/null"

finish
