#!/usr/bin/env bash
# The Java binding against a real tram-server on loopback (label `java`; issue 15): seeds a data
# directory, creates the users, starts the server on a free port (as tests/links/scenario.sh
# does), then runs TramClientTest under -Xcheck:jni. The test makes its enrolment codes itself
# with `tram-server admin enrol-code`. Fails when the test fails or when the JVM printed any JNI
# warning (a missing exception check, a leaked local reference, a bad reference).
#   run.sh JAVA TRAM_JAR TEST_JAR JNI_LIB SERVER_BIN SCHEMAS_DIR
# TRAM_JAVA_KEEP=1 keeps the work directory.
set -euo pipefail
[[ $# -eq 6 ]] || { echo "usage: $0 JAVA TRAM_JAR TEST_JAR JNI_LIB SERVER_BIN SCHEMAS_DIR" >&2; exit 2; }
JAVA=$1 TRAM_JAR=$2 TEST_JAR=$3 JNI_LIB=$4 SERVER=$5 SCHEMAS=$6
for f in "$JAVA" "$SERVER"; do [[ -x $f ]] || { echo "java test: $f is missing" >&2; exit 2; }; done
for f in "$TRAM_JAR" "$TEST_JAR" "$JNI_LIB"; do [[ -f $f ]] || { echo "java test: $f is missing" >&2; exit 2; }; done

W=$(mktemp -d "${TMPDIR:-/tmp}/tram-java.XXXXXX")
DATA=$W/server
SERVER_PID=""
FAILED=1
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${TRAM_JAVA_KEEP:-0} == 1 || $FAILED == 1 ]]; then echo "java test: work directory kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

timeout 60 "$SERVER" seed --data "$DATA" >/dev/null
for u in "minh official 03808" "lan official 03808" "tuan official 03808"; do
  set -- $u
  timeout 60 "$SERVER" admin create-user --data "$DATA" --id "$1" --role "$2" --units "$3" >/dev/null
done
timeout 600 "$SERVER" serve --data "$DATA" --listen 127.0.0.1:0 >"$W/server.out" 2>"$W/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$W/server.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$W/server.out" | head -1)
[[ -n $PORT ]] || { echo "java test: the server did not start (see $W/server.log)" >&2; exit 1; }

set +e
timeout 300 "$JAVA" -Xcheck:jni -Xmx256m -Dtram.jni.library="$JNI_LIB" -cp "$TRAM_JAR:$TEST_JAR" \
  vn.sonla.tram.test.TramClientTest "http://127.0.0.1:$PORT" "$DATA" "$SERVER" "$SCHEMAS" "$W/devices" 2>&1 | tee "$W/java.out"
rc=${PIPESTATUS[0]}
set -e
if grep -nE 'WARNING|FATAL ERROR in native method|JNI local refs' "$W/java.out" >"$W/jni-warnings"; then
  echo "java test: FAILED: the JVM reported JNI problems under -Xcheck:jni:" >&2
  cat "$W/jni-warnings" >&2
  exit 1
fi
echo "java test: -Xcheck:jni reported no warning"
[[ $rc -eq 0 ]] || { echo "java test: FAILED (exit $rc)" >&2; exit 1; }
FAILED=0
