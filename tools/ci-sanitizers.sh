#!/usr/bin/env bash
# The sanitizer and fuzzing steps of CI (issue 6), run by `tools/dev test` after ctest:
#
#   asan  clang-14 build of the whole test suite with ASan + UBSan (every report aborts)
#         in build-asan, then ctest, except the kernel's allocation-counting test (it
#         interposes malloc, which ASan owns) and the agent's peak-RSS bound.
#   tsan  ThreadSanitizer build of the concurrency tests (*concurrency*) in build-tsan, run.
#   fuzz  the libFuzzer targets (fuzz/) in build-fuzz, each run FUZZ_SECONDS (60) from its
#         seed corpus (fuzz/make-corpus), JOBS at a time; any finding fails the step.
#
#   tools/ci-sanitizers.sh [asan] [tsan] [fuzz]     (no argument: all three, in this order)
#
# Environment: JOBS (default 2), SANITIZER_BUILDS (parent of the three build directories;
# default the source tree), FUZZ_SECONDS (default 60), EDICTCTL (the edictctl, next
# to fuzz/fuzz_seed_tool in its build, that makes the seed corpora; default
# build/tools/edictctl, else both are built in build-fuzz).
# Exit status: 0 all green; 1 a step failed (each step still runs; failures listed last).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${JOBS:-2}
builds=${SANITIZER_BUILDS:-$here}  # where build-asan, build-tsan and build-fuzz go
fuzz_seconds=${FUZZ_SECONDS:-60}
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(asan tsan fuzz)
failed=()

log() { printf '\033[1m== %s\033[0m\n' "$*"; }
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
fail() { failed+=("$*"); printf '\033[1;31m== FAILED: %s\033[0m\n' "$*"; }
# Sub-stage timings for tools/dev's table (EDICT_TIMINGS: see tools/dev).
mark=$SECONDS
record() {  # record NAME: the time since the previous mark, with the step's status so far
  local status=ok
  [ ${#failed[@]} -gt "${failed_before:-0}" ] && status=FAILED
  [ -n "${EDICT_TIMINGS:-}" ] &&
    printf '%s\t%d\t%s\n' "$1" $((SECONDS - mark)) "$status" >>"$EDICT_TIMINGS"
  mark=$SECONDS
  failed_before=${#failed[@]}
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# clang warns where gcc does not; our own code is held to -Werror under gcc, so these
# few clang-only warnings stay warnings here (see fuzz/README.md).
clang_nowerror="-Wno-error=unused-variable -Wno-error=missing-field-initializers"

# Shared libraries of a sanitizer build leave the runtime's symbols to the executable, so
# a library linked with --no-undefined (tools/libedict/) cannot link; `-z undefs` after the
# target's own link options allows it in these builds only (CMake's default rule plus it).
create_shared="<CMAKE_CXX_COMPILER> <CMAKE_SHARED_LIBRARY_CXX_FLAGS> <LANGUAGE_COMPILE_FLAGS>"
create_shared+=" <LINK_FLAGS> -Wl,-z,undefs <CMAKE_SHARED_LIBRARY_CREATE_CXX_FLAGS>"
create_shared+=" <SONAME_FLAG><TARGET_SONAME> -o <TARGET> <OBJECTS> <LINK_LIBRARIES>"

# C programs that load an instrumented C++ library (tools/libedict/) need the C++ half of the
# UBSan runtime: link them with clang++.
link_c_executable="clang++-14 <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET>"
link_c_executable+=" <LINK_LIBRARIES>"

configure() {  # configure DIR SANITIZER_FLAGS [cmake args...]
  local dir=$1 flags=$2
  shift 2
  cmake -S "$here" -B "$dir" -G Ninja \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer $clang_nowerror" \
    -DCMAKE_C_FLAGS="$flags -fno-omit-frame-pointer" \
    -DCMAKE_CXX_CREATE_SHARED_LIBRARY="$create_shared" \
    -DCMAKE_C_LINK_EXECUTABLE="$link_c_executable" \
    -DEDICT_BUILD_BENCHMARKS=OFF "$@" >/dev/null
}

# Build outputs (paths) of a configured build that are linked (executables, libraries),
# whose file name matches a shell pattern.
outputs_matching() {  # outputs_matching DIR PATTERN
  ninja -C "$1" -t targets all 2>/dev/null |
    sed -n 's/^\([^ ]*\): C[A-Z]*_\(EXECUTABLE\|STATIC_LIBRARY\|SHARED_LIBRARY\|MODULE_LIBRARY\)_LINKER.*/\1/p' |
    while read -r t; do
      # shellcheck disable=SC2254
      case ${t##*/} in *_tests.cmake) ;; $2) echo "$t" ;; esac
    done | sort -u
}

step_asan() {
  local dir=$builds/build-asan
  log "asan: ASan + UBSan build of the test suite in $dir"
  configure "$dir" "-fsanitize=address,undefined -fno-sanitize-recover=all" \
    -DEDICT_BUILD_TESTS=ON || { fail "asan: configure"; return; }
  cmake --build "$dir" -j "$jobs" || { fail "asan: build"; record asan-build; return; }
  record asan-build
  # Not under ASan: the kernel's allocation-counting test (tests/kernel/alloc_test.cc
  # interposes malloc, which ASan owns, so its counters stay 0); the agent's peak-RSS
  # bound (ASan's shadow memory and quarantine count as RSS); the install and package
  # tests (they build consumers of the installed, here instrumented, library without the
  # sanitizer runtime); the ABI check (its baseline is of the gcc build's library). All of
  # them run in the normal build's ctest. See fuzz/README.md.
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" \
    -E '^ZeroAllocation\.|^agent\.AgentSpool\.BurstOfAThousandBundles|^capi\.install_and_consumers$|^capi\.debian_packages$|^capi\.abi$' ||
    fail "asan: ctest"
  record asan-ctest
}

step_tsan() {
  local dir=$builds/build-tsan
  log "tsan: ThreadSanitizer build of the concurrency tests in $dir"
  configure "$dir" "-fsanitize=thread" -DEDICT_BUILD_TESTS=ON -DEDICT_KERNEL_TSAN=ON ||
    { fail "tsan: configure"; return; }
  local tests=()
  mapfile -t tests < <(outputs_matching "$dir" '*concurrency*')
  [ ${#tests[@]} -gt 0 ] || { fail "tsan: no *concurrency* test targets"; return; }
  ninja -C "$dir" -j "$jobs" "${tests[@]}" || { fail "tsan: build"; return; }
  local t
  for t in "${tests[@]}"; do
    log "tsan: ${t##*/}"
    "$dir/$t" --gtest_brief=1 || fail "tsan: ${t##*/}"
  done
  record tsan
}

fuzz_one() {  # fuzz_one BUILD_DIR CORPUS TARGET: one 60 s run; status in ci-run/TARGET/status
  local dir=$1 corpus=$2 t=$3 dict out
  case $t in compiler | roundtrip | conformance) dict=$here/fuzz/dicts/json.dict ;;
    pull) dict=$here/fuzz/dicts/http.dict ;;
    catalog) dict=$here/fuzz/dicts/catalog.dict ;;
    *) dict=$here/fuzz/dicts/binary.dict ;; esac
  out=$dir/ci-run/$t
  mkdir -p "$out/new" "$out/findings"
  "$dir/fuzz/fuzz_$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 -timeout=25 \
    -rss_limit_mb=2560 -max_len=8192 -dict="$dict" -artifact_prefix="$out/findings/" \
    "$out/new" "$corpus/$t" >"$out/log" 2>&1
  echo $? >"$out/status"
}

step_fuzz() {
  local dir=$builds/build-fuzz
  log "fuzz: libFuzzer targets in $dir, ${fuzz_seconds}s each"
  "$here/fuzz/configure" "$dir" || { fail "fuzz: configure"; return; }
  cmake --build "$dir" -j "$jobs" --target fuzzers || { fail "fuzz: build"; record fuzz-build; return; }
  record fuzz-build
  # The seed corpora are made with edictctl and fuzz_seed_tool of the normal build if it
  # has them, else of this one.
  local ctl=${EDICTCTL:-$here/build/tools/edictctl}
  local tool=${ctl%/tools/edictctl}/fuzz/fuzz_seed_tool
  if [ ! -x "$ctl" ] || [ ! -x "$tool" ]; then
    cmake --build "$dir" -j "$jobs" --target edictctl fuzz_seed_tool ||
      { fail "fuzz: edictctl"; return; }
    ctl=$dir/tools/edictctl
    tool=$dir/fuzz/fuzz_seed_tool
  fi
  local corpus=$dir/seed-corpus
  EDICTCTL=$ctl SEED_TOOL=$tool "$here/fuzz/make-corpus" "$corpus" >/dev/null ||
    { fail "fuzz: make-corpus"; return; }
  # JOBS fuzzers at a time (each is one process); results are collected afterwards.
  local t bin targets=()
  for bin in "$dir"/fuzz/fuzz_*; do
    t=${bin##*/fuzz_}
    case $t in *_replay | *_tool | *.*) continue ;; esac
    [ -x "$bin" ] && targets+=("$t")
  done
  rm -rf "$dir/ci-run"
  record fuzz-corpus
  for t in "${targets[@]}"; do
    fuzz_one "$dir" "$corpus" "$t" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  done
  wait
  for t in "${targets[@]}"; do
    out=$dir/ci-run/$t
    printf '   %-13s %s\n' "$t" "$(grep -ao 'cov: [0-9]*.*exec/s: [0-9]*' "$out/log" | tail -1)"
    if [ "$(cat "$out/status")" -ne 0 ] || [ -n "$(ls -A "$out/findings")" ]; then
      tail -40 "$out/log"
      fail "fuzz: $t (findings in $out/findings, log $out/log)"
    fi
  done
  record "fuzz-run (${#targets[@]}x${fuzz_seconds}s)"
}

start=$SECONDS
for s in "${steps[@]}"; do
  t0=$SECONDS
  mark=$SECONDS
  case $s in
    asan) step_asan ;;
    tsan) step_tsan ;;
    fuzz) step_fuzz ;;
    *) echo "usage: tools/ci-sanitizers.sh [asan] [tsan] [fuzz]" >&2; exit 2 ;;
  esac
  log "$s: $(elapsed $((SECONDS - t0)))"
done
log "sanitizers and fuzzing: $(elapsed $((SECONDS - start)))"
if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31m== FAILED:\033[0m\n'
  printf '   %s\n' "${failed[@]}"
  exit 1
fi
