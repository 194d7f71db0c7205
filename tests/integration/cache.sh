#!/usr/bin/env bash
# Dataset caches end to end on real folders (docs/caches.md): a fill read
# back byte for byte; a second commit that shares 99% of its files moves
# only the delta and shares inodes; concurrent fills of one commit make one
# download; cached files are read-only to their readers; `cache use` holds a
# lease while its command runs; a tampered pool object is found by `cache
# verify`; a cache that cannot fit is refused with the sizes; a real full
# disk fails a fill cleanly. Time-driven eviction (TTL, leases lapsing,
# watermarks) is tested with a manual clock in tests/cache_test.cc.
source "$(dirname "$0")/lib/common.bash"

json_field() {  # json_field FIELD < JSON
  python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

src=$WORK/src
python3 "${PROXIMA_SOURCE_DIR:?}/bench/gen_dataset.py" generate xray "$src" --files 300 --seed 7 \
  >/dev/null
"$P" -q data init scans "$src"
"$P" -q data sync -C "$src" -m first
c1=$(commit_id scans 0)
vol=$WORK/vol
mkdir -p "$vol"
"$P" -q volume add nfs1 --path "$vol"

# --- a fill, read back byte for byte ---
out=$("$P" -q cache add "scans@$c1" --volume nfs1 --wait --json)
path1=$(json_field path <<<"$out")
check "the cache is at <volume>/<dataset>/<commit>" test "$path1" = "$vol/scans/$c1"
check "the cache equals the folder byte for byte" same_tree "$src" "$path1"
check "the fill downloaded every byte once" \
  test "$(json_field bytes_fetched <<<"$out")" = "$(json_field bytes <<<"$out")"
first=$(find "$path1" -type f -print -quit)
check "a cached file is a hard link into the pool" test "$(stat -c %h "$first")" -ge 2
check "the ready state is listed" bash -c "'$P' cache ls --volume nfs1 | grep -q 'ready'"
check "nothing of the fill is left aside" test -z "$(find "$vol/.proxima/fills" "$vol/.proxima/tmp" -mindepth 1)"

# --- a node that records caches in another catalog finds the commit on the volume ---
if [ -z "${PROXIMA_HUB:-}" ]; then  # through a hub every node shares one catalog
  other=(env PROXIMA_HOME="$WORK/other-node" PROXIMA_STORE="${PROXIMA_STORE:-$PROXIMA_HOME/store}")
  # Its catalog knows the dataset, and nothing of volumes and caches.
  mkdir -p "$WORK/other-node"
  python3 - "$PROXIMA_HOME/catalog.db" "$WORK/other-node/catalog.db" <<'PY'
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.executescript("DELETE FROM leases; DELETE FROM caches; DELETE FROM volumes;")
dst.commit()
PY
  "${other[@]}" "$P" -q volume add nfs1 --path "$vol"
  out=$("${other[@]}" "$P" -q cache add "scans@$c1" --volume nfs1 --wait --json)
  check "another catalog's request finds the published commit: no fill, nothing downloaded" \
    test "$(json_field filled <<<"$out")" = False -a "$(json_field bytes_fetched <<<"$out")" = 0
  check "and records it as ready" bash -c "${other[*]} '$P' cache ls | grep -q ready"
fi

# --- a second commit sharing 99% of the files ---
python3 "$PROXIMA_SOURCE_DIR/bench/gen_dataset.py" mutate xray "$src" --files 300 --seed 7 >/dev/null
"$P" -q data sync -C "$src" -m second
c2=$(commit_id scans 0)
out=$("$P" -q cache add "scans@$c2" --volume nfs1 --wait --json)
path2=$(json_field path <<<"$out")
check "the second cache equals the mutated folder" same_tree "$src" "$path2"
fetched=$(json_field bytes_fetched <<<"$out")
total=$(json_field bytes <<<"$out")
check "the second fill downloads at most 3% of the bytes ($fetched of $total)" \
  test $((fetched * 100)) -le $((total * 3))
shared=0
unshared=0
while read -r rel; do
  [ -f "$path2/$rel" ] || continue
  if cmp -s "$path1/$rel" "$path2/$rel"; then
    if [ "$(stat -c %i "$path1/$rel")" = "$(stat -c %i "$path2/$rel")" ]; then
      shared=$((shared + 1))
    else
      unshared=$((unshared + 1))
    fi
  fi
done < <(cd "$path1" && find . -type f)
check "files the commits share are the same inodes ($shared shared, $unshared not)" \
  test "$unshared" -eq 0 -a "$shared" -gt 250

# --- concurrent requests for one commit make one fill ---
echo extra >"$src/extra.txt"
"$P" -q data sync -C "$src" -m third
c3=$(commit_id scans 0)
for i in 1 2 3; do
  "$P" -q cache add "scans@$c3" --volume nfs1 --wait --json >"$WORK/concurrent.$i" &
done
wait
downloads=0
for i in 1 2 3; do
  if [ "$(json_field filled <"$WORK/concurrent.$i")" = "True" ]; then downloads=$((downloads + 1)); fi
done
check "three concurrent requests made one fill ($downloads)" test "$downloads" -eq 1
check "and all three got the same ready path" \
  test "$(cat "$WORK"/concurrent.* | grep -c "\"path\": \"$vol/scans/$c3\"")" -eq 3

# --- read-only to readers ---
victim=$(find "$path1" -type f -name '*.dcm' -print -quit)
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  expect_fail "a reader cannot write to a cached file" "Permission denied" \
    runuser -u nobody -- sh -c "echo x >> '$victim'"
  expect_fail "a reader cannot delete a cached file" "Permission denied" \
    runuser -u nobody -- rm -f "$victim"
else
  fail "runuser and the user nobody are needed to test read-only caches"
fi
check "the folders of a cache are read-only" test "$(stat -c %a "$path1")" = 555

# --- a user other than root fills and evicts (the folders of a tree are read-only) ---
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
  chmod 755 "$WORK"
  if [ -d "$PROXIMA_HOME" ]; then chmod 755 "$PROXIMA_HOME"; fi
  [ -d "$PROXIMA_HOME/store" ] && chmod -R o+rX "$PROXIMA_HOME/store"
  nobody_home=$WORK/nobody-home
  mkdir -p "$nobody_home" "$WORK/vol-nobody"
  if [ -z "${PROXIMA_HUB:-}" ]; then  # the embedded catalog: a copy the user owns
    python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))" \
      "$PROXIMA_HOME/catalog.db" "$nobody_home/catalog.db"
  fi
  chown -R nobody "$nobody_home" "$WORK/vol-nobody"
  as_nobody=(runuser -u nobody -- env PROXIMA_HOME="$nobody_home"
    PROXIMA_STORE="${PROXIMA_STORE:-$PROXIMA_HOME/store}")
  "${as_nobody[@]}" "$P" -q volume add mine --path "$WORK/vol-nobody"
  out=$("${as_nobody[@]}" "$P" -q cache add "scans@$c1" --volume mine --wait)
  check "a user other than root fills and publishes a cache" same_tree "$path1" "$out"
  check "and evicts it" "${as_nobody[@]}" "$P" -q cache rm "scans@$c1" --volume mine
  check "its tree is gone" test ! -e "$WORK/vol-nobody/scans/$c1"
  # Pool files that another user wrote cannot be hard-linked (Linux's
  # protected_hardlinks): the fill copies them, and says so.
  if [ "$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null)" = 1 ]; then
    "$P" -q volume add mine-too --path "$WORK/vol-nobody"  # the same folder, root's record
    "$P" -q cache add "scans@$c2" --volume mine-too --wait >/dev/null
    out=$("${as_nobody[@]}" "$P" cache add "scans@$c1" --volume mine --wait --json 2>"$WORK/copy.err")
    copies=$(json_field copies <<<"$out")
    check "files the fill could not link were copied ($copies)" test "$copies" -gt 250
    check "and the fill said so" grep -q "copied, not linked" "$WORK/copy.err"
    check "and the cache says so" bash -c "${as_nobody[*]} '$P' cache show scans@$c1 --volume mine | grep -q 'copied'"
    check "the copied cache is exact" same_tree "$path1" "$(json_field path <<<"$out")"
    check "and verify accepts it" "${as_nobody[@]}" "$P" -q cache verify "scans@$c1" --volume mine
  fi
else
  fail "runuser and the user nobody are needed to test a fill as another user"
fi

# --- cache use: a lease while the command runs, the path in the environment ---
out=$("$P" cache use "scans@$c1" --volume nfs1 -- sh -c \
  "echo \"path=\$PROXIMA_DATA_SCANS\"; '$P' cache show scans@$c1 --volume nfs1 --json")
check "cache use passes the path in PROXIMA_DATA_SCANS" grep -q "path=$path1" <<<"$out"
check "the cache has a reader while the command runs" grep -q '"holder": "cache use' <<<"$out"
check "the lease is released after the command" \
  bash -c "'$P' cache show scans@$c1 --volume nfs1 | grep -q 'readers    0'"
rc=0
"$P" cache use "scans@$c1" --volume nfs1 -- sh -c 'exit 7' || rc=$?
check "cache use returns the command's exit code" test "$rc" -eq 7

# --- pins and removal ---
"$P" -q cache pin "scans@$c2" --volume nfs1
check "a pinned cache shows as pinned" bash -c "'$P' volume show nfs1 | grep -q 'pin'"
"$P" -q cache rm "scans@$c3" --volume nfs1
check "a removed cache's tree is gone" test ! -e "$vol/scans/$c3"
check "its row is gone" bash -c "! '$P' cache ls --volume nfs1 | grep -q '${c3:0:12}'"
check "the caches it shared files with are intact" "$P" -q cache verify "scans@$c2" --volume nfs1
out=$("$P" cache gc --volume nfs1 --dry-run --json)
check "a dry run of the janitor evicts nothing fresh" \
  test "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["evictions"]))' <<<"$out")" = 0

# --- verify finds a tampered pool object ---
check "verify passes on an intact cache" "$P" -q cache verify "scans@$c1" --volume nfs1
pool_file=$(find "$vol/.proxima/pool" -type f -size +10k -print -quit)
chmod u+w "$pool_file"
printf 'X' | dd of="$pool_file" bs=1 seek=1000 conv=notrunc status=none
expect_fail "verify finds the tampered pool object" "damaged" \
  "$P" cache verify "scans@$c1" --volume nfs1

# --- admission: a cache that cannot fit is refused with the sizes ---
small=$WORK/small
mkdir -p "$small"
"$P" -q volume add tiny --path "$small" --capacity 1M
expect_fail "a cache larger than the volume is refused up front" \
  "does not fit on volume 'tiny': it needs [0-9]+ bytes more" \
  "$P" cache add "scans@$c1" --volume tiny --wait
check "nothing was written to the refused volume" \
  test -z "$(find "$small/.proxima/pool" -type f)" -a ! -e "$small/scans"
check "the refusal is recorded with its reason" \
  bash -c "'$P' cache ls --volume tiny | grep -q 'failed.*does not fit'"

# --- a team's quota on a volume ---
if [ -n "${PROXIMA_HUB:-}" ]; then "$P" -q admin team add ml; fi
"$P" -q volume quota tiny ml 10M
"$P" -q cache rm "scans@$c1" --volume tiny  # the refused request above, recorded without a team
expect_fail "a cache that would take its team over its quota is refused" \
  "would take team 'ml' over its quota on volume 'tiny'" \
  "$P" cache add "scans@$c1" --volume tiny --wait --team ml
check "volume show reports the quota" bash -c "'$P' volume show tiny | grep -q 'quota     team ml: 0 B of 10.0 MB'"

# --- a real full disk: the fill fails cleanly, publishes nothing ---
disk=$WORK/disk
mkdir -p "$disk"
# Room for the bytes but not for the inodes: the fill passes admission (which
# counts bytes) and runs out of space about halfway.
if mount -t tmpfs -o size=128m,nr_inodes=420 tmpfs "$disk" 2>/dev/null; then
  CLEANUPS+=("umount '$disk'")
  "$P" -q volume add full --path "$disk"
  expect_fail "a fill that meets a full disk fails and says so" "No space left|no space" \
    "$P" cache add "scans@$c1" --volume full --wait
  check "a full disk leaves no published tree" test ! -e "$disk/scans/$c1"
  check "and a failed row with the reason" bash -c "'$P' cache ls --volume full | grep -q failed"
  out=$("$P" cache gc --volume full --json)
  check "the janitor frees what the failed fill left" \
    test -z "$(find "$disk/.proxima/pool" -type f)"
else
  fail "cannot mount a small tmpfs to test a full disk (needs root)"
fi

finish
