#!/usr/bin/env bash
# Installs the Debian packages Tram builds with, and nothing when all are present.
# Idempotent: checks each package with dpkg-query first. When not root and something
# is missing, prints the exact packages and the command to install them, and fails.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libsqlite3-dev libsodium-dev libsimdjson-dev libicu-dev zlib1g-dev libdeflate-dev libssl-dev openssl
  libboost1.81-dev libgtest-dev libgmock-dev libbenchmark-dev libxlsxwriter-dev libcli11-dev
  chromium fonts-noto-core jq sqlite3
)
# The web app is built and tested with Node.js 20 and npm (web/): Debian 12's own nodejs is 18,
# so a machine without node gets it from Debian only as a last resort (its npm is packaged apart).
if ! command -v node >/dev/null; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
