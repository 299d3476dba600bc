#!/usr/bin/env python3
"""ctest: scripts/sweep.py with the local backend on the tiny chip: expansion, CSV against the
reports, failures recorded, resuming after deleted or interrupted points, spec errors."""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = [sys.executable, os.path.join(ROOT, "scripts", "sweep.py")]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what)


def sweep(spec_text, out, *extra, tmp):
    spec = os.path.join(tmp, "spec.yaml")
    with open(spec, "w") as f:
        f.write(spec_text)
    return subprocess.run(SWEEP + [spec, "--out", out, "--aimcsim", AIMCSIM, "--jobs", "2"] + list(extra),
                          capture_output=True, text=True, cwd=ROOT)


def rows(out):
    with open(os.path.join(out, "results.csv")) as f:
        return list(csv.DictReader(f))


SPEC = f"""name: t
chip: {ROOT}/configs/tiny.yaml
workload: {ROOT}/workloads/tiny-mlp
run:
  samples: 16
seeds: [1, 2]
space:
  - core.adc.bits: [4, 8, 99]
  - run.t_inference: [1h, 1y]
metrics:
  accuracy: accuracy.top1
  energy_pj: energy.per_sample_pj
  first: cores[0].mvms
"""

if __name__ == "__main__":
    AIMCSIM = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        r = sweep(SPEC, out, "--no-plots", tmp=tmp)
        print(r.stdout, r.stderr)
        check(r.returncode == 0, "the sweep ends with 0 when every point ran (some failed)")
        check("12 points, 0 done, 12 to run" in r.stdout, "3 x 2 points x 2 seeds = 12 runs")
        rs = rows(out)
        check(len(rs) == 12, "one row per point and seed")
        check(list(rs[0].keys()) == ["point", "seed", "core.adc.bits", "run.t_inference", "accuracy", "energy_pj",
                                     "first", "status", "error", "run_wall_s"], "CSV columns")
        ok = [x for x in rs if x["status"] == "ok"]
        bad = [x for x in rs if x["status"] == "failed"]
        check(len(ok) == 8 and len(bad) == 4, "8 points ok, the 4 with 99 ADC bits failed")
        check(all("core.adc.bits" in x["error"] and "99" in x["error"] for x in bad),
              "a failed point records the config error naming the key: " + (bad[0]["error"] if bad else ""))
        for x in ok:
            with open(os.path.join(out, "points", "%04d" % int(x["point"]), "report.json")) as f:
                rep = json.load(f)
            check(float(x["accuracy"]) == rep["accuracy"]["top1"] and rep["seed"] == int(x["seed"]),
                  f"point {x['point']}: the CSV holds the report's values")
            check(int(x["first"]) == 16, "list indices in metric keys (cores[0].mvms: one MVM per sample)")
        with open(os.path.join(out, "points", "0000", "config.yaml")) as f:
            cfg = f.read()
        check("base: " + ROOT + "/configs/tiny.yaml" in cfg and "bits: 4" in cfg, "the point's resolved config")
        before = open(os.path.join(out, "results.csv")).read()

        # Rerun: nothing to do; delete two points: only they run again, same CSV apart from times.
        r = sweep(SPEC, out, "--no-plots", tmp=tmp)
        check("12 done, 0 to run" in r.stdout, "a finished sweep runs nothing again")
        os.remove(os.path.join(out, "points", "0001", "report.json"))
        os.remove(os.path.join(out, "points", "0006", "status.json"))
        r = sweep(SPEC, out, "--no-plots", tmp=tmp)
        check("10 done, 2 to run" in r.stdout, "only the two damaged points run again: " + r.stdout)

        def strip(text):
            return [l.rsplit(",", 1)[0] for l in text.splitlines()]
        check(strip(before) == strip(open(os.path.join(out, "results.csv")).read()),
              "the resumed CSV equals the first apart from run_wall_s")

        # A changed spec (another sample count) changes every hash: all points run again.
        r = sweep(SPEC.replace("samples: 16", "samples: 8"), out, "--no-plots", tmp=tmp)
        check("0 done, 12 to run" in r.stdout, "a changed configuration reruns its points")

        # Ctrl-C in the middle: no half-written file; the rerun completes only the missing points.
        out2 = os.path.join(tmp, "out2")
        slow = SPEC.replace("samples: 16", "samples: 3000")
        spec = os.path.join(tmp, "slow.yaml")
        with open(spec, "w") as f:
            f.write(slow)
        p = subprocess.Popen(SWEEP + [spec, "--out", out2, "--aimcsim", AIMCSIM, "--jobs", "1", "--no-plots"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.time() + 120
        while time.time() < deadline and not any(
                os.path.exists(os.path.join(out2, "points", "%04d" % i, "status.json")) for i in range(12)):
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        check(p.returncode == 130, f"an interrupted sweep exits with 130 (got {p.returncode})")
        check("interrupted" in err, "it says it was interrupted")
        partial = [os.path.join(dp, f) for dp, _, fs in os.walk(out2) for f in fs if f.endswith(".partial")]
        check(not partial, f"no half-written files: {partial}")
        done = sum(os.path.exists(os.path.join(out2, "points", "%04d" % i, "status.json")) for i in range(12))
        check(0 < done < 12, f"some points finished before the interrupt ({done})")
        r = subprocess.run(SWEEP + [spec, "--out", out2, "--aimcsim", AIMCSIM, "--jobs", "2", "--no-plots"],
                           capture_output=True, text=True, cwd=ROOT)
        check(f"{done} done, {12 - done} to run" in r.stdout, "the rerun runs only the missing points: " + r.stdout)
        check(len(rows(out2)) == 12 and all(x["status"] in ("ok", "failed") for x in rows(out2)), "complete after the rerun")

        # Spec errors: exit 1 with the file and the key.
        for text, message in [
            ("name: t\n", "missing required key 'chip'"),
            (SPEC.replace("  - run.t_inference: [1h, 1y]", "    run.t_inference: [1h, 1y]"),
             "space[0]: zipped parameters need lists of one length, got core.adc.bits: 3, run.t_inference: 2"),
            (SPEC.replace("samples: 16", "sample: 16"), "run.sample: unknown run option"),
            (SPEC.replace("configs/tiny.yaml", "configs/nope.yaml"), "chip: " + ROOT + "/configs/nope.yaml does not exist"),
            (SPEC.replace("seeds: [1, 2]", "seeds: [one]"), "seeds: expected a non-negative integer or a list of them"),
        ]:
            r = sweep(text, os.path.join(tmp, "bad"), tmp=tmp)
            check(r.returncode == 1 and "spec.yaml: " + message in r.stderr, f"spec error '{message}': {r.stderr}")
        # Found by fuzz/fuzz_sweep_spec.py: exceptions other than SpecError escaped load_spec.
        for data, message in [
            (b"name: t\n\xff\n", "not UTF-8 text (byte 0xff at offset 8)"),  # UnicodeDecodeError
            (SPEC.replace("[1h, 1y]", "[1h, !!int 0.4]").encode(), "not valid YAML: ValueError"),
            (b"chip: !!float\n", "not valid YAML: IndexError"),
            (SPEC.split("space:")[0].encode() + b"points: .nan\nmetrics: {a: b}\n",
             "points: expected a list of points"),  # TypeError
            (SPEC.replace("  - core.adc.bits: [4, 8, 99]", "  - 1: [4, 8, 99]").encode(),
             "1: a parameter must be named by its key path"),  # AttributeError
        ]:
            spec = os.path.join(tmp, "spec.yaml")
            with open(spec, "wb") as f:
                f.write(data)
            r = subprocess.run(SWEEP + [spec, "--out", os.path.join(tmp, "bad"), "--aimcsim", AIMCSIM],
                               capture_output=True, text=True, cwd=ROOT)
            check(r.returncode == 1 and "spec.yaml: " + message in r.stderr and "Traceback" not in r.stderr,
                  f"spec error '{message}': {r.stderr}")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all sweep checks passed")
