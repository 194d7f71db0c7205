#!/usr/bin/env bash
# Jobs on a real Slurm cluster (scripts/services/slurm-start, the ctest
# fixture slurm.server.start): submitted with sbatch into the template's
# partition with its CPUs and GPUs (GRES), output and exit codes back
# through the attempt folder, cancel through scancel, a refused request
# reported with Slurm's words. Embedded and through a hub.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/../hub/lib.bash"
: "${SLURM_DIR:?set SLURM_DIR to a folder made by scripts/services/slurm-start}"
source "$SLURM_DIR/env"

scenario() {
  local mode=$1
  "$P" -q compute add hpc --kind slurm --cpus 2 --gpus 2 --config "{\"slurm_conf\":\"$SLURM_CONF\"}"
  "$P" -q template add hpc-cpu --resource hpc --cpus 1 --partition cpu
  "$P" -q template add hpc-gpu --resource hpc --cpus 1 --gpus 1 --partition gpu
  "$P" -q template add hpc-bad --resource hpc --cpus 1 --partition nosuchpartition

  out=$("$P" -q run --template hpc-cpu -- sh -c 'echo "in slurm job $SLURM_JOB_ID, partition $SLURM_JOB_PARTITION"; exit 4' 2>&1) && rc=0 || rc=$?
  check "$mode: the exit code comes back from Slurm" test "$rc" = 4
  check "$mode: so does the output, from inside a Slurm job" \
    grep -qE 'in slurm job [0-9]+, partition cpu' <<<"$out"
  id=$("$P" job ls -a --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
  handle=$(field "$id" "['handle']")
  check "$mode: the handle names the Slurm job" grep -qE '^[0-9]+@[0-9]+/1$' <<<"$handle"
  slurm_id=${handle%@*}
  check "$mode: Slurm ran it in the template's partition" \
    bash -c "scontrol show job $slurm_id -o | grep -q 'Partition=cpu'"

  out=$("$P" -q run --template hpc-gpu -- sh -c 'echo "gpus=$CUDA_VISIBLE_DEVICES"')
  check "$mode: a GPU template gets a GPU as GRES" grep -qE '^gpus=[0-9]$' <<<"$out"

  id=$("$P" run -d --template hpc-cpu -- sh -c 'sleep 60; echo not-reached')
  check "$mode: a long job runs in Slurm" wait_state "$id" running
  slurm_id=$(field "$id" "['handle']")
  slurm_id=${slurm_id%@*}
  "$P" -q job cancel "$id" >/dev/null
  check "$mode: cancel ends it" wait_state "$id" cancelled
  gone=1
  for _ in $(seq 100); do
    [ -z "$(squeue -h -j "$slurm_id" 2>/dev/null)" ] && { gone=0; break; }
    sleep 0.1
  done
  check "$mode: and scancel took it out of Slurm's queue" test $gone = 0

  out=$("$P" -q run --template hpc-bad -- true 2>&1) && rc=0 || rc=$?
  check "$mode: a partition Slurm does not have fails the job" test "$rc" = 1
  check "$mode: with sbatch's reason" grep -qi 'invalid partition' <<<"$out"

  "$P" -q template rm hpc-cpu
  "$P" -q template rm hpc-gpu
  "$P" -q template rm hpc-bad
  "$P" -q compute rm hpc
}

scenario embedded
start_hub "$WORK/hub"
CLEANUPS+=("stop_hub")
PROXIMA_HUB=$HUB_URL PROXIMA_TOKEN=$ADMIN_TOKEN scenario hub

finish
