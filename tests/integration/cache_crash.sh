#!/usr/bin/env bash
# Kills `proxima cache add --wait` with SIGKILL at random moments of a fill,
# many times. After every kill a reader must see the whole commit or nothing
# at <volume>/<dataset>/<commit>; a rerun finishes the fill, byte for byte,
# without downloading again what the killed fill had verified. Every round
# starts from an empty volume (the cache removed, the pool swept).
source "$(dirname "$0")/lib/common.bash"

ROUNDS=${CRASH_ROUNDS:-20}
src=$WORK/src
make_tree "$src" 77
"$P" -q data init crashy "$src"
"$P" -q data sync -C "$src" -m crashy
commit=$(commit_id crashy 0)
vol=$WORK/vol
mkdir -p "$vol" "$WORK/probe"
"$P" -q volume add v --path "$vol"
"$P" -q volume add probe --path "$WORK/probe"
tree=$vol/crashy/$commit

# One uninterrupted fill on another volume, to spread the kills over it.
start=$(date +%s.%N)
"$P" -q cache add "crashy@$commit" --volume probe --wait >/dev/null
span=$(python3 -c "print(max(0.2, $(date +%s.%N) - $start))")
echo "an uninterrupted fill takes ${span}s; kills land within 2 times that"

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
partial=0
published=0
resumed_cheaper=0
for round in $(seq 1 "$ROUNDS"); do
  # Every round starts from an empty volume.
  "$P" -q cache rm "crashy@$commit" --volume v --force >/dev/null 2>&1 || true
  "$P" -q cache gc --volume v >/dev/null
  delay=$(python3 -c "import random; print(round(random.uniform(0, 2.0 * $span), 3))")
  "$P" -q cache add "crashy@$commit" --volume v --wait >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -e "$tree" ]; then
    published=$((published + 1))
    if ! same_tree "$src" "$tree"; then
      partial=$((partial + 1))
      echo "round $round (kill after ${delay}s): a partial tree is visible at $tree" >&2
    fi
  elif "$P" cache ls --volume v | grep -q 'filling'; then
    "$P" cache ls --volume v | grep -q 'stalled' ||
      fail "round $round: a killed fill is not reported as stalled"
  fi
  # The rerun resumes: what the killed fill verified is not downloaded again.
  out=$("$P" -q cache add "crashy@$commit" --volume v --wait --json)
  if [ "$(json_field filled <<<"$out")" = "True" ] &&
    [ "$(json_field bytes_fetched <<<"$out")" -lt "$(json_field bytes <<<"$out")" ]; then
    resumed_cheaper=$((resumed_cheaper + 1))
  fi
  same_tree "$src" "$tree" || {
    partial=$((partial + 1))
    echo "round $round: the rerun did not complete the tree" >&2
  }
done
check "no kill left a partial tree visible, every rerun completed ($published of $ROUNDS kills came after the publication)" \
  test "$partial" -eq 0
check "resumed fills downloaded less than everything ($resumed_cheaper times)" \
  test "$resumed_cheaper" -ge 1

out=$("$P" -q cache add "crashy@$commit" --volume v --wait --json)
check "a final fill finishes the cache" test "$(json_field state <<<"$out")" = ready
check "and it equals the folder byte for byte" same_tree "$src" "$tree"
check "and verify finds nothing wrong" "$P" -q cache verify "crashy@$commit" --volume v
"$P" -q cache gc --volume v >/dev/null
check "the janitor leaves no temporary or trash files" \
  test -z "$(find "$vol/.proxima/tmp" "$vol/.proxima/trash" "$vol/.proxima/fills" -mindepth 1)"
pool=$(find "$vol/.proxima/pool" -type f | wc -l)
check "the pool holds exactly the commit's distinct files ($pool)" test "$pool" -eq 1201
finish
