#!/usr/bin/env bash
# The hub over HTTPS (tls.cert and tls.key in its config): clients that
# trust its certificate (PROXIMA_HUB_CA_BUNDLE, or hub.ca_bundle) sync and
# clone through it; clients that do not are refused with a clear error, and
# so is plain HTTP.
source "$(dirname "$0")/../lib/common.bash"
source "$(dirname "$0")/lib.bash"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat >"$WORK/hub.yaml" <<YAML
tls:
  cert: $WORK/cert.pem
  key: $WORK/key.pem
YAML
start_hub "$WORK/hub" --config "$WORK/hub.yaml"
CLEANUPS+=("stop_hub")
echo "hub: $HUB_URL"
check "the hub says it serves https" grep -q "listening on https://" "$WORK/hub/server.log"
export PROXIMA_HUB=$HUB_URL PROXIMA_TOKEN=$ADMIN_TOKEN

expect_fail "a client that does not trust the certificate is refused" \
  "certificate|SSL" "$P" whoami
export PROXIMA_HUB_CA_BUNDLE=$WORK/cert.pem
check "a client that trusts it gets in" "$P" whoami
mkdir -p "$WORK/src/a"
for i in $(seq 20); do echo "secret $i" >"$WORK/src/a/$i.txt"; done
check "init over https" "$P" -q data init tls "$WORK/src"
check "sync over https" "$P" -q data sync -C "$WORK/src"
check "clone over https" "$P" -q data clone tls "$WORK/clone"
check "the clone is exact" same_tree "$WORK/src" "$WORK/clone"
expect_fail "plain http to the TLS port is refused" "Empty reply|reset|hub" \
  env PROXIMA_HUB="http://${HUB_URL#https://}" "$P" whoami
check "login over https stores the CA-verified login" "$P" login --hub "$HUB_URL" --token "$ADMIN_TOKEN"
check "the stored config is private (0600)" test "$(stat -c %a "$PROXIMA_HOME/config.yaml")" = 600
finish
