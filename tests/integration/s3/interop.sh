#!/usr/bin/env bash
# Objects Proxima writes to S3 are plain objects that clients no one here
# wrote list and read: rclone and Debian's awscli see the same keys and
# sizes, and a copy rclone makes of the prefix is a complete Proxima store
# (clone and fsck from it are exact). The other way round works as well: a
# local store copied to S3 by rclone is read by Proxima.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.bash"
source "$here/lib.bash"

store=$(s3_fresh_store interop)
prefix=${store#s3://$S3_BUCKET/}
src=$WORK/src
mkdir -p "$src/sub"
python3 - "$src" <<'PY'
import random, sys
rng = random.Random(7)
for i in range(300):
    open(f"{sys.argv[1]}/sub/f{i}.bin", "wb").write(rng.randbytes(rng.randint(0, 40000)))
open(f"{sys.argv[1]}/large.bin", "wb").write(rng.randbytes(30 << 20))
PY
export PROXIMA_STORE=$store
"$P" -q data init inter "$src"
check "sync to S3" "$P" -q data sync -C "$src" -m one

# The same listing through both foreign clients: keys and sizes.
rclone_s3 lsjson -R --files-only "RGW:$S3_BUCKET/$prefix" |
  python3 -c 'import json,sys; [print(o["Path"], o["Size"]) for o in json.load(sys.stdin)]' |
  sort >"$WORK/rclone.txt"
aws_s3 s3 ls --recursive "s3://$S3_BUCKET/$prefix/" |
  awk -v p="$prefix/" '{k=$4; sub("^" p, "", k); print k, $3}' | sort >"$WORK/aws.txt"
count=$(wc -l <"$WORK/rclone.txt")
check "rclone lists the store's objects ($count)" test "$count" -gt 5
check "awscli lists the same keys and sizes as rclone" cmp -s "$WORK/rclone.txt" "$WORK/aws.txt"
check "the listing has config, commits, trees, index and packs" \
  bash -c "grep -q '^config ' '$WORK/rclone.txt' && grep -q '^commits/' '$WORK/rclone.txt' &&
           grep -q '^trees/' '$WORK/rclone.txt' && grep -q '^index/' '$WORK/rclone.txt' &&
           grep -q '^data/' '$WORK/rclone.txt'"

# Bytes: rclone copies the prefix to a folder; that folder is a Proxima store.
rclone_s3 copy "RGW:$S3_BUCKET/$prefix" "$WORK/copied" --transfers 8
commit=$("$P" data log inter --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "the commit object awscli downloads has the bytes rclone copied" \
  bash -c "/usr/bin/aws --endpoint-url '$AWS_ENDPOINT_URL' s3 cp --no-progress \
           's3://$S3_BUCKET/$prefix/commits/$commit' '$WORK/commit.aws' >/dev/null &&
           cmp -s '$WORK/commit.aws' '$WORK/copied/commits/$commit'"
check "the commit object's name is the SHA-256 of its bytes" \
  test "$(sha256sum <"$WORK/commit.aws" | cut -d' ' -f1)" = "$commit"
check "fsck of rclone's copy is clean" env PROXIMA_STORE="$WORK/copied" "$P" -q data fsck
check "a clone from rclone's copy" env PROXIMA_STORE="$WORK/copied" "$P" -q data clone inter "$WORK/from-copy"
check "that clone equals the folder" same_tree "$src" "$WORK/from-copy"

# And back: a local store uploaded by rclone is an S3 store Proxima reads.
second=$(s3_fresh_store interop-up)
rclone_s3 copy "$WORK/copied" "RGW:$S3_BUCKET/${second#s3://$S3_BUCKET/}" --transfers 8
check "fsck of the store rclone uploaded" env PROXIMA_STORE="$second" "$P" -q data fsck
check "a clone from the store rclone uploaded" env PROXIMA_STORE="$second" "$P" -q data clone inter "$WORK/from-up"
check "that clone equals the folder" same_tree "$src" "$WORK/from-up"
finish
