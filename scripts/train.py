#!/usr/bin/env python3
"""Train Fashion-MNIST networks for aimcsim, plain and hardware-aware (HWA), and export the HWA
ones as workloads (docs/workload-format.md).

Networks:
  mlp  784-256-256-10, ReLU
  cnn  conv3x3 1->16 pad 1, BN, ReLU, maxpool 2, conv3x3 16->32 pad 1, BN, ReLU, maxpool 2,
       flatten, dense 1568->128, ReLU, dense 128->10

For each network a plain float model is trained first; the HWA model is fine-tuned from it
(Joshi et al., Nature Comm. 11, 2473 (2020); Rasch et al., Nature Comm. 14, 5282 (2023)).
In every HWA forward pass each analog layer (dense, conv2d; a batch norm after it folded in with
its running statistics, as the simulator folds it at load time) computes, per crossbar tile of
at most --tile-rows rows (in the simulator's (h, w, c) row order):

  W~    = W + eta · max|W| · N          fresh Gaussian weight noise every batch (per layer)
  x_n   = round(x / max|x| · 127) / 127  8-bit input quantization, per-vector abs-max, STE
  y_n   = x_n · W~ / max|W_tile|         normalized crossbar output
  y_q   = round(clip(y_n, ±B) · 127/B) · B/127   8-bit ADC with output bound B = 10, STE
  y     = Σ_tiles y_q · max|x| · max|W_tile|  + bias (digital)

and after every optimizer step the (folded) weights are clipped to ±alpha · std(W).
The HWA model is exported (float32 .npy + workload.yaml) with scripts/export_network.py, and its
exported files are checked against the PyTorch logits and evaluated on the 10,000 test images
with the numpy forward pass.

Usage (Debian's /usr/bin/python3 with python3-torch; both networks took 13 min on 2 shared cores):
  /usr/bin/python3 scripts/train.py --model all
"""

import argparse
import copy
import math
import os
import sys
import time

# Passive OpenMP waiting: with busy-waiting threads, torch on a shared 2-core machine ran up to
# 10x slower (measured) whenever another process used a core. Set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_network as ex  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SCALE = 1.0 / 255.0
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULTS = {  # float epochs, HWA epochs, float lr, HWA lr
    "mlp": dict(epochs=10, hwa_epochs=5, lr=1e-3, hwa_lr=2e-4),
    "cnn": dict(epochs=4, hwa_epochs=3, lr=1e-3, hwa_lr=2e-4),
}
DESCRIPTIONS = {
    "mlp": "784-256-256-10 MLP, hardware-aware trained on Fashion-MNIST",
    "cnn": "2-conv CNN (16, 32 channels) + 1568-128-10 MLP, hardware-aware trained on Fashion-MNIST",
}


# ============================================================================ data
def load_split(split):
    """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64) of train or t10k."""
    x = ex.read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = ex.read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) * np.float32(SCALE)).unsqueeze(1)
    return x, torch.from_numpy(y.astype(np.int64))


# ============================================================================ networks
def make_model(kind):
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1568, 128), nn.ReLU(),
            nn.Linear(128, 10))
    raise ValueError(kind)


# ============================================================================ HWA forward
class HWAConfig:
    def __init__(self, eta=0.08, alpha=2.5, in_bits=8, out_bits=8, out_bound=10.0,
                 tile_rows=256):
        self.eta, self.alpha = eta, alpha
        self.in_levels = 2 ** (in_bits - 1) - 1
        self.out_levels = 2 ** (out_bits - 1) - 1
        self.out_bound, self.tile_rows = out_bound, tile_rows


def ste_round(v):
    """round in the forward pass, identity gradient (straight-through estimator)."""
    return v + (torch.round(v) - v).detach()


def analog_matmul(x, w, cfg, noise, quant, gen=None):
    """x (M, K) in the simulator's row order, w (K, N) effective weight -> (M, N), per tile of
    cfg.tile_rows rows: weight noise, 8-bit abs-max DAC, ADC clip + 8-bit quantization."""
    w_clean = w
    if noise and cfg.eta > 0:
        sigma = cfg.eta * w.detach().abs().max()
        w = w + sigma * torch.randn(w.shape, generator=gen, dtype=w.dtype)
    if not quant:
        return x @ w
    out = 0
    for r0 in range(0, w.shape[0], cfg.tile_rows):
        xs = x[:, r0:r0 + cfg.tile_rows]
        wmax = w_clean[r0:r0 + cfg.tile_rows].detach().abs().max().clamp_min(1e-12)
        s = xs.detach().abs().amax(dim=1, keepdim=True)
        s = torch.where(s > 0, s, torch.ones_like(s))
        xn = ste_round(xs / s * cfg.in_levels) / cfg.in_levels
        yn = xn @ (w[r0:r0 + cfg.tile_rows] / wmax)
        yn = torch.clamp(yn, -cfg.out_bound, cfg.out_bound)
        yq = ste_round(yn * (cfg.out_levels / cfg.out_bound)) * (cfg.out_bound / cfg.out_levels)
        out = out + yq * (s * wmax)
    return out


def flatten_perm(c, h, w):
    """perm[q] = p: row q in (h, w, c) order is row p of PyTorch's (c, h, w) flatten."""
    return torch.arange(c * h * w).reshape(c, h, w).permute(1, 2, 0).reshape(-1)


def _bn_after(mods, i):
    if i + 1 < len(mods) and isinstance(mods[i + 1], (nn.BatchNorm1d, nn.BatchNorm2d)):
        return mods[i + 1]
    return None


def folded(m, bn):
    """Effective weight and bias of a dense/conv with the batch norm after it folded in
    (running statistics), and the per-output-channel scale used."""
    b0 = m.bias if m.bias is not None else torch.zeros(m.weight.shape[0])
    if bn is None:
        return m.weight, b0, None
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shape = (-1,) + (1,) * (m.weight.dim() - 1)
    return m.weight * scale.view(shape), (b0 - bn.running_mean) * scale + bn.bias, scale


def hwa_forward(model, x, cfg, noise=True, quant=True, gen=None):
    """Forward pass of an nn.Sequential with analog dense/conv layers (see the module doc).
    Batch norms after a dense/conv are folded (running statistics, i.e. frozen)."""
    mods = list(model)
    perm = None
    i = 0
    while i < len(mods):
        m = mods[i]
        bn = _bn_after(mods, i)
        if isinstance(m, nn.Conv2d):
            w, b, _ = folded(m, bn)
            n, _, h, wd = x.shape
            kh, kw = m.kernel_size
            (sh, _), (ph, _) = m.stride, m.padding
            ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * ph - kw) // sh + 1
            cols = F.unfold(x, m.kernel_size, padding=m.padding, stride=m.stride)  # N, K, L
            k = cols.shape[1]
            cols = cols.transpose(1, 2).reshape(-1, k)
            assert k <= cfg.tile_rows, "a conv's KH*KW*Cin must fit one tile"
            y = analog_matmul(cols, w.reshape(w.shape[0], -1).t(), cfg, noise, quant, gen)
            x = (y + b).reshape(n, ho * wo, -1).transpose(1, 2).reshape(n, -1, ho, wo)
            i += 2 if bn is not None else 1
        elif isinstance(m, nn.Linear):
            w, b, _ = folded(m, bn)
            w = w.t()
            if perm is not None:
                w = w[perm]
                perm = None
            x = analog_matmul(x, w, cfg, noise, quant, gen) + b
            i += 2 if bn is not None else 1
        elif isinstance(m, nn.Flatten):
            if x.dim() == 4:
                n, c, h, wd = x.shape
                perm = flatten_perm(c, h, wd)
                x = x.permute(0, 2, 3, 1).reshape(n, -1)   # the simulator's (h, w, c) order
            else:
                x = x.reshape(x.shape[0], -1)
            i += 1
        else:
            x = m(x)
            i += 1
    return x


@torch.no_grad()
def clip_weights(model, alpha):
    """Clip each analog layer's effective (BN-folded) weight to ±alpha · std of that weight."""
    mods = list(model)
    for i, m in enumerate(mods):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            w, _, scale = folded(m, _bn_after(mods, i))
            lim = alpha * w.std()
            w = torch.clamp(w, -lim, lim)
            if scale is not None:
                w = w / scale.view((-1,) + (1,) * (w.dim() - 1))
            m.weight.copy_(w)


# ============================================================================ train / eval
@torch.no_grad()
def accuracy(model, x, y, batch=1000, hwa=None, noise=False, quant=False, seed=0):
    """Test accuracy in %: the plain model, or the HWA forward (quant and/or noise)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    correct = 0
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        out = model(xb) if hwa is None else hwa_forward(model, xb, hwa, noise, quant, gen)
        correct += int((out.argmax(1) == y[i:i + batch]).sum())
    return 100.0 * correct / len(x)


def run_epochs(model, data, epochs, lr, batch, seed, hwa=None, tag=""):
    xtr, ytr, xte, yte = data
    steps = epochs * math.ceil(len(xtr) / batch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    gen = torch.Generator().manual_seed(seed)
    if hwa is not None:
        clip_weights(model, hwa.alpha)
    for ep in range(1, epochs + 1):
        t0 = time.time()
        order = torch.randperm(len(xtr), generator=gen)
        total, nb = 0.0, 0
        if hwa is None:
            model.train()
        else:
            model.eval()   # batch norms frozen: folded with their running statistics
        for i in range(0, len(xtr), batch):
            idx = order[i:i + batch]
            xb, yb = xtr[idx], ytr[idx]
            out = model(xb) if hwa is None else hwa_forward(model, xb, hwa, True, True)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if hwa is not None:
                clip_weights(model, hwa.alpha)
            total += float(loss)
            nb += 1
        msg = (f"[{tag}] epoch {ep}/{epochs}: loss {total / nb:.4f}, "
               f"test acc {accuracy(model, xte, yte):.2f}%")
        if hwa is not None:
            msg += f", HWA forward (quant + noise) {accuracy(model, xte, yte, hwa=hwa, noise=True, quant=True):.2f}%"
        print(msg + f" ({time.time() - t0:.1f} s)", flush=True)


NOISE_DRAWS = 2


def hw_estimates(model, xte, yte, hwa, draws=NOISE_DRAWS):
    quant = accuracy(model, xte, yte, hwa=hwa, quant=True)
    noisy = [accuracy(model, xte, yte, hwa=hwa, quant=True, noise=True, seed=s)
             for s in range(draws)]
    return quant, float(np.mean(noisy)), float(np.std(noisy))


# ============================================================================ export
README = """# {name}

{description}.

Trained and exported by `scripts/train.py` (regenerate with the command below); the network
format is docs/workload-format.md. No `trace:`: the mapper (`aimcsim map`) tiles the network
onto the chip.

## Network

{network}

input: a 28x28 grey image, `input_shape: [28, 28, 1]`, pixels / 255 (`scale` 1/255, `offset` 0, no
mean subtraction). Weights are float32, stored as (in, out) for dense and (KH, KW, Cin, Cout) for
conv layers; rows of a dense layer after a flatten are in (h, w, c) order.

| file | shape |
|---|---|
{files}

## Training

```
{command}
```

(`--model {kind}` trains this network alone; the seed is reset per network, so it gives the
same weights as `--model all`: checked byte for byte for the MLP on the same machine).
Fashion-MNIST from Debian's `dataset-fashion-mnist` (`{data_dir}`): 60,000
training images; accuracies are on the 10,000 test images. CPU, `torch.set_num_threads(2)`,
PyTorch {torch_version}.

1. **Plain float model**: {epochs} epochs, Adam (lr {lr}, cosine decay to 0), batch {batch},
   cross-entropy, seed {seed}.
2. **Hardware-aware (HWA) fine-tuning** from the float model, as in Joshi et al. 2020 and
   Rasch et al. 2023: {hwa_epochs} epochs, Adam (lr {hwa_lr}, cosine), batch {batch}. In every
   forward pass each dense/conv layer (batch norm folded in with frozen running statistics, as
   the simulator folds it) gets
   - additive Gaussian weight noise, std = {eta} · max|W| of the layer, drawn fresh every batch;
   - per crossbar tile of at most {tile_rows} rows (in the simulator's row order): 8-bit input
     quantization with per-vector abs-max scaling, and the output x_n · W_n (inputs and weights
     over their max) clipped to ±{bound} and quantized to 8 bits (straight-through estimator),
     then rescaled;
   - after every optimizer step the weights clipped to ±{alpha} · std(W) of the layer.

Training took {train_time:.0f} s wall time (float {float_time:.0f} s + HWA {hwa_time:.0f} s) on 2 CPU cores
that another process shared at the time, so only indicative.

## Accuracy on the 10,000 test images

**Float32 software accuracy of the exported (HWA) weights: {sw_acc:.2f}% ({sw_correct}/{n_test})**,
computed by the numpy forward pass of the files in this folder
(`/usr/bin/python3 scripts/export_network.py --eval workloads/{name}`), i.e. the float network
the simulator's software reference computes. The export check reproduces the PyTorch logits with a max
abs diff of {check_diff:.2g} (1,100 inputs).

| model | float (software) | 8-bit in/out quantized, no noise | quantized + weight noise η = {eta} ({draws} draws, mean ± std) |
|---|---|---|---|
| plain float model (not exported) | {float_acc:.2f}% | {float_q:.2f}% | {float_qn:.2f}% ± {float_qn_sd:.2f} |
| HWA model (exported here) | {hwa_acc:.2f}% | {hwa_q:.2f}% | {hwa_qn:.2f}% ± {hwa_qn_sd:.2f} |

The two right columns are PyTorch estimates with the training-time hardware model (a Gaussian
weight-noise stand-in for PCM programming/read noise, no drift), for orientation only; the
simulator computes its own accuracy with the PCM device model.
"""


def describe_network(model):
    lines = []
    for m in model:
        if isinstance(m, nn.Linear):
            lines.append(f"dense {m.in_features}->{m.out_features}")
        elif isinstance(m, nn.Conv2d):
            lines.append(f"conv {m.kernel_size[0]}x{m.kernel_size[1]} {m.in_channels}->"
                         f"{m.out_channels} pad {m.padding[0]}")
        elif isinstance(m, nn.BatchNorm2d):
            lines.append("batchnorm")
        elif isinstance(m, nn.ReLU):
            lines.append("relu")
        elif isinstance(m, nn.MaxPool2d):
            lines.append(f"maxpool {m.kernel_size}")
        elif isinstance(m, nn.Flatten):
            lines.append("flatten")
    return ", ".join(lines) + " (logits; the prediction is their argmax)."


def train_one(kind, args, data, command):
    d = DEFAULTS[kind]
    epochs = args.epochs if args.epochs is not None else d["epochs"]
    hwa_epochs = args.hwa_epochs if args.hwa_epochs is not None else d["hwa_epochs"]
    hwa = HWAConfig(eta=args.eta, alpha=args.alpha, tile_rows=args.tile_rows)
    xtr, ytr, xte, yte = data
    if args.train_limit:
        data = (xtr[:args.train_limit], ytr[:args.train_limit], xte, yte)

    torch.manual_seed(args.seed)
    model = make_model(kind)
    t0 = time.time()
    run_epochs(model, data, epochs, d["lr"], args.batch, args.seed, tag=f"{kind} float")
    float_time = time.time() - t0
    float_acc = accuracy(model, xte, yte)
    float_q, float_qn, float_qn_sd = hw_estimates(model, xte, yte, hwa)
    print(f"[{kind} float] test {float_acc:.2f}%, quantized {float_q:.2f}%, "
          f"quantized + noise {float_qn:.2f}% ± {float_qn_sd:.2f}", flush=True)

    torch.manual_seed(args.seed + 1)
    hmodel = copy.deepcopy(model)
    t0 = time.time()
    run_epochs(hmodel, data, hwa_epochs, d["hwa_lr"], args.batch, args.seed + 1, hwa=hwa,
               tag=f"{kind} HWA")
    hwa_time = time.time() - t0
    hmodel.eval()
    hwa_acc = accuracy(hmodel, xte, yte)
    hwa_q, hwa_qn, hwa_qn_sd = hw_estimates(hmodel, xte, yte, hwa)
    print(f"[{kind} HWA] test {hwa_acc:.2f}%, quantized {hwa_q:.2f}%, "
          f"quantized + noise {hwa_qn:.2f}% ± {hwa_qn_sd:.2f}", flush=True)

    # ---- export the HWA model
    name = f"fmnist-{kind}"
    out_dir = os.path.join(args.out_dir, name)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):           # no stale weight files from an earlier run
        if f.endswith(".npy"):
            os.remove(os.path.join(out_dir, f))
    builder = ex.export_torch(hmodel, (28, 28, 1))
    data_keys = {"format": "idx",
                 "inputs": os.path.join(DATA_DIR, "t10k-images-idx3-ubyte.gz"),
                 "labels": os.path.join(DATA_DIR, "t10k-labels-idx1-ubyte.gz"),
                 "scale": 0.00392156862745098, "offset": 0}
    header = [f"Generated by scripts/train.py ({command}); re-run it to regenerate."]
    ex.write_workload_yaml(out_dir, builder, name=name, description=DESCRIPTIONS[kind],
                           samples=10000, data=data_keys, comments=header)
    # check: exported files (numpy, channels last) against the PyTorch logits
    rng = np.random.default_rng(args.seed)
    xcheck = np.concatenate([rng.random((100, 784)),
                             xte[:1000].permute(0, 2, 3, 1).reshape(1000, -1).double().numpy()])
    diff = ex.check_torch(hmodel, out_dir, xcheck)
    print(f"[{kind}] export check: max abs diff of the logits = {diff:.3g} over "
          f"{len(xcheck)} inputs", flush=True)
    if not diff < 1e-4:
        raise SystemExit(f"export check failed: {diff}")
    correct, total = ex.evaluate(out_dir)
    correct64, _ = ex.evaluate(out_dir, dtype=np.float64)
    sw_acc = 100.0 * correct / total
    print(f"[{kind}] exported HWA weights, numpy float32 forward: {correct}/{total} = "
          f"{sw_acc:.2f}% (float64: {correct64}/{total})", flush=True)
    header.append(f"Float32 software reference accuracy of these weights on the {total} test "
                  f"images: {correct}/{total} = {sw_acc:.2f}% (plain float model before HWA "
                  f"fine-tuning: {float_acc:.2f}%; see README.md).")
    ex.write_workload_yaml(out_dir, builder, name=name, description=DESCRIPTIONS[kind],
                           samples=10000, data=data_keys, comments=header)

    files = "\n".join(f"| `{f}` | {tuple(a.shape)} |" for f, a in builder.arrays.items())
    text = README.format(
        name=name, kind=kind, description=DESCRIPTIONS[kind], network=describe_network(hmodel),
        files=files, command=command, data_dir=DATA_DIR, torch_version=torch.__version__,
        epochs=epochs, lr=d["lr"], batch=args.batch, seed=args.seed, hwa_epochs=hwa_epochs,
        hwa_lr=d["hwa_lr"], eta=args.eta, alpha=args.alpha, tile_rows=args.tile_rows,
        bound=hwa.out_bound, train_time=float_time + hwa_time, float_time=float_time,
        hwa_time=hwa_time, sw_acc=sw_acc, sw_correct=correct, n_test=total, check_diff=diff,
        draws=NOISE_DRAWS, float_acc=float_acc, float_q=float_q, float_qn=float_qn, float_qn_sd=float_qn_sd,
        hwa_acc=hwa_acc, hwa_q=hwa_q, hwa_qn=hwa_qn, hwa_qn_sd=hwa_qn_sd)
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)
    print(f"[{kind}] wrote {out_dir}: workload.yaml, README.md, {len(builder.arrays)} .npy; "
          f"training {float_time:.0f} s float + {hwa_time:.0f} s HWA", flush=True)
    return dict(float_acc=float_acc, hwa_acc=hwa_acc, sw_acc=sw_acc, diff=diff,
                float_time=float_time, hwa_time=hwa_time)


def main(argv=None):
    p = argparse.ArgumentParser(description="Train plain and hardware-aware Fashion-MNIST "
                                            "networks and export the HWA ones as workloads.")
    p.add_argument("--model", choices=["mlp", "cnn", "all"], default="all")
    p.add_argument("--epochs", type=int, help="float epochs (default: mlp 10, cnn 4)")
    p.add_argument("--hwa-epochs", type=int, help="HWA fine-tuning epochs (default: mlp 5, cnn 3)")
    p.add_argument("--out-dir", default=os.path.join(REPO, "workloads"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--eta", type=float, default=0.08, help="weight noise std / max|W| (0.08)")
    p.add_argument("--alpha", type=float, default=2.5, help="weight clip in std(W) (2.5)")
    p.add_argument("--tile-rows", type=int, default=256, help="crossbar rows per tile (256)")
    p.add_argument("--train-limit", type=int, help=argparse.SUPPRESS)   # smoke tests only
    args = p.parse_args(argv)

    torch.set_num_threads(2)
    shown = [a for a in (argv if argv is not None else sys.argv[1:])]
    command = " ".join(["/usr/bin/python3 scripts/train.py"] + shown)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    data = (xtr, ytr, xte, yte)
    kinds = ["mlp", "cnn"] if args.model == "all" else [args.model]
    results = {}
    for kind in kinds:
        results[kind] = train_one(kind, args, data, command)
    for kind, r in results.items():
        print(f"{kind}: float {r['float_acc']:.2f}%, HWA {r['hwa_acc']:.2f}% "
              f"(exported, numpy float32 {r['sw_acc']:.2f}%), export check {r['diff']:.2g}, "
              f"time {r['float_time']:.0f} + {r['hwa_time']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
