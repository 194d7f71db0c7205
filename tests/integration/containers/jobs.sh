#!/usr/bin/env bash
# Jobs in containers (podman with runc, a local image built by
# scripts/services/podman-image, the ctest fixture containers.image): the
# datasets appear read-only at /data/<name>, the output folder at /output,
# exit codes come back, cancel stops the container. Embedded mode.
source "$(dirname "$0")/../lib/common.bash"
IMAGE=${PROXIMA_TEST_IMAGE:-localhost/proxima-bookworm:latest}
podman image exists "$IMAGE" || { echo "no image $IMAGE (scripts/services/podman-image)" >&2; exit 1; }

mkdir -p "$WORK/ds/sub" "$WORK/vol"
for i in $(seq 30); do echo "row $i" >"$WORK/ds/sub/r$i.csv"; done
"$P" -q data init tab "$WORK/ds"
"$P" -q data sync -C "$WORK/ds" -m one
"$P" -q volume add near --path "$WORK/vol" --resource local
"$P" -q template add boxed --resource local --cpus 1 --image "$IMAGE"

out=$("$P" -q run --template boxed --dataset tab:cached -- sh -c '
  echo "debian $(cat /etc/debian_version)"
  echo "files $(ls /data/tab/sub | wc -l)"
  echo "data=$PROXIMA_DATA out=$PROXIMA_OUTPUT pwd=$(pwd)"
  touch /data/tab/new 2>/dev/null && echo writable || echo read-only
  echo made-inside >/output/result.txt' 2>&1) || true
id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
check "the job ran in the image" grep -qE '^debian 12' <<<"$out"
check "its dataset is at /data/<name>" grep -q '^files 30$' <<<"$out"
check "the variables name the paths inside" grep -q '^data=/data/tab out=/output pwd=/output$' <<<"$out"
check "the dataset is read-only, even for root" grep -q '^read-only$' <<<"$out"
check "/output is the job's output folder" \
  test "$(cat "$PROXIMA_HOME/jobs/$id/output/result.txt" 2>/dev/null)" = made-inside

out=$("$P" -q run --image "$IMAGE" -- sh -c 'exit 5' 2>&1) && rc=0 || rc=$?
check "--image runs a job in that image, and its exit code comes back" test "$rc" = 5

id=$("$P" run -d --template boxed -- sleep 60)
check "a long container job runs" wait_state "$id" running
"$P" -q job cancel "$id" >/dev/null
check "cancel ends it" wait_state "$id" cancelled
gone=1
for _ in $(seq 100); do
  podman ps --format '{{.Names}}' | grep -q "^proxima-job-$id-" || { gone=0; break; }
  sleep 0.1
done
check "and its container is gone" test $gone = 0

expect_fail "an image that does not exist fails the job" "proxima-nosuch|image" \
  "$P" run --image localhost/proxima-nosuch:1 -- true

finish
