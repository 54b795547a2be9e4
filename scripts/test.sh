#!/usr/bin/env bash
# Builds connmon and runs every test: engine unit tests (CTest), the same
# under AddressSanitizer/UBSan, then the tshark and command-line integration
# tests (pytest).  Works as root (tshark then runs as nobody, see
# tests/integration/conftest.py) and as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CONNMON_BUILD_DIR:-build}
scripts/build.sh
ctest --test-dir "$BUILD" --output-on-failure

# Engine and command line with sanitizers: unit tests, then the CLI over
# every bundled capture (damaged input must not read out of bounds).
ASAN_BUILD="$BUILD-asan"
CONNMON_BUILD_DIR="$ASAN_BUILD" scripts/build.sh -DCONNMON_SANITIZE=ON -DCONNMON_BUILD_PLUGIN=OFF
ctest --test-dir "$ASAN_BUILD" --output-on-failure
for f in pcaps/*/*.pcap*; do
  "$ASAN_BUILD/bin/connmon" --json -q -r "$f" > /dev/null || [ $? -eq 3 ]
done
echo "sanitizer run of the command line over pcaps/: clean"

CONNMON_BUILD_DIR="$PWD/$BUILD" /usr/bin/python3 -m pytest -q tests/integration "$@"
