#include "sim/workload.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/idx.hpp"
#include "sim/mapper.hpp"
#include "sim/units.hpp"
#include "sim/yaml_tree.hpp"

namespace aimc {

namespace fs = std::filesystem;

std::size_t argmax(const std::vector<double>& v) {
    return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Reference logits are computed in batches of kReferenceBatch samples, each once, on first use.
struct ReferenceCache {
    static constexpr std::size_t kBatch = 256;
    std::mutex mutex;
    std::vector<std::vector<float>> batches;
};

std::vector<float> Workload::reference_logits_batch(std::size_t first, std::size_t count) const {
    AIMC_ASSERT(inputs && first + count <= inputs->shape[0], "reference_logits: samples out of range");
    return network.forward(inputs->data.data() + first * input_features(), count);
}

std::vector<double> Workload::reference_logits(std::size_t i) const {
    const std::size_t classes = network.output_size();
    if (!reference_cache) {
        const std::vector<float> y = reference_logits_batch(i, 1);
        return std::vector<double>(y.begin(), y.end());
    }
    AIMC_ASSERT(inputs && i < inputs->shape[0], "reference_logits: sample out of range");
    const std::size_t b = i / ReferenceCache::kBatch, first = b * ReferenceCache::kBatch;
    std::lock_guard<std::mutex> lock(reference_cache->mutex);
    auto& batches = reference_cache->batches;
    if (batches.size() <= b) batches.resize(b + 1);
    if (batches[b].empty())
        batches[b] = reference_logits_batch(first, std::min(ReferenceCache::kBatch, inputs->shape[0] - first));
    const auto it = batches[b].begin() + static_cast<long>((i - first) * classes);
    return std::vector<double>(it, it + static_cast<long>(classes));
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

private:
    std::string file_;
};

// data: {format, inputs, labels, scale, offset}: inputs become (N, features) floats.
void read_data(WorkloadReader& r, const YamlNode& d, Workload& w) {
    r.only_keys(d, "data", {"format", "inputs", "labels", "scale", "offset"});
    std::string format = d.find("format") ? r.text(d, "format", "data", false) : "npy";
    if (!format.empty() && format != "npy" && format != "idx") {
        r.error(d.find("format")->loc, "data.format", "expected idx or npy, got \"" + format + "\"");
        format.clear();
    }
    double affine[2] = {1.0, 0.0};
    const char* affine_keys[2] = {"scale", "offset"};
    for (int k = 0; k < 2; ++k)
        if (const YamlNode* v = d.find(affine_keys[k])) {
            auto x = v->is_scalar() ? parse_real(v->scalar) : std::nullopt;
            if (!x || !std::isfinite(*x))
                r.error(v->loc, std::string("data.") + affine_keys[k],
                        "expected a number, got " + (v->is_scalar() ? "\"" + v->scalar + "\"" : std::string(v->type_name())));
            else
                affine[k] = *x;
        }
    // The raw values, as (N, rest...) shape and doubles or bytes.
    std::vector<std::size_t> in_shape, lab_shape;
    std::vector<double> in_values, lab_values;
    std::vector<std::uint8_t> in_bytes;
    bool in_read = false, lab_read = false;
    auto path_of = [&](const char* key) {
        const std::string f = r.text(d, key, "data", true);
        return f.empty() ? f : (fs::path(w.dir) / f).string();
    };
    const std::string in_path = path_of("inputs"), lab_path = path_of("labels");
    for (const auto& p : {in_path, lab_path})
        if (!p.empty()) w.data_files.push_back(p);
    if (format.empty()) return;
    auto attempt = [&](const char* key, const std::string& p, auto&& read) {
        if (p.empty()) return false;
        try {
            read(p);
            return true;
        } catch (const InputError& e) {
            r.error(d.find(key)->loc, std::string("data.") + key, e.what());
            return false;
        }
    };
    if (format == "npy") {
        in_read = attempt("inputs", in_path, [&](const std::string& p) {
            NpyArray a = read_npy(p);
            in_shape = a.shape;
            in_values = std::move(a.data);
        });
        lab_read = attempt("labels", lab_path, [&](const std::string& p) {
            NpyArray a = read_npy(p);
            lab_shape = a.shape;
            lab_values = std::move(a.data);
        });
    } else {
        in_read = attempt("inputs", in_path, [&](const std::string& p) {
            IdxArray a = read_idx(p);
            in_shape = a.shape;
            in_bytes = std::move(a.data);
        });
        lab_read = attempt("labels", lab_path, [&](const std::string& p) {
            IdxArray a = read_idx(p);
            lab_shape = a.shape;
            lab_values.assign(a.data.begin(), a.data.end());
        });
    }
    if (in_read) {
        const SourceLoc& loc = d.find("inputs")->loc;
        const bool idx = format == "idx";
        if (idx ? in_shape.size() != 3 : (in_shape.size() != 2 && in_shape.size() != 4))
            r.error(loc, "data.inputs",
                    idx ? "expected IDX images (samples, H, W), got " + std::to_string(in_shape.size()) + " dimensions"
                        : "expected a 2-D (samples, features) or 4-D (samples, H, W, C) array, got " +
                              std::to_string(in_shape.size()) + " dimensions");
        else if (in_shape[0] == 0)
            r.error(loc, "data.inputs", "has no samples");
        else if (shape_size(in_shape) == 0)
            r.error(loc, "data.inputs", "has no features");
        else {
            FloatArray f;
            f.shape = {in_shape[0], shape_size(in_shape) / in_shape[0]};
            f.data.resize(shape_size(in_shape));
            const double scale = affine[0], offset = affine[1];
            if (idx)
                for (std::size_t i = 0; i < f.data.size(); ++i) f.data[i] = static_cast<float>(in_bytes[i] * scale + offset);
            else
                for (std::size_t i = 0; i < f.data.size(); ++i) f.data[i] = static_cast<float>(in_values[i] * scale + offset);
            w.inputs = std::move(f);
        }
    }
    if (lab_read) {
        const SourceLoc& loc = d.find("labels")->loc;
        if (lab_values.empty()) {
            r.error(loc, "data.labels", "has no labels");
            return;
        }
        if (lab_shape.size() != 1) r.error(loc, "data.labels", "expected a 1-D array of class indices");
        bool valid = true;
        for (std::size_t i = 0; valid && i < lab_values.size(); ++i) {
            const double v = lab_values[i];
            valid = v >= 0 && v == std::floor(v) && v <= 1e9;
            if (!valid)
                r.error(loc, "data.labels", "element " + std::to_string(i) + " is not a class index (a whole number >= 0)");
            else
                w.labels.push_back(static_cast<long long>(v));
        }
        if (valid && w.inputs && w.labels.size() != w.inputs->shape[0])
            r.error(loc, "data.labels",
                    std::to_string(w.labels.size()) + " labels for " + std::to_string(w.inputs->shape[0]) + " input samples");
    }
}

}  // namespace

void split_traffic_overrides(const std::vector<std::string>& sets, std::vector<std::string>& chip,
                             std::vector<std::string>& traffic) {
    for (const auto& s : sets) {
        const std::string key = s.substr(0, s.find('='));
        (key == "traffic" || key.rfind("traffic.", 0) == 0 ? traffic : chip).push_back(s);
    }
}

Workload load_workload(const std::string& path, const ChipConfig& chip, const std::vector<std::string>& traffic_overrides,
                       bool map_network) {
    Workload w;
    fs::path p(path);
    std::error_code ec;  // a path the file system rejects (too long) is "no workload here", not a filesystem_error
    if (fs::is_directory(p, ec)) p /= "workload.yaml";
    if (!fs::exists(p, ec))
        throw InputError(path + ": no workload here (expected a folder with workload.yaml, or a YAML file)" +
                         (ec ? " (" + ec.message() + ")" : ""));
    w.file = p.string();
    w.dir = p.parent_path().string();
    YamlNode root = load_yaml_file(w.file);
    if (root.type == YamlNode::Type::Null) throw InputError(w.file + ": file is empty");
    if (!root.is_map())
        throw InputError(root.loc.str() + ": expected a mapping at the top level, got " + root.type_name());
    for (const auto& o : traffic_overrides) {
        if (!root.find("traffic"))
            throw InputError("--set " + o + ": workload " + w.file +
                             " has no traffic section (only a 'generator: traffic' workload takes --set traffic.KEY=VALUE)");
        apply_override(root, o);
    }
    WorkloadReader r(w.file);
    r.only_keys(root, "", {"name", "description", "trace", "generator", "samples", "data", "input_shape", "network", "traffic"});
    w.name = r.text(root, "name", "", true);
    w.description = r.text(root, "description", "", false);
    std::string trace_file = r.text(root, "trace", "", false);
    w.generator = r.text(root, "generator", "", false);
    if (trace_file.empty() && w.generator.empty() && !root.find("trace") && !root.find("generator") && !root.find("network"))
        r.error(root.loc, "trace", "missing: give 'trace: FILE', 'generator: peak' or a network: to map");
    else if (root.find("trace") && root.find("generator"))
        r.error(root.find("generator")->key_loc, "generator", "give either 'trace: FILE' or 'generator:', not both");
    if (!w.generator.empty() && w.generator != "peak" && w.generator != "traffic")
        r.error(root.find("generator")->loc, "generator", "unknown generator \"" + w.generator + "\"; known: peak, traffic");
    if (w.generator == "traffic") {
        // A traffic workload is its `traffic:` section: no samples, data or network.
        for (const char* k : {"samples", "data", "input_shape", "network"})
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
        if (!d->is_map())
            r.error(d->loc, "data", "expected a mapping with inputs and labels");
        else
            read_data(r, *d, w);
    }
    if (const YamlNode* s = root.find("input_shape"); s && !root.find("network"))
        r.error(s->key_loc, "input_shape", "only used with a network:");
    if (const YamlNode* n = root.find("network")) {
        const std::size_t before = r.errors.size();
        w.network = read_network(*n, root.find("input_shape"), w.input_features(), w.dir, w.file, r.errors);
        // (Data that is there but wrong has its own errors.)
        if (!w.network.empty() && (!w.inputs || w.labels.empty()) && (!root.find("data") || r.errors.empty()))
            r.error(n->loc, "network", "a network needs data.inputs and data.labels to compute accuracy");
        if (r.errors.size() == before && !w.network.empty() && !w.labels.empty()) {
            const auto classes = static_cast<long long>(w.network.output_size());
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

    if (w.has_network()) w.reference_cache = std::make_shared<ReferenceCache>();
    if (w.generator == "peak") {
        w.generated_trace = peak_trace_text(chip);
        w.trace = parse_trace(w.generated_trace, "(peak trace for " + chip.name + ")", w.dir);
    } else if (w.generator == "traffic") {
        w.trace.file = w.file;  // no streams: the traffic driver injects the messages
    } else if (!trace_file.empty() || root.find("trace")) {
        w.trace = load_trace((fs::path(w.dir) / trace_file).string());
    } else if (map_network) {
        // No trace: the mapper tiles the network onto this chip. Its derived files stay in memory.
        Mapping m = aimc::map_network(w.network, chip);
        w.generated_trace = m.trace_text;
        w.trace = parse_trace(m.trace_text, "(mapped trace of " + w.name + " for " + chip.name + ")", w.dir);
        for (auto& [name, array] : m.files) w.generated_files[(fs::path(w.dir) / name).string()] = std::move(array);
    } else {
        w.trace.file = "(network of " + w.name + ", not mapped)";
    }
    return w;
}

}  // namespace aimc
