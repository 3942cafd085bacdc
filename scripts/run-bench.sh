#!/usr/bin/env bash
# Runs the engine benchmarks (bench/engine_bench.cpp) and checks the issue's targets:
#   1-row change sets: verify+decode+apply rate >= 0.6 x raw crypto_sign_verify_detached rate
#   100-row change sets: >= 100,000 rows/s
# Usage: scripts/run-bench.sh [BUILD_DIR] [extra benchmark flags, e.g. --benchmark_filter=Apply]
# Writes BUILD_DIR/bench-results.json (Google Benchmark JSON; medians of 5 repetitions).
# Then the 1-row ratio on its own: TRAM_BENCH_RATIO_RUNS (5) processes, each running
# BM_RawVerify and BM_VerifyDecodeApply/1 back to back, so that the two alternate and see the
# machine's load alike; the median of the per-run ratios (BUILD_DIR/bench-ratio-results.json).
# Environment: TRAM_BENCH_REPETITIONS (5), TRAM_BENCH_MIN_TIME (0.2 s),
#              TRAM_BENCH_STRICT=1 to exit 1 when a target is missed.
set -euo pipefail

build_dir=${1:-build/release}
shift || true
bench="$build_dir/bench/tram_engine_bench"
out="$build_dir/bench-results.json"
if [[ ! -x $bench ]]; then
  echo "run-bench: $bench not found; build with: cmake --preset release && cmake --build --preset release" >&2
  exit 1
fi

# The replicas live next to the build, on the disk being measured (fsync cost counts).
scratch="$build_dir/bench-tmp"
mkdir -p "$scratch"
trap 'rm -rf "$scratch"' EXIT

TRAM_BENCH_DIR="$scratch" "$bench" \
  --benchmark_repetitions="${TRAM_BENCH_REPETITIONS:-5}" \
  --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="${TRAM_BENCH_MIN_TIME:-0.2}" \
  --benchmark_out="$out" --benchmark_out_format=json \
  "$@"

ratio_out="$build_dir/bench-ratio-results.json"
rm -f "$ratio_out"
for run in $(seq 1 "${TRAM_BENCH_RATIO_RUNS:-5}"); do
  TRAM_BENCH_DIR="$scratch" "$bench" --benchmark_filter='^BM_RawVerify|^BM_VerifyDecodeApply/1(/|$)' \
    --benchmark_min_time="${TRAM_BENCH_MIN_TIME:-0.2}" --benchmark_format=json 2>/dev/null \
    | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["benchmarks"]))' >> "$ratio_out"
done

status=0
python3 - "$out" "$ratio_out" <<'PY' || status=$?
import json, sys

path = sys.argv[1]
with open(path) as f:
    runs = json.load(f)["benchmarks"]

# run name (without the /real_time suffix) -> result; the median when repetitions ran.
results = {}
for b in runs:
    if b.get("error_occurred"):
        continue
    name = b.get("run_name", b["name"]).removesuffix("/real_time")
    agg = b.get("aggregate_name")
    if agg == "median" or (agg is None and name not in results):
        results[name] = b

def get(name, key):
    b = results.get(name)
    return None if b is None or key not in b else float(b[key])

raw = get("BM_RawVerify", "items_per_second")
print()
print(f"Medians from {path}; x raw = change sets/s over raw verifications/s")
print(f"  {'benchmark':<26}{'us/change set':>14}{'change sets/s':>15}{'rows/s':>13}{'x raw':>8}")
if raw:
    print(f"  {'BM_RawVerify':<26}{1e6 / raw:>14.2f}{raw:>15,.0f}{'':>13}{1.0:>8.2f}")
for stage in ("Encode", "Decode", "HashVerify", "VerifyDecodeApply", "Apply"):
    for rows in (1, 10, 100):
        name = f"BM_{stage}/{rows}"
        cs = get(name, "changesets_per_second")
        if cs is None:
            continue
        ratio = f"{cs / raw:>8.2f}" if raw else f"{'':>8}"
        print(f"  {name:<26}{1e6 / cs:>14.2f}{cs:>15,.0f}{get(name, 'rows_per_second'):>13,.0f}{ratio}")

one = get("BM_VerifyDecodeApply/1", "changesets_per_second")
hundred = get("BM_VerifyDecodeApply/100", "rows_per_second")
ratio = one / raw if one is not None and raw else None
t1 = None if ratio is None else ratio >= 0.6
t2 = None if hundred is None else hundred >= 100_000

# The 1-row ratio from the alternating runs, when they ran: median of per-run ratios.
per_run = []
for line in open(sys.argv[2]) if len(sys.argv) > 2 else []:
    got = {b["name"].removesuffix("/real_time"): b for b in json.loads(line)}
    r, one_cs = got.get("BM_RawVerify"), got.get("BM_VerifyDecodeApply/1")
    if r and one_cs and "items_per_second" in r and "changesets_per_second" in one_cs:
        per_run.append(one_cs["changesets_per_second"] / r["items_per_second"])
if per_run:
    per_run.sort()
    ratio = per_run[len(per_run) // 2] if len(per_run) % 2 else sum(per_run[len(per_run) // 2 - 1:len(per_run) // 2 + 1]) / 2
    t1 = ratio >= 0.6
    print(f"  1-row ratio, {len(per_run)} alternating runs: " + ", ".join(f"{x:.2f}" for x in per_run) + f"; median {ratio:.2f}")

def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "MISS")

print()
print(f"  [{verdict(t1)}] 1-row change sets, verify+decode+apply >= 0.6 x raw verification rate"
      + (f", median of {len(per_run)} alternating runs" if per_run else "")
      + ("" if ratio is None else f" (got {ratio:.2f})"))
print(f"  [{verdict(t2)}] 100-row change sets, verify+decode+apply >= 100,000 rows/s"
      + ("" if hundred is None else f" (got {hundred:,.0f})"))
sys.exit(1 if (t1 is False or t2 is False) else 0)
PY
if [[ $status -ne 0 && ${TRAM_BENCH_STRICT:-0} != 1 ]]; then
  status=0
fi
exit $status
