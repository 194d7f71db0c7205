# Every kind of bad input gets a clear message, and nothing is lost or
# half-written: links, special files, unreadable files, odd names, a store
# that someone tampered with, corrupted and truncated objects, files that
# change during a sync, and a full disk during sync and clone.
source "$(dirname "$0")/lib/common.bash"

src=$WORK/src
mkdir -p "$src/d" "$WORK/outside"
echo "secret" >"$WORK/outside/secret.txt"
echo "data" >"$src/d/file.txt"

# --- Symbolic links: stored as links, never followed out of the folder.
ln -s ../../outside "$src/d/escape"           # a link to a folder outside
ln -s /etc/passwd "$src/abs-link"             # an absolute link
ln -s d/file.txt "$src/inside-link"
# --- Special files: skipped and listed.
mkfifo "$src/a-fifo"
# --- Names that are not UTF-8 or hold a newline: stored as they are.
printf 'latin1' >"$src/$(printf 'caf\xe9.txt')"
printf 'nl' >"$src/$(printf 'two\nlines.txt')"

check "init" "$P" -q data init odd "$src"
err=$("$P" data sync -C "$src" -m first 2>&1 >/dev/null) || { fail "sync with odd inputs: $err"; }
check "the fifo is reported as skipped" grep -q "skipped a-fifo: special file (fifo)" <<<"$err"
out=$("$P" data ls odd d --json)
check "a link to outside is stored as a link, not followed" python3 -c "
import json,sys; e={x['name']:x for x in json.loads(sys.argv[1])}
assert e['escape']['type']=='symlink' and e['escape']['target']=='../../outside', e
assert len(e)==2, e" "$out"
check "no outside content was uploaded" bash -c "! '$P' data ls odd --json | grep -q secret"
out=$("$P" data ls odd)
check "a newline name is shown quoted" grep -qF '"two\nlines.txt"' <<<"$out"
check "a non-UTF-8 name is shown escaped" grep -qF '"caf\xe9.txt"' <<<"$out"
check "clone" "$P" -q data clone odd "$WORK/clone"
check "odd names and links round-trip" bash -c "
  test \"\$(cat '$WORK/clone/$(printf 'caf\xe9.txt')')\" = latin1 &&
  test \"\$(cat '$WORK/clone/$(printf 'two\nlines.txt')')\" = nl &&
  test \"\$(readlink '$WORK/clone/d/escape')\" = ../../outside &&
  test \"\$(readlink '$WORK/clone/abs-link')\" = /etc/passwd &&
  test ! -e '$WORK/clone/a-fifo'"
check "the outside folder is untouched" test "$(ls "$WORK/outside")" = secret.txt
rm "$src/a-fifo"

# --- Unreadable files: listed, kept out of the commit, exit code 3.
echo "private" >"$src/private.txt"
chmod 000 "$src/private.txt"
rc=0
err=$(setpriv --bounding-set -dac_override,-dac_read_search "$P" data sync -C "$src" -m unreadable 2>&1 >/dev/null) || rc=$?
check "an unreadable file gives exit code 3" test "$rc" = 3
check "and is named with the reason" grep -q "skipped private.txt: cannot read 'private.txt': Permission denied" <<<"$err"
check "and is not in the commit" bash -c "! '$P' data ls odd --json | grep -q private.txt"
chmod 644 "$src/private.txt"

# --- A tampered store: a tree entry named '..' is rejected on read.
store=$PROXIMA_HOME/store
python3 - "$store" "$PROXIMA_HOME/catalog.db" <<'PY'
import hashlib, json, os, sqlite3, struct, sys
store, catalog = sys.argv[1], sys.argv[2]
def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80]); n >>= 7
    return out + bytes([n])
def lp(b): return varint(len(b)) + b
def put(kind, data, fan=True):
    h = hashlib.sha256(data).hexdigest()
    d = os.path.join(store, kind, h[:2]) if fan else os.path.join(store, kind)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, h), "wb").write(data)
    return h
empty = hashlib.sha256(b"").digest()
tree = b"PROXTREE" + struct.pack("<I", 1) + varint(1) + lp(b"..") + bytes([1]) + varint(0o644) + varint(0) + varint(0)
tid = put("trees", tree)
commit = json.dumps({"type": "commit", "version": 1, "dataset": "evil", "tree": tid, "parents": [],
    "author": "x", "message": "x", "time": "2026-01-01T00:00:00Z", "time_unix_ns": 1,
    "stats": {"files": 1, "bytes": 0, "dirs": 0, "symlinks": 0},
    "changes": {"added": 1, "modified": 0, "deleted": 0, "bytes_added": 0},
    "metadata": {}, "lineage": {"inputs": [], "run": None}}, sort_keys=True, separators=(",", ":")).encode()
cid = put("commits", commit, fan=False)
db = sqlite3.connect(catalog)
db.execute("INSERT INTO datasets VALUES('evil', 0)")
db.execute("INSERT INTO refs VALUES('evil', 'head', ?)", (cid,))
db.commit()
PY
expect_fail "a '..' entry from a tampered store is rejected" "path traversal rejected" \
  "$P" data clone evil "$WORK/evil"
check "and nothing was written" test ! -e "$WORK/evil" -a ! -e "$WORK/.."/empty
expect_fail "fsck reports the tampered tree" "traversal" "$P" data fsck
python3 -c "
import sqlite3,sys; db=sqlite3.connect(sys.argv[1])
db.execute(\"DELETE FROM refs WHERE dataset='evil'\"); db.execute(\"DELETE FROM datasets WHERE name='evil'\"); db.commit()" "$PROXIMA_HOME/catalog.db"

# --- Corrupted and truncated objects are detected by their hash and named.
check "fsck clean before damage" "$P" -q data fsck
cp -a "$store" "$WORK/store.bak"
restore_store() { rm -rf "$store" && cp -a "$WORK/store.bak" "$store"; }
for pack in $(find "$store/data" -type f); do
  python3 -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[14]^=0xff; open(p,'wb').write(bytes(b))" "$pack"
done
expect_fail "a corrupted pack fails the clone, naming it" "in pack data/../[0-9a-f]{64}: content does not match" \
  "$P" data clone odd "$WORK/bad1"
check "no half-written clone" test ! -e "$WORK/bad1"
check "no hidden temporary folder left" bash -c "! ls -a '$WORK' | grep -q proxima-clone"
expect_fail "fsck finds the corruption" "data/../[0-9a-f]{64}.* does not match its hash" "$P" data fsck
restore_store
for pack in $(find "$store/data" -type f); do truncate -s 14 "$pack"; done
expect_fail "a truncated pack is detected" "truncated|past its end" "$P" data clone odd "$WORK/bad2"
restore_store
for tree in $(find "$store/trees" -type f); do truncate -s 10 "$tree"; done
expect_fail "a truncated tree is named" "trees/../[0-9a-f]{64}" "$P" data fsck
restore_store
check "fsck clean after repair" "$P" -q data fsck

# --- A file that changes while it is read is never committed half-old.
big=$src/growing.bin
head -c 30000000 /dev/urandom >"$WORK/orig.bin"
cp "$WORK/orig.bin" "$big"
(for i in $(seq 1 300); do
   letter=$(printf "\\$(printf '%03o' $((i % 26 + 65)))")
   head -c 30000000 /dev/zero | tr '\0' "$letter" >"$big.tmp"
   cp "$big.tmp" "$big"
 done) &
writer=$!
CLEANUPS+=("kill $writer 2>/dev/null")
sleep 0.3
rc=0
err=$("$P" data sync -C "$src" -m racing 2>&1 >/dev/null) || rc=$?
kill $writer 2>/dev/null || true
wait $writer 2>/dev/null || true
if [ $rc -ne 0 ]; then
  check "a file changing during sync fails the sync with a clear message" \
    grep -q "changed while it was being read" <<<"$err"
else
  "$P" -q data clone odd "$WORK/racing"
  check "the committed file is one whole version, never a mix" python3 -c "
import sys
b = open(sys.argv[1], 'rb').read()
# The original, or bytes of one single later version (the writer may have
# been caught between truncating the file and filling it): never a mix.
ok = b == open(sys.argv[2], 'rb').read() or len(set(b)) <= 1
assert ok, 'mixed: %d bytes, %d distinct' % (len(b), len(set(b)))
" "$WORK/racing/growing.bin" "$WORK/orig.bin"
fi
check "fsck still clean" "$P" -q data fsck
rm -f "$big" "$big.tmp"

# --- A full disk: a sync publishes nothing and the next sync, once there is
#     space, finishes; a clone onto a full disk leaves nothing behind.
small=$WORK/small-disk
mkdir -p "$small"
if mount -t tmpfs -o size=8m tmpfs "$small" 2>/dev/null; then
  CLEANUPS+=("umount '$small'")
  (
    export PROXIMA_HOME=$small/home
    mkdir -p "$WORK/tiny"
    echo one >"$WORK/tiny/one.txt"
    "$P" -q data init tiny "$WORK/tiny"
    "$P" -q data sync -C "$WORK/tiny" -m one
    before=$(commit_id tiny 0)
    head -c 20000000 /dev/urandom >"$WORK/tiny/huge.bin"
    rc=0
    err=$("$P" data sync -C "$WORK/tiny" -m full 2>&1 >/dev/null) || rc=$?
    check "sync to a full disk fails" test $rc -ne 0
    check "with a message about space" grep -qi "no space left" <<<"$err"
    check "and the dataset head did not move" test "$(commit_id tiny 0)" = "$before"
    check "and the change is still pending" bash -c "'$P' data status -C '$WORK/tiny' | grep -q huge.bin"
    rm "$WORK/tiny/huge.bin"
    echo two >"$WORK/tiny/two.txt"
    check "once there is space the next sync commits" "$P" -q data sync -C "$WORK/tiny" -m two
    check "and the store is sound" "$P" -q data fsck
    finish >/dev/null
  ) || FAILED=$((FAILED + 1))
  head -c 20000000 /dev/urandom >"$src/huge2.bin"
  "$P" -q data sync -C "$src" -m "big one"
  rc=0
  err=$("$P" data clone odd "$small/clone" 2>&1 >/dev/null) || rc=$?
  check "clone onto a full disk fails with a clear message" grep -qi "no space left" <<<"$err"
  check "and leaves no clone and no temporary folder" test -z "$(ls -A "$small" | grep -v '^home$' || true)"
  rm "$src/huge2.bin"
else
  fail "cannot mount a small tmpfs to test a full disk (needs root)"
fi
check "fsck clean at the end" "$P" -q data fsck
finish
