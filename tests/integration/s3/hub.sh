#!/usr/bin/env bash
# A hub whose store is S3 hands out presigned URLs: packs go up and all
# objects come down directly between the client and the store, so the bytes
# do not pass through the hub, and the clients need no S3 credentials. The
# whole command-line round trip runs through such a hub too.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/../hub/lib.bash"
source "$(dirname "$0")/lib.bash"

store=$(s3_fresh_store hub)
echo "store: $store" >"$WORK/hub.yaml"
start_hub "$WORK/hub" --config "$WORK/hub.yaml"
CLEANUPS+=("stop_hub")
echo "hub: $HUB_URL over $store"
# The clients have the hub's URL and a token, and no S3 credentials at all.
px() {
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_REGION \
    PROXIMA_HUB="$HUB_URL" PROXIMA_TOKEN="$ADMIN_TOKEN" "$P" "$@"
}
hub_object_bytes() {
  curl -s "$HUB_URL/metrics" | awk '/^proxima_object_bytes_total/ {s += $2} END {print s + 0}'
}

src=$WORK/src
python3 - "$src" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(3)
for d in range(4):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    for f in range(100):
        with open(f"{root}/d{d}/f{f}.bin", "wb") as out:
            out.write(rng.randbytes(rng.randint(10000, 90000)))
PY
total=$(du -sb "$src" | cut -f1)
check "init through the hub" px -q data init direct "$src"
check "sync through the hub" px -q data sync -C "$src" -m first
after_sync=$(hub_object_bytes)
check "clone through the hub" px -q data clone direct "$WORK/clone"
check "the clone equals the folder" same_tree "$src" "$WORK/clone"
after_clone=$(hub_object_bytes)
echo "dataset: $total bytes; object bytes through the hub: $after_sync after the sync, $after_clone after the clone"
check "the sync's data went straight to S3 (hub carried $after_sync of $total bytes)" \
  test "$after_sync" -lt $((total / 20))
check "and the clone's came straight from it (hub carried $((after_clone - after_sync)) bytes)" \
  test $((after_clone - after_sync)) -lt $((total / 20))
check "fsck through the hub" px -q data fsck

check "the dataset is deleted through the API" \
  curl -sf -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" "$HUB_URL/api/v1/datasets/direct"

# The local-store round trip of tests/integration/cli_roundtrip.sh, through
# this hub (which then holds only its dataset).
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY PROXIMA_HUB="$HUB_URL" \
  PROXIMA_TOKEN="$ADMIN_TOKEN" bash "$(dirname "$0")/../cli_roundtrip.sh" 2>&1) ||
  fail "cli_roundtrip through the S3 hub: $(grep -A3 FAIL <<<"$out" | head -20)"
pass "cli_roundtrip through the S3 hub: $(tail -1 <<<"$out")"
finish
