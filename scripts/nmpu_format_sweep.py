#!/usr/bin/env python3
"""Accuracy of the fixed-point NMPU as its formats shrink, against the float digital unit.

Runs `aimcsim run` on a chip and workload with `core.digital.kind=fixed-point-nmpu` and one
format narrowed at a time (the others at their 16-bit defaults), and prints a Markdown table of
top-1 accuracy and agreement with the float digital unit's predictions.

Usage: scripts/nmpu_format_sweep.py --aimcsim build/aimcsim [--chip configs/tiny.yaml]
           [--workload workloads/tiny-mlp] [--t-inference "1 d"] [--samples N]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

# (format, integer bits, fraction bits): the defaults are input/offset/output Q8.8, scale Q4.12,
# accumulator Q12.20.
SWEEP = [("offset", 8, f) for f in (8, 6, 4, 3, 2, 1, 0)] + \
        [("input", 8, f) for f in (8, 6, 4, 3, 2, 1)] + \
        [("output", 8, f) for f in (8, 6, 4, 3, 2, 1, 0)] + \
        [("output", i, 8) for i in (6, 4, 3, 2)] + \
        [("accumulator", 12, f) for f in (20, 12, 8, 4)]


def run(args, sets):
    tmp = tempfile.mkdtemp(prefix="aimc-nmpu-")
    out = os.path.join(tmp, "r.json")
    cmd = [args.aimcsim, "run", "--chip", args.chip, "--workload", args.workload, "-q", "--out", out,
           "--t-inference", args.t_inference]
    if args.samples:
        cmd += ["--samples", str(args.samples)]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    with open(out) as f:
        report = json.load(f)
    shutil.rmtree(tmp, ignore_errors=True)
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimcsim", required=True)
    ap.add_argument("--chip", default="configs/tiny.yaml")
    ap.add_argument("--workload", default="workloads/tiny-mlp")
    ap.add_argument("--t-inference", default="1 d")
    ap.add_argument("--samples", type=int, default=0)
    args = ap.parse_args()

    ref = run(args, ["core.digital.kind=float"])
    base = run(args, ["core.digital.kind=fixed-point-nmpu"])
    print("| narrowed format | Q format | top-1 | vs float unit |")
    print("|---|---|---|---|")
    print("| (float unit) | - | %.2f %% | - |" % (100 * ref["accuracy"]["top1"]))
    print("| (none: 16-bit defaults) | - | %.2f %% | %+.2f points |"
          % (100 * base["accuracy"]["top1"], 100 * (base["accuracy"]["top1"] - ref["accuracy"]["top1"])))
    for name, i, f in SWEEP:
        r = run(args, ["core.digital.kind=fixed-point-nmpu", "core.digital.%s_int_bits=%d" % (name, i),
                       "core.digital.%s_frac_bits=%d" % (name, f)])
        print("| %s | Q%d.%d | %.2f %% | %+.2f points |"
              % (name, i, f, 100 * r["accuracy"]["top1"], 100 * (r["accuracy"]["top1"] - ref["accuracy"]["top1"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
