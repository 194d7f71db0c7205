#!/usr/bin/env bash
# tests/integration/cli_roundtrip.sh with every proxima command going through a hub
# (proxima server on its own SQLite catalog and local store).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
run_local_test_on_hub cli_roundtrip
