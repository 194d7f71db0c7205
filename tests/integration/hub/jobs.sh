#!/usr/bin/env bash
# tests/integration/jobs.sh with every command going through a hub: the
# hub's scheduler places and runs the jobs.
source "$(dirname "$0")/lib.bash"
run_local_test_on_hub jobs
