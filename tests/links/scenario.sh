#!/usr/bin/env bash
# One field-link scenario (issue 16): a real tram-server on loopback, linkem in front of it, one
# tram-field device enrolled at the office (full speed) and then sent to the field: it records
# --reports change sets (one report each for what unit 03808 owes in 2026–2030, then edits of
# them), --photos photos of --photo-kb on the last ones, and runs `tram-field sync` again each time it
# fails (each run is one user action) until it succeeds or --bound-s passes. Then it checks on
# the server: every change set of the device is in the log exactly once and accepted (0 lost,
# 0 duplicated), the device holds a receipt for each, the photo is stored whole (BLAKE2b-256), and
# a second device, pulling at full speed, sees every report. It prints the figures: total time,
# ideal time (payload ÷ up rate), their ratio, bytes on the wire ÷ payload, invocations. The
# payload is the signed change sets as the server stores them plus the photos' bytes (the SDK may
# compress change sets, so the wire ratio of a clean link can be below 1).
#
#   tests/links/scenario.sh --name edge-ci --reports 5 --photo-kb 100 --bound-s 60 \
#       --max-invocations 5 -- --shared --down-kbps 64 --up-kbps 32 --rtt-ms 300 --cut-bytes 20000:40000 --max-cuts 1
#
# Everything after `--` goes to linkem. --assert-goals also fails the scenario when the time ratio
# exceeds 1.5, the wire ratio 1.2, or it took more than one sync (the issue's goals; the bench
# asserts them, CI only prints them).
# --result FILE appends the figures as one JSON line. Binaries: TRAM_SERVER_BIN, TRAM_FIELD_BIN,
# TRAM_LINKEM_BIN (default: build/dev). TRAM_LINKS_KEEP=1 keeps the work directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${TRAM_BUILD:-$ROOT/build/dev}
SERVER=${TRAM_SERVER_BIN:-$BUILD/server/tram-server}
FIELD=${TRAM_FIELD_BIN:-$BUILD/examples/field-app/tram-field}
LINKEM=${TRAM_LINKEM_BIN:-$BUILD/tools/linkem/linkem}

NAME=scenario REPORTS=5 PHOTOS=1 PHOTO_KB=100 BOUND_S=60 MAX_INV=10 ASSERT_GOALS=0 PHOTOS_SENT=() RESULT="" SEED=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --name) NAME=$2; shift 2 ;;
    --reports) REPORTS=$2; shift 2 ;;
    --photo-kb) PHOTO_KB=$2; shift 2 ;;
    --photos) PHOTOS=$2; shift 2 ;;
    --bound-s) BOUND_S=$2; shift 2 ;;
    --max-invocations) MAX_INV=$2; shift 2 ;;
    --assert-goals) ASSERT_GOALS=1; shift ;;
    --result) RESULT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "scenario: unknown option $1" >&2; exit 2 ;;
  esac
done
LINK_ARGS=("$@")
for bin in "$SERVER" "$FIELD" "$LINKEM"; do
  [[ -x $bin ]] || { echo "scenario: $bin is missing (build first)" >&2; exit 2; }
done
for tool in jq sqlite3 b2sum awk timeout; do  # Debian: jq, sqlite3 (coreutils, gawk/mawk have the rest)
  command -v "$tool" >/dev/null || { echo "scenario: needs $tool (apt-get install jq sqlite3)" >&2; exit 2; }
done
# The up rate, for the ideal time (linkem's --up-kbps; 0 or absent = unlimited).
UP_KBPS=0
for ((i = 0; i < ${#LINK_ARGS[@]}; i++)); do
  [[ ${LINK_ARGS[i]} == --up-kbps ]] && UP_KBPS=${LINK_ARGS[i + 1]}
done

W=$(mktemp -d "${TMPDIR:-/tmp}/tram-links-$NAME.XXXXXX")
DATA=$W/server
SERVER_PID="" LINK_PID=""
stop() {  # stop PID: SIGTERM, then at most 5 s, then SIGKILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$LINK_PID"
  stop "$SERVER_PID"
  rm -rf "$W/bin"
  if [[ ${TRAM_LINKS_KEEP:-0} == 1 || ${FAILED:-0} == 1 ]]; then echo "scenario: work directory kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
FAILED=1
# Copies of the binaries: a build running beside a long scenario must not swap them mid-run.
mkdir -p "$W/bin"
cp "$SERVER" "$W/bin/tram-server" && cp "$FIELD" "$W/bin/tram-field" && cp "$LINKEM" "$W/bin/linkem"
SERVER=$W/bin/tram-server FIELD=$W/bin/tram-field LINKEM=$W/bin/linkem
log() { printf '[%s] %s\n' "$NAME" "$*"; }
die() { log "FAIL: $*" >&2; exit 1; }

b2() { b2sum -l 256 "$1" | cut -c1-64; }  # BLAKE2b-256, the server's name for an attachment
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }  # calc EXPR: a decimal with two digits
le() { awk "BEGIN { exit !($1 <= $2) }"; }        # le A B: A <= B
devkey() { printf 'tram-links-%s' "$1" | sha256sum | cut -c1-64; }
field() {  # field DEVICE ARGS...: tram-field on one device's home, bounded
  local dev=$1
  shift
  TRAM_FIELD_KEY=$(devkey "$dev") timeout 120 "$FIELD" --home "$W/$dev" "$@" </dev/null
}
# waits for "listening on HOST:PORT" in a file; prints PORT
port_of() {
  local file=$1 pid=$2
  for _ in $(seq 100); do
    grep -q 'listening on' "$file" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$file" | head -1
}

# --- the server, two users -------------------------------------------------------------------
timeout 60 "$SERVER" seed --data "$DATA" >/dev/null
timeout 60 "$SERVER" admin create-user --data "$DATA" --id minh --role official --units 03808 >/dev/null
timeout 60 "$SERVER" admin create-user --data "$DATA" --id huong --role reviewer --all-units >/dev/null
timeout $((BOUND_S + 600)) "$SERVER" serve --data "$DATA" --listen 127.0.0.1:0 >"$W/server.out" 2>"$W/server.log" &
SERVER_PID=$!
SPORT=$(port_of "$W/server.out" "$SERVER_PID")
[[ -n $SPORT ]] || die "the server did not start (see $W/server.log)"

# --- enrolment at the office: linkem without limits, then the field link on the same port ----
# The relay is a test tool: under ASan its leak check at exit (a ptrace'd tracer) was seen to hang
# a stopped linkem, orphaned and spinning, after its `timeout` was killed; it checks nothing of ours.
LINKEM_ENV=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
timeout $((BOUND_S + 600)) "${LINKEM_ENV[@]}" "$LINKEM" --listen 127.0.0.1:0 --to "127.0.0.1:$SPORT" >"$W/linkem0.out" 2>/dev/null &
LINK_PID=$!
LPORT=$(port_of "$W/linkem0.out" "$LINK_PID")
[[ -n $LPORT ]] || die "linkem did not start"
code=$(timeout 60 "$SERVER" admin enrol-code --data "$DATA" --user minh)
field minh init --server "http://127.0.0.1:$LPORT" --code "$code" --name "Lò Văn Minh" >"$W/init.out" 2>&1 || die "enrolment failed: $(cat "$W/init.out")"
code=$(timeout 60 "$SERVER" admin enrol-code --data "$DATA" --user huong)
field huong init --server "http://127.0.0.1:$SPORT" --code "$code" --name "Nguyễn Thị Hương" >/dev/null 2>&1 || die "the reviewer's enrolment failed"
stop "$LINK_PID"
LINK_PID=""

# --- in the field, offline: the change sets, the last ones with the photos ---------------------
# What unit 03808 owes (indicators and tasks) in each half-year: one report each; past that, the
# reports are edited again (each edit is one more change set), as a backlog of months would be.
mapfile -t ITEMS < <(field minh due --period 2026-H1 --json | jq -r '.. | objects | select(.kind? == "indicator" or .kind? == "task") | "\(.kind) \(.code)"' | sort -u)
[[ ${#ITEMS[@]} -gt 0 ]] || die "nothing owed by unit 03808"
PERIODS=(2026-H1 2027-H1 2028-H1 2029-H1 2030-H1)
UNIQUE=$((${#ITEMS[@]} * ${#PERIODS[@]}))
PHOTO_BYTES=0
ids=()
for ((k = 0; k < REPORTS; k++)); do
  extra=()
  if ((k >= REPORTS - PHOTOS)); then  # the last reports carry the photos
    photo=$W/photo-$k.jpg
    head -c $((PHOTO_KB * 1024)) /dev/urandom >"$photo"  # a photo does not compress
    PHOTO_BYTES=$((PHOTO_BYTES + $(stat -c %s "$photo")))
    PHOTOS_SENT+=("$photo")
    extra=(--evidence "$photo" --caption "Công trình cấp nước bản Nà Lời, ảnh $k")
  fi
  text="Báo cáo số $((k + 1)): đã hoàn thành các hạng mục theo kế hoạch; 126 hộ được sử dụng nước sạch."
  if ((k < UNIQUE)); then
    read -r kind item <<<"${ITEMS[k % ${#ITEMS[@]}]}"
    per=${PERIODS[k / ${#ITEMS[@]}]}
    value=$((50 + k % 50))
    [[ $item == CT-KHONGMATUY-XAPHUONG ]] && value=$((k % 2))  # a yes/no indicator: 1 (có) or 0 (không)
    out=$(field minh report --json --period "$per" --"$kind" "$item" --progress on_track --value "$value" \
      --narrative "$text" "${extra[@]}") || die "report $k ($kind $item $per) failed: $out"
    ids+=("$(jq -r .id <<<"$out")")
  else
    out=$(field minh report --json --id "${ids[k % UNIQUE]}" --narrative "$text (sửa lần $((k / UNIQUE)))" "${extra[@]}") ||
      die "edit $k failed: $out"
  fi
done
status=$(field minh status --json)
SEQ=$(jq -r .seq <<<"$status")
DEVICE=$(jq -r .device <<<"$status")
log "device $DEVICE: $SEQ change sets (${#ids[@]} reports, then edits) and $PHOTOS photo(s), $PHOTO_BYTES bytes, to send"

# --- the field link ----------------------------------------------------------------------------
timeout $((BOUND_S + 600)) "${LINKEM_ENV[@]}" "$LINKEM" --listen "127.0.0.1:$LPORT" --to "127.0.0.1:$SPORT" --seed "$SEED" \
  --stats "$W/linkem.json" "${LINK_ARGS[@]}" >"$W/linkem.out" 2>"$W/linkem.log" &
LINK_PID=$!
[[ -n $(port_of "$W/linkem.out" "$LINK_PID") ]] || die "linkem did not start on port $LPORT: $(cat "$W/linkem.log")"
log "link: ${LINK_ARGS[*]}"

# A sync that can bound itself (--max-time-s) is told the time left; any other is stopped by timeout.
SELF_BOUND=0
"$FIELD" sync --help 2>/dev/null | grep -q -- --max-time-s && SELF_BOUND=1
START=$(date +%s.%N)
deadline=$(($(date +%s) + BOUND_S))
inv=0 done=0
while ((inv < MAX_INV * 4)); do  # the loop ends at the bound anyway; this caps it twice
  left=$((deadline - $(date +%s)))
  ((left > 0)) || break
  inv=$((inv + 1))
  t0=$(date +%s.%N)
  bound_args=()
  ((SELF_BOUND)) && bound_args=(--max-time-s "$left")
  if TRAM_FIELD_KEY=$(devkey minh) timeout "$((left + 5))" "$FIELD" --home "$W/minh" sync "${bound_args[@]}" </dev/null >"$W/sync-$inv.out" 2>"$W/sync-$inv.err"; then
    log "sync #$inv: done in $(calc "$(date +%s.%N) - $t0") s: $(head -1 "$W/sync-$inv.out")"
    done=1
    break
  fi
  log "sync #$inv failed after $(calc "$(date +%s.%N) - $t0") s: $(tail -1 "$W/sync-$inv.err" | cut -c1-200)"
  sleep 1
done
TOTAL=$(calc "$(date +%s.%N) - $START")
stop "$LINK_PID"
LINK_PID=""
WIRE_UP=$(jq -r .bytes_up "$W/linkem.json")
WIRE_DOWN=$(jq -r .bytes_down "$W/linkem.json")
CUTS=$(jq -r .cuts "$W/linkem.json")
CUT_CONNS=$(jq -r .connections_cut "$W/linkem.json")
CONNS=$(jq -r .connections "$W/linkem.json")
STALLS=$(jq -r .stalls "$W/linkem.json")

# --- checks --------------------------------------------------------------------------------------
problems=()
((done)) || problems+=("no sync finished within ${BOUND_S} s ($inv invocations)")
((inv <= MAX_INV)) || problems+=("$inv invocations (at most $MAX_INV allowed)")
status=$(field minh status --json)
pending=$(jq -r .pending <<<"$status")
rejected=$(jq -r .rejected_count <<<"$status")
receipts=$(jq -r .receipts <<<"$status")
[[ $pending == 0 ]] || problems+=("$pending change sets still in the outbox")
[[ $rejected == 0 ]] || problems+=("$rejected change sets rejected")
[[ $receipts == "$SEQ" ]] || problems+=("the device holds $receipts receipts for $SEQ change sets")
# Every report's change sets, by id, in the server's log exactly once.
ids_seen=()
for id in "${ids[@]}"; do
  while read -r cs; do ids_seen+=("$cs"); done < <(field minh receipt "$id" --json | jq -r '.receipts[] | select(.status=="accepted") | .id')
done
# The reviewer, at full speed, pulls every report.
field huong sync >/dev/null 2>&1 || problems+=("the second device's sync failed")
pulled=0
for per in "${PERIODS[@]}"; do
  n=$(field huong list --period "$per" --unit 03808 --json | jq --arg d "$DEVICE" '[.reports[] | select(.fields.device == $d)] | length')
  pulled=$((pulled + n))
done
[[ $pulled == "${#ids[@]}" ]] || problems+=("the second device sees $pulled of ${#ids[@]} reports")
stop "$SERVER_PID"
SERVER_PID=""
q() { sqlite3 -readonly "$DATA/tram.db" "$1"; }
read -r LOGGED DISTINCT ACCEPTED MINSEQ MAXSEQ < <(q "SELECT count(*), count(DISTINCT seq), coalesce(sum(accepted),0), coalesce(min(seq),0), coalesce(max(seq),0) FROM _srv_log WHERE device = X'$DEVICE'" | tr '|' ' ')
# The payload: the signed change sets as the server keeps them, and the photo.
CS_BYTES=$(q "SELECT coalesce(sum(length(bytes) + length(sig)), 0) FROM _srv_log WHERE device = X'$DEVICE'")
PAYLOAD=$((CS_BYTES + PHOTO_BYTES))
LOST=$((SEQ - DISTINCT))
DUP=$((LOGGED - DISTINCT))
[[ $LOGGED == "$SEQ" && $DISTINCT == "$SEQ" && $MINSEQ == 1 && $MAXSEQ == "$SEQ" ]] ||
  problems+=("server log for the device: $LOGGED rows, $DISTINCT distinct seqs ($MINSEQ..$MAXSEQ) for $SEQ change sets")
[[ $ACCEPTED == "$SEQ" ]] || problems+=("$ACCEPTED of $SEQ change sets accepted by the server")
admin_seq=$(timeout 60 "$SERVER" admin devices --data "$DATA" | grep -i "^$DEVICE" | grep -o 'seq=[0-9]*' | cut -d= -f2)
[[ $admin_seq == "$SEQ" ]] || problems+=("admin devices says seq=$admin_seq, the device $SEQ")
for cs in "${ids_seen[@]}"; do
  n=$(q "SELECT count(*) FROM _srv_log WHERE id = X'$cs'")
  [[ $n == 1 ]] || problems+=("change set $cs is $n times in the server's log")
done
[[ ${#ids_seen[@]} == "$SEQ" ]] || problems+=("accepted receipts for ${#ids_seen[@]} of $SEQ change sets")
PHOTO_OK=1
for photo in "${PHOTOS_SENT[@]}"; do
  hash=$(b2 "$photo")
  stored=$DATA/attachments/$hash
  if [[ ! -f $stored || $(b2 "$stored") != "$hash" ]]; then
    PHOTO_OK=0
    problems+=("the photo $hash is not stored whole on the server")
  fi
done

# --- figures ---------------------------------------------------------------------------------------
IDEAL=0 RATIO=0
if [[ $UP_KBPS != 0 ]]; then
  IDEAL=$(calc "$PAYLOAD * 8 / ($UP_KBPS * 1000)")
  RATIO=$(calc "$TOTAL / $IDEAL")
fi
WIRE_RATIO=$(calc "$WIRE_UP / $PAYLOAD")
met() { if "$@"; then echo met; else echo "NOT met"; fi; }
GOALS="time ≤ 1.5× ideal: $(if [[ $IDEAL == 0 ]]; then echo n/a; else met le "$RATIO" 1.5; fi), wire ≤ 1.2× payload: $(met le "$WIRE_RATIO" 1.2), one sync: $(met test "$inv" = 1)"
log "$(printf 'total %.1f s, ideal %.1f s (%d B at %s kbit/s), ratio %.2f; wire up %d B = %.2f× payload, down %d B; %d invocations; %d connections, %d cuts (%d connections reset), %d stalls; lost %d, duplicated %d, photo %s' \
  "$TOTAL" "$IDEAL" "$PAYLOAD" "$UP_KBPS" "$RATIO" "$WIRE_UP" "$WIRE_RATIO" "$WIRE_DOWN" "$inv" "$CONNS" "$CUTS" "$CUT_CONNS" "$STALLS" "$LOST" "$DUP" "$([[ $PHOTO_OK == 1 ]] && echo whole || echo MISSING)")"
log "goals: $GOALS"
if ((ASSERT_GOALS)); then
  [[ $IDEAL == 0 ]] || le "$RATIO" 1.5 || problems+=("goal: time ratio $RATIO > 1.5")
  le "$WIRE_RATIO" 1.2 || problems+=("goal: wire ratio $WIRE_RATIO > 1.2")
  [[ $inv == 1 ]] || problems+=("goal: $inv sync invocations, not one")
fi
if [[ -n $RESULT ]]; then
  printf '{"name":"%s","done":%s,"total_s":%.1f,"ideal_s":%.1f,"ratio":%.2f,"payload":%d,"wire_up":%d,"wire_down":%d,"wire_ratio":%.2f,"invocations":%d,"connections":%d,"cuts":%d,"connections_cut":%d,"stalls":%d,"lost":%d,"duplicated":%d,"photo":%s,"problems":%d}\n' \
    "$NAME" "$([[ $done == 1 ]] && echo true || echo false)" "$TOTAL" "$IDEAL" "$RATIO" "$PAYLOAD" "$WIRE_UP" "$WIRE_DOWN" "$WIRE_RATIO" "$inv" "$CONNS" "$CUTS" "$CUT_CONNS" "$STALLS" "$LOST" "$DUP" \
    "$([[ $PHOTO_OK == 1 ]] && echo true || echo false)" "${#problems[@]}" >>"$RESULT"
fi
if ((${#problems[@]})); then
  for p in "${problems[@]}"; do log "FAIL: $p" >&2; done
  exit 1
fi
FAILED=0
log "PASS"
