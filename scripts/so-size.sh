#!/usr/bin/env bash
# The size of a shared library once stripped, against a budget (issue 15: the ARM64
# libtram_client.so ≤ 2.5 MiB). Usage: scripts/so-size.sh LIB STRIP BUDGET_BYTES
set -euo pipefail
lib=$1 strip=$2 budget=$3
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$strip" --strip-unneeded -o "$tmp" "$lib"
size=$(stat -c %s "$tmp")
awk -v n="$(basename "$lib")" -v s="$size" -v b="$budget" \
  'BEGIN { printf "%s stripped: %d bytes (%.2f MiB), budget %.2f MiB\n", n, s, s / 1048576, b / 1048576 }'
if ((size > budget)); then
  echo "over budget by $((size - budget)) bytes" >&2
  exit 1
fi
