#!/usr/bin/env bash
# `make bench-links`: the full field-link scenarios of issue 16 through linkem, each run by
# tests/links/scenario.sh with the goals asserted (time ≤ 1.5× ideal, wire ≤ 1.2× payload, one
# sync, 0 lost, 0 duplicated, photos whole), then one table of the figures. Not part of `make test`.
#
#   TRAM_LINKS_SCALE=0.05 make bench-links      # photos at 5% of their size, for a quick run
#   TRAM_LINKS_SCENARIOS="edge 3g" make bench-links
#
# Scenarios: edge (64/32 kbit/s shared, 600 ms RTT, a cut every 30 s), gprs (20/20 kbit/s shared,
# 800 ms RTT), 3g (384/128 kbit/s shared, 200 ms RTT, 2% of the time in 1 s stalls), each with
# 20 reports and a 2 MiB photo; shared30 (the issue's worst row: 30 kbit/s shared, 600 ms RTT);
# backlog (six months over EDGE: 500 change sets and 5 photos of 200 KB; not in the default set).
# Each is bounded by twice its ideal time plus a minute (at least 2 minutes); TRAM_LINKS_BOUND_S
# overrides. The table goes to stdout and to build/links/bench-links.md; the JSON lines beside it.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCALE=${TRAM_LINKS_SCALE:-1}
SCENARIOS=${TRAM_LINKS_SCENARIOS:-edge gprs 3g shared30}
OUT=${TRAM_LINKS_OUT:-$ROOT/build/links}
mkdir -p "$OUT"
RESULTS=$OUT/bench-links.jsonl
: >"$RESULTS"

# name | reports | photos | photo KiB at scale 1 | up kbit/s (for the bound) | linkem arguments
declare -A SPEC=(
  [edge]="20|1|2048|32|--shared --down-kbps 64 --up-kbps 32 --rtt-ms 600 --jitter-ms 50 --cut-every-s 30"
  [gprs]="20|1|2048|20|--shared --down-kbps 20 --up-kbps 20 --rtt-ms 800 --jitter-ms 100"
  [3g]="20|1|2048|128|--shared --down-kbps 384 --up-kbps 128 --rtt-ms 200 --jitter-ms 40 --stall-prob 0.02 --stall-ms 1000"
  [shared30]="20|1|2048|30|--shared --down-kbps 30 --up-kbps 30 --rtt-ms 600"
  [backlog]="500|5|200|32|--shared --down-kbps 64 --up-kbps 32 --rtt-ms 600 --jitter-ms 50 --cut-every-s 30"
)
declare -A LINK

failed=0
for name in $SCENARIOS; do
  [[ -n ${SPEC[$name]:-} ]] || { echo "bench-links: unknown scenario $name (${!SPEC[*]})" >&2; exit 2; }
  IFS='|' read -r reports photos kib up args <<<"${SPEC[$name]}"
  LINK[$name]=$args
  kib=$(awk -v k="$kib" -v s="$SCALE" 'BEGIN { v = int(k * s); print (v < 1 ? 1 : v) }')
  # About 600 bytes a change set: the bound is twice the ideal plus a minute.
  ideal=$(((photos * kib * 1024 + reports * 600) * 8 / (up * 1000)))
  bound=${TRAM_LINKS_BOUND_S:-$((ideal * 2 + 60 > 120 ? ideal * 2 + 60 : 120))}
  echo "== $name: $reports change sets, $photos photo(s) of $kib KiB, bound ${bound} s; linkem $args"
  # shellcheck disable=SC2086
  "$ROOT/tests/links/scenario.sh" --name "$name" --reports "$reports" --photos "$photos" --photo-kb "$kib" \
    --bound-s "$bound" --max-invocations 1000 --seed 16 --assert-goals --result "$RESULTS" -- $args || failed=1
done

table() {
  echo "| scenario | link | payload | total | ideal | total ÷ ideal | wire up ÷ payload | syncs | lost | duplicated | photos | goals |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  while read -r line; do
    name=$(jq -r .name <<<"$line")
    jq -r --arg link "${LINK[$name]}" '"| \(.name)\(if .done then "" else " (**not finished**)" end) | `\($link)` | \(.payload / 1024 | floor) KiB | \(.total_s) s | \(.ideal_s) s | \(.ratio)× | \(.wire_ratio)× | \(.invocations) | \(.lost) | \(.duplicated) | \(if .photo then "whole" else "**missing**" end) | \(if .problems == 0 then "met" else "**not met**" end) |"' <<<"$line"
  done <"$RESULTS"
  echo
  echo "scale $SCALE (photo sizes × scale); $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
echo
table | tee "$OUT/bench-links.md"
exit "$failed"
