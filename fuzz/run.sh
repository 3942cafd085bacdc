#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/README.md): fuzz/run.sh SECONDS [TARGET...]
# Builds the preset fuzz (under the shared build lock), then runs each target (all when none is
# named: changeset push_body ...) for SECONDS on a copy of its committed corpus, so that the
# committed seeds do not grow, with the dictionary fuzz/tram.dict. Prints one line per target:
# runs, execs/s, new corpus entries, crashes. Exit 1 when any target crashed, timed out or ran
# out of memory; the input is kept in build/fuzz/artifacts/<target>/ (reproduce:
# build/fuzz/fuzz/<target>_fuzz build/fuzz/artifacts/<target>/crash-...).
# FUZZ_PARALLEL=2 runs two targets at a time (the machine's two cores); default one.
# FUZZ_CPU=1 counts SECONDS as the fuzzer's CPU time, not wall time (a long run on a shared
# machine, e.g. FUZZ_CPU=1 chrt -i 0 fuzz/run.sh 3600: one hour of fuzzing per target).
# FUZZ_SEED=N fixes libFuzzer's random seed (make fuzz-smoke uses 1: CI's verdict depends on the
# code, not on the luck of one draw; long runs keep a random seed to find what is new).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ || $1 -lt 1 ]]; then
  echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
all=(changeset push_body pull_page page_lead receipt row_image gzip schema bundle)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: unknown target $t (one of: ${all[*]})" >&2; exit 2; }
done
parallel=${FUZZ_PARALLEL:-1}
unit=$([[ -n ${FUZZ_CPU:-} ]] && echo "s CPU" || echo s)

# clang and libFuzzer's runtime, from Debian (nothing when present).
scripts/setup-deps.sh clang-14 libclang-rt-14-dev lld-14 cmake ninja-build pkg-config \
  libsqlite3-dev libsodium-dev libsimdjson-dev libicu-dev zlib1g-dev libdeflate-dev libre2-dev libxlsxwriter-dev

lock=/tmp/tram-build.lock
start=$(date +%s)
if [[ ! -f build/fuzz/build.ninja ]]; then
  flock "$lock" cmake --preset fuzz >/dev/null
fi
flock "$lock" nice -n 10 cmake --build --preset fuzz --target "${targets[@]/%/_fuzz}"
echo "fuzz: build $(( $(date +%s) - start )) s"

work=$(mktemp -d /tmp/tram-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One target: its log in $work/<t>.log, its summary in $work/<t>.line, its exit status as the
# function's.
run_one() {
  local t=$1 art=build/fuzz/artifacts/$1
  mkdir -p "$art" "$work/$t"
  rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
  cp -r "$here/corpus/$t/." "$work/$t/"
  local seeds
  seeds=$(find "$work/$t" -type f | wc -l)
  local rc=0
  # -max_total_time bounds the run; timeout(1) bounds a fuzzer that would not stop (a hang in
  # its own exit path). -timeout: one input taking FUZZ_TIMEOUT s (default 25) is a failure, as
  # is 2 GB of memory. The clock is the wall's: 10 s fired on a 0.2 s input when the machine was
  # busy building (and the fuzzer is niced), so the bound leaves room for that.
  local args=(-timeout="${FUZZ_TIMEOUT:-25}" -rss_limit_mb=2048 -dict="$here/tram.dict" -artifact_prefix="$art/"
              -print_final_stats=1 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} "$work/$t")
  if [[ -z ${FUZZ_CPU:-} ]]; then
    timeout --kill-after=30 $((seconds + 120)) nice -n 10 "build/fuzz/fuzz/${t}_fuzz" \
      -max_total_time="$seconds" "${args[@]}" >"$work/$t.log" 2>&1 || rc=$?
  else
    # SECONDS of the fuzzer's own CPU time, however busy the machine: SIGUSR1 asks libFuzzer to
    # stop gracefully (final stats, exit 0) once its user+system time reaches them. The wall
    # bound (20x) only stops a fuzzer that never gets a CPU.
    nice -n 10 "build/fuzz/fuzz/${t}_fuzz" -max_total_time=$((seconds * 20)) "${args[@]}" >"$work/$t.log" 2>&1 &
    local pid=$! hz used=0
    hz=$(getconf CLK_TCK)
    while kill -0 "$pid" 2>/dev/null; do
      used=$(awk -v hz="$hz" '{print int(($14 + $15) / hz)}' "/proc/$pid/stat" 2>/dev/null || echo 0)
      if [[ $used -ge $seconds ]]; then kill -USR1 "$pid" 2>/dev/null || true; break; fi
      sleep 5
    done
    wait "$pid" || rc=$?
    echo "fuzz: $t used ${used} s of CPU" >>"$work/$t.log"
  fi
  local runs rate entries crashes
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log" | tail -1)
  entries=$(find "$work/$t" -type f | wc -l)
  crashes=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  [[ $rc -ne 0 && $crashes -eq 0 ]] && crashes=1  # died without an artifact (killed by timeout(1), a sanitizer abort)
  printf '%-10s %5s %s  runs %-10s execs/s %-7s corpus %s -> %s  crashes %s%s\n' "$t" "$seconds" "$unit" "${runs:-?}" \
    "${rate:-?}" "$seeds" "$entries" "$crashes" "$([[ $crashes -gt 0 ]] && echo "  (log: build/fuzz/artifacts/$t/fuzz.log)")" \
    >"$work/$t.line"
  cp "$work/$t.log" "$art/fuzz.log"
  return $(( crashes > 0 ))
}

failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if [[ ${#pids[@]} -ge $parallel ]]; then
    wait "${pids[0]}" || failed=1
    cat "$work/${names[0]}.line"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$work/${names[$i]}.line"
done
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED (crash inputs under build/fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} $unit each, 0 crashes"
