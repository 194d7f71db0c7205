#!/usr/bin/env bash
# The whole command-line round trip of tests/integration/cli_roundtrip.sh
# (init, sync, status, log, ls, diff, show, tag, clone, checkout, list, fsck),
# with the data lake in S3 instead of a local folder.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
run_local_test_on_s3 cli_roundtrip
