#include "sim/network.hpp"

#include "models/common/matmul.hpp"


#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>

#include "sim/errors.hpp"
#include "sim/units.hpp"
#include "sim/yaml_tree.hpp"

namespace aimc {

namespace fs = std::filesystem;

const char* layer_type_name(LayerType t) {
    switch (t) {
        case LayerType::Dense: return "dense";
        case LayerType::Conv2d: return "conv2d";
        case LayerType::BatchNorm: return "batchnorm";
        case LayerType::Relu: return "relu";
        case LayerType::MaxPool: return "maxpool";
        case LayerType::AvgPool: return "avgpool";
        case LayerType::Flatten: return "flatten";
        case LayerType::Add: return "add";
        case LayerType::Argmax: return "argmax";
    }
    return "?";
}

std::size_t shape_size(const Shape& s) {
    std::size_t n = 1;
    for (std::size_t d : s) n *= d;
    return n;
}

std::string shape_text(const Shape& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

std::size_t Layer::matrix_rows() const {
    if (type == LayerType::Dense) return weight.shape.at(0);
    if (type == LayerType::Conv2d) return weight.shape.at(0) * weight.shape.at(1) * weight.shape.at(2);
    return 0;
}

std::size_t Layer::matrix_cols() const {
    if (type == LayerType::Dense) return weight.shape.at(1);
    if (type == LayerType::Conv2d) return weight.shape.at(3);
    return 0;
}

std::uint64_t Layer::macs() const {
    if (type == LayerType::Dense) return static_cast<std::uint64_t>(matrix_rows()) * matrix_cols();
    if (type == LayerType::Conv2d)
        return static_cast<std::uint64_t>(out_shape.at(0)) * out_shape.at(1) * matrix_rows() * matrix_cols();
    return 0;
}

std::size_t Network::output_size() const {
    if (layers.empty()) return input_size();
    return shape_size(layers.back().out_shape);
}

std::uint64_t Network::macs_per_sample() const {
    std::uint64_t m = 0;
    for (const auto& l : layers) m += l.macs();
    return m;
}

std::size_t Network::find(const std::string& name) const {
    for (std::size_t i = 0; i < layers.size(); ++i)
        if (layers[i].name == name) return i;
    return layers.size();
}

// ---- forward pass ------------------------------------------------------------------------------

namespace {

// Y (rows × n) = X (rows × k) · W (k × n), all row-major.
void gemm(const float* x, const float* w, float* y, std::size_t rows, std::size_t k, std::size_t n) {
    if (rows == 0 || n == 0) return;
    if (k == 0) {
        std::fill(y, y + rows * n, 0.0f);
        return;
    }
    matmul(x, w, y, rows, k, n);
}

// Adds the bias per output column and applies relu, on `rows` rows of n.
void bias_relu(float* y, std::size_t rows, std::size_t n, const std::vector<float>& bias, bool relu) {
    for (std::size_t r = 0; r < rows; ++r) {
        float* v = y + r * n;
        for (std::size_t c = 0; c < n; ++c) {
            float t = v[c] + bias[c];
            v[c] = relu ? std::max(t, 0.0f) : t;
        }
    }
}

void dense_forward(const Layer& l, const std::vector<float>& x, std::vector<float>& y, std::size_t batch) {
    const std::size_t k = l.matrix_rows(), n = l.matrix_cols();
    y.resize(batch * n);
    gemm(x.data(), l.wf.data(), y.data(), batch, k, n);
    bias_relu(y.data(), batch, n, l.bf, l.relu);
}

// im2col + one sgemm per chunk of samples: the patch of output position (oy, ox) is the
// zero-padded input window in (ky, kx, c) order, which is the row order of the (KH, KW, Cin, Cout)
// weight viewed as (KH·KW·Cin, Cout); the product is (Hout·Wout, Cout), channels last.
void conv_forward(const Layer& l, const std::vector<float>& x, std::vector<float>& y, std::size_t batch) {
    const std::size_t H = l.in_shape[0], W = l.in_shape[1], C = l.in_shape[2];
    const std::size_t KH = l.weight.shape[0], KW = l.weight.shape[1], Cout = l.weight.shape[3];
    const std::size_t Ho = l.out_shape[0], Wo = l.out_shape[1];
    const std::size_t S = l.stride, P = l.padding;
    const std::size_t K = KH * KW * C, positions = Ho * Wo;
    y.resize(batch * positions * Cout);
    const std::size_t per_sample = std::max<std::size_t>(1, positions * K);
    const std::size_t chunk = std::max<std::size_t>(1, std::min(batch, (std::size_t{4} << 20) / per_sample));
    std::vector<float> patches(chunk * positions * K);
    for (std::size_t b0 = 0; b0 < batch; b0 += chunk) {
        const std::size_t nb = std::min(chunk, batch - b0);
        for (std::size_t b = 0; b < nb; ++b) {
            const float* in = x.data() + (b0 + b) * H * W * C;
            for (std::size_t oy = 0; oy < Ho; ++oy)
                for (std::size_t ox = 0; ox < Wo; ++ox) {
                    float* row = patches.data() + ((b * Ho + oy) * Wo + ox) * K;
                    for (std::size_t ky = 0; ky < KH; ++ky) {
                        const long iy = static_cast<long>(oy * S + ky) - static_cast<long>(P);
                        for (std::size_t kx = 0; kx < KW; ++kx) {
                            const long ix = static_cast<long>(ox * S + kx) - static_cast<long>(P);
                            float* dst = row + (ky * KW + kx) * C;
                            if (iy < 0 || ix < 0 || iy >= static_cast<long>(H) || ix >= static_cast<long>(W))
                                std::fill(dst, dst + C, 0.0f);
                            else
                                std::memcpy(dst, in + (static_cast<std::size_t>(iy) * W + static_cast<std::size_t>(ix)) * C,
                                            C * sizeof(float));
                        }
                    }
                }
        }
        float* out = y.data() + b0 * positions * Cout;
        gemm(patches.data(), l.wf.data(), out, nb * positions, K, Cout);
        bias_relu(out, nb * positions, Cout, l.bf, l.relu);
    }
}

void pool_forward(const Layer& l, const std::vector<float>& x, std::vector<float>& y, std::size_t batch) {
    const std::size_t H = l.in_shape[0], W = l.in_shape[1], C = l.in_shape[2];
    const std::size_t Ho = l.out_shape[0], Wo = l.out_shape[1];
    const std::size_t K = l.kernel, S = l.stride;
    const bool max = l.type == LayerType::MaxPool;
    const float inv = 1.0f / static_cast<float>(K * K);
    y.resize(batch * Ho * Wo * C);
    for (std::size_t b = 0; b < batch; ++b) {
        const float* in = x.data() + b * H * W * C;
        float* out = y.data() + b * Ho * Wo * C;
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox) {
                float* o = out + (oy * Wo + ox) * C;
                for (std::size_t c = 0; c < C; ++c) o[c] = max ? -std::numeric_limits<float>::infinity() : 0.0f;
                for (std::size_t ky = 0; ky < K; ++ky)
                    for (std::size_t kx = 0; kx < K; ++kx) {
                        const float* v = in + ((oy * S + ky) * W + (ox * S + kx)) * C;
                        for (std::size_t c = 0; c < C; ++c) o[c] = max ? std::max(o[c], v[c]) : o[c] + v[c];
                    }
                if (!max)
                    for (std::size_t c = 0; c < C; ++c) o[c] *= inv;
            }
    }
}

}  // namespace

std::vector<float> Network::forward(const float* x, std::size_t batch) const {
    std::vector<bool> keep(layers.size(), false);
    for (const auto& l : layers)
        if (l.type == LayerType::Add) keep[l.from_index] = true;
    std::vector<std::vector<float>> kept(layers.size());
    std::vector<float> cur(x, x + batch * input_size()), next;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        switch (l.type) {
            case LayerType::Dense:
                dense_forward(l, cur, next, batch);
                cur.swap(next);
                break;
            case LayerType::Conv2d:
                conv_forward(l, cur, next, batch);
                cur.swap(next);
                break;
            case LayerType::MaxPool:
            case LayerType::AvgPool:
                pool_forward(l, cur, next, batch);
                cur.swap(next);
                break;
            case LayerType::Relu:
                for (auto& v : cur) v = std::max(v, 0.0f);
                break;
            case LayerType::Add: {
                const auto& r = kept[l.from_index];
                for (std::size_t k = 0; k < cur.size(); ++k) cur[k] += r[k];
                break;
            }
            case LayerType::BatchNorm:  // folded into the layer before
            case LayerType::Flatten:    // channels-last order is the flattened order
            case LayerType::Argmax:     // the prediction is the argmax of the logits
                break;
        }
        if (keep[i]) kept[i] = cur;
    }
    return cur;
}

// ---- reading workload.yaml -----------------------------------------------------------------------

namespace {

const std::vector<std::pair<std::string, LayerType>>& layer_types() {
    static const std::vector<std::pair<std::string, LayerType>> t = {
        {"dense", LayerType::Dense},     {"conv2d", LayerType::Conv2d},   {"batchnorm", LayerType::BatchNorm},
        {"relu", LayerType::Relu},       {"maxpool", LayerType::MaxPool}, {"avgpool", LayerType::AvgPool},
        {"flatten", LayerType::Flatten}, {"add", LayerType::Add},         {"argmax", LayerType::Argmax}};
    return t;
}

std::vector<std::string> keys_of(LayerType t) {
    std::vector<std::string> k = {"name", "type"};
    switch (t) {
        case LayerType::Dense: k.insert(k.end(), {"weight", "bias", "activation"}); break;
        case LayerType::Conv2d: k.insert(k.end(), {"weight", "bias", "stride", "padding", "activation"}); break;
        case LayerType::BatchNorm: k.insert(k.end(), {"gamma", "beta", "mean", "var", "eps"}); break;
        case LayerType::MaxPool:
        case LayerType::AvgPool: k.insert(k.end(), {"kernel", "stride"}); break;
        case LayerType::Add: k.push_back("from"); break;
        default: break;
    }
    return k;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

bool valid_name(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

class NetworkReader {
public:
    NetworkReader(std::string dir, std::vector<std::string>& errors) : dir_(std::move(dir)), errors_(errors) {}

    void error(const SourceLoc& l, const std::string& key, const std::string& msg) {
        errors_.push_back(l.str() + ": " + key + ": " + msg);
    }

    std::string text(const YamlNode& m, const std::string& key, const std::string& path, bool required) {
        const YamlNode* v = m.find(key);
        const std::string kp = path + "." + key;
        if (!v) {
            if (required) error(m.loc, kp, "missing required key");
            return "";
        }
        if (!v->is_scalar()) {
            error(v->type == YamlNode::Type::Null ? v->key_loc : v->loc, kp, "expected text, got " + std::string(v->type_name()));
            return "";
        }
        if (v->scalar.empty()) {
            error(v->loc, kp, "must not be empty");
            return "";
        }
        return v->scalar;
    }

    // An integer in lo..hi; `def` when absent; nullopt after an error.
    std::optional<long long> integer(const YamlNode& m, const std::string& key, const std::string& path, long long lo,
                                     long long hi, std::optional<long long> def) {
        const YamlNode* v = m.find(key);
        if (!v) {
            if (!def) error(m.loc, path + "." + key, "missing required key");
            return def;
        }
        auto n = v->is_scalar() ? parse_integer(v->scalar) : std::nullopt;
        if (!n || *n < lo || *n > hi) {
            error(v->loc, path + "." + key,
                  "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                      (v->is_scalar() ? "\"" + v->scalar + "\"" : std::string(v->type_name())));
            return std::nullopt;
        }
        return n;
    }

    // A .npy file named by `key`; an empty array (no dtype) after an error or when absent.
    NpyArray npy(const YamlNode& m, const std::string& key, const std::string& path, bool required, std::string* file_out) {
        std::string f = text(m, key, path, required);
        if (f.empty()) return {};
        if (file_out) *file_out = f;
        try {
            return read_npy((fs::path(dir_) / f).string());
        } catch (const InputError& e) {
            error(m.find(key)->loc, path + "." + key, e.what());
            return {};
        }
    }

private:
    std::string dir_;
    std::vector<std::string>& errors_;
};

}  // namespace

Network read_network(const YamlNode& n, const YamlNode* input_shape, std::size_t features, const std::string& dir,
                     const std::string& file, std::vector<std::string>& errors) {
    Network net;
    net.file = file;
    net.dir = dir;
    const std::size_t errors_before = errors.size();
    NetworkReader r(dir, errors);

    // The shape of one sample.
    std::optional<Shape> cur;
    if (input_shape) {
        Shape s;
        bool ok = input_shape->type == YamlNode::Type::Seq && (input_shape->seq.size() == 1 || input_shape->seq.size() == 3);
        for (std::size_t i = 0; ok && i < input_shape->seq.size(); ++i) {
            const YamlNode& d = input_shape->seq[i];
            auto v = d.is_scalar() ? parse_integer(d.scalar) : std::nullopt;
            ok = v && *v >= 1 && *v <= 100'000'000;
            if (ok) s.push_back(static_cast<std::size_t>(*v));
        }
        double values = 1;  // in double: the product of three dimensions overflows 64 bits
        for (std::size_t d : s) values *= static_cast<double>(d);
        if (!ok)
            r.error(input_shape->loc, "input_shape", "expected [n] or [H, W, C] with positive integers");
        else if (values > 1e9)
            r.error(input_shape->loc, "input_shape", shape_text(s) + " has more than 10^9 values per sample");
        else if (features && shape_size(s) != features)
            r.error(input_shape->loc, "input_shape",
                    shape_text(s) + " has " + std::to_string(shape_size(s)) + " values per sample, the data set has " +
                        std::to_string(features) + " features");
        else
            cur = s;
    } else if (features) {
        cur = Shape{features};
    }
    if (cur) net.input_shape = *cur;

    if (n.type != YamlNode::Type::Seq) {
        r.error(n.loc, "network", "expected a list of layers");
        return net;
    }
    if (n.seq.empty()) r.error(n.loc, "network", "the list has no layers");
    std::map<std::string, std::size_t> names;
    for (std::size_t i = 0; i < n.seq.size(); ++i) {
        const YamlNode& m = n.seq[i];
        const std::string lp = "network[" + std::to_string(i) + "]";
        Layer l;
        l.line = m.loc.line;
        if (!m.is_map()) {
            r.error(m.loc, lp, "expected a mapping such as {type: dense, weight: W.npy, bias: B.npy}");
            net.layers.push_back(l);
            cur.reset();
            continue;
        }
        const std::string type = r.text(m, "type", lp, true);
        bool known = false;
        for (const auto& [k, t] : layer_types())
            if (k == type) {
                l.type = t;
                known = true;
            }
        if (!known) {
            if (!type.empty()) {
                std::vector<std::string> all;
                for (const auto& [k, t] : layer_types()) all.push_back(k);
                r.error(m.find("type")->loc, lp + ".type", "unknown layer type \"" + type + "\"; known: " + join(all));
            }
            l.name = "?";
            net.layers.push_back(l);
            cur.reset();
            continue;
        }
        const std::vector<std::string> allowed = keys_of(l.type);
        for (const auto& [k, v] : m.map)
            if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
                r.error(v.key_loc, lp + "." + k,
                        std::string("unknown key for a ") + layer_type_name(l.type) + " layer; expected one of " + join(allowed));
        // Name: given, or TYPE_INDEX.
        l.name = std::string(layer_type_name(l.type)) + "_" + std::to_string(i);
        if (m.find("name")) {
            std::string nm = r.text(m, "name", lp, false);
            if (!nm.empty() && !valid_name(nm))
                r.error(m.find("name")->loc, lp + ".name",
                        "\"" + nm + "\": a layer name may only have letters, digits, '_', '-' and '.'");
            else if (!nm.empty())
                l.name = nm;
        }
        if (names.count(l.name))
            r.error(m.find("name") ? m.find("name")->loc : m.loc, lp + ".name",
                    "duplicate layer name '" + l.name + "' (also network[" + std::to_string(names[l.name]) + "])");
        else
            names[l.name] = i;
        const std::string who = layer_type_name(l.type) + std::string(" '") + l.name + "'";
        // What the input is, for messages.
        const std::string source = i == 0 ? "the input, shape " + (cur ? shape_text(*cur) : std::string("?"))
                                          : "the output of '" + net.layers[i - 1].name + "', shape " +
                                                (cur ? shape_text(*cur) : std::string("?"));
        if (cur) l.in_shape = *cur;
        std::optional<Shape> out;

        auto read_activation = [&]() {
            std::string act = r.text(m, "activation", lp, false);
            if (!act.empty() && act != "relu" && act != "none")
                r.error(m.find("activation")->loc, lp + ".activation", "expected relu or none, got \"" + act + "\"");
            l.relu = act == "relu";
        };
        auto read_bias = [&](std::size_t outs, bool shape_known) {
            if (!m.find("bias")) return;
            l.bias = r.npy(m, "bias", lp, false, &l.bias_file);
            if (l.bias.dtype.empty()) return;
            l.has_bias = true;
            if (shape_known && (l.bias.shape.size() != 1 || l.bias.shape[0] != outs))
                r.error(m.find("bias")->loc, lp + ".bias",
                        "has " + std::to_string(l.bias.size()) + " values, expected " + std::to_string(outs) +
                            " (one per output)");
        };

        switch (l.type) {
            case LayerType::Dense: {
                l.weight = r.npy(m, "weight", lp, true, &l.weight_file);
                const bool ok = l.weight.shape.size() == 2;
                if (!l.weight.dtype.empty() && !ok)
                    r.error(m.find("weight")->loc, lp + ".weight",
                            "expected a 2-D (inputs, outputs) matrix, got shape " + shape_text(l.weight.shape));
                read_bias(ok ? l.weight.shape[1] : 0, ok);
                read_activation();
                if (!ok) break;
                if (cur && shape_size(*cur) != l.weight.shape[0])
                    r.error(m.find("weight")->loc, lp + ".weight",
                            who + ": has " + std::to_string(l.weight.shape[0]) + " inputs, expected " +
                                std::to_string(shape_size(*cur)) + " (" + source + ")");
                if (!cur) l.in_shape = Shape{l.weight.shape[0]};
                out = Shape{l.weight.shape[1]};
                break;
            }
            case LayerType::Conv2d: {
                l.weight = r.npy(m, "weight", lp, true, &l.weight_file);
                const bool ok = l.weight.shape.size() == 4;
                if (!l.weight.dtype.empty() && !ok)
                    r.error(m.find("weight")->loc, lp + ".weight",
                            "expected a 4-D (KH, KW, Cin, Cout) array, got shape " + shape_text(l.weight.shape));
                read_bias(ok ? l.weight.shape[3] : 0, ok);
                read_activation();
                auto stride = r.integer(m, "stride", lp, 1, 4096, 1);
                auto padding = r.integer(m, "padding", lp, 0, 4096, 0);
                if (!ok || !stride || !padding) break;
                l.stride = static_cast<std::size_t>(*stride);
                l.padding = static_cast<std::size_t>(*padding);
                const std::size_t KH = l.weight.shape[0], KW = l.weight.shape[1], Cin = l.weight.shape[2];
                if (!cur) break;
                if (cur->size() != 3) {
                    r.error(m.loc, lp, who + ": needs an (H, W, C) map as input, got " + source +
                                           (i == 0 ? " (give input_shape: [H, W, C])" : ""));
                    break;
                }
                const std::size_t H = (*cur)[0], W = (*cur)[1], C = (*cur)[2];
                if (C != Cin) {
                    r.error(m.find("weight")->loc, lp + ".weight",
                            who + ": has " + std::to_string(Cin) + " input channels, expected " + std::to_string(C) + " (" +
                                source + ")");
                    break;
                }
                if (H + 2 * l.padding < KH || W + 2 * l.padding < KW) {
                    r.error(m.find("weight")->loc, lp + ".weight",
                            who + ": the " + std::to_string(KH) + "x" + std::to_string(KW) +
                                " kernel is larger than the padded input map (" + source + ", padding " +
                                std::to_string(l.padding) + ")");
                    break;
                }
                out = Shape{(H + 2 * l.padding - KH) / l.stride + 1, (W + 2 * l.padding - KW) / l.stride + 1,
                            l.weight.shape[3]};
                break;
            }
            case LayerType::BatchNorm: {
                NpyArray p[4];
                const char* keys[4] = {"gamma", "beta", "mean", "var"};
                for (int k = 0; k < 4; ++k) p[k] = r.npy(m, keys[k], lp, true, nullptr);
                double eps = 1e-5;
                if (const YamlNode* e = m.find("eps")) {
                    auto v = e->is_scalar() ? parse_real(e->scalar) : std::nullopt;
                    if (!v || !(*v > 0) || !std::isfinite(*v))
                        r.error(e->loc, lp + ".eps", "expected a positive number, got \"" + e->scalar + "\"");
                    else
                        eps = *v;
                }
                const Layer* prev = i > 0 ? &net.layers[i - 1] : nullptr;
                const YamlNode& tloc = *m.find("type");
                if (!prev || !prev->is_weight_layer()) {
                    r.error(tloc.loc, lp + ".type",
                            "batchnorm must directly follow a dense or conv2d layer (it is folded into it), but " +
                                (prev ? "follows " + std::string(layer_type_name(prev->type)) + " '" + prev->name + "'"
                                      : std::string("it is the first layer")));
                } else if (prev->relu) {
                    r.error(tloc.loc, lp + ".type",
                            "batchnorm must directly follow a dense or conv2d layer (it is folded into it), but " +
                                std::string(layer_type_name(prev->type)) + " '" + prev->name +
                                "' has activation: relu, which would come before the normalisation");
                }
                if (cur) {
                    out = cur;
                    const std::size_t C = cur->back();
                    for (int k = 0; k < 4; ++k)
                        if (!p[k].dtype.empty() && (p[k].shape.size() != 1 || p[k].shape[0] != C))
                            r.error(m.find(keys[k])->loc, lp + "." + keys[k],
                                    who + ": has " + std::to_string(p[k].size()) + " values, expected " +
                                        std::to_string(C) + " (one per channel of " + source + ")");
                    for (std::size_t c = 0; c < p[3].data.size(); ++c)
                        if (p[3].data[c] + eps <= 0) {
                            r.error(m.find("var")->loc, lp + ".var",
                                    who + ": element " + std::to_string(c) + " is " + std::to_string(p[3].data[c]) +
                                        ": var + eps must be positive");
                            break;
                        }
                }
                // Fold (only when everything above was right).
                if (errors.size() == errors_before && prev && cur) {
                    Layer& w = net.layers[i - 1];
                    const std::size_t C = cur->back(), rows = w.weight.size() / C;
                    if (!w.has_bias) {
                        w.bias.shape = {C};
                        w.bias.data.assign(C, 0.0);
                        w.bias.dtype = "<f8";
                    }
                    for (std::size_t c = 0; c < C; ++c) {
                        const double f = p[0].data[c] / std::sqrt(p[3].data[c] + eps);
                        for (std::size_t rr = 0; rr < rows; ++rr) w.weight.data[rr * C + c] *= f;
                        w.bias.data[c] = (w.bias.data[c] - p[2].data[c]) * f + p[1].data[c];
                    }
                    w.has_bias = true;
                    w.folded = true;
                    l.folded_into = i - 1;
                }
                break;
            }
            case LayerType::Relu:
                out = cur;
                break;
            case LayerType::MaxPool:
            case LayerType::AvgPool: {
                auto k = r.integer(m, "kernel", lp, 1, 4096, std::nullopt);
                auto s = k ? r.integer(m, "stride", lp, 1, 4096, *k) : std::nullopt;
                if (!k || !s || !cur) break;
                l.kernel = static_cast<std::size_t>(*k);
                l.stride = static_cast<std::size_t>(*s);
                if (cur->size() != 3) {
                    r.error(m.loc, lp, who + ": needs an (H, W, C) map as input, got " + source);
                    break;
                }
                if ((*cur)[0] < l.kernel || (*cur)[1] < l.kernel) {
                    r.error(m.find("kernel")->loc, lp + ".kernel",
                            who + ": a " + std::to_string(l.kernel) + "x" + std::to_string(l.kernel) +
                                " window does not fit in " + source);
                    break;
                }
                out = Shape{((*cur)[0] - l.kernel) / l.stride + 1, ((*cur)[1] - l.kernel) / l.stride + 1, (*cur)[2]};
                break;
            }
            case LayerType::Flatten:
                if (cur) out = Shape{shape_size(*cur)};
                break;
            case LayerType::Add: {
                l.from = r.text(m, "from", lp, true);
                if (l.from.empty()) break;
                const YamlNode& floc = *m.find("from");
                auto it = names.find(l.from);
                if (it == names.end() || it->second >= i) {
                    r.error(floc.loc, lp + ".from",
                            who + ": no earlier layer is named '" + l.from + "'" +
                                (it != names.end() ? " (an add adds the output of a layer before it)" : ""));
                    break;
                }
                l.from_index = it->second;
                const Layer& f = net.layers[l.from_index];
                if (f.is_weight_layer() && l.from_index + 1 < i && net.layers[l.from_index + 1].type == LayerType::BatchNorm) {
                    r.error(floc.loc, lp + ".from",
                            who + ": the output of '" + l.from + "' is normalised by batchnorm '" +
                                net.layers[l.from_index + 1].name + "', which is folded into it: name '" +
                                net.layers[l.from_index + 1].name + "' instead");
                    break;
                }
                if (cur && !f.out_shape.empty() && f.out_shape != *cur) {
                    r.error(floc.loc, lp + ".from",
                            who + ": the output of '" + l.from + "' has shape " + shape_text(f.out_shape) + ", " + source +
                                " (an add needs the same shape)");
                    break;
                }
                out = cur;
                break;
            }
            case LayerType::Argmax:
                if (i + 1 != n.seq.size())
                    r.error(m.find("type")->loc, lp + ".type", "argmax must be the last layer");
                out = cur;
                break;
        }
        if (out) l.out_shape = *out;
        cur = out;
        net.layers.push_back(std::move(l));
    }
    if (errors.size() == errors_before && net.input_shape.empty() && !net.layers.empty())
        net.input_shape = net.layers.front().in_shape;
    if (errors.size() == errors_before)
        for (auto& l : net.layers) {
            if (!l.is_weight_layer()) continue;
            l.wf.assign(l.weight.data.begin(), l.weight.data.end());
            if (!l.has_bias) {
                l.bias.shape = {l.matrix_cols()};
                l.bias.data.assign(l.matrix_cols(), 0.0);
            }
            l.bf.assign(l.bias.data.begin(), l.bias.data.end());
        }
    return net;
}

}  // namespace aimc
