#!/usr/bin/env python3
"""The regression suite of chip designs (docs/regression.md).

    regress.py run NAME        run one case and diff it against its golden (what ctest does)
    regress.py update [NAME..] regenerate goldens (all, or the named ones) and print what changed
    regress.py stable [NAME..] rerun every case (or the named ones) with --threads 1 and
                               --threads 2 and check that the reports equal the goldens byte for
                               byte (the commit aside)
    regress.py sensitivity     change hermes' crossbar energy per MAC by 1 % in a copy of configs/
                               and check that exactly the cases using it fail, naming the energy keys

Options: --aimcsim PATH (default build/aimcsim), --configs DIR (run the cases against another
copy of configs/), --other-compiler (see below).

The goldens are recorded with the default build (GCC). A build with another compiler (clang: the
sanitizer build) draws the same noise to within the last bits only: under GCC the vectorized
Box-Muller loop calls glibc's vector math library, under clang the scalar one, so quantities that
average noise (the drift compensation factors, the probe's error) differ by about 1e-9
relative. --other-compiler (CMake passes it to such builds) compares against the goldens with an
rtol of at least OTHER_COMPILER_RTOL, and makes `stable` compare the runs at 1 and 2 threads with
each other, byte for byte, instead of with the goldens.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDENS = os.path.join(HERE, "goldens")
OTHER_COMPILER_RTOL = 1e-6  # 1000 times the differences seen; a 1 % change still fails


def load_cases(rtol_floor=0.0):
    with open(os.path.join(HERE, "cases.yaml")) as f:
        spec = yaml.safe_load(f)
    cases = {}
    for c in spec["cases"]:
        c.setdefault("rtol", spec.get("rtol", 0))
        c["rtol"] = max(float(c["rtol"]), rtol_floor)
        c.setdefault("atol", spec.get("atol", 0))
        c["ignore"] = spec.get("ignore", [])
        cases[c["name"]] = c
    return cases


def run_case(case, aimcsim, out, configs=None, threads=None):
    """Runs the case into `out`; returns (exit code, output)."""
    args = shlex.split(case["args"])
    if threads and args[0] == "run":
        args += ["--threads", str(threads)]
    if configs:
        args = [a.replace("configs/", configs.rstrip("/") + "/", 1) if a.startswith("configs/") else a for a in args]
    p = subprocess.run([aimcsim] + args + ["--out", out] + (["-q"] if args[0] == "run" else []),
                       cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def normalize(path):
    """Drops the wall-clock fields and the memory estimate (which counts buffers per thread), so
    that a golden is byte-stable across runs and thread counts."""
    with open(path) as f:
        report = json.load(f)
    report.get("sim", {}).pop("wall_s", None)
    report.get("sim", {}).pop("memory_estimate_bytes", None)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


def diff(case, aimcsim, golden, new):
    cmd = [aimcsim, "diff", golden, new, "--rtol", str(case["rtol"]), "--atol", str(case["atol"])]
    if case["ignore"]:
        cmd += ["--ignore"] + case["ignore"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def cmd_run(name, aimcsim, configs=None, quiet=False, rtol_floor=0.0):
    cases = load_cases(rtol_floor)
    if name not in cases:
        print(f"regress: no case '{name}' in cases.yaml")
        return 2
    case = cases[name]
    golden = os.path.join(GOLDENS, name + ".json")
    if not os.path.exists(golden):
        print(f"regress: {golden} is missing: run scripts/update-goldens {name}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        new = os.path.join(tmp, name + ".json")
        code, output = run_case(case, aimcsim, new, configs)
        if code != 0:
            print(f"regress: {name}: aimcsim failed (exit {code}):\n{output}")
            return 1
        normalize(new)
        code, table = diff(case, aimcsim, golden, new)
        if code != 0 or not quiet:
            print(f"{name}: {case['args']}\n{table}", end="")
        if code != 0:
            print(f"regress: {name} differs from its golden; if the change is intended: scripts/update-goldens {name}")
        return 0 if code == 0 else 1


def cmd_update(names, aimcsim):
    cases = load_cases()
    unknown = [n for n in names if n not in cases]
    if unknown:
        print(f"regress: unknown case(s): {', '.join(unknown)}")
        return 2
    os.makedirs(GOLDENS, exist_ok=True)
    changed = 0
    for name in names or list(cases):
        case = cases[name]
        golden = os.path.join(GOLDENS, name + ".json")
        tmp = golden + ".new"
        code, output = run_case(case, aimcsim, tmp)
        if code != 0:
            print(f"{name}: aimcsim failed (exit {code}), golden kept:\n{output}")
            if os.path.exists(tmp):
                os.remove(tmp)
            return 1
        normalize(tmp)
        if os.path.exists(golden):
            code, table = diff(case, aimcsim, golden, tmp)
            if code == 0:
                print(f"{name}: unchanged")
            else:
                changed += 1
                print(f"{name}: CHANGED\n{table}", end="")
        else:
            changed += 1
            print(f"{name}: new golden")
        os.replace(tmp, golden)
    print(f"update-goldens: {changed} golden(s) changed; review with git diff tests/regression/goldens")
    return 0


def cmd_stable(names, aimcsim, against_goldens=True):
    """Every case (or those named) at --threads 1 and 2: byte for byte the golden (the commit
    aside), or, when not against_goldens, the two runs byte for byte each other."""
    cases = load_cases()
    unknown = [n for n in names if n not in cases]
    if unknown:
        print(f"regress: no case {', '.join(unknown)} in cases.yaml")
        return 2
    bad = 0
    for name, case in cases.items():
        if names and name not in names:
            continue
        golden = os.path.join(GOLDENS, name + ".json")
        with open(golden) as f:
            expected = json.load(f)
        texts = []
        for threads in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                new = os.path.join(tmp, "r.json")
                code, output = run_case(case, aimcsim, new, threads=threads)
                if code != 0:
                    print(f"{name}: aimcsim failed:\n{output}")
                    return 1
                normalize(new)
                with open(new) as f:
                    report = json.load(f)
                report["tool"]["git_commit"] = expected["tool"]["git_commit"]
                texts.append(json.dumps(report, indent=2) + "\n")
            if against_goldens:
                with open(golden) as f:
                    same = f.read() == texts[-1]
                print(f"{name}, --threads {threads}: {'identical' if same else 'DIFFERS'}")
                bad += not same
        if not against_goldens:
            same = texts[0] == texts[1]
            print(f"{name}, --threads 1 and 2: {'identical' if same else 'DIFFER'}")
            bad += not same
    return 1 if bad else 0


def cmd_sensitivity(aimcsim, rtol_floor=0.0):
    cases = load_cases(rtol_floor)
    with tempfile.TemporaryDirectory() as tmp:
        configs = os.path.join(tmp, "configs")
        shutil.copytree(os.path.join(ROOT, "configs"), configs)
        path = os.path.join(configs, "hermes.yaml")
        with open(path) as f:
            text = f.read()
        new_text, n = re.subn(r'energy_per_mac: "0\.04 pJ"', 'energy_per_mac: "0.0404 pJ"', text)
        if n != 1:
            print("regress: hermes.yaml has no energy_per_mac: \"0.04 pJ\" to change")
            return 1
        with open(path, "w") as f:
            f.write(new_text)
        failed = []
        for name, case in cases.items():
            with tempfile.TemporaryDirectory() as t2:
                new = os.path.join(t2, "r.json")
                code, output = run_case(case, aimcsim, new, configs)
                if code != 0:
                    print(f"{name}: aimcsim failed:\n{output}")
                    return 1
                normalize(new)
                code, table = diff(case, aimcsim, os.path.join(GOLDENS, name + ".json"), new)
                if code != 0:
                    failed.append(name)
                    print(f"{name}: fails\n{table}", end="")
                    if "energy.breakdown_pj.crossbar" not in table or "+1%" not in table:
                        print(f"regress: {name}: the table does not name the crossbar energy and its +1% change")
                        return 1
                else:
                    print(f"{name}: passes")
        # The cases whose runs read PCM crossbars in a timed run: every MVM's energy changes.
        expected = sorted(n for n, c in cases.items()
                          if c["args"].startswith("run") and "--mode functional" not in c["args"]
                          and "synthetic/" not in c["args"].replace("synthetic/peak", ""))
        if sorted(failed) != expected:
            print(f"regress: expected exactly {expected} to fail, got {sorted(failed)}")
            return 1
        print(f"sensitivity: exactly the {len(failed)} affected cases fail")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["run", "update", "stable", "sensitivity"])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--aimcsim", default=os.path.join(ROOT, "build", "aimcsim"))
    ap.add_argument("--configs", help="run against this copy of configs/")
    ap.add_argument("--other-compiler", action="store_true",
                    help="aimcsim was built with another compiler than the goldens (see above)")
    a = ap.parse_args()
    floor = OTHER_COMPILER_RTOL if a.other_compiler else 0.0
    if a.command == "run":
        if len(a.names) != 1:
            ap.error("run takes one case name")
        return cmd_run(a.names[0], a.aimcsim, a.configs, rtol_floor=floor)
    if a.command == "update":
        if a.other_compiler:
            ap.error("goldens are recorded with the default (GCC) build only")
        return cmd_update(a.names, a.aimcsim)
    if a.command == "stable":
        return cmd_stable(a.names, a.aimcsim, against_goldens=not a.other_compiler)
    return cmd_sensitivity(a.aimcsim, rtol_floor=floor)


if __name__ == "__main__":
    sys.exit(main())
