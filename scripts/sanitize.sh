#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ and runs
# the whole test suite there; the aimcsim processes the tests start are instrumented too. Fails on
# any test failure or sanitizer report. The build uses clang (cmake -DAIMC_SANITIZE=ON
# -DAIMC_FUZZ=ON), so that the fuzz harnesses (scripts/fuzz.sh) come from the same build folder
# instead of a second instrumented build. Needs the packages of scripts/setup.sh (run that first
# on a fresh machine). docs/robustness.md describes the build and its suppression files.
#
# Usage: bash scripts/sanitize.sh [--configure-only] [CTEST_ARGS...]
#   bash scripts/sanitize.sh -R malformed      extra arguments go to ctest
# Environment: AIMC_ASAN_BUILD (build folder, default build-asan), CC/CXX (default clang/clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${AIMC_ASAN_BUILD:-build-asan}
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "sanitize.sh: configuring $build (clang, -DAIMC_SANITIZE=ON -DAIMC_FUZZ=ON)"
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAIMC_SANITIZE=ON -DAIMC_FUZZ=ON >/dev/null
fi
if ! grep -qx "AIMC_FUZZ:BOOL=ON" "$build/CMakeCache.txt"; then
  # An older build-asan (GCC, without the fuzz harnesses): the compiler of a build folder is fixed.
  echo "sanitize.sh: $build was configured without clang and -DAIMC_FUZZ=ON; remove it (rm -rf $build) and rerun" >&2
  exit 2
fi
if [ "${1:-}" = --configure-only ]; then exit 0; fi
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 900 "$@"
