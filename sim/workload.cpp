#include "sim/workload.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/units.hpp"
#include "sim/yaml_tree.hpp"

namespace aimc {

namespace fs = std::filesystem;

std::size_t argmax(const std::vector<double>& v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::uint64_t Workload::network_macs_per_sample() const {
    std::uint64_t m = 0;
    for (const auto& l : network) m += l.weight.shape[0] * l.weight.shape[1];
    return m;
}

std::vector<double> Workload::reference_logits(std::size_t i) const {
    std::size_t f = input_features();
    std::vector<double> x(inputs->data.begin() + static_cast<long>(i * f), inputs->data.begin() + static_cast<long>((i + 1) * f));
    for (const auto& l : network) {
        std::size_t in = l.weight.shape[0], out = l.weight.shape[1];
        std::vector<double> y(l.bias.data.begin(), l.bias.data.end());
        for (std::size_t r = 0; r < in; ++r)
            for (std::size_t c = 0; c < out; ++c) y[c] += x[r] * l.weight.data[r * out + c];
        if (l.relu)
            for (auto& v : y) v = std::max(v, 0.0);
        x = std::move(y);
    }
    return x;
}

std::string peak_trace_text(const ChipConfig& chip) {
    const auto& g = chip.at("chip");
    const auto& xb = chip.at("core.crossbar");
    long long cores = g.integer("grid_cols") * g.integer("grid_rows");
    long long rows = xb.integer("rows"), cols = xb.integer("cols");
    std::ostringstream t;
    t << "# peak: every core runs back-to-back MVMs over its whole " << rows << "x" << cols
      << " crossbar\n# (random weights and inputs), each followed by its digital pass. Generated for chip '"
      << chip.name << "'.\naimcsim-trace 1\n";
    for (long long c = 0; c < cores; ++c) {
        t << "\nstream core " << c << "\n"
          << "program matrix=random rows=0:" << rows << " cols=0:" << cols << " seed=" << c << "\n"
          << "fill buf=x len=" << rows << " seed=" << c << "\n"
          << "sample\n"
          << "mvm in=x out=y\n"
          << "nmpu in=y out=z\n";
    }
    return t.str();
}

namespace {

class WorkloadReader {
public:
    explicit WorkloadReader(std::string file) : file_(std::move(file)) {}
    std::vector<std::string> errors;

    void error(const SourceLoc& l, const std::string& key, const std::string& msg) {
        errors.push_back(l.str() + ": " + key + ": " + msg);
    }

    void only_keys(const YamlNode& m, const std::string& path, const std::vector<std::string>& allowed) {
        for (const auto& [k, v] : m.map)
            if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
                std::string list;
                for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
                error(v.key_loc, path.empty() ? k : path + "." + k, "unknown key; expected one of " + list);
            }
    }

    // A scalar text value, or "" with an error when required and absent.
    std::string text(const YamlNode& m, const std::string& key, const std::string& path, bool required) {
        const YamlNode* v = m.find(key);
        std::string kp = path.empty() ? key : path + "." + key;
        if (!v) {
            if (required) error(m.loc, kp, "missing required key");
            return "";
        }
        if (!v->is_scalar()) {
            error(v->type == YamlNode::Type::Null ? v->key_loc : v->loc, kp,
                  "expected text, got " + std::string(v->type_name()));
            return "";
        }
        if (v->scalar.empty()) {
            error(v->loc, kp, "must not be empty");
            return "";
        }
        return v->scalar;
    }

    NpyArray npy(const YamlNode& m, const std::string& key, const std::string& path, const std::string& dir) {
        std::string f = text(m, key, path, true);
        if (f.empty()) return {};
        std::string p = (fs::path(dir) / f).string();
        try {
            return read_npy(p);
        } catch (const InputError& e) {
            error(m.find(key)->loc, path + "." + key, e.what());
            return {};
        }
    }

private:
    std::string file_;
};

}  // namespace

void split_traffic_overrides(const std::vector<std::string>& sets, std::vector<std::string>& chip,
                             std::vector<std::string>& traffic) {
    for (const auto& s : sets) {
        const std::string key = s.substr(0, s.find('='));
        (key == "traffic" || key.rfind("traffic.", 0) == 0 ? traffic : chip).push_back(s);
    }
}

Workload load_workload(const std::string& path, const ChipConfig& chip, const std::vector<std::string>& traffic_overrides) {
    Workload w;
    fs::path p(path);
    if (fs::is_directory(p)) p /= "workload.yaml";
    if (!fs::exists(p)) throw InputError(path + ": no workload here (expected a folder with workload.yaml, or a YAML file)");
    w.file = p.string();
    w.dir = p.parent_path().string();
    YamlNode root = load_yaml_file(w.file);
    if (!root.is_map()) throw InputError(root.loc.str() + ": expected a mapping at the top level");
    for (const auto& o : traffic_overrides) {
        if (!root.find("traffic"))
            throw InputError("--set " + o + ": workload " + w.file +
                             " has no traffic section (only a 'generator: traffic' workload takes --set traffic.KEY=VALUE)");
        apply_override(root, o);
    }
    WorkloadReader r(w.file);
    r.only_keys(root, "", {"name", "description", "trace", "generator", "samples", "data", "network", "traffic"});
    w.name = r.text(root, "name", "", true);
    w.description = r.text(root, "description", "", false);
    std::string trace_file = r.text(root, "trace", "", false);
    w.generator = r.text(root, "generator", "", false);
    if (trace_file.empty() && w.generator.empty() && !root.find("trace") && !root.find("generator"))
        r.error(root.loc, "trace", "missing: give 'trace: FILE' or 'generator: peak'");
    else if (root.find("trace") && root.find("generator"))
        r.error(root.find("generator")->key_loc, "generator", "give either 'trace: FILE' or 'generator:', not both");
    if (!w.generator.empty() && w.generator != "peak" && w.generator != "traffic")
        r.error(root.find("generator")->loc, "generator", "unknown generator \"" + w.generator + "\"; known: peak, traffic");
    if (w.generator == "traffic") {
        // A traffic workload is its `traffic:` section: no samples, data or network.
        for (const char* k : {"samples", "data", "network"})
            if (const YamlNode* n = root.find(k))
                r.error(n->key_loc, k, "not used by 'generator: traffic' (its length is traffic.warmup + traffic.duration)");
        const YamlNode* t = root.find("traffic");
        if (t && !t->is_map())
            r.error(t->loc, "traffic", "expected a mapping of traffic parameters, got " + std::string(t->type_name()));
        else
            w.traffic = read_traffic_spec(t, root.loc, chip, r.errors);
        w.default_samples = 0;
    } else if (const YamlNode* t = root.find("traffic")) {
        r.error(t->key_loc, "traffic", "only a 'generator: traffic' workload has a traffic section");
    }
    if (const YamlNode* s = root.find("samples")) {
        auto v = s->is_scalar() ? parse_integer(s->scalar) : std::nullopt;
        if (!v || *v < 1 || *v > 100'000'000)
            r.error(s->loc, "samples", "expected an integer in 1..100000000, got \"" + s->scalar + "\"");
        else
            w.default_samples = static_cast<std::size_t>(*v);
    }
    if (const YamlNode* d = root.find("data")) {
        if (!d->is_map()) {
            r.error(d->loc, "data", "expected a mapping with inputs and labels");
        } else {
            r.only_keys(*d, "data", {"inputs", "labels"});
            NpyArray in = r.npy(*d, "inputs", "data", w.dir);
            NpyArray lab = r.npy(*d, "labels", "data", w.dir);
            // A file that was read has a dtype; an empty one is an error, not missing data.
            if (!in.dtype.empty() && in.shape.size() != 2)
                r.error(d->find("inputs")->loc, "data.inputs", "expected a 2-D array (samples, features)");
            else if (!in.dtype.empty() && (in.shape[0] == 0 || in.shape[1] == 0))
                r.error(d->find("inputs")->loc, "data.inputs", in.shape[0] == 0 ? "has no samples" : "has no features");
            else if (!in.dtype.empty())
                w.inputs = std::move(in);
            if (!lab.dtype.empty() && lab.data.empty())
                r.error(d->find("labels")->loc, "data.labels", "has no labels");
            if (!lab.data.empty()) {
                if (lab.shape.size() != 1)
                    r.error(d->find("labels")->loc, "data.labels", "expected a 1-D array of class indices");
                bool valid = true;
                for (std::size_t i = 0; valid && i < lab.data.size(); ++i) {
                    const double v = lab.data[i];
                    valid = v >= 0 && v == std::floor(v) && v <= 1e9;
                    if (!valid)
                        r.error(d->find("labels")->loc, "data.labels",
                                "element " + std::to_string(i) + " is not a class index (a whole number >= 0)");
                    else
                        w.labels.push_back(static_cast<long long>(v));
                }
                if (valid && w.inputs && w.labels.size() != w.inputs->shape[0])
                    r.error(d->find("labels")->loc, "data.labels",
                            std::to_string(w.labels.size()) + " labels for " + std::to_string(w.inputs->shape[0]) +
                                " input samples");
            }
        }
    }
    if (const YamlNode* n = root.find("network")) {
        if (n->type != YamlNode::Type::Seq) r.error(n->loc, "network", "expected a list of layers");
        std::size_t prev_outputs = w.input_features();
        for (std::size_t i = 0; n->type == YamlNode::Type::Seq && i < n->seq.size(); ++i) {
            const YamlNode& l = n->seq[i];
            std::string lp = "network[" + std::to_string(i) + "]";
            if (!l.is_map()) {
                r.error(l.loc, lp, "expected a mapping {type: dense, weight: F, bias: F, activation: relu}");
                continue;
            }
            r.only_keys(l, lp, {"type", "weight", "bias", "activation"});
            std::string type = r.text(l, "type", lp, true);
            if (!type.empty() && type != "dense")
                r.error(l.find("type")->loc, lp + ".type", "unknown layer type \"" + type + "\"; this version knows: dense");
            std::string act = r.text(l, "activation", lp, false);
            if (!act.empty() && act != "relu" && act != "none")
                r.error(l.find("activation")->loc, lp + ".activation", "expected relu or none, got \"" + act + "\"");
            DenseLayer layer;
            const std::size_t expect_in = prev_outputs;
            layer.weight = r.npy(l, "weight", lp, w.dir);
            // The next layer is checked against this one's outputs even if this one is rejected.
            prev_outputs = layer.weight.shape.size() == 2 ? layer.weight.shape[1] : 0;
            layer.bias = r.npy(l, "bias", lp, w.dir);
            layer.relu = act == "relu";
            if (layer.weight.data.empty() || layer.bias.data.empty()) continue;
            if (layer.weight.shape.size() != 2) {
                r.error(l.find("weight")->loc, lp + ".weight", "expected a 2-D (inputs, outputs) matrix");
                continue;
            }
            if (layer.bias.shape.size() != 1 || layer.bias.shape[0] != layer.weight.shape[1]) {
                r.error(l.find("bias")->loc, lp + ".bias",
                        "has " + std::to_string(layer.bias.size()) + " values, expected " +
                            std::to_string(layer.weight.shape[1]) + " (one per output)");
                continue;
            }
            if (expect_in && layer.weight.shape[0] != expect_in) {
                r.error(l.find("weight")->loc, lp + ".weight",
                        "has " + std::to_string(layer.weight.shape[0]) + " inputs, expected " + std::to_string(expect_in));
                continue;
            }
            w.network.push_back(std::move(layer));
        }
        if (!w.network.empty() && (!w.inputs || w.labels.empty()))
            r.error(n->loc, "network", "a network needs data.inputs and data.labels to compute accuracy");
        if (!w.network.empty() && !w.labels.empty()) {
            const auto classes = static_cast<long long>(w.network.back().weight.shape[1]);
            for (std::size_t i = 0; i < w.labels.size(); ++i)
                if (w.labels[i] >= classes) {
                    r.error(root.find("data")->find("labels")->loc, "data.labels",
                            "element " + std::to_string(i) + " is class " + std::to_string(w.labels[i]) +
                                " but the network has " + std::to_string(classes) + " outputs");
                    break;
                }
        }
    }
    if (!r.errors.empty()) throw InputErrors(r.errors);

    if (w.generator == "peak") {
        w.trace = parse_trace(peak_trace_text(chip), "(peak trace for " + chip.name + ")", w.dir);
    } else if (w.generator == "traffic") {
        w.trace.file = w.file;  // no streams: the traffic driver injects the messages
    } else {
        w.trace = load_trace((fs::path(w.dir) / trace_file).string());
    }
    return w;
}

}  // namespace aimc
