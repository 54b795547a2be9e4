#!/usr/bin/env bash
# Builds connmon and runs every test: engine unit tests (CTest), then the
# tshark integration tests (pytest).  Works as root (tshark then runs as
# nobody, see tests/integration/conftest.py) and as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CONNMON_BUILD_DIR:-build}
scripts/build.sh
ctest --test-dir "$BUILD" --output-on-failure
CONNMON_BUILD_DIR="$PWD/$BUILD" /usr/bin/python3 -m pytest -q tests/integration "$@"
