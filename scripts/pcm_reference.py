#!/usr/bin/env python3
"""Independent numpy reference of the PCM inference noise model of IBM AIHWKit (v1.1.0).

This is a from-scratch re-implementation written from a reading of the AIHWKit sources
(inference/noise/pcm.py, inference/noise/hermes.py, inference/converter/conductance.py,
inference/compensation/drift.py, simulator/tiles/inference.py and the C++ forward pass). No
AIHWKit code is used or needed; it serves as the comparison reference for aimcsim's PCM model.

What one "draw" computes, for a tile that holds the weight matrix W (tile units):

  1. programming   W is mapped to a differential pair of conductances (scale s0 = g_max /
                   max|W|, the positive part on G+, the negative part on G-, the other device at
                   g_min = 0).  Each device gets Gaussian programming noise whose sigma is a
                   polynomial of g/g_max, clipped at 0 µS.  Drift exponents nu are drawn per
                   device from its *target* conductance.  W_prog = (G+ - G-) / s0.
  2. baseline      with drift compensation on: ref = max(mean|F(W_prog, I)|, 1e-4), where
                   F(W, I) is the tile's (noisy) forward pass applied to the one-hot read-out
                   vectors (identity matrix, one per input).
  3. drift         W_prog is mapped to conductances *again* (scale s1 = g_max / max|W_prog|, the
                   net weight on one device, the other at 0); each device drifts as
                   g (t/t0)^-nu with t = t_inference + t0 (no drift when t_inference = 0) and
                   gets accumulated 1/f read noise, clipped at 0 µS; back to weights with s1.
                   Read noise is applied even for t_inference = 0 (t = t0 > 0).
  4. compensation  alpha = ref / max(mean|F(W_drift, I)|, 1e-4); effective weights
                   E = alpha * W_drift.  Without compensation E = W_drift.

  --program-only stops after step 1 (the tile state after program_analog_weights without any
  drift_analog_weights call): E = W_prog, alpha = 1.

Sub-commands (the sub-command may be omitted; "generate" is assumed):

  generate  --weights W.npy --out E.npy [--t-inference S] [--samples K] [--seed N]
            [--compensation | --no-compensation] [--readout default|ideal|standard-hwa]
            [--model pcm|hermes] ...        writes E with shape (K, *W.shape), float64
  stats     --weights W.npy --effective E.npy [--bins 21]
            per-bin mean and std of (E - W) in units of full scale w_max = max|W|

Weight layout: --layout in_out (default, aimcsim's convention y = x @ W, W shaped (inputs,
outputs)) or out_in (AIHWKit's tile convention, W shaped (outputs, inputs)).  The layout only
matters for the forward pass used by the drift-compensation read-out (which inputs are one-hot).

Only python3 and numpy are needed.
"""

import argparse
import math
import sys

import numpy as np

ZERO_CLIP = 1e-7  # floor on max|W| and on g/g_max, as in AIHWKit
READOUT_FLOOR = 1e-4  # floor on the mean |output| of the drift read-out


# --------------------------------------------------------------------------------------------
# Device models
# --------------------------------------------------------------------------------------------

class PCMModel:
    """PCMLikeNoiseModel with its default constructor arguments (or overrides)."""

    name = "pcm"

    def __init__(self, g_max=None, g_min=0.0, t_read=250e-9, t_0=20.0, prog_noise_scale=1.0,
                 read_noise_scale=1.0, drift_scale=1.0):
        self.g_max = 25.0 if g_max is None else float(g_max)
        self.g_min = float(g_min)
        self.t_read = float(t_read)
        self.t_0 = float(t_0)
        self.prog_noise_scale = float(prog_noise_scale)
        self.read_noise_scale = float(read_noise_scale)
        self.drift_scale = float(drift_scale)
        # polynomial in (g/g_max), fitted in µS for a 25 µS maximum
        self.prog_poly = (0.26348, 1.9650, -1.1731)
        self.prog_poly_gmax_ref = 25.0

    # sigma of the programming noise, µS
    def prog_sigma(self, g_target):
        x = g_target / self.g_max
        sig = np.zeros_like(g_target)
        for k, c in enumerate(self.prog_poly):
            sig = sig + c * x ** k
        return sig * (self.g_max / self.prog_poly_gmax_ref)

    def program(self, g_target, rng):
        noisy = g_target + self.prog_noise_scale * self.prog_sigma(g_target) * \
            rng.standard_normal(g_target.shape)
        return np.maximum(noisy, 0.0)

    def drift_exponents(self, g_target, rng):
        rel = np.maximum(np.abs(g_target / self.g_max), ZERO_CLIP)
        ln_rel = np.log(rel)
        mu = np.clip(0.0244 - 0.0155 * ln_rel, 0.049, 0.1)
        sd = np.clip(-0.0059 - 0.0125 * ln_rel, 0.008, 0.045)
        nu = np.abs(mu + sd * rng.standard_normal(rel.shape))
        return nu * self.drift_scale

    def read_noise_q(self, g_prog):
        rel = np.abs(g_prog) / self.g_max
        return np.minimum(0.0088 / np.maximum(rel ** 0.65, 1e-3), 0.2)

    def drift(self, g_prog, nu, t_inference, rng):
        t = t_inference + self.t_0
        if t > self.t_0:
            g_drift = g_prog * (t / self.t_0) ** (-nu)
        else:
            g_drift = g_prog
        if t > 0.0:
            q_s = self.read_noise_q(g_prog)
            sig = q_s * math.sqrt(math.log((t + self.t_read) / (2.0 * self.t_read)))
            out = g_drift + np.abs(g_drift) * self.read_noise_scale * sig * \
                rng.standard_normal(g_prog.shape)
        else:
            out = g_prog
        return np.maximum(out, 0.0)


class HermesModel(PCMModel):
    """HermesNoiseModel (fits on the HERMES chip's PCM), 1 or 2 devices."""

    name = "hermes"

    def __init__(self, num_devices=2, g_max=None, g_min=0.0, t_read=512e-9, t_0=None,
                 prog_noise_scale=1.0, read_noise_scale=1.0, drift_scale=1.0):
        if num_devices not in (1, 2):
            raise ValueError("hermes: num_devices must be 1 or 2")
        cap = 20.7 if num_devices == 2 else 10.35
        if g_max is not None and g_max > cap:
            raise ValueError("hermes: g_max must be <= %g µS for %d device(s)" % (cap, num_devices))
        if t_0 is None:
            t_0 = 300.0 if num_devices == 2 else 200.0
        super().__init__(g_max=cap if g_max is None else g_max, g_min=g_min, t_read=t_read,
                         t_0=t_0, prog_noise_scale=prog_noise_scale,
                         read_noise_scale=read_noise_scale, drift_scale=drift_scale)
        self.num_devices = num_devices
        if num_devices == 2:
            self.prog_poly = (0.16603222, 4.71806468, -8.48101252, 4.68961419)
        else:
            self.prog_poly = (0.15781817, 2.32443916, -2.16310839, 0.68841818)
        self.prog_poly_gmax_ref = cap

    def drift_exponents(self, g_target, rng):
        r = np.maximum(np.abs(g_target / self.g_max), ZERO_CLIP)
        ln_r = np.log(r)
        mu = np.where(r < 0.0945,
                      np.clip(-0.0387 * ln_r - 0.0182, 0.0720, 0.13),
                      -0.0436 * r ** 2 - 0.0126 * r + 0.0736)
        if self.num_devices == 1:
            sd = np.where(r < 0.3039,
                          np.clip(-0.0120 * ln_r - 0.0023, 0.0124, 0.04),
                          -0.0165 * r ** 2 + 0.0116 * r + 0.0104)
        else:
            sd = np.where(r < 0.3055,
                          np.clip(-0.0117 * ln_r - 0.0057, 0.0091, 0.04),
                          -0.0118 * r ** 2 + 0.0093 * r + 0.0073)
        nu = np.abs(mu + sd * rng.standard_normal(r.shape))
        return nu * self.drift_scale

    def read_noise_q(self, g_prog):
        r = np.abs(g_prog) / self.g_max  # no floor here: log(0) -> the clip's upper end
        with np.errstate(divide="ignore"):
            ln_r = np.log(r)
        if self.num_devices == 1:
            return np.where(r < 0.1591,
                            np.clip(-0.0078 * ln_r + 0.0038, 0.0179, 0.04),
                            0.0664 * r ** 3 - 0.1352 * r ** 2 + 0.0768 * r + 0.0088)
        return np.where(r < 0.16,
                        np.clip(-0.0117 * ln_r - 0.0069, 0.015, 0.04),
                        0.0069 * r ** 3 - 0.0280 * r ** 2 + 0.0211 * r + 0.0123)


# --------------------------------------------------------------------------------------------
# Weight <-> conductance mapping (single differential pair)
# --------------------------------------------------------------------------------------------

def to_pair(w, model):
    """Return (g_plus, g_minus, scale) for weights w."""
    span = model.g_max - model.g_min
    scale = span / max(float(np.max(np.abs(w))) if w.size else 0.0, ZERO_CLIP)
    sw = w * scale
    g_plus = np.clip(sw, 0.0, model.g_max) + model.g_min
    g_minus = np.clip(-sw, 0.0, model.g_max) + model.g_min
    return g_plus, g_minus, scale


def from_pair(g_plus, g_minus, scale, model):
    return ((g_plus - model.g_min) - (g_minus - model.g_min)) / scale


# --------------------------------------------------------------------------------------------
# Forward pass of the analog tile (used only for the drift-compensation read-out)
# --------------------------------------------------------------------------------------------

def io_preset(name):
    """IO settings of the forward pass; None means a perfect (ideal) forward."""
    if name == "ideal":
        return None
    base = dict(inp_bound=1.0, inp_res=1.0 / (2 ** 7 - 2), inp_noise=0.0,
                out_bound=12.0, out_res=1.0 / (2 ** 9 - 2), out_noise=0.06, out_scale=1.0,
                noise_management="abs_max", nm_thres=0.0,
                bound_management="iterative", max_bm_factor=1000, max_bm_res=0.25,
                bm_test_negative_bound=True,
                w_noise=0.0, w_noise_type="none",
                ir_drop=0.0, ir_drop_g_ratio=1.0 / 0.35 / 5e-6,
                out_nonlinearity=0.0, out_nonlinearity_std=0.0, slope_calibration=0.0,
                r_series=0.0)
    if name == "default":  # InferenceRPUConfig().forward == IOParameters()
        return base
    if name == "standard-hwa":  # StandardHWATrainingPreset().forward
        base.update(inp_res=254.0, out_res=254.0, out_bound=10.0, out_noise=0.04,
                    noise_management="constant", nm_thres=1.0, bound_management="none",
                    w_noise=0.0175, w_noise_type="pcm_read", ir_drop=1.0)
        return base
    raise ValueError("unknown readout preset %r" % name)


def _step(res, bound):
    """Quantization step from a 'res' setting: <=0 off, >1 a number of steps, else 1/steps;
    the steps span the full range 2*bound."""
    r = max(res, 0.0)
    if r > 1.0:
        r = 1.0 / r
    return r * 2.0 * bound


def _quantize(v, step):
    return v if step <= 0.0 else np.rint(v / step) * step


class AnalogForward:
    """Noisy forward pass of one tile, W_tile shaped (out, in); one instance per tile so that
    the per-output non-linearity factors are drawn once, as at tile creation."""

    def __init__(self, io, n_out, rng):
        self.io = io
        self.nl = None
        self.nlf = 1.0
        if io is not None and (io["out_nonlinearity"] > 0.0 or io["r_series"] > 0.0):
            ob = io["out_bound"] if 0.0 < io["out_bound"] < np.inf else 1.0
            self.nl = np.abs(io["out_nonlinearity"] / ob *
                             (1.0 + max(io["out_nonlinearity_std"], 0.0) *
                              rng.standard_normal(n_out)))
            if io["slope_calibration"] > 0.0:
                f = 1.0 + (np.mean(self.nl) + io["r_series"]) * io["slope_calibration"] * ob
                self.nlf = f * f
        if io is not None and io["r_series"] > 0.0:
            raise NotImplementedError("r_series / voltage offsets are not modelled")

    def __call__(self, w_tile, x, rng):
        io = self.io
        if io is None:
            return x @ w_tile.T
        n_batch, n_in = x.shape
        n_out = w_tile.shape[0]
        in_step = _step(io["inp_res"], io["inp_bound"])
        out_step = _step(io["out_res"], io["out_bound"])
        inp_bound = io["inp_bound"] if io["inp_bound"] > 0 else np.inf
        out_bound = io["out_bound"] if io["out_bound"] > 0 else np.inf
        nm_type = io["noise_management"]
        bm = io["bound_management"] != "none"
        amax = np.max(np.abs(x), axis=1)
        thres = io["nm_thres"] if nm_type != "none" else 0.0
        if nm_type == "abs_max":
            nm = np.minimum(amax, thres) if thres > 0 else amax
        elif nm_type == "constant":
            nm = np.full(n_batch, thres if thres > 0 else 1.0)
        elif nm_type == "none":
            nm = np.ones(n_batch)
        else:
            raise NotImplementedError("noise management %r" % nm_type)
        y_final = np.zeros((n_batch, n_out))
        pending = np.ones(n_batch, dtype=bool)
        if nm_type != "none" and io["inp_noise"] <= 0:
            pending &= nm > 0  # all-zero input: output is exactly zero
        reduction = 1.0
        abs_w = np.abs(w_tile)
        j_pos = np.arange(n_in) / n_in
        pos_weight = 1.0 - (1.0 - j_pos) ** 2
        while np.any(pending):
            idx = np.nonzero(pending)[0]
            scale = np.ones(len(idx))
            if nm_type != "none":
                scale = scale / np.where(nm[idx] > 0, nm[idx], 1.0)
            if bm:
                scale = scale / reduction
            xi = x[idx] * scale[:, None]
            xi = _quantize(xi, in_step)
            xi = np.clip(xi, -inp_bound, inp_bound)
            if io["inp_noise"] > 0:
                xi = xi + io["inp_noise"] * rng.standard_normal(xi.shape)
            y = xi @ w_tile.T
            if io["ir_drop"] > 0:
                a = (n_in / io["ir_drop_g_ratio"]) * (np.abs(xi) @ abs_w.T)
                c = a * (a * (0.05 * a - 0.2) + 0.5)
                y = y - c * (io["ir_drop"] * ((xi * pos_weight) @ w_tile.T))
            if io["w_noise"] > 0 and io["w_noise_type"] == "additive_constant":
                xn = np.sqrt(np.sum(xi * xi, axis=1))
                y = y + io["w_noise"] * xn[:, None] * rng.standard_normal(y.shape)
            elif io["w_noise"] > 0 and io["w_noise_type"] == "pcm_read":
                y = y + io["w_noise"] * np.sqrt((xi * xi) @ abs_w.T) * \
                    rng.standard_normal(y.shape)
            if self.nl is not None:
                y = self.nlf * y / (1.0 + np.abs(self.nl[None, :] * y))
            y = y + io["out_noise"] * rng.standard_normal(y.shape)
            y = _quantize(y, out_step)
            hit_hi = np.any(y > out_bound, axis=1)
            hit_lo = np.any(y < -out_bound, axis=1)
            y = np.clip(y, -out_bound, out_bound)
            passed = ~(hit_hi | (hit_lo & io["bm_test_negative_bound"])) if bm \
                else np.ones(len(idx), dtype=bool)
            if bm:
                stop = (int(reduction) > io["max_bm_factor"]) or \
                    (in_step > 0 and reduction > io["max_bm_res"] / in_step)
                if stop:
                    passed[:] = True
            done = idx[passed]
            y_final[done] = y[passed] * (io["out_scale"] / scale[passed])[:, None]
            pending[done] = False
            reduction *= 2.0
        return y_final


def readout_value(forward, w_tile, rng):
    """Mean |output| of the tile for the one-hot read-out vectors, floored at 1e-4."""
    eye = np.eye(w_tile.shape[1])
    out = forward(w_tile, eye, rng)
    return max(float(np.mean(np.abs(out))), READOUT_FLOOR)


# --------------------------------------------------------------------------------------------
# One programming + drift draw
# --------------------------------------------------------------------------------------------

def effective_weights(w, model, t_inference, rng, compensation=True, readout="default",
                      program_only=False, layout="in_out"):
    """Return (E, alpha) for one independent programming draw of the weights w."""
    w = np.asarray(w, dtype=np.float64)
    to_tile = (lambda m: m.T) if layout == "in_out" else (lambda m: m)
    forward = AnalogForward(io_preset(readout), to_tile(w).shape[0], rng)

    # programming (targets from the reference weights)
    gp_t, gm_t, s0 = to_pair(w, model)
    gp = model.program(gp_t, rng)
    nu_p = model.drift_exponents(gp_t, rng)
    gm = model.program(gm_t, rng)
    nu_m = model.drift_exponents(gm_t, rng)
    w_prog = from_pair(gp, gm, s0, model)

    ref = readout_value(forward, to_tile(w_prog), rng) if compensation else None
    if program_only:
        return w_prog, 1.0

    # drift: the programmed weights are mapped to a pair again, with their own scale
    hp, hm, s1 = to_pair(w_prog, model)
    fp = model.drift(hp, nu_p, t_inference, rng)
    fm = model.drift(hm, nu_m, t_inference, rng)
    w_drift = from_pair(fp, fm, s1, model)

    alpha = 1.0
    if compensation:
        alpha = ref / readout_value(forward, to_tile(w_drift), rng)
    return alpha * w_drift, alpha


# --------------------------------------------------------------------------------------------
# Statistics by target-weight bin
# --------------------------------------------------------------------------------------------

def bin_stats(w, e, bins=21):
    """Per-bin count, mean and std of (e - w) in units of w_max = max|w|.

    w: 2-D target matrix; e: same shape or (K, *w.shape). Bins split [-w_max, w_max] evenly;
    the value w_max itself falls in the last bin. Returns a dict of numpy arrays."""
    w = np.asarray(w, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    if e.shape == w.shape:
        e = e[None]
    if e.shape[1:] != w.shape:
        raise ValueError("effective weights %s do not match the target %s" % (e.shape, w.shape))
    w_max = float(np.max(np.abs(w)))
    if w_max <= 0:
        raise ValueError("target weights are all zero")
    err = (e - w[None]) / w_max
    wn = np.broadcast_to(w[None] / w_max, err.shape).ravel()
    err = err.ravel()
    edges = np.linspace(-1.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, wn, side="right") - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins).astype(np.int64)
    s1 = np.bincount(idx, weights=err, minlength=bins)
    mean = np.divide(s1, count, out=np.full(bins, np.nan), where=count > 0)
    dev = err - mean[idx]
    s2 = np.bincount(idx, weights=dev * dev, minlength=bins)
    std = np.divide(s2, count - 1, out=np.full(bins, np.nan), where=count > 1)
    std = np.sqrt(std)
    centre = 0.5 * (edges[:-1] + edges[1:])
    return dict(edges=edges, centre=centre, count=count, mean=mean, std=std, w_max=w_max)


def print_stats(st, out=sys.stdout):
    out.write("w_max = %.6g; errors (effective - target) in units of w_max\n" % st["w_max"])
    out.write("%5s %17s %10s %11s %10s\n" % ("bin", "target range", "count", "mean", "std"))
    for b in range(len(st["count"])):
        out.write("%5d [%+6.3f,%+6.3f] %10d %+11.5f %10.5f\n" % (
            b, st["edges"][b], st["edges"][b + 1], st["count"][b], st["mean"][b], st["std"][b]))


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def build_model(args):
    common = dict(g_max=args.g_max, g_min=args.g_min, prog_noise_scale=args.prog_noise_scale,
                  read_noise_scale=args.read_noise_scale, drift_scale=args.drift_scale)
    if args.model == "pcm":
        return PCMModel(t_read=250e-9 if args.t_read is None else args.t_read,
                        t_0=20.0 if args.t0 is None else args.t0, **common)
    return HermesModel(num_devices=args.num_devices,
                       t_read=512e-9 if args.t_read is None else args.t_read,
                       t_0=args.t0, **common)


def load_weights(path):
    w = np.load(path)
    if w.ndim != 2:
        raise SystemExit("error: %s must hold a 2-D matrix, got shape %s" % (path, w.shape))
    if not np.all(np.isfinite(w)):
        raise SystemExit("error: %s holds non-finite values" % path)
    return w.astype(np.float64)


def cmd_generate(args):
    w = load_weights(args.weights)
    if args.samples < 1:
        raise SystemExit("error: --samples must be >= 1")
    if args.t_inference < 0:
        raise SystemExit("error: --t-inference must be >= 0")
    model = build_model(args)
    rng = np.random.default_rng(args.seed)
    out = np.empty((args.samples,) + w.shape)
    alphas = np.empty(args.samples)
    for k in range(args.samples):
        out[k], alphas[k] = effective_weights(
            w, model, args.t_inference, rng, compensation=args.compensation,
            readout=args.readout, program_only=args.program_only, layout=args.layout)
    np.save(args.out, out)
    if args.alpha_out:
        np.save(args.alpha_out, alphas)
    sys.stderr.write(
        "pcm_reference: model=%s g_max=%g t0=%g t_read=%g t_inference=%g samples=%d "
        "compensation=%s readout=%s%s; alpha mean %.6f (min %.6f, max %.6f) -> %s\n" % (
            model.name, model.g_max, model.t_0, model.t_read, args.t_inference, args.samples,
            "on" if args.compensation else "off", args.readout,
            " program-only" if args.program_only else "",
            alphas.mean(), alphas.min(), alphas.max(), args.out))
    return 0


def cmd_stats(args):
    w = load_weights(args.weights)
    e = np.load(args.effective)
    try:
        st = bin_stats(w, e, args.bins)
    except ValueError as exc:
        raise SystemExit("error: %s" % exc)
    print_stats(st)
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="pcm_reference.py",
        description="Independent numpy reference of AIHWKit's PCM inference noise model "
                    "(PCMLikeNoiseModel / HermesNoiseModel + GlobalDriftCompensation).",
        epilog="The sub-command may be omitted; 'generate' is assumed. "
               "See the module docstring for the model.")
    sub = p.add_subparsers(dest="cmd")

    g = sub.add_parser("generate", help="write effective weights for K programming draws")
    g.add_argument("--weights", required=True, help="2-D target weight matrix (.npy)")
    g.add_argument("--out", required=True, help="output .npy, shape (K, *W.shape), float64")
    g.add_argument("--t-inference", type=float, default=0.0,
                   help="seconds after programming (0 allowed; read noise still applies)")
    g.add_argument("--samples", type=int, default=1, help="independent programming draws K")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--compensation", dest="compensation", action="store_true", default=True,
                   help="global drift compensation (default)")
    g.add_argument("--no-compensation", dest="compensation", action="store_false")
    g.add_argument("--program-only", action="store_true",
                   help="stop after programming (no drift / read noise, alpha = 1)")
    g.add_argument("--readout", choices=("default", "ideal", "standard-hwa"), default="default",
                   help="forward pass used for the compensation read-out: default = "
                        "InferenceRPUConfig() IO (noisy, ADC/DAC), ideal = perfect MVM, "
                        "standard-hwa = StandardHWATrainingPreset IO")
    g.add_argument("--layout", choices=("in_out", "out_in"), default="in_out",
                   help="in_out: W is (inputs, outputs), y = x @ W (aimcsim); out_in: AIHWKit")
    g.add_argument("--model", choices=("pcm", "hermes"), default="pcm")
    g.add_argument("--num-devices", type=int, choices=(1, 2), default=2, help="hermes only")
    g.add_argument("--g-max", type=float, default=None,
                   help="µS (default 25 for pcm; 20.7 / 10.35 for hermes 2 / 1 devices)")
    g.add_argument("--g-min", type=float, default=0.0, help="µS added to both devices")
    g.add_argument("--t0", type=float, default=None,
                   help="s (default 20 for pcm; 300 / 200 for hermes 2 / 1 devices)")
    g.add_argument("--t-read", type=float, default=None,
                   help="s (default 250e-9 for pcm, 512e-9 for hermes)")
    g.add_argument("--prog-noise-scale", type=float, default=1.0)
    g.add_argument("--read-noise-scale", type=float, default=1.0)
    g.add_argument("--drift-scale", type=float, default=1.0)
    g.add_argument("--alpha-out", default=None, help="optional .npy for the K alphas")
    g.set_defaults(func=cmd_generate)

    s = sub.add_parser("stats", help="per-bin mean/std of (effective - target) / w_max")
    s.add_argument("--weights", required=True)
    s.add_argument("--effective", required=True)
    s.add_argument("--bins", type=int, default=21)
    s.set_defaults(func=cmd_stats)

    if argv and argv[0] not in ("generate", "stats", "-h", "--help"):
        argv = ["generate"] + list(argv)
    args = p.parse_args(argv)
    if args.cmd is None:
        p.print_help()
        raise SystemExit(2)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
