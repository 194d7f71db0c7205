#!/usr/bin/env bash
# Two `proxima server` processes share one PostgreSQL catalog (and one store
# folder) and both serve correctly: they start together (migrating once),
# see each other's users, tokens and datasets, and concurrent syncs through
# different servers to one dataset never lose a commit: they rebase when
# they touch different paths, and the loser of a real conflict is refused
# with the paths named.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/../hub/lib.bash"
: "${PG_DIR:?run under the pg fixture of ctest (scripts/services/pg-start)}"
source "$PG_DIR/env"

db=hub_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql "$PROXIMA_PG_URL" -qAt -c "CREATE DATABASE $db" >/dev/null
catalog=${PROXIMA_PG_URL%/*}/$db
cat >"$WORK/hub.yaml" <<YAML
catalog: $catalog
store: $WORK/store
YAML
export PROXIMA_ADMIN_TOKEN
PROXIMA_ADMIN_TOKEN=$(new_token)

# Both at once: the migrations and the first administrator happen once.
start_hub "$WORK/a" --config "$WORK/hub.yaml" &
starting_a=$!
start_hub "$WORK/b" --config "$WORK/hub.yaml"
CLEANUPS+=("stop_hub")
wait $starting_a
# (start_hub ran in a subshell for A: read its URL and PID from its log.)
A=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/a/server.log" | head -1)
B=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/b/server.log" | head -1)
A_PID=$(pgrep -f "server --listen 127.0.0.1:0 --config $WORK/hub.yaml" | grep -vx "$HUB_PID" | head -1)
CLEANUPS+=("kill $A_PID 2>/dev/null")
echo "hubs: $A and $B on $catalog"
check "both servers are up" test -n "$A" -a -n "$B"
migrations=$(psql "$catalog" -qAt -c \
  "SELECT COUNT(*) || ' rows, ' || COUNT(DISTINCT version) || ' versions, up to ' || MAX(version) FROM schema_migrations")
once=$(psql "$catalog" -qAt -c \
  "SELECT COUNT(*) = COUNT(DISTINCT version) AND COUNT(*) = MAX(version) FROM schema_migrations")
check "each migration ran once ($migrations)" test "$once" = t
admins=$(psql "$catalog" -qAt -c "SELECT COUNT(*) FROM users")
check "one administrator ($admins users)" test "$admins" = 1

export PROXIMA_TOKEN=$PROXIMA_ADMIN_TOKEN
check "a user made on A" "$P" --hub "$A" -q admin user add bob
BOB=$("$P" --hub "$A" admin token create --user bob 2>/dev/null)
check "logs in on B with a token made on A" bash -c "PROXIMA_TOKEN=$BOB '$P' --hub '$B' whoami | grep -q bob"
check "a team made on B" "$P" --hub "$B" -q admin team add ml
check "membership set on A" "$P" --hub "$A" -q admin team member ml bob --role member

src=$WORK/src
mkdir -p "$src/x" "$src/y" "$src/shared"
for i in $(seq 30); do
  echo "x$i" >"$src/x/$i.txt"
  echo "y$i" >"$src/y/$i.txt"
done
echo base >"$src/shared/f.txt"
export PROXIMA_TOKEN=$BOB
check "init and sync through A" bash -c "'$P' --hub '$A' -q data init ds '$src' && '$P' --hub '$A' -q data sync -C '$src' -m base"
check "clone through B" "$P" --hub "$B" -q data clone ds "$WORK/via-b"
check "B serves what A stored" same_tree "$src" "$WORK/via-b"
check "clone through A" "$P" --hub "$A" -q data clone ds "$WORK/via-a"

# race_syncs LABEL: syncs via-a through A and via-b through B at once; sets
# ra and rb to their exit codes, their output in a.out and b.out.
race_syncs() {
  "$P" --hub "$A" data sync -C "$WORK/via-a" -m "A $1" >"$WORK/a.out" 2>&1 &
  local pa=$!
  "$P" --hub "$B" data sync -C "$WORK/via-b" -m "B $1" >"$WORK/b.out" 2>&1 &
  local pb=$!
  ra=0 rb=0
  wait $pa || ra=$?
  wait $pb || rb=$?
}

# Concurrent syncs, one through each server, touching different paths.
for round in 1 2 3; do
  for i in $(seq 30); do echo "a$round-$i" >"$WORK/via-a/x/$i.txt"; done
  for i in $(seq 30); do echo "b$round-$i" >"$WORK/via-b/y/$i.txt"; done
  race_syncs "$round"
  if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then
    pass "round $round: both concurrent syncs published"
  else
    fail "round $round: A exited $ra ($(cat "$WORK/a.out")), B exited $rb ($(cat "$WORK/b.out"))"
  fi
  grep -h 'rebased' "$WORK/a.out" "$WORK/b.out" | head -1
done
commits=$("$P" --hub "$B" data log ds --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "no commit lost: 1 + 2 x 3 commits in the log ($commits)" test "$commits" = 7
"$P" --hub "$A" -q data clone ds "$WORK/final"
check "the head has A's last x files" bash -c "grep -q a3-1 '$WORK/final/x/1.txt'"
check "and B's last y files" bash -c "grep -q b3-1 '$WORK/final/y/1.txt'"
# The sync that was rebased checked its folder out at the merged head.
rebased=via-a
grep -q rebased "$WORK/b.out" && rebased=via-b
check "the rebased folder ($rebased) holds both syncs' changes" same_tree "$WORK/final" "$WORK/$rebased"

# A real conflict: both change the same file at once. One wins; the other
# is refused, names the path, and publishes nothing.
"$P" --hub "$A" -q data checkout -C "$WORK/via-a" >/dev/null 2>&1 || true
"$P" --hub "$B" -q data checkout -C "$WORK/via-b" >/dev/null 2>&1 || true
echo from-a >"$WORK/via-a/shared/f.txt"
echo from-b >"$WORK/via-b/shared/f.txt"
race_syncs conflict
if { [ $ra -eq 0 ] && [ $rb -ne 0 ]; } || { [ $ra -ne 0 ] && [ $rb -eq 0 ]; }; then
  pass "exactly one of two conflicting syncs published"
else
  fail "conflicting syncs: A exited $ra, B exited $rb: $(cat "$WORK/a.out" "$WORK/b.out")"
fi
check "the refusal names the path" grep -q 'shared/f.txt' "$WORK/a.out" "$WORK/b.out"
commits=$("$P" --hub "$A" data log ds --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
check "one more commit, not two ($commits)" test "$commits" = 8

kill $A_PID 2>/dev/null || true
finish
