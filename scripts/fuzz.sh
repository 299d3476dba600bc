#!/usr/bin/env bash
# Short fuzz run of every input path (docs/fuzzing.md): builds the libFuzzer harnesses into
# build-asan/ if needed (clang, ASan + UBSan; the folder of scripts/sanitize.sh), then runs each
# one for SECONDS (default 30) on a scratch copy of its checked-in corpus (fuzz/corpus/NAME,
# dictionary fuzz/NAME.dict), then the Python fuzzer of the sweep spec for as long. Prints per harness executions per second, the
# final coverage (cov: and ft: of libFuzzer's last stats line) and "no finding" or the file that
# reproduces the finding (kept in build-asan/findings/NAME/). Exits 1 on any finding, 2 when a
# harness could not run. Non-interactive (CI).
#
# Usage: bash scripts/fuzz.sh [SECONDS] [NAME...]    NAME: config trace workload npy idx set sweep_spec
# Environment: AIMC_FUZZ_BUILD (build folder, default build-asan), CC/CXX (default clang/clang++).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-30}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS] [NAME...]" >&2
  exit 2
fi
shift $(($# > 0 ? 1 : 0))
all=(config trace workload npy idx set sweep_spec)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then names=("${all[@]}"); fi
# (No `printf | grep -q` here: grep exits at the first match, and under pipefail the printf it cut
# short makes the test fail at random.)
for n in "${names[@]}"; do
  known=0
  for a in "${all[@]}"; do [ "$a" = "$n" ] && known=1; done
  if [ "$known" -eq 0 ]; then
    echo "fuzz.sh: unknown harness '$n' (known: ${all[*]})" >&2
    exit 2
  fi
done

build=${AIMC_FUZZ_BUILD:-build-asan}
targets=()
for n in "${names[@]}"; do [ "$n" != sweep_spec ] && targets+=("fuzz_$n"); done
if [ ${#targets[@]} -gt 0 ]; then
  # The sanitizer build folder of scripts/sanitize.sh (clang, ASan + UBSan + coverage) serves both.
  AIMC_ASAN_BUILD=$build bash scripts/sanitize.sh --configure-only || exit 2
  echo "fuzz.sh: building ${targets[*]} in $build"
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
    tail -n 30 "$build/fuzz-build.log" >&2
    echo "fuzz.sh: build failed (log: $build/fuzz-build.log)" >&2
    exit 2
  }
fi

mkdir -p "$build"
build_abs=$(cd "$build" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/aimc-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
findings=$build_abs/findings
# Leaks are not findings (the loaders' static state; SystemC); everything else ASan/UBSan reports is.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
printf '%-11s %6s %9s %7s %7s  %s\n' harness time exec/s cov ft result
for n in "${names[@]}"; do
  mkdir -p "$findings/$n"
  if [ "$n" = sweep_spec ]; then
    py=/usr/bin/python3
    if ! "$py" -c "import yaml" 2>/dev/null; then
      printf '%-11s %6s %9s %7s %7s  %s\n' "$n" - - - - "skipped (needs python3-yaml)"
      continue
    fi
    log=$scratch/$n.log
    "$py" fuzz/fuzz_sweep_spec.py --seconds "$seconds" --findings "$findings/$n" </dev/null >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/.*exec\/s: \([0-9.]*\).*/\1/p' "$log" | tail -n 1)
    types=$(sed -n 's/.*exception types: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
      result="no finding ($types exception types, all SpecError)"
    elif [ $rc -eq 1 ]; then
      result="FINDING: $(grep -m1 '^finding' "$log")"
      status=1
    else
      result="ERROR (exit $rc): $(tail -n 1 "$log")"
      [ $status -eq 0 ] && status=2
    fi
    printf '%-11s %5ss %9s %7s %7s  %s\n' "$n" "$seconds" "${execs:--}" - - "$result"
    continue
  fi
  corpus=$scratch/corpus-$n
  mkdir -p "$corpus"
  cp -r "fuzz/corpus/$n/." "$corpus/"
  log=$scratch/$n.log
  # -jobs=1 -workers=1: one fuzzing process, its output in fuzz-0.log (in the scratch folder) and
  # copied to ours when it ends; -timeout: one input running 10 s is a finding (a hang).
  (cd "$scratch" && "$build_abs/fuzz_$n" -jobs=1 -workers=1 -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -dict="$root/fuzz/$n.dict" -artifact_prefix="$findings/$n/" -print_final_stats=1 \
      "$corpus" </dev/null >"$log" 2>&1)
  rc=$?
  stats=$(grep -E '#[0-9]+.*cov: [0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
  execs=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -z "$execs" ] && execs=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$stats")
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
    result="no finding"
  else
    what=$(grep -m1 -E '==aimc-fuzz== FINDING|SUMMARY: |ERROR: libFuzzer' "$log" | sed 's/^ *//')
    cp "$log" "$findings/$n/last.log"
    result="FINDING: ${artifact:-(no crash file; log $build/findings/$n/last.log)} ${what}"
    status=1
  fi
  printf '%-11s %5ss %9s %7s %7s  %s\n' "$n" "$seconds" "${execs:--}" "${cov:--}" "${ft:--}" "$result"
done
if [ $status -eq 1 ]; then
  echo "fuzz.sh: findings above; reproduce one with: $build/fuzz_NAME FILE (docs/fuzzing.md)"
fi
exit $status
