# Helpers for the tests of the hub: start `proxima server` on a free port
# with its own home (SQLite catalog and local store by default), and point
# the proxima commands of a test at it with the administrator's token.
: "${PROXIMA_BIN:?set PROXIMA_BIN to the proxima executable}"

# start_hub DIR [ARGS...]: starts a server whose home is DIR; sets HUB_PID,
# HUB_URL and ADMIN_TOKEN (PROXIMA_ADMIN_TOKEN when set, else the one the
# server prints on first start). It listens on HUB_LISTEN (default a free
# port of 127.0.0.1). Further ARGS go to `proxima server`.
start_hub() {
  local dir=$1
  shift
  mkdir -p "$dir"
  PROXIMA_HOME=$dir PROXIMA_HUB= PROXIMA_TOKEN= PROXIMA_STORE= \
    "$PROXIMA_BIN" server --listen "${HUB_LISTEN:-127.0.0.1:0}" "$@" >"$dir/server.out" 2>"$dir/server.log" &
  HUB_PID=$!
  local i
  for i in $(seq 100); do
    if grep -q 'listening on' "$dir/server.log" 2>/dev/null; then break; fi
    if ! kill -0 $HUB_PID 2>/dev/null; then
      echo "hub did not start:" >&2
      cat "$dir/server.log" >&2
      return 1
    fi
    sleep 0.1
  done
  HUB_URL=$(grep -oE 'https?://127.0.0.1:[0-9]+' "$dir/server.log" | head -1)
  [ -n "$HUB_URL" ] || { cat "$dir/server.log" >&2; return 1; }
  if [ -n "${PROXIMA_ADMIN_TOKEN:-}" ]; then
    ADMIN_TOKEN=$PROXIMA_ADMIN_TOKEN
  elif grep -q 'shown only' "$dir/server.log"; then
    ADMIN_TOKEN=$(grep -A1 'shown only' "$dir/server.log" | tail -1)
  fi
}

# A stable administrator token for hubs that restart over the same catalog.
new_token() { echo "pxm_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# start_restartable_hub DIR: a hub that the test may kill and start again
# over the same catalog and port: a stable administrator token, stopped at
# cleanup, and every proxima command of the test pointed at it. Sets
# HUB_LISTEN, so that a later start_hub reuses the port.
start_restartable_hub() {
  export PROXIMA_ADMIN_TOKEN
  PROXIMA_ADMIN_TOKEN=$(new_token)
  start_hub "$1"
  CLEANUPS+=("stop_hub")
  export PROXIMA_HUB=$HUB_URL PROXIMA_TOKEN=$ADMIN_TOKEN
  HUB_LISTEN=${HUB_URL#http://}
}

stop_hub() {  # SIGTERM: graceful
  [ -n "${HUB_PID:-}" ] || return 0
  kill "$HUB_PID" 2>/dev/null || true
  wait "$HUB_PID" 2>/dev/null || true
  HUB_PID=
}

# run_local_test_on_hub NAME: runs tests/integration/NAME.sh with every
# proxima command going through a fresh hub, as its administrator.
run_local_test_on_hub() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/proxima-hub-XXXXXX")
  start_hub "$dir/hub"
  echo "hub: $HUB_URL (home $dir/hub)"
  local rc=0
  PROXIMA_HUB=$HUB_URL PROXIMA_TOKEN=$ADMIN_TOKEN bash "$(dirname "${BASH_SOURCE[0]}")/../$1.sh" ||
    rc=$?
  stop_hub
  if [ $rc -ne 0 ]; then tail -20 "$dir/hub/server.log" >&2; fi
  rm -rf "$dir"
  return $rc
}
