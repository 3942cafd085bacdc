#!/usr/bin/env bash
# The ARM64 cross build's Debian packages (make arm64): the cross compiler, qemu-user, and the
# target's -dev libraries (multiarch; the arm64 architecture is added to dpkg first).
# libsimdjson-dev cannot be installed for two architectures at once (it is not Multi-Arch: same):
# the target gets the runtime library libsimdjson14:arm64, and the headers of the host's -dev
# package serve both (cmake/TramDependencies.cmake).
set -euo pipefail
exec "$(dirname "$0")/setup-deps.sh" --arch arm64 crossbuild-essential-arm64 qemu-user \
  libsqlite3-dev:arm64 libsodium-dev:arm64 libsimdjson14:arm64 libssl-dev:arm64 libicu-dev:arm64 \
  zlib1g-dev:arm64 libdeflate-dev:arm64 libre2-dev:arm64 libgtest-dev:arm64 libxlsxwriter-dev:arm64 libboost1.81-dev:arm64
