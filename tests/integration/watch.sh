# `proxima data watch`: a watcher per folder, syncs that look only at what it
# saw change, its restart after a kill -9, and a full scan that agrees.
source "$(dirname "$0")/lib/common.bash"

src=$WORK/src
make_tree "$src" 5
CLEANUPS+=("'$P' -q data watch stop -C '$src'")
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

check "init" "$P" -q data init w "$src"
out=$("$P" data watch start -C "$src")
check "watch start says what it does" grep -q "Watching '$src' (pid [0-9]*)" <<<"$out"
check "a socket only the owner can open" test "$(stat -c %a "$src/.proxima/watch.sock")" = 700
out=$("$P" data watch start -C "$src")
check "a second start finds the running watcher" grep -q "Already watching" <<<"$out"
check "the binding remembers it" grep -q '"watch":true' "$src/.proxima/binding.json"
check "first sync scans" test "$("$P" data sync -C "$src" -m first --json | json_field scan)" = full

# Edits, a deletion, a new folder, a moved folder, a mode change.
head -c 3000 /dev/urandom >"$src/d1/f3.bin"
rm "$src/d2/f7.bin"
mkdir -p "$src/new/deep" && echo hello >"$src/new/deep/h.txt"
mv "$src/d5" "$src/d5-moved"
chmod 600 "$src/d0/f1.bin"
out=$("$P" data status -C "$src" --json)
check "status through the watcher" python3 -c "
import json,sys; s=json.loads(sys.argv[1]); assert s['scan']=='watch', s
c={x['path'] for x in s['changes']}
assert 'd1/f3.bin' in c and 'd2/f7.bin' in c and 'new/deep/h.txt' in c and 'd5-moved/f0.bin' in c, c" "$out"
out=$("$P" data sync -C "$src" -m second --json)
check "the sync looked only at what changed" python3 -c "
import json,sys; s=json.loads(sys.argv[1])
assert s['scan']=='watch' and 0 < s['watched_paths'] < 20, s
assert s['added']==151 and s['deleted']==151 and s['modified']==2, s" "$out"
out=$("$P" data sync -C "$src" --full-scan)
check "a full scan finds nothing the watcher missed" grep -q "Nothing to commit" <<<"$out"

# A killed watcher is restarted by the next sync, which scans once.
pid=$(head -1 "$src/.proxima/watch.lock")
kill -9 "$pid"
# No wait: the restarted watcher waits for the killed one to let go of its lock.
echo more >>"$src/d3/f9.bin"
out=$("$P" data sync -C "$src" -m third --json)
check "after a kill -9 the next sync scans, and commits the change" python3 -c "
import json,sys; s=json.loads(sys.argv[1])
assert s['scan']=='full' and s['modified']==1 and 'vouch' in s['scan_note'], s" "$out"
newpid=$(head -1 "$src/.proxima/watch.lock")
check "and restarts the watcher" test -n "$newpid" -a "$newpid" != "$pid"
check "which answers" "$P" data watch status -C "$src"
echo again >>"$src/d3/f9.bin"
check "the sync after that is watched again" \
  test "$("$P" data sync -C "$src" -m fourth --json | json_field scan)" = watch
out=$("$P" data watch status -C "$src" --json)
check "watch status --json" python3 -c "
import json,sys; s=json.loads(sys.argv[1]); assert s['running'] and s['enabled'] and s['directories']==11, s" "$out"

out=$("$P" data watch stop -C "$src")
check "watch stop" grep -q "Stopped watching" <<<"$out"
check "the socket is gone" test ! -e "$src/.proxima/watch.sock"
out=$("$P" data watch status -C "$src")
check "status says it is not watched" grep -q "is not watched" <<<"$out"
echo last >>"$src/d3/f9.bin"
out=$("$P" data sync -C "$src" -m fifth --json)
check "without a watcher, syncs scan" python3 -c "
import json,sys; s=json.loads(sys.argv[1]); assert s['scan']=='full' and s['modified']==1, s" "$out"
check "no watcher was started" test ! -e "$src/.proxima/watch.sock"
expect_fail "watch outside a bound folder says so" "not inside a folder bound" \
  "$P" data watch start -C "$WORK"
check "the store is healthy" "$P" -q data fsck
finish
