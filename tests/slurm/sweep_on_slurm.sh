#!/usr/bin/env bash
# ctest (label slurm): a design-space sweep on a real Slurm cluster. Starts a one-node cluster on
# localhost (scripts/slurm_local.sh, state in a temp dir), checks it with a trivial 3-task job
# array, then runs examples/sweeps/adc-bits.yaml with the local backend and with the slurm backend
# (sbatch --wait job array) and requires the two results.csv to be equal apart from the *_wall_s
# columns. The cluster is stopped and the temp dir removed however the test ends (set
# AIMC_SLURM_KEEP=1 to keep the temp dir). Needs munge, slurmctld, slurmd, slurm-client and root
# (exits 77, which ctest reports as skipped, otherwise).
# Usage: tests/slurm/sweep_on_slurm.sh [AIMCSIM]   (default: build/aimcsim, from the source dir)
# Its commands are time-limited (60 + 60 + 200 + 200 s) so that it ends, and cleans up, before
# ctest's TIMEOUT of 600 s would kill it. Normally it takes about 30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
AIMCSIM=$(realpath "${1:-build/aimcsim}")
PY=/usr/bin/python3
SPEC=examples/sweeps/adc-bits.yaml
if [ "$(id -u)" -ne 0 ]; then echo "skipped: slurm_local.sh needs root" >&2; exit 77; fi

T=$(mktemp -d /tmp/aimcsim-slurm.XXXXXX)
CLUSTER=$T/cluster
CLUSTER_UP=0
failed() { echo "FAILED: $*" >&2; exit 1; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ $rc -ne 0 ] && [ "$CLUSTER_UP" = 1 ]; then   # (a failed start shows its own logs)
    for f in "$CLUSTER"/log/slurmctld.log "$CLUSTER"/log/slurmd.log; do
      [ -s "$f" ] && { echo "----- tail of $f -----" >&2; tail -n 30 "$f" >&2; }
    done
    for f in "$T"/slurm/slurm/*.out; do   # the sweep's tasks that did not end with "point N: ok"
      [ -e "$f" ] && ! grep -qx 'point [0-9]*: ok' "$f" && { echo "----- $f -----" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  scripts/slurm_local.sh stop "$CLUSTER" || true
  if [ "${AIMC_SLURM_KEEP:-}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$AIMCSIM" ] || failed "$AIMCSIM: no aimcsim binary (build it: bash scripts/setup.sh)"
SECONDS=0

# 1. The cluster.
unset SLURM_CONF
exports=$(scripts/slurm_local.sh start "$CLUSTER") || failed "the Slurm cluster did not start (logs above)"
eval "$exports"
CLUSTER_UP=1
[ "${SLURM_CONF:-}" = "$CLUSTER/slurm.conf" ] || failed "slurm_local.sh start printed no SLURM_CONF"
echo "cluster up after ${SECONDS} s: $(sinfo -h -o '%P %D node(s) %c cpus %t')"

# 2. A trivial job array, so that a broken cluster shows up as such and not as a sweep failure.
mkdir "$T/array"
(cd "$T/array" && timeout 60 sbatch --wait --array=0-2 --output=task-%a.out --job-name=aimcsim-check \
  --wrap='echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT on $(hostname -s)"') \
  || failed "the trivial job array did not complete (sbatch exit $?)"
for i in 0 1 2; do
  grep -q "^task $i of 3 on " "$T/array/task-$i.out" 2>/dev/null \
    || failed "job array task $i wrote no output: $(cat "$T/array/task-$i.out" 2>&1)"
done
echo "trivial job array: 3 tasks ok after ${SECONDS} s"

# 3. The same sweep with both backends.
timeout 200 "$PY" scripts/sweep.py "$SPEC" --backend local --out "$T/local" --aimcsim "$AIMCSIM" --no-plots \
  || failed "the local sweep failed"
echo "local sweep done after ${SECONDS} s"
timeout 200 "$PY" scripts/sweep.py "$SPEC" --backend slurm --out "$T/slurm" --aimcsim "$AIMCSIM" --no-plots \
  || failed "the slurm sweep failed"
echo "slurm sweep done after ${SECONDS} s"
[ -s "$T/slurm/slurm/array.sh" ] || failed "the slurm sweep wrote no $T/slurm/slurm/array.sh"
n_out=$(find "$T/slurm/slurm" -name '*.out' | wc -l)
[ "$n_out" -gt 0 ] || failed "no Slurm task output in $T/slurm/slurm: the slurm backend did not use Slurm"

# 4. Equal results apart from timings (and every point ok: equal failures would prove nothing).
for b in local slurm; do
  "$PY" -c '
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="") as f:
    rows = list(csv.DictReader(f))
if not rows:
    sys.exit(f"{src}: no rows")
keep = [c for c in rows[0] if not c.endswith("_wall_s")]
bad = [r.get("point", "?") + ": " + r.get("status", "?") + " " + r.get("error", "") for r in rows if r.get("status") != "ok"]
if bad:
    sys.exit(f"{src}: points not ok:\n  " + "\n  ".join(bad))
with open(dst, "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(keep)
    w.writerows([r[c] for c in keep] for r in rows)
print(f"{src}: {len(rows)} points ok")
' "$T/$b/results.csv" "$T/$b.csv" || failed "$b sweep: bad results.csv"
done
if ! diff -u "$T/local.csv" "$T/slurm.csv"; then
  failed "results.csv of the local and slurm backends differ (apart from *_wall_s columns)"
fi
echo "local and slurm results.csv equal apart from *_wall_s ($(($(wc -l <"$T/local.csv") - 1)) points); ${SECONDS} s"
