#!/usr/bin/env bash
# Fails when a file includes a header from a layer it may not depend on
# (STYLE.md): base <- model <- ports <- core <- server, cli <- app; adapters <- ports.
set -euo pipefail
cd "$(dirname "$0")/../src/proxima"

declare -A allowed=(
  [base]="base"
  [model]="base model"
  [ports]="base model ports"
  [core]="base model ports core"
  [adapters]="base model ports adapters"
  [server]="base model ports core server"
  [cli]="base model ports core cli"
  [app]="base model ports core adapters server cli app"
)
bad=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    # Tests may use adapters (the in-memory fakes) beside core code.
    [[ "$file" == *_test.cc ]] && continue
    dep=$(sed -E 's/.*#include "proxima\/([a-z]+)\/.*/\1/' <<<"$line")
    if [[ " ${allowed[$layer]} " != *" $dep "* ]]; then
      echo "layering violation: $file includes proxima/$dep/ (layer '$layer' may use: ${allowed[$layer]})"
      bad=1
    fi
  done < <(grep -rn '#include "proxima/' "$layer" | sed -E 's/^([^:]+):[0-9]+:/\1:/')
done
if [ $bad -ne 0 ]; then exit 1; fi
echo "layering OK"
