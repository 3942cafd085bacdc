#!/usr/bin/env bash
# docs/operations.md, run step by step (issue 14): every command of its ```sh / ```bash blocks
# (and the `$ ` lines of ```console blocks) runs, in the order of the document, against the real
# binaries, in a temporary directory, so that the document cannot drift from the programs again.
#
#   tests/ops/run-operations-doc.sh DOC TRAM_SERVER TRAM_FIELD      (ctest: docs.operations)
#
# Conventions (tests/ops/README.md):
# - A command is a line of a shell block (with its `\` continuations). The `# …` lines right after
#   it are what it prints: each must be found in its output (spaces collapsed; `…` stands for
#   anything, as do runs of 4+ digits, hex of 8+ digits and enrolment codes, which change from run
#   to run). A command shown printing `tram-server: …` or `tram-field: …` must fail with it;
#   every other command must exit 0.
# - A plain block whose first line is `# /some/file` is that file's content: it is written.
# - `<!-- ops-test: skip (reason) -->` right before a block: not run, counted with its reason.
# - A trailing comment holding JSON (`curl …/healthz   # {"status":"ok"}`) is the answer shown.
# - `<!-- ops-test: fixture NAME (why) -->` right before a block: the runner first does what the
#   document leaves to someone else (`phone`: an official's phone enrolled with tram-field, one
#   report recorded; `phone-synced`: the same, then synced).
# - Paths are the document's, moved under the temporary directory: /var/lib/tram (and DIR),
#   /etc/tram, /backup, PHONE; /opt/tram/schemas is the repository's schemas. Addresses
#   0.0.0.0:8443, 127.0.0.1:8080 and tram.example:8443 become one free loopback port.
#   `tram-server serve` runs in the background until the end of its block. `systemctl
#   start|stop tram-server` is played by a stand-in that starts or stops
#   `tram-server serve --data /var/lib/tram` on that port (what the unit of §10 runs).
set -uo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 DOC TRAM_SERVER TRAM_FIELD" >&2
  exit 2
fi
doc=$(realpath "$1")
server_bin=$(realpath "$2")
field_bin=$(realpath "$3")
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in curl openssl perl timeout; do
  command -v "$tool" >/dev/null || { echo "docs.operations: $tool is needed (scripts/setup-deps.sh)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tram-ops-doc.XXXXXX")
R=$work/root
bin=$work/bin
mkdir -p "$R/var/lib" "$R/etc/tram" "$R/backup" "$bin" "$work/cwd" "$work/out" "$work/blocks"
ln -s "$server_bin" "$bin/tram-server"
ln -s "$field_bin" "$bin/tram-field"
export PATH="$bin:$PATH"
export TRAM_FIELD_KEY=5f2c8e0a9b7d4c3e1f6a8b2d0c4e6f8a1b3d5e7f9a0c2e4f6a8b0d2e4f6a8b0c  # the phone's key, no passphrase prompt
unset TRAM_DATA TRAM_LISTEN TRAM_SCHEMAS TRAM_THREADS TRAM_TLS_CERT TRAM_TLS_KEY TRAM_WEB

# A free loopback port (bounded tries).
port=
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[[ -n $port ]] || { echo "docs.operations: no free port" >&2; exit 1; }

bg_pids=()
cleanup() {
  for pid in "${bg_pids[@]}" $(cat "$work/systemd.pid" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [[ ${KEEP_OPS_DIR:-} ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits until an HTTP(S) server answers /healthz on the port (10 s at most).
wait_health() {
  local scheme=$1
  for _ in $(seq 1 100); do
    curl -sk --max-time 1 "$scheme://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# The stand-in for systemd: the unit's serve command on the data directory of §1.
cat >"$bin/systemctl" <<EOF
#!/usr/bin/env bash
# Plays systemctl start|stop tram-server for docs/operations.md (tests/ops/run-operations-doc.sh).
pidfile=$work/systemd.pid
case "\$1 \${2:-}" in
  "is-active tram-server")
    [[ -f "\$pidfile" ]] && kill -0 \$(cat "\$pidfile") 2>/dev/null ;;
  "start tram-server")
    [[ -f "\$pidfile" ]] && kill -0 \$(cat "\$pidfile") 2>/dev/null && exit 0
    setsid tram-server serve --data $R/var/lib/tram --listen 127.0.0.1:$port >>$work/systemd.log 2>&1 < /dev/null &
    echo \$! >"\$pidfile"
    for _ in \$(seq 1 100); do
      curl -s --max-time 1 http://127.0.0.1:$port/healthz >/dev/null 2>&1 && exit 0
      kill -0 \$(cat "\$pidfile") 2>/dev/null || { echo "tram-server did not start:" >&2; tail -5 $work/systemd.log >&2; exit 1; }
      sleep 0.1
    done
    echo "tram-server did not answer /healthz within 10 s" >&2; exit 1 ;;
  "stop tram-server")
    [[ -f "\$pidfile" ]] || exit 0
    pid=\$(cat "\$pidfile"); rm -f "\$pidfile"
    kill -TERM "\$pid" 2>/dev/null
    for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.1; done
    echo "tram-server did not stop within 10 s" >&2; exit 1 ;;
  *) echo "systemctl \$*: not played by the docs test" >&2; exit 3 ;;
esac
EOF
chmod +x "$bin/systemctl"

# The operator's certificates (§2 assumes them): a CA and a certificate for tram.example.
(
  cd "$R/etc/tram" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Tram test CA" \
      -keyout ca.key -out ca.pem &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=tram.example" \
      -keyout privkey.pem -out leaf.csr &&
    printf 'subjectAltName=DNS:tram.example\n' >leaf.ext &&
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext -out fullchain.pem
) >"$work/openssl.log" 2>&1 || { echo "docs.operations: could not make test certificates" >&2; cat "$work/openssl.log" >&2; exit 1; }

doc_key=
real_key=
# The document's paths and addresses, moved here.
map() {
  local s=$1
  s=${s//\/var\/lib\/tram/$R/var/lib/tram}
  s=${s//\/etc\/tram/$R/etc/tram}
  s=${s//\/backup\//$R/backup/}
  s=${s//\/opt\/tram\/schemas/$repo/schemas}
  s=${s//--data DIR/--data $R/var/lib/tram}
  s=${s//--home PHONE/--home $R/phone}
  s=${s//0.0.0.0:8443/127.0.0.1:$port}
  s=${s//127.0.0.1:8080/127.0.0.1:$port}
  s=${s//tram.example:8443/tram.example:$port}
  [[ $s == curl\ * ]] && s="curl --resolve tram.example:$port:127.0.0.1 ${s#curl }"
  if [[ -n $real_key ]]; then
    s=${s//$doc_key/$real_key}
    s=${s//${doc_key:0:8}…${doc_key: -4}/${real_key:0:8}…${real_key: -4}}
  fi
  printf '%s' "$s"
}

# Does `expected` (one shown output line) occur in the output file?
shown_in() {
  perl -e '
    my ($exp, $file) = @ARGV;
    open(my $f, "<", $file) or exit 1; local $/; my $out = <$f>;
    s/[ \t]+/ /g for ($out, $exp);
    $exp =~ s/^ +| +$//g;
    # "96a2…44da" is a key shortened for the page; a lone "…" elides anything.
    my $re = join "", map {
      /^[0-9a-f]{4,}\xe2\x80\xa6[0-9a-f]{4,}$/ ? "[0-9a-f]+" : /^\xe2\x80\xa6$/ ? ".*?"
        : /^[0-9a-f]{8,}$/ ? "[0-9a-f]+" : /^[0-9]{4,}$/ ? "[0-9]+"
        : /^[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}$/ ? "[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}" : quotemeta($_)
    } split /([0-9a-f]{4,}\xe2\x80\xa6[0-9a-f]{4,}|\xe2\x80\xa6|[0-9a-f]{8,}|[0-9]{4,}|[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})/, $exp;
    exit($out =~ /$re/ ? 0 : 1);
  ' "$1" "$2"
}

# ---- fixtures: what the document leaves to others ---------------------------------------------
fixture_periods=(2026-H1 2026 2027-H1 2027 2028-H1) # a report of its own for each phone made
fixtures=0
fixture() {
  local name=$1 code was_running=0 period=${fixture_periods[fixtures++ % 5]}
  systemctl is-active tram-server && was_running=1
  systemctl start tram-server || return 1
  tram-server admin users --data "$R/var/lib/tram" | grep -q '^minh ' ||
    tram-server admin create-user --data "$R/var/lib/tram" --id minh --role official --units 03808 --name "Lò Văn Minh" >/dev/null || return 1
  code=$(tram-server admin enrol-code --data "$R/var/lib/tram" --user minh) || return 1
  rm -rf "$R/phone"
  tram-field --home "$R/phone" init --server "http://127.0.0.1:$port" --code "$code" >"$work/fixture.log" 2>&1 &&
    tram-field --home "$R/phone" report --indicator CT-CAPNUOC-XA --period "$period" --progress on_track --value 80 --submit >>"$work/fixture.log" 2>&1 ||
    { cat "$work/fixture.log" >&2; return 1; }
  if [[ $name == phone-synced ]]; then
    tram-field --home "$R/phone" sync >>"$work/fixture.log" 2>&1 || { cat "$work/fixture.log" >&2; return 1; }
  fi
  real_key=$(tram-field --home "$R/phone" --json status | perl -ne 'print $1 if /"device":"([0-9a-f]{64})"/')
  ((was_running)) || systemctl stop tram-server
}

# ---- the document's blocks --------------------------------------------------------------------
# Each block to a file: NNN.meta (kind, line, marker) and NNN.txt (its lines).
awk -v dir="$work/blocks" '
  function flush_marker() { marker = "" }
  /^[ \t]*```/ {
    if (!inblock) {
      inblock = 1; n++; lang = $0; sub(/^[ \t]*```/, "", lang); sub(/[ \t].*$/, "", lang)
      f = sprintf("%s/%03d", dir, n)
      printf "%s\t%d\t%s\n", (lang == "" ? "plain" : lang), NR, marker > (f ".meta")
      printf "" > (f ".txt"); marker = ""; next
    } else { inblock = 0; close(f ".txt"); close(f ".meta"); next }
  }
  inblock { line = $0; sub(/^   /, "", line); print line >> (f ".txt"); next }
  /<!-- ops-test:/ { marker = $0; sub(/.*<!-- ops-test: */, "", marker); sub(/ *-->.*/, "", marker); next }
  /[^ \t]/ { marker = "" }
' "$doc"
doc_key=$(grep -oE -- '--device [0-9a-f]{64}' "$doc" | head -1 | cut -d' ' -f2)

ran=0 failed=0 skipped=0 files=0 checked=0 shown=0
declare -a skip_notes=() failures=()

fail() {
  failed=$((failed + 1))
  failures+=("$1")
  echo "FAIL  $1" >&2
  [[ -n ${2:-} && -f $2 ]] && tail -15 "$2" | awk '{ print "      | " $0 }' >&2
}

# Runs one command (already mapped) with the output lines shown after it.
run_command() {
  local line=$1 cmd=$2
  shift 2
  local expected=("$@") out="$work/out/$ran.log" rc want_fail=0 e
  for e in "${expected[@]}"; do [[ $e == tram-server:* || $e == tram-field:* ]] && want_fail=1; done
  ran=$((ran + 1))
  if [[ $cmd == "tram-server serve"* ]]; then
    # Serves until the end of the block.
    (cd "$work/cwd" && exec setsid bash -c "exec $cmd") >"$out" 2>&1 </dev/null &
    bg_pids+=($!)
    local up=0
    for _ in $(seq 1 100); do
      if grep -q 'listening on' "$out"; then up=1; break; fi
      kill -0 "${bg_pids[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    if ((up)); then echo "ok    line $line: $cmd (serving in the background)"; else fail "line $line: $cmd: did not start" "$out"; fi
    return
  fi
  (cd "$work/cwd" && timeout 60 bash -c "$cmd") >"$out" 2>&1 </dev/null
  rc=$?
  if ((want_fail)) && ((rc == 0)); then fail "line $line: $cmd: exit 0, the document shows it failing" "$out"; return; fi
  if ((!want_fail)) && ((rc != 0)); then fail "line $line: $cmd: exit $rc" "$out"; return; fi
  for e in "${expected[@]}"; do
    shown=$((shown + 1))
    if ! shown_in "$e" "$out"; then fail "line $line: $cmd: does not print \"$e\"" "$out"; return; fi
    checked=$((checked + 1))
  done
  echo "ok    line $line: $cmd$( ((rc)) && echo " (exit $rc, as shown)")"
}

stop_servers() {
  local pid
  for pid in "${bg_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then fail "tram-server serve did not stop within 10 s of SIGTERM"; kill -KILL "$pid"; fi
    wait "$pid" 2>/dev/null
  done
  bg_pids=()
}

for meta in "$work"/blocks/*.meta; do
  IFS=$'\t' read -r kind line marker <"$meta"
  txt=${meta%.meta}.txt
  case $kind in
    sh | bash | console) ;;
    plain)
      first=$(head -1 "$txt")
      if [[ $first =~ ^#\ (/[^ ]+)$ ]]; then
        target=$(map "${BASH_REMATCH[1]}")
        mkdir -p "$(dirname "$target")"
        tail -n +2 "$txt" | while IFS= read -r l; do map "$l"; echo; done >"$target"
        files=$((files + 1))
        echo "file  line $line: ${BASH_REMATCH[1]} written"
      fi
      continue ;;
    *) continue ;;
  esac
  # The commands of the block, each with the output lines shown after it.
  cmds=() starts=()
  declare -A outs=()
  cur=-1 cont=0 n=0
  while IFS= read -r l || [[ -n $l ]]; do
    n=$((n + 1))
    if ((cont)); then
      cmds[cur]+=$'\n'"$l"
      [[ $l == *\\ ]] || cont=0
      continue
    fi
    if [[ $kind == console ]]; then
      if [[ $l == '$ '* ]]; then l=${l#\$ }; else [[ $cur -ge 0 && -n $l ]] && outs[$cur]+="${l}"$'\n'; continue; fi
    else
      [[ -z ${l//[[:space:]]/} ]] && continue
      if [[ $l == \#* ]]; then
        ((cur >= 0)) && outs[$cur]+="${l#\# }"$'\n'
        continue
      fi
    fi
    cur=$((cur + 1))
    cmds[cur]=$l
    starts[cur]=$((line + n))
    # A trailing comment that is JSON is the answer shown: `curl …/healthz   # {"status":"ok"}`.
    [[ $l =~ [[:space:]]#[[:space:]](\{.*)$ ]] && outs[$cur]+="${BASH_REMATCH[1]}"$'\n'
    [[ $l == *\\ ]] && cont=1
  done <"$txt"
  if [[ $marker == skip* ]]; then
    skipped=$((skipped + ${#cmds[@]}))
    skip_notes+=("line $line: ${#cmds[@]} commands — ${marker#skip }")
    echo "skip  line $line: ${#cmds[@]} commands ${marker#skip }"
    unset outs
    continue
  fi
  if [[ $marker == fixture* ]]; then
    name=$(awk '{print $2}' <<<"$marker")
    if fixture "$name"; then echo "fix   line $line: $marker"; else fail "line $line: fixture $name"; fi
  fi
  for i in "${!cmds[@]}"; do
    mapfile -t exp < <(printf '%s' "${outs[$i]:-}" | while IFS= read -r e; do map "$e"; echo; done)
    run_command "${starts[$i]}" "$(map "${cmds[$i]}")" "${exp[@]}"
  done
  stop_servers
  unset outs
done
systemctl stop tram-server

echo
echo "docs/operations.md: ran $ran commands ($checked of the output lines shown checked), skipped $skipped, wrote $files files, $failed failed"
for s in "${skip_notes[@]}"; do echo "  skipped $s"; done
for f in "${failures[@]}"; do echo "  failed  $f"; done
((failed == 0 && ran > 0))
