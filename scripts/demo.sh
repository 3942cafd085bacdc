#!/usr/bin/env bash
# The end-to-end demonstration behind `make run`: a real tram-server on loopback and five
# devices running tram-field (four commune and ward officials, one reviewer at the Department of
# Finance). Reports are recorded offline with Vietnamese text and a photo, one phone's clock is a
# year ahead, two officials edit the same report, a write outside a commune is refused, the
# review cycle runs, one outbox travels as a bundle file, and the province report is written.
# Builds nothing: `make run` builds first. TRAM_BUILD picks another build dir (default build/dev).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${TRAM_BUILD:-build/dev}
SERVER=$BUILD/server/tram-server
FIELD=$BUILD/examples/field-app/tram-field
DEMO=var/demo
DATA=$DEMO/server
for bin in "$SERVER" "$FIELD"; do
  [[ -x $bin ]] || { echo "demo: $bin is missing; run \`make run\` (or build $BUILD first)" >&2; exit 1; }
done

if [[ -t 1 ]]; then B=$'\033[1m' D=$'\033[2m' N=$'\033[0m'; else B='' D='' N=''; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '%s%s%s\n' "$D" "$*" "$N"; }

# Shows a command as typed, quoting arguments with spaces.
show() {
  local out="" a
  for a in "$@"; do
    if [[ $a == *[[:space:]]* || -z $a ]]; then out+=" \"$a\""; else out+=" $a"; fi
  done
  printf '%s$%s%s\n' "$D" "$out" "$N"
}

# Each phone has its own home and its own wrapping key (a real phone keeps it in its keystore).
devkey() { printf 'tram-demo-%s' "$1" | sha256sum | cut -c1-64; }
# tram-field on one device; every call is bounded in time.
field() {
  local dev=$1
  shift
  show "[$dev]" tram-field "$@"
  TRAM_FIELD_KEY=$(devkey "$dev") timeout 60 "$FIELD" --home "$DEMO/$dev" "$@"
}
# The same without echoing the command, for values the script needs.
field_quiet() {
  local dev=$1
  shift
  TRAM_FIELD_KEY=$(devkey "$dev") timeout 60 "$FIELD" --home "$DEMO/$dev" "$@"
}
admin() {
  show tram-server admin "$@"
  timeout 60 "$SERVER" admin "$@"
}
# The id printed by `tram-field report` ("Recorded report <id>"; in Vietnamese, under a vi_VN
# locale: "Đã ghi báo cáo <id>").
report_id() { awk '/^(Recorded|Updated) report /{print $3; exit} /^Đã (ghi|sửa) báo cáo /{print $5; exit}'; }

SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# The web server a previous run left serving the app (step 12) goes first: it holds the data dir.
if [[ -f $DEMO/web-server.pid ]]; then
  old=$(cat "$DEMO/web-server.pid")
  kill "$old" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
fi
rm -rf "$DEMO"
mkdir -p "$DEMO"
START=$SECONDS

# ------------------------------------------------------------------------------------------
step "1. The provincial server: the Sơn La programme, users, devices"
show tram-server seed --data "$DATA"
timeout 60 "$SERVER" seed --data "$DATA"
admin create-user --data "$DATA" --id lan --role official --units 03646     # phường Tô Hiệu
admin create-user --data "$DATA" --id minh --role official --units 03808    # xã Mường La
admin create-user --data "$DATA" --id tuan --role official --units 03808    # xã Mường La, a second official
admin create-user --data "$DATA" --id hoa --role official --units 04240     # xã Mường Lèo, on the Lao border
admin create-user --data "$DATA" --id huong --role reviewer --all-units     # Sở Tài chính

# Starts the server on PORT (0: any free port) and waits, at most 10 s, for its address.
start_server() {
  : >"$DEMO/server.out"
  timeout 600 "$SERVER" serve --data "$DATA" --listen "127.0.0.1:$1" >"$DEMO/server.out" 2>>"$DEMO/server.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q 'listening on' "$DEMO/server.out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$DEMO/server.out")
  [[ -n $PORT ]] || { echo "demo: the server did not start; see $DEMO/server.log" >&2; exit 1; }
}
start_server 0
URL=http://127.0.0.1:$PORT
note "tram-server serving $DATA at $URL (pid $SERVER_PID)"

enrol() {
  local dev=$1 name=$2
  shift 2
  local code
  code=$(timeout 60 "$SERVER" admin enrol-code --data "$DATA" --user "$dev")
  note "enrolment code for $dev: $code"
  field "$dev" init --server "$URL" --code "$code" --name "$name" "$@"
}
enrol lan "Cầm Thị Lan"
enrol minh "Lò Văn Minh"
enrol tuan "Quàng Văn Tuấn"
note "Vì Thị Hoa's phone has its clock set a year ahead:"
enrol hoa "Vì Thị Hoa" --clock-offset-days 365
enrol huong "Nguyễn Thị Hương (Sở Tài chính)"

# ------------------------------------------------------------------------------------------
step "2. What phường Tô Hiệu owes for 2026-H1"
field lan due --period 2026-H1

# ------------------------------------------------------------------------------------------
step "3. Offline in the mountains: reports recorded and signed on the phones, nothing sent yet"
# A small real PNG as the evidence photo.
base64 -d >"$DEMO/be-nuoc-to-5.png" <<<'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='
cp "$DEMO/be-nuoc-to-5.png" "$DEMO/cong-trinh-na-loi.png"
printf 'Na Loi' >>"$DEMO/cong-trinh-na-loi.png"

out=$(field lan report --period 2026-H1 --indicator CT-CAPNUOC-PHUONG --value 97,2 --progress "đúng tiến độ" \
  --narrative "Tỷ lệ hộ dân trên địa bàn phường được sử dụng nước sạch đạt 97,2%; hoàn thành nâng cấp bể chứa tổ 5." \
  --difficulties "Một số hộ ở tổ 9 xa tuyến ống chính." \
  --proposals "Đề nghị Công ty cấp nước Sơn La mở rộng tuyến ống tổ 9." \
  --evidence "$DEMO/be-nuoc-to-5.png" --caption "Bể chứa nước tổ 5 sau nâng cấp" --submit)
echo "$out"
LAN_REPORT=$(report_id <<<"$out")

out=$(field minh report --period 2026-H1 --indicator CT-CAPNUOC-XA --value 78,5 --progress on_track \
  --narrative "Đã hoàn thành công trình cấp nước sinh hoạt bản Nà Lời, 126 hộ được sử dụng nước sạch." \
  --difficulties "Các bản vùng cao ở xa nguồn nước, mùa khô thiếu nước đầu nguồn." \
  --proposals "Đề nghị Sở Nông nghiệp và Môi trường bố trí vốn sửa chữa công trình cấp nước bản Pá Ngà." \
  --evidence "$DEMO/cong-trinh-na-loi.png" --caption "Công trình cấp nước bản Nà Lời")
echo "$out"
MINH_REPORT=$(report_id <<<"$out")

out=$(field hoa report --period 2026-H1 --indicator CT-BACSI-TRAMYTE --value 1 --progress "có nguy cơ chậm" \
  --narrative "Trạm y tế xã hiện có 01 bác sĩ; đang tuyển thêm 01 bác sĩ theo chính sách thu hút." \
  --difficulties "Xã biên giới, đường xa, khó thu hút bác sĩ." --submit)
echo "$out"
HOA_REPORT=$(report_id <<<"$out")

note "Vì Thị Hoa tries to write a report for phường Tô Hiệu, outside her commune:"
if field hoa report --unit 03646 --period 2026-H1 --indicator CT-BACSI-TRAMYTE --progress done; then
  echo "demo: a write outside the commune was not refused" >&2
  exit 1
fi
field minh status
note "Still no signal (the demo stops the server): a sync attempt fails, and nothing is lost."
cleanup
if field minh sync --attempts 2; then
  echo "demo: a sync without a server did not fail" >&2
  exit 1
fi
start_server "$PORT"

# ------------------------------------------------------------------------------------------
step "4. Signal: the phones sync"
field lan sync
field minh sync
field hoa sync

# ------------------------------------------------------------------------------------------
step "5. Two officials of xã Mường La edit the same report offline"
field tuan sync
note "Both change the narrative of report $MINH_REPORT without signal:"
field minh report --id "$MINH_REPORT" --narrative "Bản Nà Lời: 126 hộ có nước sạch; tỷ lệ toàn xã đạt 78,5%."
field tuan report --id "$MINH_REPORT" --narrative "Bản Pá Ngà: công trình cấp nước đang được sửa chữa, dự kiến xong tháng 8."
field minh sync
field tuan sync
field minh sync
note "Both edits were accepted; the merge kept one and recorded the conflict:"
echo "On Quàng Văn Tuấn's phone (tram-field status):"
field tuan status | sed -n '/^\(Conflicts\|Chỉnh sửa trùng\)/,/^\(Receipts\|Biên nhận\)/p'
echo "On Lò Văn Minh's phone (tram-field status):"
field minh status | sed -n '/^\(Conflicts\|Chỉnh sửa trùng\)/,/^\(Receipts\|Biên nhận\)/p'

# ------------------------------------------------------------------------------------------
step "6. A stale edit: Mường La submits; the second phone, still offline, edits the old draft"
field minh submit "$MINH_REPORT"
field minh sync
field tuan report --id "$MINH_REPORT" --difficulties "Thiếu kinh phí sửa chữa."
field tuan sync
field tuan status
SEQ=$(field_quiet tuan status --json | grep -o '"rejected":\[{"seq":[0-9]*' | grep -o '[0-9]*$' || true)
[[ -n $SEQ ]] && field tuan dismiss "$SEQ"

# ------------------------------------------------------------------------------------------
step "7. Sở Tài chính reviews: one report accepted, one returned with a comment"
field huong sync
field huong reviews --period 2026-H1
field huong accept "$LAN_REPORT" --comment "Đạt yêu cầu."
field huong return "$MINH_REPORT" --comment "Đề nghị bổ sung danh sách hộ được cấp nước có xác nhận của trưởng bản."
field huong sync

# ------------------------------------------------------------------------------------------
step "8. Mường La sees why, fixes the report and submits it again; the reviewer accepts"
field minh sync
field minh status | sed -n '/^\(Returned\|Bị trả lại\)/,$p'
field minh report --id "$MINH_REPORT" --value 81 \
  --narrative "Bản Nà Lời: 126 hộ có nước sạch; đã bổ sung danh sách hộ có xác nhận của trưởng bản. Tỷ lệ toàn xã đạt 81%."
field minh comment "$MINH_REPORT" --text "Xã đã bổ sung danh sách 126 hộ có xác nhận của trưởng bản Nà Lời, kính đề nghị Sở xem xét."
field minh submit "$MINH_REPORT"
field minh sync
field huong sync
field huong accept "$MINH_REPORT" --comment "Đã bổ sung đủ hồ sơ, đạt yêu cầu."
field huong sync
field minh sync
field minh show "$MINH_REPORT"

# ------------------------------------------------------------------------------------------
step "9. No signal for days: Quàng Văn Tuấn's outbox travels to the province as a file"
out=$(field tuan report --period 2026-H1 --indicator CT-KHONGMATUY-XAPHUONG --value 100 --progress "hoàn thành" \
  --narrative "Xã giữ vững 100% bản không có người nghiện ma túy mới." --submit)
echo "$out"
TUAN_REPORT=$(report_id <<<"$out")
field tuan export-bundle "$DEMO/tuan-outbox.bundle"
admin import-bundle --data "$DATA" --in "$DEMO/tuan-outbox.bundle" --out "$DEMO/tuan-outbox.receipts"
field tuan import-receipts "$DEMO/tuan-outbox.receipts"
field tuan receipt "$TUAN_REPORT"

# ------------------------------------------------------------------------------------------
step "10. Proof of submission: signed receipts, verified against the pinned server key"
field lan receipt "$LAN_REPORT"
note "The phone with the wrong clock: it wrote a date a year ahead; the server's time is the proof."
field hoa receipt "$HOA_REPORT"

# ------------------------------------------------------------------------------------------
step "11. The province report for 2026-H1 (Sở Tài chính)"
if timeout 60 "$SERVER" --help | grep -q ' report '; then
  show tram-server report --data "$DATA" --period 2026-H1 --csv "$DEMO/report-2026-H1.csv" --xlsx "$DEMO/report-2026-H1.xlsx"
  timeout 60 "$SERVER" report --data "$DATA" --period 2026-H1 --csv "$DEMO/report-2026-H1.csv" --xlsx "$DEMO/report-2026-H1.xlsx"
  note "written: $DEMO/report-2026-H1.csv and $DEMO/report-2026-H1.xlsx"
else
  note "(this tram-server has no report command yet)"
fi

# ------------------------------------------------------------------------------------------
step "12. The same data in the browser: Tram Web"
cleanup
SERVER_PID=""
WEB_PORT=${TRAM_DEMO_WEB_PORT:-8080}
# Left serving after the script (an hour at most) so the app can be opened; the next run stops it.
setsid timeout 3600 "$SERVER" serve --data "$DATA" --listen "127.0.0.1:$WEB_PORT" \
  >"$DEMO/web-server.out" 2>>"$DEMO/server.log" </dev/null &
echo $! >"$DEMO/web-server.pid"
for _ in $(seq 100); do grep -q 'listening on' "$DEMO/web-server.out" 2>/dev/null && break; sleep 0.1; done
if grep -q 'web app at' "$DEMO/web-server.out"; then
  for who in minh huong; do
    c=$(timeout 60 "$SERVER" admin enrol-code --data "$DATA" --user "$who")
    note "  enrolment link for $who: http://127.0.0.1:$WEB_PORT/#/enrol?code=$c"
  done
  note "  administrator token: $(timeout 60 "$SERVER" admin token --data "$DATA")"
  note "  (the server stops by itself in an hour, or: kill $(cat "$DEMO/web-server.pid"))"
  printf '\n%sTram Web is served at http://127.0.0.1:%s/%s\n' "$B" "$WEB_PORT" "$N"
else
  note "(port $WEB_PORT is taken or web/dist is not built: TRAM_DEMO_WEB_PORT=8090 make run)"
  cat "$DEMO/web-server.out" "$DEMO/server.log" | tail -3
fi

step "Done in $((SECONDS - START)) s. Device homes, server data and logs are in $DEMO/."
