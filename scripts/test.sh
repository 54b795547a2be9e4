#!/usr/bin/env bash
# Builds connmon and runs every test: engine unit tests (CTest), the same
# under AddressSanitizer/UBSan, the fuzz targets for ${CONNMON_FUZZ_SECONDS:-60}
# s each (scripts/fuzz.sh), then the tshark and command-line integration
# tests (pytest; test_hostile.py uses the ASan plugin and CLI built here).
# Works as root (tshark then runs as nobody, see
# tests/integration/conftest.py) and as a normal user.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${CONNMON_BUILD_DIR:-build}
scripts/build.sh
ctest --test-dir "$BUILD" --output-on-failure

# Engine and command line with sanitizers: unit tests, then the CLI over
# every bundled capture (damaged input must not read out of bounds).
ASAN_BUILD="$BUILD-asan"
CONNMON_BUILD_DIR="$ASAN_BUILD" scripts/build.sh -DCONNMON_SANITIZE=ON -DCONNMON_BUILD_PLUGIN=ON
ctest --test-dir "$ASAN_BUILD" --output-on-failure
for f in pcaps/*/*.pcap*; do
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$ASAN_BUILD/bin/connmon" --json -q -r "$f" > /dev/null || [ $? -eq 3 ]
done
echo "sanitizer run of the command line over pcaps/: clean"

# Fuzzing; a finding fails the run, after the integration tests.
fuzz_status=0
CONNMON_FUZZ_DIR=${CONNMON_FUZZ_DIR:-$BUILD-fuzz} scripts/fuzz.sh "${CONNMON_FUZZ_SECONDS:-60}" ||
  fuzz_status=$?

CONNMON_ASAN_BUILD_DIR="$(cd "$ASAN_BUILD" && pwd)" CONNMON_BUILD_DIR="$PWD/$BUILD" \
  /usr/bin/python3 -m pytest -q tests/integration "$@"
if [ "$fuzz_status" -ne 0 ]; then
  echo "scripts/fuzz.sh failed (exit $fuzz_status): see its report above" >&2
  exit "$fuzz_status"
fi
