#!/usr/bin/env bash
# The whole command-line round trip of tests/integration/cli_roundtrip.sh
# (init, sync, status, log, ls, diff, show, tag, clone, checkout, list, fsck),
# with the data lake in S3 instead of a local folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.bash"
PROXIMA_STORE=$(s3_fresh_store roundtrip)
export PROXIMA_STORE
echo "store: $PROXIMA_STORE"
exec bash "$here/../cli_roundtrip.sh"
