#!/usr/bin/env bash
# Installs the Debian packages Tram builds with, and nothing when all are present.
# Idempotent: checks each package with dpkg-query first. When not root and something
# is missing, prints the exact packages and the command to install them, and fails.
set -euo pipefail

# `setup-deps.sh --arch ARCH PACKAGE...` installs those packages instead, adding the foreign
# architecture first (scripts/setup-arm64.sh).
foreign=
if [[ ${1:-} == --arch ]]; then
  foreign=$2
  shift 2
fi
if [[ $# -gt 0 ]]; then
  packages=("$@")
else
  packages=(
    build-essential cmake ninja-build pkg-config ccache
    libsqlite3-dev libsodium-dev libsimdjson-dev libicu-dev zlib1g-dev libdeflate-dev libre2-dev libssl-dev openssl
    libboost1.81-dev libgtest-dev libgmock-dev libbenchmark-dev libxlsxwriter-dev libcli11-dev
    gettext locales  # msgfmt compiles po/*/vi.po at build time; locales: vi_VN.UTF-8 (below)
    chromium fonts-noto-core jq sqlite3 curl
    systemd  # systemd-analyze: the installed tram-server.service is checked (tests/consumer/systemd_verify.sh)
    openjdk-17-jdk-headless  # the Java binding (client-sdk/java) and its test (label java)
  )
  # The web app is built and tested with Node.js 20 and npm (web/): Debian 12's own nodejs is 18,
  # so a machine without node gets it from Debian only as a last resort (its npm is packaged apart).
  if ! command -v node >/dev/null; then packages+=(nodejs npm); fi
fi

# The Vietnamese locale, so that LANG=vi_VN.UTF-8 works as officials set it (tram-field and
# tram-server choose their messages by it; they fall back to C.UTF-8 + LANGUAGE=vi without it).
# Only with the default package list; as root, else a note (not a failure).
vi_locale() {
  locale -a 2>/dev/null | grep -qix 'vi_VN.utf-\?8' && return 0
  command -v localedef >/dev/null || return 0
  if [[ $(id -u) -eq 0 ]]; then
    localedef -i vi_VN -f UTF-8 vi_VN.UTF-8
  else
    echo "tram: note: the vi_VN.UTF-8 locale is not generated (as root: localedef -i vi_VN -f UTF-8 vi_VN.UTF-8)" >&2
  fi
}
args_given=$#

missing=()
for p in "${packages[@]}"; do
  # One line per installed architecture (the ARM64 build adds :arm64 copies): the host's, or
  # an architecture-independent one, must be installed (or the one named, as in libfoo:arm64).
  want=$([[ $p == *:* ]] && echo "${p#*:}" || dpkg --print-architecture)
  dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
    grep -Eq "^install ok installed ($want|all)\$" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  if [[ $args_given -eq 0 ]]; then vi_locale; fi
  exit 0
fi

echo "tram: missing Debian packages: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "tram: run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if [[ -n $foreign ]] && ! dpkg --print-foreign-architectures | grep -qx "$foreign"; then
  $SUDO dpkg --add-architecture "$foreign"
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ $args_given -eq 0 ]]; then vi_locale; fi
