#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, AddressSanitizer +
# UBSan), makes their seed corpora from the bundled captures and runs every
# target for SECONDS (default 60) each.  Exits non-zero on any finding: a
# crash, a sanitizer report, a leak, a timeout, or a property / reference
# mismatch (the targets abort()).  Prints executions and coverage per target.
#
#   scripts/fuzz.sh [SECONDS]      SECONDS 0: only replay seeds and corpora
#
# Installs clang and its fuzzer runtime with apt-get when missing (through
# sudo when not root).  Environment: CONNMON_FUZZ_DIR (build and corpora,
# default build-fuzz; the corpora grow there from run to run),
# CONNMON_FUZZ_JOBS (targets fuzzed at once, default 2),
# CONNMON_FUZZ_COVERAGE=1 (afterwards, line coverage of the corpora with
# llvm-cov).  Inputs under tests/fuzz/regressions/<target>/ are replayed
# before fuzzing.  A finding is left in $CONNMON_FUZZ_DIR/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60}
OUT=${CONNMON_FUZZ_DIR:-build-fuzz}
JOBS=${CONNMON_FUZZ_JOBS:-2}
TARGETS=(packet_path tcp_decode parse result_store)
declare -A MAX_LEN=([packet_path]=65536 [tcp_decode]=128 [parse]=512 [result_store]=4096)

case $DURATION in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2;; esac

# ---- a clang that links libFuzzer -------------------------------------------
fuzzer_links() {                # CC: builds a trivial fuzz target
  echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' |
    "$1" -x c -fsanitize=fuzzer,address,undefined -o "$OUT/probe" - 2>/dev/null
}

pick_clang() {
  local cc
  for cc in clang-14 clang; do
    command -v "$cc" >/dev/null && fuzzer_links "$cc" && { echo "$cc"; return 0; }
  done
  return 1
}

install_clang() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # clang 14 where Debian has it (12), the distribution's clang elsewhere
  local pkgs=(clang libclang-rt-dev)
  if apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then
    pkgs=(clang-14 libclang-rt-14-dev)
  fi
  echo "installing: ${pkgs[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
}

mkdir -p "$OUT"
CC=$(pick_clang) || { install_clang; CC=$(pick_clang); } ||
  { echo "fuzz: no clang with libFuzzer after installing it" >&2; exit 1; }
echo "fuzz: $($CC --version | head -n 1)"

# ---- build, seeds ---------------------------------------------------------------
cmake -S tests/fuzz -B "$OUT" -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$OUT" -j2 >/dev/null
rm -rf "$OUT/seeds"
python3 tests/fuzz/make_corpus.py "$OUT/seeds"

# ---- run ----------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$OUT/findings" "$OUT/logs"
failed=()

stat_of() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
last_status() { grep -E '^#[0-9]+.*cov: ' "$1" | tail -n 1; }
field() { sed -n "s/.* $1: \([^ ]*\).*/\1/p" <<<"$2"; }

# Earlier findings first: every input under tests/fuzz/regressions/<target>/
# must run clean, or the target is not fuzzed.
runnable=()
for t in "${TARGETS[@]}"; do
  regressions=(tests/fuzz/regressions/"$t"/*)
  rc=0
  if [ -e "${regressions[0]}" ]; then
    "$OUT/fuzz_$t" "${regressions[@]}" > "$OUT/logs/$t.regressions.log" 2>&1 || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    printf '%-12s regression input failed (exit %d), see %s\n' "$t" "$rc" \
      "$OUT/logs/$t.regressions.log"
    grep -E -B 2 -A 12 'property failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
      "$OUT/logs/$t.regressions.log" | head -n 30
    failed+=("$t")
  else
    runnable+=("$t")
  fi
done

fuzz_one() {                    # TARGET: runs it, leaves its exit code in logs/TARGET.rc
  local t=$1 rc=0 dict=() limit=(-runs=0)
  mkdir -p "$OUT/corpus/$t"
  rm -f "$OUT/findings/$t-"*
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  [ "$DURATION" -gt 0 ] && limit=(-max_total_time="$DURATION")
  "$OUT/fuzz_$t" "${limit[@]}" -print_final_stats=1 -timeout=25 -rss_limit_mb=2560 \
    -max_len="${MAX_LEN[$t]}" -artifact_prefix="$OUT/findings/$t-" "${dict[@]}" \
    "$OUT/corpus/$t" "$OUT/seeds/$t" > "$OUT/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" > "$OUT/logs/$t.rc"
}

# JOBS targets at a time, each on a core of its own.
echo "fuzz: ${#runnable[@]} targets, ${DURATION} s each, $JOBS at a time"
for t in "${runnable[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait

printf '%-12s %12s %9s %6s %7s %8s  %s\n' target executions exec/s cov features corpus result
for t in "${runnable[@]}"; do
  log=$OUT/logs/$t.log
  rc=$(cat "$OUT/logs/$t.rc")
  status=$(last_status "$log")
  result=ok
  if [ "$rc" -ne 0 ] || ls "$OUT/findings/$t-"* >/dev/null 2>&1; then
    result="FINDING (exit $rc)"
    failed+=("$t")
  fi
  printf '%-12s %12s %9s %6s %7s %8s  %s\n' "$t" "$(stat_of number_of_executed_units "$log")" \
    "$(stat_of average_exec_per_sec "$log")" "$(field cov "$status")" "$(field ft "$status")" \
    "$(ls "$OUT/corpus/$t" | wc -l)" "$result"
  if [ "$result" != ok ]; then
    grep -E -A 25 'property failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
      "$log" | head -n 60
    ls -1 "$OUT/findings/$t-"* 2>/dev/null | sed 's/^/  input: /'
  fi
done

# ---- line coverage of the corpora (optional) -------------------------------------------
if [ "${CONNMON_FUZZ_COVERAGE:-0}" = 1 ]; then
  ver=$($CC --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
  PROFDATA=$(command -v "llvm-profdata-$ver" || command -v llvm-profdata || true)
  COV=$(command -v "llvm-cov-$ver" || command -v llvm-cov || true)
  if [ -z "$PROFDATA" ] || [ -z "$COV" ]; then
    echo "line coverage: llvm-profdata / llvm-cov not found (package llvm-$ver)"
  else
    C=$OUT/coverage
    cmake -S tests/fuzz -B "$C" -DCMAKE_C_COMPILER="$CC" -DCONNMON_FUZZ_COVERAGE=ON >/dev/null
    cmake --build "$C" -j2 >/dev/null
    for t in "${TARGETS[@]}"; do
      rm -f "$C/$t".*.profraw
      LLVM_PROFILE_FILE="$C/$t.%p.profraw" "$C/fuzz_$t" -runs=0 "$OUT/corpus/$t" "$OUT/seeds/$t" \
        > "$C/$t.replay.log" 2>&1
      "$PROFDATA" merge -sparse "$C/$t".*.profraw -o "$C/$t.profdata"
      echo "line coverage of the $t corpus:"
      "$COV" report "$C/fuzz_$t" -instr-profile="$C/$t.profdata" \
        -ignore-filename-regex='tests/fuzz/' 2>/dev/null |
        awk 'NR > 2 && NF >= 10 && $(NF-3) != "0.00%" && $(NF-3) != "-" {
               printf "  %-28s %8s of %5s lines\n", ($1 == "TOTAL" ? "all linked" : $1), $(NF-3), $(NF-5) }'
    done
  fi
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FINDINGS or failing regression inputs in ${failed[*]} (logs: $OUT/logs/, inputs: $OUT/findings/)." \
       "Minimise with $OUT/fuzz_<target> -minimize_crash=1 -runs=100000 INPUT, then add the input" \
       "to tests/fuzz/regressions/<target>/." >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${DURATION} s each: no finding"
