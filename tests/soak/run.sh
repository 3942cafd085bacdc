#!/usr/bin/env bash
# The soak (`make soak`, issue 17): long runs of the three crash and convergence tests, with
# counts from the environment, one summary line per phase, non-zero exit on any failure.
#   SOAK_SERVER_KILLS (1000)  tram-server SIGKILLed under pushes from SOAK_DEVICES (4) devices
#                             (tests/server/durability_test.cpp, SOAK_PER_KILL change sets per
#                             device before each kill, 25)
#   SOAK_SDK_KILLS (1000)     the SDK process SIGKILLed while writing and syncing
#                             (tests/client/kill_test.cpp + writer_main.cpp)
#   SOAK_SEEDS (10000)        convergence seeds (tests/engine/convergence_test.cpp), split over
#                             SOAK_JOBS (2) processes
#   SOAK_PHASES               which phases to run ("server sdk seeds")
# A count of 0 skips its phase. Each phase runs under `timeout` in its own process group (so a
# timeout also stops the tram-server and writer processes it started), and afterwards any
# process still naming its directory is reported and killed: none may be left behind.
# Logs and data: build/soak/<phase>/ (SOAK_DIR).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

server_kills=${SOAK_SERVER_KILLS:-1000}
sdk_kills=${SOAK_SDK_KILLS:-1000}
seeds=${SOAK_SEEDS:-10000}
devices=${SOAK_DEVICES:-4}
per_kill=${SOAK_PER_KILL:-25}
jobs=${SOAK_JOBS:-2}
phases=${SOAK_PHASES:-server sdk seeds}
soak_dir=${SOAK_DIR:-$root/build/soak}
bin=$root/build/dev/tests

mkdir -p "$soak_dir"
soak_dir=$(cd "$soak_dir" && pwd)  # absolute: the seeds phase runs its processes from their own directories
# Build what the phases run, under the shared build lock (other builds run on this machine);
# SOAK_BUILD=0 runs what build/dev has.
if [ "${SOAK_BUILD:-1}" != 0 ]; then
  if [ ! -f build/dev/CMakeCache.txt ]; then
    flock /tmp/tram-build.lock cmake --preset dev >/dev/null || exit 1
  fi
  flock /tmp/tram-build.lock cmake --build --preset dev --target tram-server durability_test client_kill_test client_writer \
    convergence_test >"$soak_dir/build.log" 2>&1 || { echo "soak: build failed, see $soak_dir/build.log"; exit 1; }
fi

# 12345 -> 12,345
commas() { printf "%s" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# Runs "$@" in directory $dir under a time limit; then no process may still name $dir.
# Sets rc and secs.
run_bounded() {
  local limit=$1; shift
  local t0=$SECONDS
  # timeout signals its whole process group: the test and the servers and writers it started.
  nice -n 10 timeout --kill-after=15 "$limit" "$@" >"$dir/log" 2>&1
  rc=$?
  secs=$((SECONDS - t0))
  local left
  left=$(pgrep -f -- "$dir/" || true)
  if [ -n "$left" ]; then
    echo "left behind: $(ps -o pid=,args= -p ${left//$'\n'/,} 2>/dev/null)" >>"$dir/log"
    for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
    [ "$rc" -ne 0 ] || rc=99
  fi
}

fail=0
failed() {  # phase, what
  echo "soak $1: FAILED ($2) after ${secs} s; log: $dir/log"
  fail=1
}

phase_server() {
  [ "$server_kills" -gt 0 ] || return 0
  dir=$soak_dir/server-kills
  rm -rf "$dir" && mkdir -p "$dir"
  TEST_TMPDIR=$dir/ TRAM_KILLS=$server_kills TRAM_DEVICES=$devices TRAM_PER_KILL=$per_kill TRAM_CHECK_EVERY=50 \
    run_bounded $((120 + 3 * server_kills)) "$bin/durability_test"
  local line
  line=$(grep '^durability: ' "$dir/log" | tail -1)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then failed server-kills "exit $rc"; return; fi
  # durability: K kills (M mid-push), D devices, N change sets made, R receipted, L in the log, X lost, Y duplicated, chains 1..N ok, ...
  read -r k m d n r l x y < <(sed -E 's/^durability: ([0-9]+) kills \(([0-9]+) mid-push\), ([0-9]+) devices, ([0-9]+) change sets made, ([0-9]+) receipted, ([0-9]+) in the log, ([0-9]+) lost, ([0-9]+) duplicated.*/\1 \2 \3 \4 \5 \6 \7 \8/' <<<"$line")
  echo "soak server-kills: $(commas "$k") kills ($(commas "$m") mid-push), $d devices, $(commas "$r") change sets receipted," \
       "$(commas "$l") in the log, $x lost, $y duplicated, chains ok, ${secs} s"
}

phase_sdk() {
  [ "$sdk_kills" -gt 0 ] || return 0
  dir=$soak_dir/sdk-kills
  rm -rf "$dir" && mkdir -p "$dir"
  TEST_TMPDIR=$dir/ TRAM_KILLS=$sdk_kills run_bounded $((120 + 3 * sdk_kills)) "$bin/client_kill_test"
  local line
  line=$(grep '^sdk kills: ' "$dir/log" | tail -1)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then failed sdk-kills "exit $rc"; return; fi
  # sdk kills: K kills (S in a sync), C syncs completed, F failed, A writes acknowledged, N change sets, M on the server, X lost, Y duplicated, chains ok, copies identical
  read -r k s c f a n m x y < <(sed -E 's/^sdk kills: ([0-9]+) kills \(([0-9]+) in a sync\), ([0-9]+) syncs completed, ([0-9]+) failed, ([0-9]+) writes acknowledged, ([0-9]+) change sets, ([0-9]+) on the server, ([0-9]+) lost, ([0-9]+) duplicated.*/\1 \2 \3 \4 \5 \6 \7 \8 \9/' <<<"$line")
  echo "soak sdk-kills: $(commas "$k") kills ($(commas "$s") in a sync; $(commas "$c") syncs completed, $f failed), $(commas "$a") saved writes," \
       "$(commas "$m") change sets on the server, $x lost, $y duplicated, chains ok, copies identical, ${secs} s"
}

phase_seeds() {
  [ "$seeds" -gt 0 ] || return 0
  dir=$soak_dir/seeds
  rm -rf "$dir" && mkdir -p "$dir"
  local t0=$SECONDS pids=() j from to per=$(((seeds + jobs - 1) / jobs))
  for ((j = 0; j < jobs; j++)); do
    from=$((j * per)); to=$(((j + 1) * per)); [ "$to" -gt "$seeds" ] && to=$seeds
    [ "$from" -lt "$to" ] || continue
    mkdir -p "$dir/$j"
    ( cd "$dir/$j" && TEST_TMPDIR=$dir/$j/ nice -n 10 timeout --kill-after=15 $((120 + 2 * (to - from))) \
        "$bin/convergence_test" --seeds=$from:$to >"$dir/$j.log" 2>&1 ) &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  secs=$((SECONDS - t0))
  cat "$dir"/[0-9]*.log >"$dir/log"
  if [ -n "$(pgrep -f -- "$dir/" || true)" ]; then rc=99; fi
  # seeds A..B: N change sets accepted, R rejected, C concurrent decisions (T by id), K conflict records, U seeds upgraded to v2; ...
  local n=0 r=0 c=0 t=0 k=0 u=0 parts=0 line
  while read -r line; do
    read -r a b d e f g < <(sed -E 's/^seeds [0-9]+\.\.[0-9]+: ([0-9]+) change sets accepted, ([0-9]+) rejected, ([0-9]+) concurrent decisions \(([0-9]+) by id\), ([0-9]+) conflict records, ([0-9]+) seeds upgraded.*/\1 \2 \3 \4 \5 \6/' <<<"$line")
    n=$((n + a)); r=$((r + b)); c=$((c + d)); t=$((t + e)); k=$((k + f)); u=$((u + g)); parts=$((parts + 1))
  done < <(grep -h '^seeds .*every replica matches the oracle' "$dir"/[0-9]*.log)
  if [ "$rc" -ne 0 ] || [ "$parts" -ne "${#pids[@]}" ]; then failed seeds "exit $rc"; return; fi
  echo "soak seeds: $(commas "$seeds") seeds in $jobs processes, $(commas "$n") change sets accepted, $(commas "$r") rejected," \
       "$(commas "$c") concurrent decisions, $(commas "$k") conflict records, every replica identical to the oracle, ${secs} s"
}

for p in $phases; do
  case $p in
    server) phase_server ;;
    sdk) phase_sdk ;;
    seeds) phase_seeds ;;
    *) echo "soak: unknown phase '$p' (server, sdk, seeds)"; exit 2 ;;
  esac
done
exit $fail
