#!/usr/bin/env python3
"""Mutation fuzzer of the sweep spec loader (scripts/sweep.py load_spec), in plain Python.

load_spec reports a bad spec as SpecError; any other exception it lets escape is a finding, as is
an input that takes longer than --timeout seconds. Inputs come from the seed specs
(fuzz/corpus/sweep_spec, which holds examples/sweeps/*.yaml) by byte mutations, token mutations
(YAML keys, values and syntax fragments from a dictionary), splicing of lines between specs, and
structural mutations (a seed parsed, one value replaced by a value of another type, dumped again).
An input whose outcome (exception type and message shape) was not seen before joins the pool of
inputs to mutate, a cheap stand-in for coverage feedback.

Each input is written as examples/sweeps/spec.yaml in a scratch folder whose configs/ and workloads/ link to
the repository's, so that the seeds' "../../configs/hermes.yaml" resolves as in examples/sweeps/.

    /usr/bin/python3 fuzz/fuzz_sweep_spec.py --seconds 60 [--seed 1] [--findings DIR]

Prints executions per second and the distinct exception types seen; exits 1 after the first
finding (its input saved in --findings), 0 otherwise.
"""
import argparse
import collections
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import sweep  # noqa: E402
import yaml  # noqa: E402

KEYS = ["name", "description", "chip", "workload", "run", "seeds", "space", "points", "metrics",
        "mode", "samples", "t_inference", "compensation", "core.adc.bits", "run.t_inference",
        "run.samples", "run.mode", "traffic.rate", "chip.grid_cols", "interconnect.kind", "accuracy"]
FRAGMENTS = [
    ": ", "\n", "\n  ", "\n  - ", "- ", "[", "]", "{", "}", ", ", "'", '"', "#", "&a ", "*a", "<<: *a",
    "? ", "---\n", "...\n", "!!str ", "!!int ", "!!float ", "!!binary ", "!!python/object:os.system ",
    "!!set ", "!!omap ", "~", "null", "true", "false", "yes", "0", "-1", "1e999", ".nan", ".inf",
    "0x1f", "0o7", "2**64", "18446744073709551616", "[]", "{}", "[1, 2]", "{a: 1}", "|\n  x\n", ">\n  x\n",
    "\t", "\r", "\x00", "\xff", "\u2028", "\ufeff", "../../configs/tiny.yaml", "../../workloads/tiny-mlp",
    "/dev/null", "/", ".", "..", "accuracy.top1", "[" * 64, "]" * 64, "- " * 32,
]
VALUES = [None, True, False, 0, -1, 1, 2**70, 1.5, float("inf"), float("nan"), "", "x", "a.b.c",
          "..", "/", [], [None], [1, "a"], [[1]], {}, {"a": 1}, {1: 2}, {"a": [1, 2]}, {"b": {}}]


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def signature(e):
    """An outcome's shape: its type and the start of its message with names and numbers blanked."""
    if e is None:
        return ("accepted",)
    msg = str(e).split(": ", 1)[-1]
    msg = re.sub(r"'[^']*'|\"[^\"]*\"|\d+|/\S*", "_", msg)[:50]
    return (type(e).__name__, msg)


class Fuzzer:
    def __init__(self, seeds, rng, timeout):
        self.rng = rng
        self.timeout = timeout
        self.seeds = seeds
        self.pool = list(seeds)
        self.outcomes = collections.Counter()
        self.types = collections.Counter()
        self.dir = tempfile.mkdtemp(prefix="aimc-fuzz-sweep-")
        os.makedirs(os.path.join(self.dir, "examples", "sweeps"))
        for d in ("configs", "workloads"):
            os.symlink(os.path.join(ROOT, d), os.path.join(self.dir, d))
        self.path = os.path.join(self.dir, "examples", "sweeps", "spec.yaml")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- mutations (bytes in, bytes out) ----

    def mutate(self, data):
        r = self.rng
        for _ in range(r.choice((1, 1, 1, 2, 3, 5))):
            data = r.choice((self.byte_op, self.byte_op, self.token_op, self.token_op, self.line_op,
                             self.structural_op))(data)
        return data[:8192]

    def byte_op(self, d):
        r = self.rng
        i = r.randrange(len(d) + 1)
        op = r.randrange(5)
        if op == 0 and d:  # flip a bit
            i = min(i, len(d) - 1)
            return d[:i] + bytes([d[i] ^ (1 << r.randrange(8))]) + d[i + 1:]
        if op == 1:  # insert a random byte
            return d[:i] + bytes([r.randrange(256)]) + d[i:]
        if op == 2 and d:  # delete a range
            j = min(len(d), i + r.randint(1, 16))
            return d[:i] + d[j:]
        if op == 3 and d:  # duplicate a range
            j = min(len(d), i + r.randint(1, 32))
            return d[:j] + d[i:j] + d[j:]
        return d[:i] + bytes([r.choice(b"[]{}:,-'\"#&*!?|> \n\t0123456789.")]) + d[i:]

    def token_op(self, d):
        r = self.rng
        tokens = re.findall(rb"[A-Za-z0-9_.\-/]+|\s+|.", d, re.S)
        new = (r.choice(FRAGMENTS) if r.random() < 0.6 else r.choice(KEYS) + r.choice((": ", ".", ""))).encode(
            "utf-8", "surrogatepass")
        if not tokens:
            return new
        i = r.randrange(len(tokens))
        op = r.randrange(3)
        if op == 0:
            tokens[i] = new
        elif op == 1:
            tokens.insert(i, new)
        else:
            j = r.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        return b"".join(tokens)

    def line_op(self, d):
        r = self.rng
        lines = d.split(b"\n")
        other = r.choice(self.pool).split(b"\n")
        op = r.randrange(3)
        if op == 0:
            lines.insert(r.randrange(len(lines) + 1), r.choice(other))
        elif op == 1 and len(lines) > 1:
            del lines[r.randrange(len(lines))]
        else:
            i = r.randrange(len(lines))
            lines[i] = r.choice(other)
        return b"\n".join(lines)

    def structural_op(self, d):
        r = self.rng
        try:
            doc = yaml.safe_load(d)
        except Exception:
            return d
        if not isinstance(doc, (dict, list)):
            return d

        def containers(x, out):
            if isinstance(x, (dict, list)):
                out.append(x)
                for v in (x.values() if isinstance(x, dict) else x):
                    containers(v, out)
            return out

        c = r.choice(containers(doc, []))
        value = r.choice(VALUES) if r.random() < 0.8 else r.choice(KEYS)
        if isinstance(c, dict):
            op = r.randrange(4) if c else 2
            if op == 0:  # another value
                c[r.choice(list(c))] = value
            elif op == 1:  # a key less
                del c[r.choice(list(c))]
            elif op == 2:  # a key more
                c[r.choice(KEYS) if r.random() < 0.7 else r.choice((1, None, True, 2.5, "", "."))] = value
            else:  # a key renamed (to a name or to another type)
                k = r.choice(list(c))
                c[r.choice(KEYS) if r.random() < 0.5 else r.choice((1, None, True, 2.5, "", ".", f"{k}."))] = c.pop(k)
        else:
            if c and r.random() < 0.6:
                c[r.randrange(len(c))] = value
            else:
                c.insert(r.randrange(len(c) + 1), value)
        try:
            return yaml.safe_dump(doc, default_flow_style=r.random() < 0.3, allow_unicode=True).encode()
        except Exception:
            return d

    # ---- one execution ----

    def execute(self, data):
        """None (accepted), a SpecError, or the finding's exception."""
        with open(self.path, "wb") as f:
            f.write(data)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            sweep.load_spec(self.path)
            return None
        except Exception as e:  # SpecError, a finding, or Timeout
            return e
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="how long to fuzz (default 60)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "fuzz", "corpus", "sweep_spec"), help="seed specs")
    ap.add_argument("--findings", default=None, help="folder for the input of a finding (default: the current one)")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds one input may take (default 2)")
    ap.add_argument("--keep-going", action="store_true", help="count findings and go on instead of stopping at the first")
    ap.add_argument("inputs", nargs="*", help="run these files once each instead of fuzzing (to reproduce a finding)")
    args = ap.parse_args()

    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, on_alarm)
    # A runaway allocation becomes a MemoryError (a finding) instead of the OOM killer.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))

    names = args.inputs or sorted(os.path.join(args.corpus, n) for n in os.listdir(args.corpus))
    seeds = [open(n, "rb").read() for n in names]
    fz = Fuzzer(seeds, rng, args.timeout)
    findings = 0
    execs = 0
    start = time.monotonic()
    try:
        queue = list(seeds)  # the seeds first, unmutated
        while True:
            if args.inputs and not queue:
                break
            if not args.inputs and time.monotonic() - start >= args.seconds:
                break
            data = queue.pop(0) if queue else fz.mutate(rng.choice(fz.pool))
            e = fz.execute(data)
            execs += 1
            sig = signature(e)
            if sig not in fz.outcomes and not args.inputs:
                fz.pool.append(data)
            fz.outcomes[sig] += 1
            if e is not None:
                fz.types[type(e).__name__] += 1
            if e is not None and not isinstance(e, sweep.SpecError):
                findings += 1
                kind = "slow input (over %g s)" % args.timeout if isinstance(e, Timeout) else type(e).__name__
                if args.inputs:
                    print(f"finding: {kind}: {e!r} ({names[execs - 1]})")
                else:
                    out = os.path.join(args.findings or ".", f"sweep-spec-{type(e).__name__}-{seed}-{execs}.yaml")
                    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
                    with open(out, "wb") as f:
                        f.write(data)
                    print(f"finding: {kind}: {e!r} (input saved in {out})")
                traceback.print_exception(type(e), e, e.__traceback__, limit=-4, file=sys.stdout)
                if not args.keep_going and not args.inputs:
                    break
    finally:
        fz.close()
    elapsed = max(time.monotonic() - start, 1e-9)
    print(f"seed {seed}: {execs} executions in {elapsed:.1f} s, exec/s: {execs / elapsed:.0f}, "
          f"pool {len(fz.pool)}, outcomes {len(fz.outcomes)}")
    print(f"exception types: {len(fz.types)} ("
          + ", ".join(f"{t} {n}" for t, n in fz.types.most_common()) + ")")
    print(f"findings: {findings}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
