#!/usr/bin/env bash
# Stops the S3 server (radosgw) in the middle of a sync and starts it again.
# 1. A short outage: the sync waits (retrying with backoff) and finishes once
#    the server is back.
# 2. An outage longer than the retry bound: the sync fails with a clear
#    message and publishes nothing; a rerun after the server is back finishes
#    it.
# Either way the store is sound (fsck) and a clone is exact. Runs alone
# (RUN_SERIAL): it takes the server away from every other test.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.bash"
source "$here/lib.bash"
: "${PROXIMA_SOURCE_DIR:?}"
SERVICES=$PROXIMA_SOURCE_DIR/scripts/services
CLEANUPS+=("'$SERVICES/rgw-start' --gateway '$RGW_DIR' >/dev/null 2>&1 || true")

export PROXIMA_STORE
PROXIMA_STORE=$(s3_fresh_store restart)
src=$WORK/src
make_files() {  # make_files DIR COUNT MIB_EACH SEED
  python3 - "$@" <<'PY'
import os, random, sys
d, n, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d, exist_ok=True)
rng = random.Random(seed)
for i in range(n):
    with open(f"{d}/f{seed}-{i}.bin", "wb") as out:
        out.write(rng.randbytes(mib << 20))
PY
}
make_files "$src/a" 48 8 1
"$P" -q data init restart "$src"

# Starts a sync in the background; returns once it has stored its first pack.
sync_until_first_pack() {
  rm -f "$WORK/sync.err"
  "$P" data sync -C "$src" -m "$1" >"$WORK/sync.out" 2>"$WORK/sync.err" &
  sync_pid=$!
  for _ in $(seq 600); do
    [ -s "$src/.proxima/journal" ] && return 0
    kill -0 $sync_pid 2>/dev/null || return 0
    sleep 0.05
  done
}

# 1. A 4-second outage in the middle of a sync.
sync_until_first_pack "through an outage"
if ! kill -0 $sync_pid 2>/dev/null; then
  fail "the sync finished before the outage began; the test needs more data"
fi
"$SERVICES/rgw-stop" --gateway "$RGW_DIR"
sleep 4
"$SERVICES/rgw-start" --gateway "$RGW_DIR"
rc=0
wait $sync_pid || rc=$?
check "the sync saw the outage and retried" grep -q "retrying in" "$WORK/sync.err"
check "the sync finished once the server was back (rc $rc)" test $rc -eq 0
if [ $rc -ne 0 ]; then tail -5 "$WORK/sync.err" >&2; fi  # seen once under load: say why
check "the commit is published" grep -q "^Committed restart@" "$WORK/sync.out"
check "fsck is clean" "$P" -q data fsck
check "a clone is exact" bash -c "'$P' -q data clone restart '$WORK/c1' && diff -r -x .proxima '$src' '$WORK/c1'"
before=$("$P" data log restart --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

# 2. An outage longer than the retry bound (3 s).
make_files "$src/b" 32 8 2
PROXIMA_RETRY_SECONDS=3 sync_until_first_pack "through a long outage"
"$SERVICES/rgw-stop" --gateway "$RGW_DIR"
rc=0
wait $sync_pid || rc=$?
check "the sync failed (rc $rc)" test $rc -ne 0
check "with a message that names the server and gives up" \
  grep -qE "error: .*(127\.0\.0\.1|Couldn't connect).*gave up after" "$WORK/sync.err"
"$SERVICES/rgw-start" --gateway "$RGW_DIR"
after=$("$P" data log restart --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "nothing was published" test "$after" = "$before"
check "fsck is clean after the failed sync" "$P" -q data fsck
check "a rerun finishes the sync" "$P" -q data sync -C "$src" -m "after the long outage"
check "fsck is clean" "$P" -q data fsck
check "a clone is exact" bash -c "'$P' -q data clone restart '$WORK/c2' && diff -r -x .proxima '$src' '$WORK/c2'"
finish
