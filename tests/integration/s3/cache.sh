#!/usr/bin/env bash
# The cache test of tests/integration/cache.sh with the data lake in S3:
# fills fetch from the S3 server, verified, and share inodes across commits.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
run_local_test_on_s3 cache
