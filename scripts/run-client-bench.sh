#!/usr/bin/env bash
# Client SDK benchmark on loopback: a fresh seeded tram-server, 100,000 progress-report rows
# pushed by tram-loadgen, then tram-client-bench (local save latency; a fresh device pulling
# every row into its store through the SDK). RUNS times (3); medians. Also the size of the
# stripped libtram_client.so. Writes BUILD_DIR/client-bench-results.json.
# Usage: scripts/run-client-bench.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build/release}
server="$build/server/tram-server"
loadgen="$build/bench/tram-loadgen"
bench="$build/bench/tram-client-bench"
runs=${RUNS:-3}
out="$build/client-bench-results.json"
[[ -x $server && -x $loadgen && -x $bench ]] || { echo "run-client-bench: build the release preset first" >&2; exit 1; }
echo "[" > "$out"
for run in $(seq 1 "$runs"); do
  data=$(mktemp -d "$build/client-bench-data.XXXXXX")
  "$server" seed --data "$data" > /dev/null
  "$server" serve --data "$data" --listen 127.0.0.1:0 > "$data/stdout" 2> "$data/server.log" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$data/stdout" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$data/stdout")
  token=$("$server" admin token --data "$data")
  "$loadgen" --server "http://127.0.0.1:$port" --admin-token "$token" --json > /dev/null
  result=$("$bench" --server "http://127.0.0.1:$port" --admin-token "$token" --dir "$data/devices" --json)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  echo "$result" | tee -a "$out.tmp"
  [[ $run -lt $runs ]] && echo "," >> "$out.tmp"
done
cat "$out.tmp" >> "$out"; rm -f "$out.tmp"
echo "]" >> "$out"
lib=$(readlink -f "$build/client-sdk/libtram_client.so")
strip -o "$build/libtram_client.stripped.so" "$lib"
size=$(stat -c %s "$build/libtram_client.stripped.so")
python3 - "$out" "$size" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))
med = lambda k: statistics.median(r[k] for r in runs)
print(f"\nClient SDK, medians of {len(runs)} runs (server, load generator and SDK on the same 2 cores):")
for label, key, op, target in [("local save p50 ms", "save_p50_ms", "<=", 1.0), ("local save p99 ms", "save_p99_ms", None, None),
                               ("fresh pull rows", "pull_rows", None, None),
                               ("fresh pull rows/s", "pull_rows_per_s", ">=", 100000),
                               ("  one page at a time", "pull_serial_rows_per_s", None, None),
                               ("fresh pull bytes/row", "pull_bytes_per_row", None, None)]:
    v = med(key)
    verdict = "" if op is None else ("PASS" if (v >= target if op == ">=" else v <= target) else "MISS") + f" (target {op} {target})"
    print(f"  {label:24s} {v:12,.3f}  {verdict}")
print(f"  read-ahead / one page at a time: {statistics.median(r['pull_rows_per_s'] / r['pull_serial_rows_per_s'] for r in runs):.2f}x (median of per-run ratios)")
print(f"  {'stripped libtram_client.so':24s} {int(sys.argv[2]) / 1048576:12,.2f} MiB")
PY
