#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run) and the README's Quick start names it:
#   1. scripts/setup.sh: Debian packages, configure and build build/;
#   2. every test (ctest) on build/;
#   3. scripts/sanitize.sh: everything rebuilt in build-asan/ with AddressSanitizer and UBSan
#      (clang) and every test run again there;
#   4. scripts/fuzz.sh: each fuzz harness for a short while, on the same build-asan/.
# Stops at the first stage that fails and exits with its status. Non-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: bash scripts/test.sh [--quick] [--fuzz-seconds N]

Sets everything up and runs the whole test suite: the tests on build/, the tests again under
AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/), and a short run of every fuzz
harness (docs/fuzzing.md). About 25 minutes on 2 cores from a fresh clone; later runs rebuild
only what changed.

  --quick            only the tests on build/ (stages 1 and 2), about 6 minutes from scratch
  --fuzz-seconds N   seconds per fuzz harness (default 20)
  -h, --help         this text

Examples:
  bash scripts/test.sh                     # what CI runs
  bash scripts/test.sh --quick             # setup, build and the plain suite only
  ctest --test-dir build -R mesh           # some tests, once built
EOF
}

quick=0
fuzz_seconds=20
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --fuzz-seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -ge 1 ]] || { echo "test.sh: --fuzz-seconds needs a whole number >= 1" >&2; exit 2; }
      fuzz_seconds=$2
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

stage() { echo; echo "=== test.sh: $* ($(date -u +%H:%M:%S))"; }

stage "setup and build"
bash scripts/setup.sh
stage "the test suite"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300
((quick)) && exit 0
stage "the test suite under AddressSanitizer and UBSan"
bash scripts/sanitize.sh
stage "every fuzz harness for ${fuzz_seconds} s"
bash scripts/fuzz.sh "$fuzz_seconds"  # on build-asan/, its default
stage "all passed"
