#!/usr/bin/env python3
"""Latency-load and throughput curves of uniform random traffic on XY-routed meshes.

For each mesh (default 4x4 and 8x8, with the router, link, buffer and interface parameters of
the chip description, default configs/hermes.yaml), runs the synthetic workload
workloads/synthetic/uniform-random with `--set traffic.rate=R` for rates from 0.02 up to
1.5 times the mesh's XY saturation bound (at most 1 flit per node per cycle), denser between
half the bound and the bound, where the network saturates; several simulator processes run at a
time. Every report is kept in the work directory; the script then
writes

  PREFIX.csv  one row per run: mesh, rate, offered and accepted throughput (flits per node per
              cycle, over the measurement window), mean/p50/p99 packet latency (cycles),
              total_cycles, drain_cycles (cycles from the end of injection, warmup + duration,
              to the last arrival), messages, all_delivered, bound (the report's
              traffic.xy_saturation_bound_flits_per_node_cycle)
  PREFIX.png  (a) mean packet latency against offered load, log scale, with a dotted line at
              the mean zero-load latency, and (b) accepted against offered throughput; both
              with a dashed line at each mesh's saturation bound.

The seed is fixed (--seed, default 1), so the same simulator gives the same CSV and figure.
The figure needs matplotlib (Debian: apt-get install python3-matplotlib).

Example (from the repository root, after building build/aimcsim):
  /usr/bin/python3 scripts/latency_load.py --aimcsim build/aimcsim --jobs 4 \\
      --out docs/img/latency-load-uniform
"""

import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CSV_FIELDS = ["mesh", "rate", "offered", "accepted", "latency_mean", "latency_p50", "latency_p99",
              "total_cycles", "drain_cycles", "messages", "all_delivered", "bound"]


def fail(msg):
    print(f"latency_load.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_mesh(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"mesh '{text}' is not WxH, e.g. 8x8")
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"mesh '{text}' needs at least one column and row")
    return w, h


def xy_bound(w, h):
    """Uniform traffic's XY saturation bound (docs/interconnect.md), as the report computes it."""
    n = w * h
    worst = max((w // 2) * ((w + 1) // 2) * h, (h // 2) * ((h + 1) // 2) * w)
    return 1.0 if worst == 0 else min(1.0, (n - 1) / worst)


def mean_zero_load(w, h, ic, flits):
    """Mean zero-load latency over all ordered pairs of distinct cores (mesh.hpp's formula):
    2 ni + (H + 1)(router + link) + F - 1, with H averaged in closed form: the mean |dx| over all
    ordered pairs of columns is (W^2 - 1) / (3 W); excluding the N pairs of a core with itself
    scales the mean by N / (N - 1)."""
    n = w * h
    if n < 2:
        return None
    hops = ((w * w - 1) / (3 * w) + (h * h - 1) / (3 * h)) * n / (n - 1)
    return 2 * ic["ni_latency"] + (hops + 1) * (ic["router_latency"] + ic["link_latency"]) + flits - 1


def rates_for(w, h, overload):
    """Rates as fractions f of the XY bound: 0.05 to 0.5 in steps of 0.05, 0.525 to 1 in steps of
    0.025 (around saturation), then 1.1 up to `overload` in steps of 0.1; plus 0.02. Rates are
    rounded to 1e-4 and capped at 1 flit per node per cycle."""
    bound = xy_bound(w, h)
    fractions = [0.05 * i for i in range(1, 11)] + [0.5 + 0.025 * i for i in range(1, 21)]
    f = 1.1
    while f <= overload + 1e-9:
        fractions.append(f)
        f += 0.1
    return sorted({0.02} | {round(min(1.0, bound * f), 4) for f in fractions if f <= overload + 1e-9})


def run_one(job):
    """Runs one simulation; returns (job, report or None, error text or None)."""
    cmd = [job["aimcsim"], "run", "--chip", job["chip"], "--workload", job["workload"], "-q",
           "--threads", "1", "--seed", str(job["seed"]), "--out", job["out"],
           "--set", f"chip.grid_cols={job['w']}", "--set", f"chip.grid_rows={job['h']}",
           "--set", "host.attach_x=0", "--set", "host.attach_y=0",
           "--set", f"traffic.rate={job['rate']}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return job, None, (f"command failed with exit status {proc.returncode}:\n  {' '.join(cmd)}\n"
                           f"{proc.stderr.strip()}")
    try:
        with open(job["out"]) as f:
            return job, json.load(f), None
    except (OSError, ValueError) as e:
        return job, None, f"cannot read the report of\n  {' '.join(cmd)}\n{e}"


def row_of(job, report):
    ic, tr = report["interconnect"], report["traffic"]
    total = report["latency"]["total_cycles"]
    lat, tp = ic["packet_latency_cycles"], ic["throughput_flits_per_node_cycle"]
    return {
        "mesh": f"{job['w']}x{job['h']}",
        "rate": job["rate"],
        "offered": tp["offered"],
        "accepted": tp["accepted"],
        "latency_mean": lat["mean"],
        "latency_p50": lat["p50"],
        "latency_p99": lat["p99"],
        "total_cycles": total,
        "drain_cycles": total - (tr["warmup"] + tr["duration"]),
        "messages": ic["messages"],
        "all_delivered": ic["messages"] == tr["messages_generated"],
        "bound": tr["xy_saturation_bound_flits_per_node_cycle"],
    }


def describe(report):
    """The figure's title and each mesh's zero-load latency, from one report of the mesh."""
    ic, tr = report["config"]["interconnect"], report["traffic"]
    title = (f"Uniform random traffic, {report['chip']['name']} interconnect: XY routing, "
             f"{ic['virtual_channels']} VCs x {ic['buffer_depth']} flits, router {ic['router_latency']}, "
             f"link {ic['link_latency']}, ni {ic['ni_latency']} cycles, "
             f"{tr['message_bits']}-bit messages = {tr['flits_per_message']} flits")
    return title, ic, tr["flits_per_message"]


def plot(rows, meshes, png, title, ic, flits):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is missing (Debian: apt-get install python3-matplotlib); the CSV was written")
    fig, (ax_l, ax_t) = plt.subplots(1, 2, figsize=(11, 4.3))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (w, h) in enumerate(meshes):
        name = f"{w}x{h}"
        mesh_rows = sorted((r for r in rows if r["mesh"] == name), key=lambda r: r["offered"])
        if not mesh_rows:
            continue
        c = colours[i % len(colours)]
        bound = mesh_rows[0]["bound"]
        off = [r["offered"] for r in mesh_rows]
        ax_l.plot(off, [r["latency_mean"] for r in mesh_rows], "o-", ms=3, color=c, label=f"{name} mesh")
        ax_t.plot(off, [r["accepted"] for r in mesh_rows], "o-", ms=3, color=c, label=f"{name} mesh")
        zl = mean_zero_load(w, h, ic, flits)
        if zl is not None:
            ax_l.axhline(zl, color=c, ls=":", lw=1, label=f"{name} zero-load {zl:.1f}")
        if bound is not None:
            for ax in (ax_l, ax_t):
                ax.axvline(bound, color=c, ls="--", lw=1, label=f"{name} XY bound {bound:.3f}")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("offered load (flits / node / cycle)")
    ax_l.set_ylabel("mean packet latency (cycles)")
    ax_l.set_title("(a) latency against offered load")
    top = max(r["offered"] for r in rows)
    ax_t.plot([0, top], [0, top], color="0.6", lw=0.8, ls=":", label="accepted = offered")
    ax_t.set_xlabel("offered load (flits / node / cycle)")
    ax_t.set_ylabel("accepted throughput (flits / node / cycle)")
    ax_t.set_title("(b) accepted against offered throughput")
    for ax in (ax_l, ax_t):
        ax.set_xlim(0, top * 1.03)
        ax.grid(True, which="major", lw=0.4, alpha=0.5)
        ax.legend(fontsize=8, loc="upper left")
    ax_t.set_ylim(0, top * 1.03)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimcsim", default="build/aimcsim", help="the simulator binary (default: build/aimcsim)")
    ap.add_argument("--chip", default=os.path.join(REPO, "configs", "hermes.yaml"),
                    help="chip description whose interconnect is swept (default: configs/hermes.yaml)")
    ap.add_argument("--workload", default=os.path.join(REPO, "workloads", "synthetic", "uniform-random"),
                    help="traffic workload (default: workloads/synthetic/uniform-random)")
    ap.add_argument("--meshes", default="4x4,8x8",
                    help="comma-separated mesh sizes WxH (default: 4x4,8x8); the host port sits at (0, 0)")
    ap.add_argument("--overload", type=float, default=1.5,
                    help="highest rate as a multiple of the XY saturation bound; rates stop at 1 "
                         "(default: 1.5)")
    ap.add_argument("--seed", type=int, default=1, help="seed of every run (default: 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="simulator processes at a time (default: the number of CPUs)")
    ap.add_argument("--work-dir", help="directory for the JSON reports (default: a new temporary directory)")
    ap.add_argument("--out", default="latency-load-uniform",
                    help="writes OUT.csv and OUT.png (default: latency-load-uniform)")
    ap.add_argument("--no-plot", action="store_true", help="write the CSV only")
    args = ap.parse_args()

    try:
        meshes = [parse_mesh(m) for m in args.meshes.split(",") if m.strip()]
    except argparse.ArgumentTypeError as e:
        fail(str(e))
    if not meshes:
        fail("--meshes names no mesh")
    if args.jobs < 1 or args.overload <= 0:
        fail("--jobs must be at least 1 and --overload positive")
    aimcsim = args.aimcsim if os.sep in args.aimcsim else (shutil.which(args.aimcsim) or args.aimcsim)
    if not (os.path.isfile(aimcsim) and os.access(aimcsim, os.X_OK)):
        fail(f"the simulator binary '{args.aimcsim}' does not exist or is not executable "
             "(build it, e.g. cmake -S . -B build && make -C build aimcsim, or pass --aimcsim PATH)")
    for what, path in (("chip description", args.chip), ("workload", args.workload)):
        if not os.path.exists(path):
            fail(f"{what} '{path}' does not exist")

    work = args.work_dir or tempfile.mkdtemp(prefix="aimc-latency-load-")
    os.makedirs(work, exist_ok=True)
    jobs = []
    for w, h in meshes:
        for rate in rates_for(w, h, args.overload):
            jobs.append({"aimcsim": os.path.abspath(aimcsim), "chip": args.chip, "workload": args.workload,
                         "seed": args.seed, "w": w, "h": h, "rate": rate,
                         "out": os.path.join(work, f"mesh{w}x{h}-rate{rate:.4f}.json")})
    print(f"latency_load.py: {len(jobs)} runs, {args.jobs} at a time; reports in {work}", file=sys.stderr)

    results, first_report = {}, None
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, j) for j in jobs]
        for fut in concurrent.futures.as_completed(futures):
            job, report, err = fut.result()
            if err:
                pool.shutdown(wait=True, cancel_futures=True)
                fail(f"mesh {job['w']}x{job['h']}, rate {job['rate']}: {err}")
            results[job["out"]] = row_of(job, report)
            if first_report is None:
                first_report = report
            if report["interconnect"]["kind"] != "mesh":
                fail(f"{args.chip}: the interconnect is '{report['interconnect']['kind']}', not a mesh")
    rows = [results[j["out"]] for j in jobs]
    for r in rows:
        if not r["all_delivered"]:
            fail(f"mesh {r['mesh']}, rate {r['rate']}: {r['messages']} messages delivered, fewer than generated")

    out_dir = os.path.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    with open(args.out + ".csv", "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"wrote {args.out}.csv", file=sys.stderr)
    if not args.no_plot:
        plot(rows, meshes, args.out + ".png", *describe(first_report))
        print(f"wrote {args.out}.png", file=sys.stderr)


if __name__ == "__main__":
    main()
