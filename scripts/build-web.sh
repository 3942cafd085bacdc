#!/usr/bin/env bash
# Builds the web app (web/ → web/dist/) that tram-server serves at /. Installs its npm packages
# exactly as web/package-lock.json pins them, only when the lock file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build-web: node and npm are needed (Node.js 20); see README.md" >&2
  exit 1
fi
stamp=node_modules/.tram-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
node build.mjs
