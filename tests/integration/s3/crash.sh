#!/usr/bin/env bash
# The kill -9 test of tests/integration/crash.sh with the data lake in S3:
# after each kill the store is sound, and a final sync and clone are exact.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.bash"
PROXIMA_STORE=$(s3_fresh_store crash)
export PROXIMA_STORE
echo "store: $PROXIMA_STORE"
exec bash "$here/../crash.sh"
