#!/usr/bin/env bash
# Configures and builds connmon into ${CONNMON_BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CONNMON_BUILD_DIR:-build}
cmake -S . -B "$BUILD" "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
