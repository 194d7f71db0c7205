#!/usr/bin/env bash
# The kill -9 test of tests/integration/crash.sh with the data lake in S3:
# after each kill the store is sound, and a final sync and clone are exact.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
run_local_test_on_s3 crash
