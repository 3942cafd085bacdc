#!/usr/bin/env bash
# End-to-end load test on loopback: a fresh tram-server (seeded) and tram-loadgen pushing
# 100,000 progress-report rows as 10,000 change sets of 10 rows from 100 devices, then a fresh
# device pulling them, with 1,000 idle connected devices held open; then the pull probe: 200
# pulls of one 100-row page with the server quiet, and up to 200 while 2,000 more change sets are
# pushed (pulls must not queue behind pushes: compare the two p99s, and each with GET /healthz's,
# the control that reads no storage). Runs RUNS times (3) and
# prints medians plus the server's peak RSS. Writes BUILD_DIR/loadgen-results.json.
# Usage: scripts/run-loadgen.sh [BUILD_DIR]   Environment: RUNS, LOADGEN_ARGS (extra flags),
# PULL_PROBE (pulls per probe condition, 200; 0 leaves the probe out).
set -euo pipefail
build=${1:-build/release}
server="$build/server/tram-server"
loadgen="$build/bench/tram-loadgen"
runs=${RUNS:-3}
out="$build/loadgen-results.json"
[[ -x $server && -x $loadgen ]] || { echo "run-loadgen: build the release preset first" >&2; exit 1; }
echo "[" > "$out"
for run in $(seq 1 "$runs"); do
  data=$(mktemp -d "$build/loadgen-data.XXXXXX")
  "$server" seed --data "$data" > /dev/null
  "$server" serve --data "$data" --listen 127.0.0.1:0 --max-connections-per-ip 2000 > "$data/stdout" 2> "$data/server.log" &
  pid=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$data/stdout" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$data/stdout")
  token=$("$server" admin token --data "$data")
  result=$("$loadgen" --server "http://127.0.0.1:$port" --admin-token "$token" --idle 1000 \
             --pull-probe "${PULL_PROBE:-200}" --probe-changesets 2000 --json ${LOADGEN_ARGS:-})
  rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  echo "${result%\}},\"server_peak_rss_mib\":$((rss_kib / 1024))}" | tee -a "$out.tmp"
  [[ $run -lt $runs ]] && echo "," >> "$out.tmp"
done
cat "$out.tmp" >> "$out"; rm -f "$out.tmp"
echo "]" >> "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))
med = lambda k: statistics.median(r[k] for r in runs)
print(f"\nMedians of {len(runs)} runs (tram-loadgen and tram-server on the same 2 cores, loopback):")
rows = [("push rows/s", "push_rows_per_s", ">=", 25000), ("push change sets/s", "push_changesets_per_s", None, None),
        ("push p50 ms/request", "push_p50_ms", None, None), ("push p99 ms/request", "push_p99_ms", None, None),
        ("push bytes/row up", "push_bytes_per_row", "<=", 260), ("pull rows/s", "pull_rows_per_s", ">=", 100000),
        ("pull bytes/row down", "pull_bytes_per_row", "<=", 265), ("server peak RSS MiB", "server_peak_rss_mib", "<=", 100),
        ("probe pull p50 ms quiet", "probe_pull_quiet_p50_ms", None, None), ("probe pull p99 ms quiet", "probe_pull_quiet_p99_ms", None, None),
        ("probe pull p50 ms busy", "probe_pull_busy_p50_ms", None, None), ("probe pull p99 ms busy", "probe_pull_busy_p99_ms", None, None),
        ("probe /healthz p99 quiet", "probe_health_quiet_p99_ms", None, None), ("probe /healthz p99 busy", "probe_health_busy_p99_ms", None, None),
        ("probe pulls during push", "probe_pulls_busy", None, None), ("probe push rows/s", "probe_push_rows_per_s", None, None)]
for label, key, op, target in rows:
    if key not in runs[0]:
        continue
    v = med(key)
    verdict = "" if op is None else ("PASS" if (v >= target if op == ">=" else v <= target) else "MISS") + f" (target {op} {target})"
    print(f"  {label:24s} {v:12,.1f}  {verdict}")
PY
