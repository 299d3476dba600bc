#!/usr/bin/env python3
"""Export a trained network to aimcsim's network format (docs/workload-format.md).

Writes the `.npy` weight files (float32, C order) and a `workload.yaml` with the `network:`
section into a folder, from

  (a) a PyTorch nn.Sequential of nn.Linear, nn.Conv2d, nn.BatchNorm1d/2d, nn.ReLU,
      nn.MaxPool2d, nn.AvgPool2d, nn.Flatten (nn.Identity and nn.Dropout are skipped), or
  (b) an ONNX file with Gemm / MatMul(+Add), Conv, BatchNormalization, Relu, MaxPool,
      AveragePool, Flatten / Reshape (to (N, -1)), Identity / Dropout, and Add of two
      activations (a residual `add`).

Layouts are converted to the simulator's channels-last format:

  dense   PyTorch/ONNX-Gemm (out, in)        -> (in, out)           (y = x @ W + b)
  conv    (Cout, Cin, KH, KW)                -> (KH, KW, Cin, Cout)
  flatten PyTorch/ONNX flatten a (C, H, W) map in (c, h, w) order, aimcsim in (h, w, c) order:
          the rows of the first dense layer after a flatten are permuted accordingly.

Batch norm is exported as a `batchnorm` layer (gamma, beta, mean, var, eps), not folded; the
simulator folds it into the dense/conv layer before it at load time.

The module also has a numpy forward pass of an exported network (channels last, every layer
type of the doc) used by --check (compare against the PyTorch model / an independent NCHW
evaluation of the ONNX graph) and --eval (accuracy on the workload's data).

Command lines (run with Debian's /usr/bin/python3):

  export_network.py --torch model.pt --input-shape 28,28,1 --out DIR [--check]
  export_network.py --onnx model.onnx --out DIR [--check]
  export_network.py --eval DIR [--samples N]

`--torch` takes a whole module saved with torch.save(model) (not a state dict).
"""

import argparse
import gzip
import os
import sys

import numpy as np

__all__ = [
    "NetworkBuilder", "export_torch", "export_onnx", "write_workload_yaml", "load_workload",
    "forward", "read_idx", "load_data", "check_torch", "check_onnx", "evaluate", "format_layer",
]


# ============================================================================ builder
class ExportError(Exception):
    pass


class NetworkBuilder:
    """Collects layers in aimcsim's format while tracking the shape of the feature map.

    The shape is ('map', H, W, C) or ('vec', F). Weights are given in PyTorch/ONNX layouts and
    converted here, so the PyTorch and the ONNX paths share every layout rule.
    """

    def __init__(self, input_shape):
        input_shape = tuple(int(v) for v in input_shape)
        if len(input_shape) == 3:
            self.shape = ("map",) + input_shape
        elif len(input_shape) == 1:
            self.shape = ("vec", input_shape[0])
        else:
            raise ExportError(f"input_shape must be [H, W, C] or [F], got {list(input_shape)}")
        self.input_shape = list(input_shape)
        self.layers = []          # dicts as they go into workload.yaml (file names as values)
        self.arrays = {}          # file name -> float32 array
        self.counters = {}
        self.pending_perm = None  # row permutation for the first dense after a flatten of a map
        self.last_analog = None   # index into layers of a dense/conv that a batchnorm may follow

    # ------------------------------------------------------------------ helpers
    def _name(self, prefix):
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]}"

    def _file(self, layer_name, suffix, array):
        array = np.asarray(array, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise ExportError(f"{layer_name}: {suffix} has NaN or infinite values")
        fname = f"{layer_name}_{suffix}.npy"
        self.arrays[fname] = np.ascontiguousarray(array.astype(np.float32))
        return fname

    def _channels(self):
        return self.shape[3] if self.shape[0] == "map" else self.shape[1]

    def _features(self):
        if self.shape[0] == "map":
            return self.shape[1] * self.shape[2] * self.shape[3]
        return self.shape[1]

    def _map(self, what):
        if self.shape[0] != "map":
            raise ExportError(f"{what} needs an (H, W, C) map, but the input here is a vector "
                              f"of {self.shape[1]}")
        return self.shape[1:]

    # ------------------------------------------------------------------ layers
    def dense(self, weight_out_in, bias=None):
        """weight_out_in: (out, in) as in PyTorch nn.Linear / ONNX Gemm with transB=1."""
        w = np.asarray(weight_out_in, dtype=np.float64)
        if w.ndim != 2:
            raise ExportError(f"dense weight must be 2-D, got shape {w.shape}")
        n_out, n_in = w.shape
        if self.shape[0] == "map":
            raise ExportError("dense layer on an (H, W, C) map: insert a flatten first "
                              "(PyTorch's nn.Linear would act on the last axis)")
        if n_in != self.shape[1]:
            raise ExportError(f"dense layer expects {n_in} inputs, the layer before gives "
                              f"{self.shape[1]}")
        w_in_out = w.T
        if self.pending_perm is not None:
            w_in_out = w_in_out[self.pending_perm]   # row q (h, w, c order) <- row p (c, h, w)
            self.pending_perm = None
        name = self._name("fc")
        layer = {"name": name, "type": "dense", "weight": self._file(name, "w", w_in_out)}
        if bias is not None:
            b = np.asarray(bias, dtype=np.float64).reshape(-1)
            if b.shape != (n_out,):
                raise ExportError(f"{name}: bias has shape {b.shape}, expected ({n_out},)")
            layer["bias"] = self._file(name, "b", b)
        self.layers.append(layer)
        self.last_analog = len(self.layers) - 1
        self.shape = ("vec", n_out)
        return layer

    def conv2d(self, weight_oihw, bias=None, stride=1, padding=0):
        """weight_oihw: (Cout, Cin, KH, KW) as in PyTorch nn.Conv2d / ONNX Conv."""
        w = np.asarray(weight_oihw, dtype=np.float64)
        if w.ndim != 4:
            raise ExportError(f"conv2d weight must be 4-D, got shape {w.shape}")
        h, wd, c = self._map("conv2d")
        cout, cin, kh, kw = w.shape
        if cin != c:
            raise ExportError(f"conv2d expects {cin} input channels, the map has {c}")
        hout = (h + 2 * padding - kh) // stride + 1
        wout = (wd + 2 * padding - kw) // stride + 1
        if hout < 1 or wout < 1:
            raise ExportError(f"conv2d kernel {kh}x{kw} does not fit the {h}x{wd} map")
        name = self._name("conv")
        layer = {"name": name, "type": "conv2d",
                 "weight": self._file(name, "w", w.transpose(2, 3, 1, 0))}
        if bias is not None:
            b = np.asarray(bias, dtype=np.float64).reshape(-1)
            if b.shape != (cout,):
                raise ExportError(f"{name}: bias has shape {b.shape}, expected ({cout},)")
            layer["bias"] = self._file(name, "b", b)
        if stride != 1:
            layer["stride"] = int(stride)
        if padding != 0:
            layer["padding"] = int(padding)
        self.layers.append(layer)
        self.last_analog = len(self.layers) - 1
        self.shape = ("map", hout, wout, cout)
        return layer

    def batchnorm(self, gamma, beta, mean, var, eps=1e-5):
        if self.last_analog is None or self.last_analog != len(self.layers) - 1:
            raise ExportError("batchnorm must follow a dense or conv2d layer directly "
                              "(the simulator folds it into that layer)")
        c = self._channels()
        arrays = {}
        for key, v in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
            v = np.asarray(v, dtype=np.float64).reshape(-1)
            if v.shape != (c,):
                raise ExportError(f"batchnorm {key} has shape {v.shape}, expected ({c},)")
            arrays[key] = v
        if np.any(arrays["var"] + eps <= 0):
            raise ExportError("batchnorm: var + eps must be positive")
        name = self._name("bn")
        layer = {"name": name, "type": "batchnorm"}
        for key in ("gamma", "beta", "mean", "var"):
            layer[key] = self._file(name, key, arrays[key])
        layer["eps"] = float(eps)
        self.layers.append(layer)
        self.last_analog = None
        return layer

    def relu(self):
        self.layers.append({"type": "relu"})
        self.last_analog = None

    def pool(self, kind, kernel, stride=None):
        h, w, c = self._map(kind)
        stride = kernel if stride is None else stride
        hout = (h - kernel) // stride + 1
        wout = (w - kernel) // stride + 1
        if hout < 1 or wout < 1:
            raise ExportError(f"{kind} kernel {kernel} does not fit the {h}x{w} map")
        layer = {"type": kind, "kernel": int(kernel)}
        if stride != kernel:
            layer["stride"] = int(stride)
        self.layers.append(layer)
        self.last_analog = None
        self.shape = ("map", hout, wout, c)

    def flatten(self):
        if self.shape[0] == "map":
            h, w, c = self.shape[1:]
            # q = (h*W + w)*C + c  takes PyTorch's row p = (c*H + h)*W + w
            self.pending_perm = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
            self.layers.append({"type": "flatten"})
            self.shape = ("vec", h * w * c)
        else:
            self.layers.append({"type": "flatten"})
        self.last_analog = None

    def add(self, from_index):
        """Residual: add the output of layer number from_index (gets a name if it has none)."""
        ref = self.layers[from_index]
        if "name" not in ref:
            ref["name"] = self._name(ref["type"] + "_")
        self.layers.append({"type": "add", "from": ref["name"]})
        self.last_analog = None

    def add_bias(self, bias):
        """An Add of a constant right after a dense/conv (ONNX MatMul + Add): becomes its bias."""
        if self.last_analog is None or self.last_analog != len(self.layers) - 1:
            raise ExportError("Add of a constant is only supported right after MatMul/Gemm/Conv")
        layer = self.layers[-1]
        c = self._channels()
        b = np.asarray(bias, dtype=np.float64)
        if b.size == 1:
            b = np.full(c, float(b.reshape(-1)[0]))
        if layer["type"] == "conv2d" and b.ndim == 4:
            b = b.reshape(-1)  # (1, C, 1, 1)
        b = b.reshape(-1)
        if b.shape != (c,):
            raise ExportError(f"{layer['name']}: constant Add of shape {b.shape} is no per-channel bias")
        if "bias" in layer:
            b = b + self.arrays[layer["bias"]].astype(np.float64)
        layer["bias"] = self._file(layer["name"], "b", b)

    # ------------------------------------------------------------------ output
    def write_arrays(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        for fname, arr in self.arrays.items():
            np.save(os.path.join(out_dir, fname), arr)


# ============================================================================ PyTorch
def export_torch(model, input_shape):
    """Convert a PyTorch nn.Sequential (possibly nested) into a NetworkBuilder (not yet written)."""
    import torch.nn as nn

    def leaves(m):
        if isinstance(m, nn.Sequential):
            for child in m.children():
                yield from leaves(child)
        else:
            yield m

    def pair(v, what):
        if isinstance(v, (tuple, list)):
            if len(set(v)) != 1:
                raise ExportError(f"{what} must be the same along H and W, got {v}")
            return int(v[0])
        return int(v)

    b = NetworkBuilder(input_shape)
    for m in leaves(model):
        t = lambda p: None if p is None else p.detach().cpu().double().numpy()  # noqa: E731
        if isinstance(m, nn.Linear):
            b.dense(t(m.weight), t(m.bias))
        elif isinstance(m, nn.Conv2d):
            if m.groups != 1 or pair(m.dilation, "dilation") != 1:
                raise ExportError("conv2d: groups and dilation must be 1")
            if isinstance(m.padding, str) or m.padding_mode != "zeros":
                raise ExportError("conv2d: only numeric zero padding is supported")
            b.conv2d(t(m.weight), t(m.bias), stride=pair(m.stride, "stride"),
                     padding=pair(m.padding, "padding"))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if m.running_mean is None:
                raise ExportError("batchnorm without running statistics cannot be exported")
            c = m.num_features
            gamma = t(m.weight) if m.affine else np.ones(c)
            beta = t(m.bias) if m.affine else np.zeros(c)
            b.batchnorm(gamma, beta, t(m.running_mean), t(m.running_var), m.eps)
        elif isinstance(m, nn.ReLU):
            b.relu()
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            kind = "maxpool" if isinstance(m, nn.MaxPool2d) else "avgpool"
            if pair(m.padding, "padding") != 0 or m.ceil_mode:
                raise ExportError(f"{kind}: padding and ceil_mode are not supported")
            if isinstance(m, nn.MaxPool2d) and pair(m.dilation, "dilation") != 1:
                raise ExportError("maxpool: dilation is not supported")
            k = pair(m.kernel_size, "kernel_size")
            s = k if m.stride is None else pair(m.stride, "stride")
            b.pool(kind, k, s)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ExportError("flatten: only start_dim=1, end_dim=-1")
            b.flatten()
        elif isinstance(m, (nn.Identity, nn.Dropout)):
            continue
        else:
            raise ExportError(f"unsupported PyTorch module {type(m).__name__}")
    return b


# ============================================================================ ONNX
def _onnx_attrs(node):
    import onnx.helper
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _onnx_constants(graph):
    from onnx import numpy_helper
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            a = _onnx_attrs(node)
            if "value" in a:
                consts[node.output[0]] = numpy_helper.to_array(a["value"])
            elif "value_float" in a:
                consts[node.output[0]] = np.array(a["value_float"], dtype=np.float32)
            elif "value_floats" in a:
                consts[node.output[0]] = np.array(a["value_floats"], dtype=np.float32)
            elif "value_int" in a:
                consts[node.output[0]] = np.array(a["value_int"], dtype=np.int64)
            elif "value_ints" in a:
                consts[node.output[0]] = np.array(a["value_ints"], dtype=np.int64)
    return consts


def _onnx_input(model, consts):
    """The graph's one data input: (name, dims), dims with the batch axis first."""
    inputs = [i for i in model.graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise ExportError(f"the ONNX graph must have exactly one data input, has "
                          f"{[i.name for i in inputs]}")
    dims = []
    for d in inputs[0].type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else None)
    return inputs[0].name, dims


def onnx_input_shape(path_or_model):
    """aimcsim input_shape ([H, W, C] or [F]) from the ONNX graph input (N, C, H, W) / (N, F)."""
    import onnx
    model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    _, dims = _onnx_input(model, _onnx_constants(model.graph))
    if any(d is None for d in dims[1:]):
        raise ExportError(f"ONNX input has symbolic dimensions {dims}: give --input-shape")
    if len(dims) == 4:
        return [dims[2], dims[3], dims[1]]
    if len(dims) == 2:
        return [dims[1]]
    raise ExportError(f"ONNX input of rank {len(dims)} is not supported")


def _same(vals, what, default):
    if vals is None:
        return default
    vals = list(vals)
    if len(set(vals)) != 1:
        raise ExportError(f"{what} must be the same on every side/axis, got {vals}")
    return int(vals[0])


def export_onnx(path_or_model, input_shape=None):
    """Convert an ONNX model into a NetworkBuilder (not yet written)."""
    import onnx
    model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    graph = model.graph
    consts = _onnx_constants(graph)
    in_name, _ = _onnx_input(model, consts)
    if input_shape is None:
        input_shape = onnx_input_shape(model)
    b = NetworkBuilder(input_shape)
    produced = {in_name: -1}   # tensor name -> index of the layer that produced it (-1: input)
    current = in_name

    def data_input(node, idx=0):
        name = node.input[idx]
        if name != current:
            raise ExportError(f"ONNX node {node.name or node.op_type} reads {name}, not the "
                              f"output of the node before it: only chains (and residual Add) "
                              f"are supported")
        return name

    def const(name, what):
        if name not in consts:
            raise ExportError(f"{what}: input {name} must be an initializer or Constant")
        return np.asarray(consts[name], dtype=np.float64)

    for node in graph.node:
        op = node.op_type
        a = _onnx_attrs(node)
        if op == "Constant":
            continue
        if op in ("Gemm", "MatMul", "Conv", "BatchNormalization", "Relu", "MaxPool",
                  "AveragePool", "Flatten", "Reshape", "Identity", "Dropout"):
            data_input(node)
        if op == "Gemm":
            if a.get("transA", 0):
                raise ExportError("Gemm with transA=1 is not supported")
            w = const(node.input[1], "Gemm") * a.get("alpha", 1.0)
            w_out_in = w if a.get("transB", 0) else w.T
            bias = None
            if len(node.input) > 2 and node.input[2]:
                bias = const(node.input[2], "Gemm") * a.get("beta", 1.0)
                bias = np.broadcast_to(bias.reshape(-1), (w_out_in.shape[0],))
            b.dense(w_out_in, bias)
        elif op == "MatMul":
            w = const(node.input[1], "MatMul")   # (in, out)
            b.dense(w.T, None)
        elif op == "Add":
            ins = list(node.input)
            if any(n in consts for n in ins):
                c_name = ins[0] if ins[0] in consts else ins[1]
                d_name = ins[1] if c_name == ins[0] else ins[0]
                if d_name != current:
                    raise ExportError("constant Add must follow the node before it")
                b.add_bias(const(c_name, "Add"))
            else:
                if current not in ins:
                    raise ExportError("Add: neither input is the output of the node before it")
                other = ins[1] if ins[0] == current else ins[0]
                if other not in produced or produced[other] < 0:
                    raise ExportError("Add: the residual input must be the output of an "
                                      "earlier layer (not the network input)")
                b.add(produced[other])
        elif op == "Conv":
            if a.get("group", 1) != 1 or _same(a.get("dilations"), "dilations", 1) != 1:
                raise ExportError("Conv: group and dilations must be 1")
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ExportError("Conv: auto_pad is not supported, use explicit pads")
            w = const(node.input[1], "Conv")
            if "kernel_shape" in a and list(a["kernel_shape"]) != list(w.shape[2:]):
                raise ExportError("Conv: kernel_shape does not match the weight")
            bias = const(node.input[2], "Conv") if len(node.input) > 2 and node.input[2] else None
            b.conv2d(w, bias, stride=_same(a.get("strides"), "strides", 1),
                     padding=_same(a.get("pads"), "pads", 0))
        elif op == "BatchNormalization":
            if a.get("training_mode", 0):
                raise ExportError("BatchNormalization in training mode is not supported")
            b.batchnorm(const(node.input[1], "BN scale"), const(node.input[2], "BN bias"),
                        const(node.input[3], "BN mean"), const(node.input[4], "BN var"),
                        float(str(np.float32(a.get("epsilon", 1e-5)))))   # float32 attr
        elif op == "Relu":
            b.relu()
        elif op in ("MaxPool", "AveragePool"):
            kind = "maxpool" if op == "MaxPool" else "avgpool"
            k = _same(a.get("kernel_shape"), "kernel_shape", None)
            s = _same(a.get("strides"), "strides", k)
            if _same(a.get("pads"), "pads", 0) != 0 or a.get("ceil_mode", 0):
                raise ExportError(f"{op}: pads and ceil_mode are not supported")
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
                raise ExportError(f"{op}: auto_pad is not supported")
            if op == "MaxPool" and _same(a.get("dilations"), "dilations", 1) != 1:
                raise ExportError("MaxPool: dilations are not supported")
            b.pool(kind, k, s)
        elif op == "Flatten":
            if a.get("axis", 1) != 1:
                raise ExportError("Flatten: only axis=1")
            b.flatten()
        elif op == "Reshape":
            shape = [int(v) for v in const(node.input[1], "Reshape").reshape(-1)]
            feats = b._features()
            if len(shape) == 2 and shape[0] in (0, -1, 1) and shape[1] in (-1, feats) \
                    and not (shape[0] == -1 and shape[1] == -1):
                b.flatten()
            else:
                raise ExportError(f"Reshape to {shape}: only a flatten to (N, -1) is supported")
        elif op in ("Identity", "Dropout"):
            pass
        elif op == "Pad":   # torch exports AvgPool2d as a (zero) Pad + AveragePool
            data_input(node)
            pads = a.get("pads")
            if pads is None and len(node.input) > 1 and node.input[1]:
                pads = const(node.input[1], "Pad").reshape(-1)
            if pads is None or np.any(np.asarray(pads) != 0):
                raise ExportError("Pad: only all-zero pads are supported (use the padding of "
                                  "Conv instead)")
        else:
            raise ExportError(f"unsupported ONNX operator {op}")
        if op in ("Identity", "Dropout", "Pad"):
            produced[node.output[0]] = produced[current]
        else:
            produced[node.output[0]] = len(b.layers) - 1
        current = node.output[0]
    outs = [o.name for o in graph.output]
    if current not in outs:
        raise ExportError(f"the last node's output {current} is not the graph output {outs}")
    return b


# ============================================================================ workload.yaml
def _yaml_scalar(v, flow=False):
    """v as a YAML scalar; strings are quoted only where a plain scalar would not do (in a
    flow mapping, flow=True, also where they contain a comma or a bracket)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        r = repr(float(v))
        mant, _, exp = r.partition("e")
        if exp and "." not in mant:   # YAML 1.1 (PyYAML) reads 1e-05 as a string, 1.0e-05 not
            r = f"{mant}.0e{exp}"
        return r
    s = str(v)
    special = ": " in s or " #" in s or s.endswith(":") or s.strip() != s or s == "" \
        or s[0] in "-?:,[]{}#&*!|>'\"%@`" or (flow and any(ch in s for ch in ",[]{}"))
    if not special:   # a string that YAML would read as a number, bool or null
        import yaml
        try:
            special = not isinstance(yaml.safe_load(s), str)
        except yaml.YAMLError:
            special = True
    if not special:
        try:
            float(s)      # YAML 1.2 readers take 1e5 as a number (PyYAML, YAML 1.1, does not)
            special = True
        except ValueError:
            pass
    return "'" + s.replace("'", "''") + "'" if special else s


def format_layer(layer):
    """One layer as a YAML flow mapping, keys in a stable order."""
    order = ["name", "type", "weight", "bias", "gamma", "beta", "mean", "var", "eps",
             "kernel", "stride", "padding", "activation", "from"]
    keys = [k for k in order if k in layer] + [k for k in layer if k not in order]
    return "{" + ", ".join(f"{k}: {_yaml_scalar(layer[k], flow=True)}" for k in keys) + "}"


def write_workload_yaml(out_dir, builder, name=None, description=None, samples=None,
                        data=None, comments=(), argmax=True):
    """Write out_dir/workload.yaml (and the .npy files). data: dict of the `data:` keys."""
    builder.write_arrays(out_dir)
    lines = [f"# {c}" if c else "#" for c in comments]
    if name:
        lines.append(f"name: {_yaml_scalar(name)}")
    if description:
        lines.append(f"description: {_yaml_scalar(description)}")
    if samples:
        lines.append(f"samples: {int(samples)}")
    if data:
        lines.append("data:")
        for k in ("format", "inputs", "labels", "scale", "offset"):
            if k in data and data[k] is not None:
                lines.append(f"  {k}: {_yaml_scalar(data[k])}")
    lines.append("input_shape: [" + ", ".join(str(v) for v in builder.input_shape) + "]")
    lines.append("network:")
    for layer in builder.layers:
        lines.append("  - " + format_layer(layer))
    if argmax:
        lines.append("  - {type: argmax}")
    text = "\n".join(lines) + "\n"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "workload.yaml"), "w") as f:
        f.write(text)
    return text


# ============================================================================ numpy forward
_LAYER_KEYS = {
    "dense": {"weight", "bias", "activation"},
    "conv2d": {"weight", "bias", "stride", "padding", "activation"},
    "batchnorm": {"gamma", "beta", "mean", "var", "eps"},
    "relu": set(), "flatten": set(), "argmax": set(),
    "maxpool": {"kernel", "stride"}, "avgpool": {"kernel", "stride"},
    "add": {"from"},
}


def load_workload(folder):
    """Read folder/workload.yaml and the arrays it names: a dict with 'input_shape',
    'network' (layers with arrays loaded in place of file names) and 'data'."""
    import yaml
    with open(os.path.join(folder, "workload.yaml")) as f:
        wl = yaml.safe_load(f)
    net = []
    for i, layer in enumerate(wl["network"]):
        layer = dict(layer)
        t = layer.get("type")
        if t not in _LAYER_KEYS:
            raise ExportError(f"layer {i}: unknown type {t}")
        extra = set(layer) - _LAYER_KEYS[t] - {"name", "type"}
        if extra:
            raise ExportError(f"layer {i} ({t}): unknown keys {sorted(extra)}")
        for k in ("weight", "bias", "gamma", "beta", "mean", "var"):
            if k in layer:
                arr = np.load(os.path.join(folder, layer[k]))
                if not np.all(np.isfinite(arr)):
                    raise ExportError(f"{layer[k]}: NaN or infinite values")
                layer[k] = arr
        layer.setdefault("name", f"{t}_{i}")
        net.append(layer)
    return {"input_shape": wl.get("input_shape"), "network": net, "data": wl.get("data", {}),
            "samples": wl.get("samples"), "name": wl.get("name")}


def _conv_hwc(x, w, stride, padding):
    """x (N, H, W, Cin), w (KH, KW, Cin, Cout) -> (N, Hout, Wout, Cout)."""
    kh, kw, cin, cout = w.shape
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # N,Ho,Wo,C,KH,KW
    win = win[:, ::stride, ::stride]
    n, ho, wo = win.shape[:3]
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * cin)
    return (cols @ w.reshape(kh * kw * cin, cout)).reshape(n, ho, wo, cout)


def _pool_hwc(x, k, s, kind):
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]
    return win.max(axis=(-2, -1)) if kind == "maxpool" else win.mean(axis=(-2, -1))


def forward(workload, x, dtype=np.float64):
    """Numpy forward pass, channels last. x: (N, features) already scaled (raw·scale+offset).
    Returns the last layer's output (the logits; a final argmax layer is left out)."""
    shape = workload["input_shape"] or [x.shape[1]]
    n = x.shape[0]
    if int(np.prod(shape)) != x.shape[1]:
        raise ExportError(f"input_shape {shape} does not match {x.shape[1]} features")
    h = np.asarray(x, dtype=dtype).reshape((n,) + tuple(shape))
    outputs = {}
    cast = lambda a: np.asarray(a, dtype=dtype)  # noqa: E731
    for layer in workload["network"]:
        t = layer["type"]
        if t == "dense":
            h = h.reshape(n, -1) @ cast(layer["weight"])
            if "bias" in layer:
                h = h + cast(layer["bias"])
        elif t == "conv2d":
            if h.ndim != 4:
                raise ExportError("conv2d on a vector")
            h = _conv_hwc(h, cast(layer["weight"]), int(layer.get("stride", 1)),
                          int(layer.get("padding", 0)))
            if "bias" in layer:
                h = h + cast(layer["bias"])
        elif t == "batchnorm":
            eps = float(layer.get("eps", 1e-5))
            h = cast(layer["gamma"]) * (h - cast(layer["mean"])) / np.sqrt(
                cast(layer["var"]) + dtype(eps)) + cast(layer["beta"])
        elif t == "relu":
            h = np.maximum(h, 0)
        elif t in ("maxpool", "avgpool"):
            k = int(layer["kernel"])
            h = _pool_hwc(h, k, int(layer.get("stride", k)), t)
        elif t == "flatten":
            h = h.reshape(n, -1)
        elif t == "add":
            h = h + outputs[layer["from"]]
        elif t == "argmax":
            pass
        if layer.get("activation") == "relu":
            h = np.maximum(h, 0)
        outputs[layer["name"]] = h
    return h.reshape(n, -1)


# ============================================================================ data
def read_idx(path):
    """An IDX file (MNIST format), gzip-compressed when the name ends in .gz."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ExportError(f"{path}: not an IDX file")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ExportError(f"{path}: unknown IDX type 0x{raw[2]:02x}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dt = np.dtype(dtypes[raw[2]])
    start = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - start < count * dt.itemsize:
        raise ExportError(f"{path}: truncated ({len(raw) - start} bytes of data, "
                          f"{count * dt.itemsize} expected)")
    return np.frombuffer(raw, dtype=dt, count=count, offset=start).reshape(dims)


def load_data(workload, folder, samples=None):
    """(inputs (N, features) float64 scaled, labels (N,)) as the workload's data: says."""
    d = workload["data"] or {}
    fmt = d.get("format", "npy")
    path = lambda p: p if os.path.isabs(p) else os.path.join(folder, p)  # noqa: E731
    if fmt == "idx":
        xs, ys = read_idx(path(d["inputs"])), read_idx(path(d["labels"]))
    else:
        xs, ys = np.load(path(d["inputs"])), np.load(path(d["labels"]))
    xs = xs.reshape(xs.shape[0], -1).astype(np.float64) * float(d.get("scale", 1)) \
        + float(d.get("offset", 0))
    if samples:
        xs, ys = xs[:samples], ys[:samples]
    return xs, ys.astype(np.int64)


def evaluate(folder, samples=None, dtype=np.float32, batch=1000):
    """Accuracy of the exported network in folder on its data (numpy, channels last)."""
    wl = load_workload(folder)
    xs, ys = load_data(wl, folder, samples or wl.get("samples"))
    correct = 0
    for i in range(0, len(xs), batch):
        logits = forward(wl, xs[i:i + batch], dtype=dtype)
        correct += int((logits.argmax(axis=1) == ys[i:i + batch]).sum())
    return correct, len(xs)


# ============================================================================ checks
def _to_nchw(x_flat, input_shape):
    n = x_flat.shape[0]
    if len(input_shape) == 3:
        h, w, c = input_shape
        return x_flat.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return x_flat.reshape(n, -1)


def check_torch(model, folder, inputs=None, n=64, seed=0):
    """Max |logits(exported files, numpy) - logits(PyTorch model)| on inputs (N, features) in
    the simulator's channels-last order (default: n uniform random inputs in [0, 1))."""
    import torch
    wl = load_workload(folder)
    shape = wl["input_shape"]
    if inputs is None:
        inputs = np.random.default_rng(seed).random((n, int(np.prod(shape))))
    ours = forward(wl, inputs, dtype=np.float64)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(np.ascontiguousarray(
            _to_nchw(inputs, shape))).float()).double().numpy()
    model.train(was_training)
    return float(np.max(np.abs(ours - ref.reshape(ours.shape))))


def onnx_reference_forward(path_or_model, x_nchw):
    """Independent NCHW numpy evaluation of an ONNX graph with the supported operators (the
    reference for check_onnx; onnx 1.12 has no onnx.reference)."""
    import onnx
    model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
    consts = {k: np.asarray(v, dtype=np.float64) if v.dtype.kind == "f" else v
              for k, v in _onnx_constants(model.graph).items()}
    in_name, _ = _onnx_input(model, consts)
    env = dict(consts)
    env[in_name] = np.asarray(x_nchw, dtype=np.float64)
    for node in model.graph.node:
        op, a = node.op_type, _onnx_attrs(node)
        i = [env[nm] if nm else None for nm in node.input]
        if op == "Constant":
            continue
        if op == "Gemm":
            A, B = i[0], i[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * A @ B
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Conv":
            x, w = i[0], i[1]
            p = int(a.get("pads", [0])[0])
            s = int(a.get("strides", [1])[0])
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            cout, cin, kh, kw = w.shape
            ho = (xp.shape[2] - kh) // s + 1
            wo = (xp.shape[3] - kw) // s + 1
            y = np.zeros((x.shape[0], cout, ho, wo))
            for u in range(kh):          # direct convolution, a different route than im2col
                for v in range(kw):
                    patch = xp[:, :, u:u + s * (ho - 1) + 1:s, v:v + s * (wo - 1) + 1:s]
                    y += np.einsum("nchw,oc->nohw", patch, w[:, :, u, v])
            if len(i) > 2 and i[2] is not None:
                y = y + i[2].reshape(1, -1, 1, 1)
        elif op == "BatchNormalization":
            sh = (1, -1) + (1,) * (i[0].ndim - 2)
            y = (i[1].reshape(sh) * (i[0] - i[3].reshape(sh)) /
                 np.sqrt(i[4].reshape(sh) + a.get("epsilon", 1e-5)) + i[2].reshape(sh))
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op in ("MaxPool", "AveragePool"):
            k = int(a["kernel_shape"][0])
            s = int(a.get("strides", [k])[0])
            x = i[0]
            ho = (x.shape[2] - k) // s + 1
            wo = (x.shape[3] - k) // s + 1
            stack = np.stack([x[:, :, u:u + s * (ho - 1) + 1:s, v:v + s * (wo - 1) + 1:s]
                              for u in range(k) for v in range(k)])
            y = stack.max(axis=0) if op == "MaxPool" else stack.mean(axis=0)
        elif op == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif op == "Reshape":
            shape = [int(v) for v in i[1].reshape(-1)]
            shape = [i[0].shape[j] if v == 0 else v for j, v in enumerate(shape)]
            y = i[0].reshape(shape)
        elif op in ("Identity", "Dropout"):
            y = i[0]
        elif op == "Pad":
            pads = a.get("pads")
            if pads is None:
                pads = i[1].reshape(-1)
            r = i[0].ndim
            y = np.pad(i[0], [(int(pads[j]), int(pads[j + r])) for j in range(r)])
        else:
            raise ExportError(f"reference: unsupported ONNX operator {op}")
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


def check_onnx(path_or_model, folder, inputs=None, n=64, seed=0):
    """Max |logits(exported files) - logits(independent NCHW evaluation of the ONNX graph)|."""
    wl = load_workload(folder)
    shape = wl["input_shape"]
    if inputs is None:
        inputs = np.random.default_rng(seed).random((n, int(np.prod(shape))))
    ours = forward(wl, inputs, dtype=np.float64)
    ref = onnx_reference_forward(path_or_model, _to_nchw(inputs, shape))
    return float(np.max(np.abs(ours - ref.reshape(ours.shape))))


# ============================================================================ CLI
def _parse_shape(s):
    return [int(v) for v in s.replace("x", ",").split(",") if v.strip()]


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Export a PyTorch nn.Sequential or an ONNX model to aimcsim's network "
                    "format (workload.yaml + float32 .npy), or evaluate an exported workload.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--torch", metavar="MODEL.pt", help="a module saved with torch.save(model)")
    src.add_argument("--onnx", metavar="MODEL.onnx")
    src.add_argument("--eval", metavar="DIR", help="accuracy of the workload in DIR on its data")
    p.add_argument("--out", metavar="DIR", help="output folder (required with --torch/--onnx)")
    p.add_argument("--input-shape", help="H,W,C or F (required with --torch; ONNX: from the graph)")
    p.add_argument("--name", help="workload name (default: the folder name)")
    p.add_argument("--description")
    p.add_argument("--samples", type=int, help="samples: in workload.yaml; with --eval: how many")
    p.add_argument("--data-format", choices=["idx", "npy"])
    p.add_argument("--data-inputs")
    p.add_argument("--data-labels")
    p.add_argument("--scale", type=float)
    p.add_argument("--offset", type=float)
    p.add_argument("--no-argmax", action="store_true", help="leave out the final argmax layer")
    p.add_argument("--check", action="store_true",
                   help="run the exported files through the numpy forward pass and compare the "
                        "logits with the source model (max abs diff must be < 1e-4)")
    p.add_argument("--check-samples", type=int, default=64,
                   help="random inputs for --check (default 64); with --data-inputs the first "
                        "samples of the data set are used as well")
    args = p.parse_args(argv)

    if args.eval:
        correct, total = evaluate(args.eval, args.samples)
        print(f"{args.eval}: {correct}/{total} = {100.0 * correct / total:.2f}% "
              f"(float32 software reference)")
        return 0
    if not args.out:
        p.error("--out is required with --torch/--onnx")
    try:
        if args.torch:
            import torch
            if not args.input_shape:
                p.error("--input-shape is required with --torch")
            try:
                model = torch.load(args.torch, map_location="cpu", weights_only=False)
            except TypeError:   # torch < 2.0 has no weights_only
                model = torch.load(args.torch, map_location="cpu")
            if isinstance(model, dict):
                raise ExportError(f"{args.torch} holds a state dict; save the module itself "
                                  f"with torch.save(model)")
            builder = export_torch(model, _parse_shape(args.input_shape))
        else:
            shape = _parse_shape(args.input_shape) if args.input_shape else None
            builder = export_onnx(args.onnx, shape)
        data = None
        if args.data_inputs or args.data_labels:
            data = {"format": args.data_format, "inputs": args.data_inputs,
                    "labels": args.data_labels, "scale": args.scale, "offset": args.offset}
        name = args.name or os.path.basename(os.path.normpath(args.out))
        write_workload_yaml(args.out, builder, name=name, description=args.description,
                            samples=args.samples, data=data,
                            comments=[f"Network exported by scripts/export_network.py from "
                                      f"{args.torch or args.onnx}"],
                            argmax=not args.no_argmax)
        print(f"wrote {args.out}/workload.yaml and {len(builder.arrays)} .npy files")
        if args.check:
            wl = load_workload(args.out)
            inputs = np.random.default_rng(0).random(
                (args.check_samples, int(np.prod(wl["input_shape"]))))
            if data and data.get("inputs"):
                xs, _ = load_data(wl, args.out, args.check_samples)
                inputs = np.concatenate([inputs, xs])
            diff = (check_torch(model, args.out, inputs) if args.torch
                    else check_onnx(args.onnx, args.out, inputs))
            ok = diff < 1e-4
            print(f"check: max abs diff of the logits over {len(inputs)} inputs = {diff:.3g} "
                  f"({'ok' if ok else 'FAILED'}, limit 1e-4)")
            return 0 if ok else 1
    except ExportError as e:
        print(f"export_network: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
