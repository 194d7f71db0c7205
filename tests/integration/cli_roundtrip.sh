# The everyday path through every `proxima data` command, on real files.
source "$(dirname "$0")/lib/common.bash"

src=$WORK/src
mkdir -p "$src/train/cats" "$src/train/dogs" "$src/val"
for i in $(seq 1 30); do head -c $((1000 + i * 37)) /dev/urandom >"$src/train/cats/c$i.png"; done
for i in $(seq 1 20); do head -c $((2000 + i * 11)) /dev/urandom >"$src/train/dogs/d$i.png"; done
head -c 5000000 /dev/urandom >"$src/val/big.bin"
printf 'file,label\nc1.png,cat\n' >"$src/labels.csv"
chmod 600 "$src/labels.csv"
chmod 755 "$src/val/big.bin"

check "init creates and binds" "$P" -q data init pets "$src"
check "first sync" "$P" -q data sync -C "$src" -m "first"
first=$(commit_id pets 0)
out=$("$P" data status -C "$src")
check "status is clean after sync" grep -q "Nothing to sync" <<<"$out"
out=$("$P" data sync -C "$src")
check "a sync with no change makes no commit" grep -q "Nothing to commit" <<<"$out"
check "still one commit" test "$("$P" data log pets --json | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))')" = 1

# Change 1 file, add 2, delete 1.
head -c 1234 /dev/urandom >"$src/train/cats/c1.png"
echo new >"$src/train/new.txt"
mkdir -p "$src/test" && echo t >"$src/test/t.txt"
rm "$src/train/dogs/d3.png"
out=$("$P" data status -C "$src" --json)
check "status lists the changes" python3 -c "
import json,sys; s=json.loads(sys.argv[1]); c={x['path']:x['change'] for x in s['changes']}
assert c=={'train/cats/c1.png':'M','train/new.txt':'A','test/t.txt':'A','train/dogs/d3.png':'D'}, c" "$out"
check "second sync" "$P" -q data sync -C "$src" -m "second" --metadata '{"source":"scanner-3"}'
second=$(commit_id pets 0)
check "log has two commits, newest first" test "$(commit_id pets 1)" = "$first"

out=$("$P" data diff "pets@${first:0:7}" pets --json)
check "diff with an abbreviated id" python3 -c "
import json,sys; d=json.loads(sys.argv[1])
assert (d['added'],d['modified'],d['deleted'])==(2,1,1), d
m=[c for c in d['changes'] if c['change']=='M'][0]; assert m['new_size']==1234, m" "$out"
out=$("$P" data show "pets@$second" --json)
check "show has stats and metadata" python3 -c "
import json,sys; c=json.loads(sys.argv[1])
assert c['files']==53 and c['metadata']=={'source':'scanner-3'} and c['parents'], c" "$out"
out=$("$P" data ls pets train --json)
check "ls lists a folder" python3 -c "
import json,sys; e={x['name']:x for x in json.loads(sys.argv[1])}
assert e['cats']['type']=='dir' and e['cats']['files']==30 and e['new.txt']['size']==4, e" "$out"
check "ls of a file" "$P" data ls pets val/big.bin
expect_fail "ls of a missing path names it" "no file or folder nope" "$P" data ls pets nope
out=$("$P" data list --json)
check "list shows the dataset with head and size" python3 -c "
import json,sys; d=json.loads(sys.argv[1])[0]
assert d['name']=='pets' and d['head']=='$second' and d['files']==53, d" "$out"

check "tag a commit" "$P" -q data tag "pets@$first" v1
expect_fail "a tag cannot be set twice" "already exists" "$P" data tag "pets@$second" v1
check "clone by tag" "$P" -q data clone pets@v1 "$WORK/v1"
check "clone by head" "$P" -q data clone pets "$WORK/head"
check "the head clone equals the source byte for byte" same_tree "$src" "$WORK/head"
check "modes survive" test "$(stat -c %a "$WORK/head/labels.csv")" = 600 -a "$(stat -c %a "$WORK/head/val/big.bin")" = 755
check "a clone is clean" bash -c "'$P' data status -C '$WORK/head' | grep -q 'Nothing to sync'"
check "checkout moves a folder to the other commit" "$P" -q data checkout -C "$WORK/v1" "$second"
check "after checkout it equals the source" same_tree "$src" "$WORK/v1"
check "checkout back by tag" "$P" -q data checkout -C "$WORK/v1" v1
check "and it has the first version again" test ! -e "$WORK/v1/train/new.txt" -a -e "$WORK/v1/train/dogs/d3.png"

expect_fail "bad dataset name" "dataset name" "$P" data init "bad name" "$WORK/x"
expect_fail "unknown dataset" "dataset 'nope' does not exist" "$P" data log nope
expect_fail "unknown commit" "has no commit" "$P" data show pets@abcdef12
expect_fail "too short an id" "at least 4 hex" "$P" data show pets@ab
expect_fail "sync outside a bound folder" "not inside a folder bound" "$P" data sync -C "$WORK"
expect_fail "clone into a non-empty folder" "not an empty folder" "$P" data clone pets "$src"
expect_fail "bad metadata" "metadata" "$P" data sync -C "$src" --metadata '[1]'
out=$("$P" data fsck)
check "fsck is clean" grep -q "Store is healthy" <<<"$out"
check "--help explains data" bash -c "'$P' data --help | grep -q 'Versioned datasets'"
finish
