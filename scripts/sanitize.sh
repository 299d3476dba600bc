#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UndefinedBehaviorSanitizer (cmake -DAIMC_SANITIZE=ON)
# into build-asan/ and runs the whole test suite there; the aimcsim processes the tests start are
# instrumented too. Fails on any test failure or sanitizer report. Needs the packages of
# scripts/setup.sh (run that first on a fresh machine). Extra arguments go to ctest, e.g.
#   bash scripts/sanitize.sh -R malformed
# docs/robustness.md describes the build and its suppression files (tests/sanitizers/).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIMC_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 900 "$@"
