#!/usr/bin/env bash
# tests/integration/cache.sh with every proxima command going through a hub:
# volumes, cache rows and leases live in the hub's catalog, and fills fetch
# from the hub's store.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
run_local_test_on_hub cache
