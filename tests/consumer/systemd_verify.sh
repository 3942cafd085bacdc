#!/usr/bin/env bash
# CTest install.systemd_unit (label install): installs the build tree into a temporary prefix
# and checks the installed tram-server.service:
#  1. the settings docs/operations.md §10 promises (dedicated user, StateDirectory, hardening);
#  2. its own commands, as systemd would run them (from /, the state directory replaced by a
#     temporary one, on a free port): ExecStartPre (seed), ExecStart (serve), /healthz; with the
#     server up, the installed admin CLI enrols the installed tram-field (no --schemas: it finds
#     the installed ones), then SIGTERM stops the server with exit 0;
#  3. `systemd-analyze verify` (ExecStart= must name an existing executable, no unknown keys)
#     and `systemd-analyze security` (exposure at most 2.0).
# Step 3 needs systemd-analyze (Debian package `systemd`, installed by `make deps`): without it
# the test reports itself skipped (exit 77) after steps 1 and 2.
# Usage: systemd_verify.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tram-unit.XXXXXX")
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/tram-server.service
[[ -f "$unit" ]] || { echo "not installed: $unit" >&2; exit 1; }
[[ -f "$prefix/lib/sysusers.d/tram.conf" && -f "$prefix/etc/tram/tram.conf" ]] || { echo "sysusers.d or tram.conf missing" >&2; exit 1; }

# 1. The settings.
grep -q "^ExecStart=$prefix/bin/tram-server serve " "$unit" || { echo "ExecStart does not name the installed binary" >&2; exit 1; }
for want in 'User=tram' 'StateDirectory=tram' 'ProtectSystem=strict' 'ProtectHome=yes' 'NoNewPrivileges=yes' \
            'PrivateTmp=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'LimitNOFILE=65536'; do
  grep -qx "$want" "$unit" || { echo "missing in the unit: $want" >&2; exit 1; }
done
echo "unit settings: ok"

# 2. Its commands.
data=$tmp/state
mkdir -p "$data"
pre=$(sed -n 's/^ExecStartPre=//p' "$unit" | sed "s#/var/lib/tram#$data#g")
start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s#/var/lib/tram#$data#g")
cd /
# shellcheck disable=SC2086
$pre >"$tmp/seed.log" 2>&1 || { cat "$tmp/seed.log"; echo "ExecStartPre failed" >&2; exit 1; }
echo "ExecStartPre: $(head -1 "$tmp/seed.log")"
# shellcheck disable=SC2086
$start --listen 127.0.0.1:0 >"$tmp/serve.log" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$tmp/serve.log" | cut -d: -f2 || true)
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$port" ]] || { cat "$tmp/serve.log"; echo "ExecStart did not start serving" >&2; exit 1; }
# shellcheck disable=SC2016  # $1 expands in the inner shell
health=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; cat <&3' _ "$port" | tail -1 || true)
echo "ExecStart: listening on port $port, /healthz $health"
[[ "$health" == *'"ok"'* ]] || { cat "$tmp/serve.log"; exit 1; }

schemas=$prefix/share/tram/schemas
"$prefix/bin/tram-server" admin create-user --data "$data" --schemas "$schemas" --id minh --role official --units 03808
code=$("$prefix/bin/tram-server" admin enrol-code --data "$data" --schemas "$schemas" --user minh)
TRAM_FIELD_KEY=$(printf '5a%.0s' $(seq 32)) "$prefix/bin/tram-field" init --home "$tmp/phone" \
  --server "http://127.0.0.1:$port" --code "$code" --name "Lò Văn Minh" | tail -1
TRAM_FIELD_KEY=$(printf '5a%.0s' $(seq 32)) "$prefix/bin/tram-field" due --home "$tmp/phone" >/dev/null

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
echo "SIGTERM: exit $rc"
[[ $rc -eq 0 ]] || { cat "$tmp/serve.log"; exit 1; }

# 3. systemd-analyze.
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze not found (apt-get install systemd): steps 1-2 passed, the unit was not verified"
  exit 77
fi
systemd-analyze --version | head -1
# verify prints problems and exits non-zero on errors; any line naming this unit (an unknown
# key, a bad value) fails the test too. Lines about the host's other units are not ours.
set +e
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" 2>&1)
rc=$?
set -e
[[ -n "$out" ]] && echo "$out"
if [[ $rc -ne 0 ]] || grep -q 'tram-server.service' <<<"$out"; then
  echo "systemd-analyze verify: rc=$rc" >&2
  exit 1
fi
echo "systemd-analyze verify: ok"
# The hardening as systemd scores it: exposure at most 2.0 ("OK"; 10 is unprotected).
systemd-analyze security --offline=yes --threshold=20 "$unit" | tail -1
echo "install.systemd_unit: ok"
