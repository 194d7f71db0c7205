# Shared helpers for the integration tests. Each test runs the proxima
# executable ($PROXIMA_BIN) against real folders with its own $PROXIMA_HOME.
set -euo pipefail

: "${PROXIMA_BIN:?set PROXIMA_BIN to the proxima executable}"
P="$PROXIMA_BIN"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxima-it-XXXXXX")
export PROXIMA_HOME="$WORK/home"
export PROXIMA_AUTHOR="tester@example"
CLEANUPS=()
cleanup() {
  local rc=$?
  for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

PASSED=0
FAILED=0
fail() {
  echo "FAIL: $*" >&2
  FAILED=$((FAILED + 1))
}
pass() {
  echo "ok: $*"
  PASSED=$((PASSED + 1))
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# expect_fail DESCRIPTION PATTERN COMMAND...: the command must fail and its
# output must match PATTERN (grep -E).
expect_fail() {
  local what=$1 pattern=$2
  shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ $rc -eq 0 ]; then
    fail "$what: command succeeded: $*"
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$what: message did not match /$pattern/: $out"
  else
    pass "$what"
  fi
}
# The id of the Nth newest commit of a dataset (0 = head).
commit_id() {
  "$P" data log "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[$2]['id'])"
}
# Compares two folders byte for byte, symbolic links as links, ignoring .proxima.
same_tree() {
  diff -r --no-dereference -x .proxima "$1" "$2" >/dev/null
}
# make_tree DIR SEED: 1,200 files of 1 to 60 kB in 8 folders, and one of 12 MiB.
make_tree() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(int(sys.argv[2]))
for d in range(8):
    os.makedirs(f"{root}/d{d}", exist_ok=True)
    for f in range(150):
        with open(f"{root}/d{d}/f{f}.bin", "wb") as out:
            out.write(rng.randbytes(rng.randint(1000, 60000)))
with open(f"{root}/large.bin", "wb") as out:
    out.write(rng.randbytes(12 << 20))
PY
}
# field ID PYEXPR: a field of job ID, by `job show --json` ("['state']").
field() { "$P" job show "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
# wait_state ID STATE [SECONDS]: until job ID is in STATE (20 s at most);
# says where it stands otherwise.
wait_state() {
  local id=$1 want=$2 i
  for i in $(seq $((${3:-20} * 20))); do
    [ "$(field "$id" "['state']")" = "$want" ] && return 0
    sleep 0.05
  done
  echo "job $id is $(field "$id" "['state']") ($(field "$id" "['reason']")), not $want" >&2
  return 1
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
