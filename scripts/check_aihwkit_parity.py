#!/usr/bin/env python3
"""Checks that `aimcsim probe weights` on configs/aihwkit-pcm.yaml agrees with the independent
numpy reference of AIHWKit's PCMLikeNoiseModel (scripts/pcm_reference.py) at t_inference in
{0 s, 1 h, 1 d, 1 y}, with and without global drift compensation: per target-weight bin, means
within 2 % of full scale and standard deviations within 10 % (scripts/compare_probe.py).

Usage: scripts/check_aihwkit_parity.py --aimcsim build/aimcsim [--draws 4] [--size 256]
Exits 0 when every case passes, 1 otherwise. Needs python3 + numpy.
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare_probe import compare  # noqa: E402
from pcm_reference import bin_stats  # noqa: E402

TIMES = [("0 s", 0.0), ("1 h", 3600.0), ("1 d", 86400.0), ("1 y", 365.0 * 86400.0)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimcsim", required=True, help="path of the aimcsim binary")
    ap.add_argument("--chip", default=os.path.join(HERE, "..", "configs", "aihwkit-pcm.yaml"))
    ap.add_argument("--draws", type=int, default=4, help="programming draws (seeds) per case")
    ap.add_argument("--size", type=int, default=256, help="weight matrix is size x size")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="aimc-parity-")
    w = np.random.default_rng(12345).uniform(-1, 1, (args.size, args.size)).astype(np.float32)
    wfile = os.path.join(tmp, "W.npy")
    np.save(wfile, w)
    failed = []
    for label, seconds in TIMES:
        for comp in (True, False):
            ours = []
            for seed in range(1, args.draws + 1):
                out = os.path.join(tmp, "ours-%d.npy" % seed)
                cmd = [args.aimcsim, "probe", "weights", "--chip", args.chip, "--weights", wfile,
                       "--t-inference", "%r s" % seconds, "--seed", str(seed), "--out", out]
                if not comp:
                    cmd.append("--no-compensation")
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                ours.append(np.load(out))
            ref_file = os.path.join(tmp, "ref.npy")
            cmd = [sys.executable, os.path.join(HERE, "pcm_reference.py"), "generate", "--weights", wfile,
                   "--out", ref_file, "--t-inference", repr(seconds), "--samples", str(args.draws),
                   "--seed", "777", "--readout", "ideal", "--compensation" if comp else "--no-compensation"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            report = io.StringIO()
            ok = compare(w, np.stack(ours), np.load(ref_file), out=report) == 0
            name = "t = %s, compensation %s" % (label, "on" if comp else "off")
            a, b = bin_stats(w, np.stack(ours), 21), bin_stats(w, np.load(ref_file), 21)
            dmean = np.max(np.abs(a["mean"] - b["mean"]))
            dstd = np.max(np.abs(a["std"] - b["std"]) / b["std"])
            print("%-32s %s  (worst bin: |mean diff| %.4f of full scale, std diff %.1f %%)"
                  % (name, "ok" if ok else "FAIL", dmean, 100 * dstd))
            if not ok:
                print(report.getvalue())
                failed.append(name)
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (2 * len(TIMES) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
