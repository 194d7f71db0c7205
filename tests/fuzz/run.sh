#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined)
# and runs each for a bounded time from its seed corpus. Fails on any crash,
# leak, sanitizer report or abort. Usage: tests/fuzz/run.sh [SECONDS] [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../src" && pwd)
seconds=${1:-${FUZZ_SECONDS:-20}}
out=${2:-${FUZZ_DIR:-/tmp/proxima-fuzz}}
mkdir -p "$out"
CXX=${FUZZ_CXX:-clang++-14}
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I "$src" -DPROXIMA_FUZZ)
common=("$src/proxima/base/status.cc" "$src/proxima/base/hash.cc" "$src/proxima/model/names.cc"
        "$src/proxima/model/keys.cc")

build() {  # NAME SOURCES...
  local name=$1
  shift
  if [ ! -x "$out/$name" ] || [ -n "$(find "$here" "$src" -newer "$out/$name" -name '*.cc' -o -newer "$out/$name" -name '*.h' | head -1)" ]; then
    echo "fuzz: building $name"
    "$CXX" "${flags[@]}" "$@" "${common[@]}" -lcrypto -lzstd -o "$out/$name"
  fi
}
build fuzz_requests "$here/fuzz_requests.cc" "$src/proxima/server/requests.cc" \
  "$src/proxima/ports/compute_codec.cc"
build fuzz_objects "$here/fuzz_objects.cc" "$src/proxima/model/tree.cc" \
  "$src/proxima/model/commit.cc" "$src/proxima/model/pack.cc" "$src/proxima/core/object_check.cc" \
  "$src/proxima/base/aligned_buffer.cc"

status=0
for t in requests objects; do
  corpus="$out/corpus-$t"
  mkdir -p "$corpus"
  cp -n "$here/corpus/$t/"* "$corpus/" 2>/dev/null || true
  echo "fuzz: running fuzz_$t for ${seconds}s"
  if ! (cd "$out" && "./fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -print_final_stats=1 "$corpus" >"$out/fuzz_$t.log" 2>&1); then
    echo "FAIL: fuzz_$t found a problem:"
    tail -40 "$out/fuzz_$t.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|cov:' "$out/fuzz_$t.log" | tail -2
    echo "ok: fuzz_$t"
  fi
done
exit $status
