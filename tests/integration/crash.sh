# Kills `proxima data sync` with SIGKILL at random moments, many times, and
# checks after each kill that the store is sound (fsck: nothing reachable is
# missing or damaged) and that the dataset head is either the old commit or
# a complete new one. At the end one sync finishes the job and a clone
# equals the folder byte for byte.
source "$(dirname "$0")/lib/common.bash"

ROUNDS=${CRASH_ROUNDS:-25}
src=$WORK/src
make_tree "$src" 42
"$P" -q data init crashy "$src"
# Time one uninterrupted sync of the same size, through the same store (or
# hub), to spread the kills over it. Its content is different, so that the
# real syncs still upload everything.
make_tree "$WORK/probe" 4242
"$P" -q data init probe "$WORK/probe"
start=$(date +%s.%N)
"$P" -q data sync -C "$WORK/probe" -m probe
span=$(python3 -c "import sys; print(max(0.2, $(date +%s.%N) - $start))")
rm -rf "$WORK/probe"
echo "an uninterrupted sync takes ${span}s; kills land within 1.2 times that, so that some rounds publish first"

heads=()
for round in $(seq 1 "$ROUNDS"); do
  # Change something every round so that each sync has work to do.
  python3 - "$src" "$round" <<'PY'
import os, random, sys
root, r = sys.argv[1], int(sys.argv[2])
rng = random.Random(r)
for _ in range(40):
    d, f = rng.randrange(8), rng.randrange(150)
    with open(f"{root}/d{d}/f{f}.bin", "wb") as out:
        out.write(rng.randbytes(rng.randint(1000, 60000)))
os.makedirs(f"{root}/new", exist_ok=True)
with open(f"{root}/new/r{r}.bin", "wb") as out:
    out.write(rng.randbytes(rng.randint(1, 3 << 20)))
PY
  before=$("$P" data log crashy --json 2>/dev/null | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["id"])' 2>/dev/null || echo none)
  delay=$(python3 -c "import random; print(round(random.uniform(0.0, 1.2 * $span), 3))")
  "$P" -q data sync -C "$src" -m "round $round" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  after=$("$P" data log crashy --json 2>/dev/null | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["id"])' 2>/dev/null || echo none)
  if ! "$P" -q data fsck >/dev/null 2>"$WORK/fsck.err"; then
    fail "round $round (killed after ${delay}s): fsck: $(cat "$WORK/fsck.err")"
  fi
  [ "$after" != "$before" ] && heads+=("$after")
done
pass "store sound after each of $ROUNDS kills (${#heads[@]} of them had published a commit)"

out=$("$P" data sync -C "$src" -m final 2>&1) || fail "the sync after the kills failed: $out"
check "a final sync leaves nothing pending" bash -c "'$P' data status -C '$src' | grep -q 'Nothing to sync'"
check "no journal is left" test ! -e "$src/.proxima/journal"
check "no pending stat cache is left" test ! -e "$src/.proxima/statcache.pending"
check "clone of the head" "$P" -q data clone crashy "$WORK/clone"
check "equals the folder byte for byte" same_tree "$src" "$WORK/clone"
check "fsck is clean at the end" "$P" -q data fsck
finish
