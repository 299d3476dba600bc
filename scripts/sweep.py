#!/usr/bin/env python3
"""Design-space sweeps with aimcsim: expand a sweep spec into points, run them (local processes or
a Slurm job array), collect one CSV row per point and seed, and plot the metrics.

    python3 scripts/sweep.py examples/sweeps/adc-bits.yaml --out sweeps/adc-bits
    python3 scripts/sweep.py examples/sweeps/adc-bits.yaml --out sweeps/adc-bits --backend slurm \\
        --partition short --account myproj --time 00:10:00

The spec format, the output layout and the Slurm options are described in docs/sweeps.md.
Rerunning a sweep runs only the points whose report is missing or was made from another
configuration; a failing point is recorded with its error and the others go on.
"""
import argparse
import concurrent.futures
import csv
import hashlib
import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_KEYS = {"mode", "samples", "t_inference", "compensation"}  # run.* parameters and options


class SpecError(Exception):
    pass


# ---- The spec ---------------------------------------------------------------------------------

def load_spec(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SpecError(f"{path}: cannot read the sweep spec ({e.strerror})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})")
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid YAML: {e}")
    except Exception as e:
        # PyYAML's constructors let some explicitly tagged scalars through ("!!int 0.4" is a
        # ValueError, an empty "!!float" an IndexError) and deep nesting is a RecursionError.
        raise SpecError(f"{path}: not valid YAML: {type(e).__name__}: {e}")
    if not isinstance(spec, dict):
        raise SpecError(f"{path}: expected a mapping (name, chip, workload, run, seeds, space, metrics)")
    known = {"name", "description", "chip", "workload", "run", "seeds", "space", "points", "metrics"}
    for k in spec:
        if k not in known:
            raise SpecError(f"{path}: unknown key '{k}'; expected one of {', '.join(sorted(known))}")
    for k in ("name", "chip", "workload", "metrics"):
        if k not in spec:
            raise SpecError(f"{path}: missing required key '{k}'")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(spec["name"])):
        raise SpecError(f"{path}: name: use letters, digits, '_', '-' and '.' only")
    base = os.path.dirname(os.path.abspath(path))
    for k in ("chip", "workload"):
        spec[k] = os.path.normpath(os.path.join(base, str(spec[k])))
        if not os.path.exists(spec[k]):
            raise SpecError(f"{path}: {k}: {spec[k]} does not exist")
    run = spec.setdefault("run", {}) or {}
    if not isinstance(run, dict):
        raise SpecError(f"{path}: run: expected a mapping of run options")
    for k in run:
        if k not in RUN_KEYS:
            raise SpecError(f"{path}: run.{k}: unknown run option; expected one of {', '.join(sorted(RUN_KEYS))}")
    spec["run"] = run
    seeds = spec.setdefault("seeds", [1])
    if isinstance(seeds, int):
        seeds = spec["seeds"] = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise SpecError(f"{path}: seeds: expected a non-negative integer or a list of them")
    metrics = spec["metrics"]
    if not isinstance(metrics, dict) or not metrics:
        raise SpecError(f"{path}: metrics: expected a mapping of column name to report key, "
                        "e.g. accuracy: accuracy.top1")
    spec["_points"] = expand(spec, path)
    return spec


def expand(spec, path):
    """The parameter sets of the sweep: `space` (a list of axes; their cartesian product, the keys of
    one axis zipped) and/or explicit `points`."""
    points = []
    spec["_plot_params"] = []  # the first parameter of each axis (the others are zipped with it)
    space = spec.get("space")
    if space is not None:
        if isinstance(space, dict):
            space = [{k: v} for k, v in space.items()]
        if not isinstance(space, list) or not space:
            raise SpecError(f"{path}: space: expected a list of axes, e.g. - core.adc.bits: [4, 6, 8]")
        axes = []
        for i, axis in enumerate(space):
            if not isinstance(axis, dict) or not axis:
                raise SpecError(f"{path}: space[{i}]: expected a mapping of parameter to a list of values")
            lengths = set()
            for k, v in axis.items():
                if not isinstance(v, list) or not v:
                    raise SpecError(f"{path}: space[{i}].{k}: expected a non-empty list of values")
                lengths.add(len(v))
            if len(lengths) > 1:
                raise SpecError(f"{path}: space[{i}]: zipped parameters need lists of one length, got "
                                + ", ".join(f"{k}: {len(v)}" for k, v in axis.items()))
            n = lengths.pop()
            spec["_plot_params"].append(next(iter(axis)))
            axes.append([{k: axis[k][j] for k in axis} for j in range(n)])
        for combo in itertools.product(*axes):
            p = {}
            for part in combo:
                p.update(part)
            points.append(p)
    if not isinstance(spec.get("points") or [], list):
        raise SpecError(f"{path}: points: expected a list of points, e.g. - {{core.adc.bits: 4}}")
    for i, p in enumerate(spec.get("points") or []):
        if not isinstance(p, dict):
            raise SpecError(f"{path}: points[{i}]: expected a mapping of parameter to value")
        points.append(dict(p))
    if not points:
        raise SpecError(f"{path}: no points: give space: or points:")
    for p in points:
        for k in p:
            if not isinstance(k, str) or not k:
                raise SpecError(f"{path}: {k!r}: a parameter must be named by its key path, e.g. core.adc.bits")
    names = list(dict.fromkeys(k for p in points for k in p))
    if spec.get("points"):
        spec["_plot_params"] = names
    for p in points:
        for k in names:
            if k not in p:
                raise SpecError(f"{path}: every point must set the same parameters; one lacks '{k}'")
        for k in p:
            if k.startswith("run.") and k[4:] not in RUN_KEYS:
                raise SpecError(f"{path}: {k}: unknown run option; expected run.{', run.'.join(sorted(RUN_KEYS))}")
    return points


# ---- One point ---------------------------------------------------------------------------------

def nest(flat):
    """{"core.adc.bits": 6} -> {"core": {"adc": {"bits": 6}}}"""
    out = {}
    for key, value in flat.items():
        d = out
        parts = key.split(".")
        for part in parts[:-1]:
            d = d.setdefault(part, {})
        d[parts[-1]] = value
    return out


def point_jobs(spec):
    """(index, params, seed) for every row of the sweep, in a fixed order."""
    jobs = []
    for i, p in enumerate(spec["_points"]):
        for seed in spec["seeds"]:
            jobs.append((len(jobs), p, seed))
    return jobs


def point_files(spec, out, index, params, seed):
    """Writes the point's resolved config (the base chip with the point's values) and returns its
    directory, the aimcsim command and the hash of everything the report depends on."""
    d = os.path.join(out, "points", f"{index:04d}")
    chip_values = {k: v for k, v in params.items() if not k.startswith("run.") and not k.startswith("traffic.")}
    config = {"base": spec["chip"]}
    config.update(nest(chip_values))
    config_text = ("# generated by scripts/sweep.py for point %d of sweep '%s'\n" % (index, spec["name"])
                   + yaml.safe_dump(config, sort_keys=True))
    run = dict(spec["run"])
    run.update({k[4:]: v for k, v in params.items() if k.startswith("run.")})
    cmd = ["run", "--chip", os.path.join(d, "config.yaml"), "--workload", spec["workload"], "--seed", str(seed),
           "--threads", "1", "-q", "--out", os.path.join(d, "report.json")]
    for k in sorted(run):
        cmd += ["--" + k.replace("_", "-"), str(run[k])]
    for k, v in sorted(params.items()):
        if k.startswith("traffic."):
            cmd += ["--set", f"{k}={v}"]
    digest = hashlib.sha256()
    for part in (config_text, json.dumps(cmd), file_digest(spec["chip"]), tree_digest(spec["workload"])):
        digest.update(part.encode())
    return d, config_text, cmd, digest.hexdigest()


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digest(path):
    """Hash of a workload folder's files (names and contents)."""
    if os.path.isfile(path):
        return file_digest(path)
    h = hashlib.sha256()
    for dirpath, dirnames, files in os.walk(path):
        dirnames.sort()
        for name in sorted(files):
            p = os.path.join(dirpath, name)
            h.update(os.path.relpath(p, path).encode())
            h.update(file_digest(p).encode())
    return h.hexdigest()


def is_done(d, digest):
    try:
        with open(os.path.join(d, "status.json")) as f:
            status = json.load(f)
    except (OSError, ValueError):
        return False
    if status.get("hash") != digest:
        return False
    if status.get("status") == "ok":
        return os.path.exists(os.path.join(d, "report.json"))
    return status.get("status") == "failed"


def write_atomic(path, text):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run_point(spec, out, aimcsim, index, params, seed):
    """Runs one point (unless it is done) and writes its status.json; returns the status."""
    d, config_text, cmd, digest = point_files(spec, out, index, params, seed)
    if is_done(d, digest):
        return "skipped"
    os.makedirs(d, exist_ok=True)
    for stale in ("report.json", "status.json", "report.json.partial"):
        if os.path.exists(os.path.join(d, stale)):
            os.remove(os.path.join(d, stale))
    write_atomic(os.path.join(d, "config.yaml"), config_text)
    start = time.monotonic()
    p = subprocess.run([aimcsim] + cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    if p.returncode < 0 or p.returncode in (130, 143):
        raise KeyboardInterrupt  # the run was interrupted: leave no status, it runs again next time
    errors = [l[len("error: "):] if l.startswith("error: ") else l
              for l in p.stderr.splitlines() if l.strip() and not l.endswith("error(s)")]
    status = {
        "hash": digest, "index": index, "seed": seed, "params": params,
        "status": "ok" if p.returncode == 0 else "failed",
        "exit_code": p.returncode,
        "error": "" if p.returncode == 0 else (errors[0] if errors else f"exit code {p.returncode}"),
        "command": "aimcsim " + " ".join(shlex.quote(c) for c in cmd),
        "run_wall_s": round(wall, 3),
    }
    write_atomic(os.path.join(d, "status.json"), json.dumps(status, indent=2) + "\n")
    return status["status"]


# ---- Collecting -------------------------------------------------------------------------------

def lookup(report, key):
    """A report value by its dotted key, with [i] for list elements: accuracy.points[0].compensated.top1_mean"""
    v = report
    for part in key.split("."):
        m = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
        if not m:
            raise KeyError(key)
        v = v[m.group(1)]
        for i in re.findall(r"\[(\d+)\]", m.group(2)):
            v = v[int(i)]
    return v


def collect(spec, out):
    rows = []
    params = list(dict.fromkeys(k for p in spec["_points"] for k in p))
    for index, p, seed in point_jobs(spec):
        d, _, _, digest = point_files(spec, out, index, p, seed)
        row = {"point": index, "seed": seed}
        row.update({k: p[k] for k in params})
        try:
            if not is_done(d, digest):
                raise OSError
            with open(os.path.join(d, "status.json")) as f:
                status = json.load(f)
        except (OSError, ValueError):
            status = {"status": "missing", "error": "not run", "run_wall_s": ""}
        report = None
        if status["status"] == "ok":
            with open(os.path.join(d, "report.json")) as f:
                report = json.load(f)
        for name, key in spec["metrics"].items():
            try:
                row[name] = lookup(report, key) if report is not None else ""
            except (KeyError, IndexError, TypeError):
                row[name] = ""
                if status["status"] == "ok":
                    status = dict(status, status="failed", error=f"metric {name}: no report key {key}")
        row["status"] = status["status"]
        row["error"] = status.get("error", "")
        row["run_wall_s"] = status.get("run_wall_s", "")
        rows.append(row)
    columns = ["point", "seed"] + params + list(spec["metrics"]) + ["status", "error", "run_wall_s"]
    path = os.path.join(out, "results.csv")
    with open(path + ".partial", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(path + ".partial", path)
    return rows, params


# ---- Plots -----------------------------------------------------------------------------------

def pareto(points):
    """Indices of the points not dominated in (lower energy, higher accuracy)."""
    front = []
    for i, (e, a) in enumerate(points):
        if not any((e2 <= e and a2 >= a) and (e2 < e or a2 > a) for e2, a2 in points):
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def plot(spec, out, rows, params):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("sweep: no plots (matplotlib is not installed: apt-get install python3-matplotlib)", file=sys.stderr)
        return []
    ok = [r for r in rows if r["status"] == "ok"]
    os.makedirs(os.path.join(out, "plots"), exist_ok=True)
    for old in os.listdir(os.path.join(out, "plots")):
        if old.endswith(".png"):
            os.remove(os.path.join(out, "plots", old))
    written = []

    def label(v):
        return str(v)

    for metric in spec["metrics"]:
        for p in spec["_plot_params"]:
            others = [q for q in spec["_plot_params"] if q != p]
            fig, ax = plt.subplots(figsize=(6, 4))
            groups = {}
            for r in ok:
                groups.setdefault(tuple(label(r[q]) for q in others), []).append(r)
            for key, rs in sorted(groups.items()):
                xs = sorted({label(r[p]) for r in rs}, key=lambda s: (try_float(s) is None, try_float(s), s))
                ys = []
                for x in xs:
                    vals = [float(r[metric]) for r in rs if label(r[p]) == x and r[metric] != ""]
                    ys.append(sum(vals) / len(vals) if vals else float("nan"))
                name = ", ".join(f"{q}={k}" for q, k in zip(others, key)) or None
                ax.plot(range(len(xs)), ys, marker="o", label=name)
                ax.set_xticks(range(len(xs)))
                ax.set_xticklabels(xs)
            ax.set_xlabel(p)
            ax.set_ylabel(metric)
            ax.set_title(f"{spec['name']}: {metric} against {p}" + (" (mean over seeds)" if len(spec["seeds"]) > 1 else ""))
            if others and len(groups) <= 10:
                ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
            fig.tight_layout()
            path = os.path.join(out, "plots", f"{safe(metric)}-vs-{safe(p)}.png")
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    energy = next((m for m in spec["metrics"] if m.startswith("energy")), None)
    accuracy = next((m for m in spec["metrics"] if m.startswith("accuracy") or m.startswith("top1")), None)
    pairs = [(energy, accuracy, "lower energy, higher accuracy")] if energy and accuracy else []
    latency = next((m for m in spec["metrics"] if m.startswith("latency")), None)
    area = next((m for m in spec["metrics"] if m.startswith("area")), None)
    if latency and area:
        pairs.append((area, latency, "lower area, lower latency"))
    for x_metric, y_metric, what in pairs:
        pts = [(float(r[x_metric]), float(r[y_metric]), r) for r in ok if r[x_metric] != "" and r[y_metric] != ""]
        if not pts:
            continue
        sign = -1 if y_metric == latency else 1  # the front maximises accuracy, minimises latency
        front = pareto([(e, sign * a) for e, a, _ in pts])
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter([e for e, _, _ in pts], [a for _, a, _ in pts], s=14, color="0.6", label="points")
        ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], marker="o", color="C3", label="Pareto front")
        for i in front:
            ax.annotate(", ".join(f"{label(pts[i][2][q])}" for q in params), (pts[i][0], pts[i][1]), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(x_metric)
        ax.set_ylabel(y_metric)
        ax.set_title(f"{spec['name']}: Pareto front ({what})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(out, "plots", f"pareto-{safe(y_metric)}-vs-{safe(x_metric)}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def try_float(s):
    try:
        return float(s)
    except ValueError:
        return None


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


# ---- Backends ---------------------------------------------------------------------------------

def run_local(spec, out, aimcsim, todo, jobs):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    futures = {pool.submit(run_point, spec, out, aimcsim, i, p, s): i for i, p, s in todo}
    failed = 0
    try:
        for n, f in enumerate(concurrent.futures.as_completed(futures), 1):
            status = f.result()
            failed += status == "failed"
            print(f"sweep: {n}/{len(todo)} point {futures[f]} {status}", flush=True)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return failed


def run_slurm(spec, spec_path, out, todo, args):
    d = os.path.join(out, "slurm")
    os.makedirs(d, exist_ok=True)
    indices = ",".join(str(i) for i, _, _ in todo)
    options = [f"--job-name=aimcsim-{spec['name']}", f"--array={indices}",
               f"--output={os.path.join(d, '%A_%a.out')}", "--cpus-per-task=1"]
    if args.partition:
        options.append(f"--partition={args.partition}")
    if args.account:
        options.append(f"--account={args.account}")
    if args.time:
        options.append(f"--time={args.time}")
    options += args.slurm_option
    script = ["#!/bin/bash"] + [f"#SBATCH {o}" for o in options] + [
        "# One task per point of the sweep; written by scripts/sweep.py.",
        "set -euo pipefail",
        " ".join(shlex.quote(c) for c in [sys.executable, os.path.abspath(__file__), os.path.abspath(spec_path),
                                             "--out", os.path.abspath(out), "--aimcsim", os.path.abspath(args.aimcsim),
                                             "--run-point"]) + ' "$SLURM_ARRAY_TASK_ID"',
    ]
    path = os.path.join(d, "array.sh")
    write_atomic(path, "\n".join(script) + "\n")
    print(f"sweep: submitting {len(todo)} tasks: sbatch --wait {path}", flush=True)
    p = subprocess.run(["sbatch", "--wait", "--parsable", path], capture_output=True, text=True)
    if p.returncode != 0 and not p.stdout.strip():
        raise SpecError(f"sbatch failed (exit {p.returncode}): {p.stderr.strip()}")
    print(f"sweep: job array {p.stdout.strip()} finished", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", help="sweep spec (YAML), see docs/sweeps.md")
    ap.add_argument("--out", required=True, help="output folder: points/, results.csv, plots/")
    ap.add_argument("--backend", choices=["local", "slurm"], default="local")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="local: parallel runs (default: cores)")
    ap.add_argument("--aimcsim", default=os.path.join(ROOT, "build", "aimcsim"))
    ap.add_argument("--partition", help="slurm: partition (sbatch --partition)")
    ap.add_argument("--account", help="slurm: account to charge (sbatch --account)")
    ap.add_argument("--time", help="slurm: time limit per task, e.g. 00:10:00 (sbatch --time)")
    ap.add_argument("--slurm-option", action="append", default=[], help="slurm: any further sbatch option, repeatable")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--run-point", type=int, help=argparse.SUPPRESS)  # one task of a Slurm array
    args = ap.parse_args()
    try:
        spec = load_spec(args.spec)
        if not os.access(args.aimcsim, os.X_OK):
            raise SpecError(f"{args.aimcsim}: no aimcsim binary there (build it: bash scripts/setup.sh)")
        if args.jobs < 1:
            raise SpecError("--jobs: expected at least 1")
        jobs = point_jobs(spec)
        if args.run_point is not None:
            if not 0 <= args.run_point < len(jobs):
                raise SpecError(f"--run-point {args.run_point}: the sweep has points 0..{len(jobs) - 1}")
            i, p, s = jobs[args.run_point]
            print(f"point {i}: {run_point(spec, args.out, args.aimcsim, i, p, s)}")
            return 0
        os.makedirs(args.out, exist_ok=True)
        todo = [(i, p, s) for i, p, s in jobs if not is_done(point_files(spec, args.out, i, p, s)[0],
                                                                point_files(spec, args.out, i, p, s)[3])]
        print(f"sweep '{spec['name']}': {len(jobs)} points, {len(jobs) - len(todo)} done, {len(todo)} to run "
              f"({args.backend})", flush=True)
        if todo:
            if args.backend == "local":
                run_local(spec, args.out, args.aimcsim, todo, args.jobs)
            else:
                run_slurm(spec, args.spec, args.out, todo, args)
        rows, params = collect(spec, args.out)
        counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "failed", "missing")}
        print(f"sweep: {counts['ok']} ok, {counts['failed']} failed, {counts['missing']} missing: "
              f"{os.path.join(args.out, 'results.csv')}")
        for r in rows:
            if r["status"] == "failed":
                print(f"  point {r['point']}: {r['error']}")
        if not args.no_plots:
            for path in plot(spec, args.out, rows, params):
                print(f"  plot {path}")
        return 0 if counts["missing"] == 0 else 1
    except SpecError as e:
        print(f"sweep: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nsweep: interrupted; finished points are kept, rerun to complete the others", file=sys.stderr)
        return 130


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupted)  # scancel and kill end a sweep like Ctrl-C
    sys.exit(main())
