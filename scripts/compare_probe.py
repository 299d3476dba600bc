#!/usr/bin/env python3
"""Compare two sets of effective weights (ours vs. a reference) bin by bin.

Both files hold effective weights for the same target matrix W (--weights): shape W.shape or
(K, *W.shape). The errors (effective - target) are binned by target weight over
[-w_max, w_max] (w_max = max|W|) and, per bin, in units of full scale w_max:

  mean  passes when |mean_ours - mean_ref| <= --mean-tol            (default 0.02 = 2 %)
  std   passes when |std_ours - std_ref| / std_ref <= --std-rtol     (default 0.10 = 10 %)

A bin with fewer than --min-count samples in either file is skipped entirely; the std check
is also skipped when the reference std is below --std-floor (full-scale units). Prints a table
and exits 0 when every checked bin passes, 1 when one fails, 2 on bad input.

Needs python3 + numpy; the binning is shared with scripts/pcm_reference.py.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcm_reference import bin_stats  # noqa: E402


def compare(w, ours, ref, bins=21, mean_tol=0.02, std_rtol=0.10, min_count=100,
            std_floor=1e-3, out=sys.stdout):
    a = bin_stats(w, ours, bins)
    b = bin_stats(w, ref, bins)
    out.write("w_max = %.6g; errors (effective - target) in units of w_max; "
              "mean tol %.3g, std rtol %.3g, min count %d, std floor %.3g\n"
              % (a["w_max"], mean_tol, std_rtol, min_count, std_floor))
    out.write("%4s %17s %8s %8s | %9s %9s %8s %4s | %8s %8s %7s %4s\n" % (
        "bin", "target range", "n_ours", "n_ref", "mean_our", "mean_ref", "|dmean|", "ok",
        "std_our", "std_ref", "rel", "ok"))
    failures = 0
    checked = 0
    for i in range(bins):
        lo, hi = a["edges"][i], a["edges"][i + 1]
        na, nb = int(a["count"][i]), int(b["count"][i])
        row = "%4d [%+6.3f,%+6.3f] %8d %8d | " % (i, lo, hi, na, nb)
        if min(na, nb) < min_count:
            out.write(row + "%9s %9s %8s %4s | %8s %8s %7s %4s\n" % (
                "-", "-", "-", "skip", "-", "-", "-", "skip"))
            continue
        checked += 1
        dmean = abs(a["mean"][i] - b["mean"][i])
        mean_ok = dmean <= mean_tol
        row += "%+9.5f %+9.5f %8.5f %4s | " % (a["mean"][i], b["mean"][i], dmean,
                                               "ok" if mean_ok else "FAIL")
        if b["std"][i] < std_floor:
            std_ok = True
            row += "%8.5f %8.5f %7s %4s" % (a["std"][i], b["std"][i], "-", "skip")
        else:
            rel = abs(a["std"][i] - b["std"][i]) / b["std"][i]
            std_ok = rel <= std_rtol
            row += "%8.5f %8.5f %7.4f %4s" % (a["std"][i], b["std"][i], rel,
                                              "ok" if std_ok else "FAIL")
        failures += (not mean_ok) + (not std_ok)
        out.write(row + "\n")
    if checked == 0:
        out.write("FAIL: no bin had enough samples (min count %d)\n" % min_count)
        return 1
    if failures:
        out.write("FAIL: %d check(s) failed in %d checked bin(s)\n" % (failures, checked))
        return 1
    out.write("PASS: %d bin(s) checked\n" % checked)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="compare_probe.py",
        description="Bin-by-bin comparison of effective weights (ours vs reference): mean and "
                    "std of (effective - target) in full-scale units. Exit 1 on failure.")
    p.add_argument("--weights", required=True, help="2-D target matrix W (.npy)")
    p.add_argument("--ours", required=True, help="our effective weights (.npy)")
    p.add_argument("--reference", required=True, help="reference effective weights (.npy)")
    p.add_argument("--bins", type=int, default=21)
    p.add_argument("--mean-tol", type=float, default=0.02,
                   help="max |mean difference| in units of full scale (default 0.02)")
    p.add_argument("--std-rtol", type=float, default=0.10,
                   help="max relative std difference (default 0.10)")
    p.add_argument("--min-count", type=int, default=100,
                   help="skip bins with fewer samples in either file (default 100)")
    p.add_argument("--std-floor", type=float, default=1e-3,
                   help="skip the std check when the reference std is below this (full-scale "
                        "units, default 1e-3)")
    args = p.parse_args(argv)
    if args.bins < 1:
        p.error("--bins must be >= 1")
    try:
        w = np.load(args.weights)
        ours = np.load(args.ours)
        ref = np.load(args.reference)
        if w.ndim != 2:
            raise ValueError("%s must hold a 2-D matrix, got %s" % (args.weights, w.shape))
        return compare(w, ours, ref, args.bins, args.mean_tol, args.std_rtol, args.min_count,
                       args.std_floor)
    except (OSError, ValueError) as exc:
        sys.stderr.write("compare_probe: error: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
