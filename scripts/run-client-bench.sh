#!/usr/bin/env bash
# Client SDK benchmark on loopback: a fresh seeded tram-server, 100,000 progress-report rows
# pushed by tram-loadgen, then tram-client-bench (local save latency; a fresh device pulling
# every row into its store through the SDK: PULLS (5) alternating pairs of a fresh device pulling
# one page at a time and a fresh device reading ahead, the SDK's default; medians). RUNS times
# (1); medians. Also the size of the stripped libtram_client.so. Writes
# BUILD_DIR/client-bench-results.json.
# Usage: scripts/run-client-bench.sh [BUILD_DIR]   Environment: RUNS, PULLS
set -euo pipefail
build=${1:-build/release}
server="$build/server/tram-server"
loadgen="$build/bench/tram-loadgen"
bench="$build/bench/tram-client-bench"
runs=${RUNS:-1}
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
  "$loadgen" --server "http://127.0.0.1:$port" --admin-token "$token" --json > /dev/null 2>&1
  result=$("$bench" --server "http://127.0.0.1:$port" --admin-token "$token" --dir "$data/devices" --pulls "${PULLS:-5}" --json)
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
print(f"\nClient SDK, medians of {len(runs)} run(s), each the median of {runs[0].get('pull_pairs', 1)} alternating pull pairs"
      " (server, load generator and SDK on the same 2 cores):")
for label, key, op, target in [("local save p50 ms", "save_p50_ms", "<=", 1.0), ("local save p99 ms", "save_p99_ms", None, None),
                               ("fresh pull rows", "pull_rows", None, None),
                               ("fresh pull rows/s", "pull_rows_per_s", ">=", 100000),
                               ("  one page at a time", "pull_serial_rows_per_s", None, None),
                               ("fresh pull bytes/row", "pull_bytes_per_row", None, None)]:
    v = med(key)
    verdict = "" if op is None else ("PASS" if (v >= target if op == ">=" else v <= target) else "MISS") + f" (target {op} {target})"
    print(f"  {label:24s} {v:12,.3f}  {verdict}")
print(f"  fresh pull rows/s range  {min(r.get('pull_rows_per_s_min', r['pull_rows_per_s']) for r in runs):12,.0f} .. "
      f"{max(r.get('pull_rows_per_s_max', r['pull_rows_per_s']) for r in runs):,.0f}")
print(f"  read-ahead / one page at a time: {statistics.median(r.get('pull_ahead_ratio', r['pull_rows_per_s'] / r['pull_serial_rows_per_s']) for r in runs):.2f}x (median of per-pair ratios)")
print(f"  {'stripped libtram_client.so':24s} {int(sys.argv[2]) / 1048576:12,.2f} MiB")
PY
