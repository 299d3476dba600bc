#!/usr/bin/env python3
"""Speed of aimcsim on the Fashion-MNIST MLP against a plain batched float32 matrix product.

The baseline does the network's multiply-accumulates (784x256 + 256x256 + 256x10 per image, over
all 10,000 test images) as batched float32 matrix products with numpy (Debian's OpenBLAS when it
is the selected BLAS), with the same number of threads. It is timed inside this script; the
simulator runs are timed as whole processes (start-up, reading the IDX data, programming the
cores, the float reference and the run). Each figure is the median of --repeat runs.

Targets (issue: real workloads): the timed run within 10x the baseline, the functional mode
(one seed, one drift time, compensation on) within 2x.

    python3 scripts/speed_fmnist.py [--aimcsim build/aimcsim] [--repeat 5]
"""
import argparse
import gzip
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def baseline(repeat):
    with gzip.open(IMAGES) as f:
        x = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(10000, 784).astype(np.float32) / 255
    rng = np.random.default_rng(1)
    w = [rng.standard_normal(s).astype(np.float32) for s in [(784, 256), (256, 256), (256, 10)]]
    times = []
    for _ in range(repeat + 1):  # the first run warms up BLAS
        t = time.perf_counter()
        h = x
        for m in w:
            h = h @ m
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def run(cmd, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimcsim", default=os.path.join(ROOT, "build", "aimcsim"))
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    if not os.path.exists(IMAGES):
        sys.exit(f"{IMAGES} is missing: apt-get install dataset-fashion-mnist")
    common = [a.aimcsim, "run", "--chip", "configs/hermes.yaml", "--workload", "workloads/fmnist-mlp",
              "--samples", "10000", "--t-inference", "1h", "-q"]
    base = baseline(a.repeat)
    timed = run(common, a.repeat)
    functional = run(common + ["--mode", "functional", "--compensation", "on"], a.repeat)
    macs = 10000 * (784 * 256 + 256 * 256 + 256 * 10)
    print(f"10,000 Fashion-MNIST images through 784-256-256-10 ({macs / 1e9:.2f} G multiply-accumulates), "
          f"median of {a.repeat}, {os.cpu_count()} cores")
    print(f"  numpy float32 matmul (baseline) {base:8.3f} s")
    print(f"  aimcsim timed run               {timed:8.3f} s   {timed / base:5.2f}x   (target <= 10x)")
    print(f"  aimcsim functional mode         {functional:8.3f} s   {functional / base:5.2f}x   (target <= 2x)")


if __name__ == "__main__":
    main()
