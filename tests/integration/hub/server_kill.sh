#!/usr/bin/env bash
# Kills the hub (kill -9, and SIGTERM) in the middle of `proxima data sync`
# through it, restarts it over the same catalog and store, and checks that
# nothing was lost: the store is sound, a rerun of the sync finishes the
# job, and a clone through the hub equals the folder byte for byte.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/lib.bash"

HUB_HOME=$WORK/hub
start_restartable_hub "$HUB_HOME"
export PROXIMA_RETRY_SECONDS=1

src=$WORK/src
python3 - "$src" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
for d in range(6):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    for f in range(200):
        with open(f"{root}/d{d}/f{f}.bin", "wb") as out:
            out.write(rng.randbytes(rng.randint(1000, 80000)))
with open(f"{root}/large.bin", "wb") as out:
    out.write(rng.randbytes(24 << 20))
PY
"$P" -q data init killy "$src"

# Times a sync through the hub of as much new content as each round adds
# (other bytes), to aim the kills inside the syncs.
mkdir -p "$WORK/probe"
for i in 1 2 3 4; do head -c 10000000 /dev/urandom >"$WORK/probe/blob$i.bin"; done
"$P" -q data init probe "$WORK/probe"
start=$(date +%s.%N)
"$P" -q data sync -C "$WORK/probe" -m probe
span=$(python3 -c "print(max(0.3, $(date +%s.%N) - $start))")
echo "a sync through the hub takes ${span}s"

for round in 1 2 3 4; do
  signal=KILL
  [ $round -eq 4 ] && signal=TERM
  echo "r$round" >"$src/round.txt"
  for i in 1 2 3 4; do head -c 10000000 /dev/urandom >"$src/new-$round-$i.bin"; done
  "$P" -q data sync -C "$src" -m "round $round" >"$WORK/sync.out" 2>&1 &
  client=$!
  sleep "$(python3 -c "import random; print(round(random.uniform(0.05, 0.8 * $span), 3))")"
  kill -$signal "$HUB_PID" 2>/dev/null || true
  wait "$HUB_PID" 2>/dev/null || true
  HUB_PID=
  rc=0
  wait $client || rc=$?
  echo "round $round: hub got SIG$signal; the sync exited with $rc"
  tail -2 "$WORK/sync.out" | sed "s/^/  sync said: /"
  start_hub "$HUB_HOME"
  # The store behind the hub is sound whatever the moment of the kill.
  if PROXIMA_HUB= PROXIMA_HOME=$HUB_HOME "$P" -q data fsck >/dev/null 2>"$WORK/fsck.err"; then
    pass "round $round: the store is sound after the hub's SIG$signal"
  else
    fail "round $round: fsck after SIG$signal: $(cat "$WORK/fsck.err")"
  fi
  out=$("$P" data sync -C "$src" -m "rerun $round" 2>&1) || fail "round $round: the rerun failed: $out"
  check "round $round: nothing pending after the rerun" \
    bash -c "'$P' data status -C '$src' | grep -q 'Nothing to sync'"
done
check "clone through the hub" "$P" -q data clone killy "$WORK/clone"
check "equals the folder byte for byte" same_tree "$src" "$WORK/clone"
check "fsck through the hub is clean" "$P" -q data fsck
finish
