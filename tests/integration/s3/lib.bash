# Helpers for the tests that run against the real S3 server of the test run
# (scripts/services/rgw-start; ctest's s3.server.start fixture starts it in
# $RGW_DIR and writes the endpoint and keys to $RGW_DIR/env).
: "${RGW_DIR:?set RGW_DIR to a folder made by scripts/services/rgw-start}"
# shellcheck disable=SC1091
source "$RGW_DIR/env"
S3_BUCKET=${S3_BUCKET:-proxima-it}

# Debian's awscli v2 (not pyenv's v1), which does not read AWS_ENDPOINT_URL.
aws_s3() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
# rclone against the same server; AWS_CA_BUNDLE breaks its S3 backend.
rclone_s3() {
  env -u AWS_CA_BUNDLE RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph \
    RCLONE_CONFIG_RGW_ENDPOINT="$AWS_ENDPOINT_URL" RCLONE_CONFIG_RGW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
    RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" RCLONE_CONFIG_RGW_FORCE_PATH_STYLE=true \
    rclone --config /dev/null "$@"
}
# A bucket that exists (creating it is idempotent) and a fresh prefix in it.
s3_fresh_store() {
  aws_s3 s3api create-bucket --bucket "$S3_BUCKET" >/dev/null 2>&1 || true
  echo "s3://$S3_BUCKET/$1-$(date +%s%N)"
}
# Runs one of the local-store integration tests (../NAME.sh) with the data
# lake in a fresh S3 prefix instead.
run_local_test_on_s3() {
  PROXIMA_STORE=$(s3_fresh_store "$1")
  export PROXIMA_STORE
  echo "store: $PROXIMA_STORE"
  exec bash "$(dirname "${BASH_SOURCE[0]}")/../$1.sh"
}
