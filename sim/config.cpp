#include "sim/config.hpp"

#include <algorithm>

#include "sim/errors.hpp"
#include "sim/registry.hpp"
#include "sim/units.hpp"

namespace aimc {

const std::vector<SlotDecl>& chip_slots() {
    static const std::vector<SlotDecl> slots = {
        {"chip", "chip", "aimc-chip", "the chip as a whole: clock, core grid, chip-level static power"},
        {"core", "core", "aimc-core", "one compute core (all cores are alike): buffers, pipelining"},
        {"core.crossbar", "crossbar", "", "the crossbar array of weights (conductances)"},
        {"core.crossbar.device", "device", "ideal", "the memory devices of the crossbar: noise, drift"},
        {"core.dac", "dac", "", "the input converters, one per crossbar row"},
        {"core.adc", "adc", "", "the output converters, one per crossbar column"},
        {"core.digital", "digital-unit", "", "the near-memory digital unit that post-processes ADC outputs"},
        {"interconnect", "interconnect", "", "the on-chip network between cores and the host port"},
        {"host", "host-port", "host-port", "the I/O port that feeds inputs and collects outputs"},
        {"run", "run", "run", "run options: seed, inference time, samples"},
    };
    return slots;
}

const ComponentConfig& ComponentConfig::child(const std::string& name) const {
    auto it = children.find(name);
    AIMC_ASSERT(it != children.end(), "component '" + path + "' has no child '" + name + "'");
    return it->second;
}

const ComponentConfig& ChipConfig::at(const std::string& path) const {
    const ComponentConfig* c = &root;
    size_t start = 0;
    while (start <= path.size()) {
        size_t dot = path.find('.', start);
        c = &c->child(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return *c;
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string suggestion(const std::string& key, const std::vector<std::string>& known) {
    std::string best;
    size_t best_d = 3;
    for (const auto& k : known) {
        size_t d = edit_distance(key, k);
        if (d < best_d) {
            best_d = d;
            best = k;
        }
    }
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

std::string leaf(const std::string& path) {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::string parent(const std::string& path) {
    auto dot = path.rfind('.');
    return dot == std::string::npos ? "" : path.substr(0, dot);
}

}  // namespace

ParamSet read_params(const std::vector<ParamDecl>& decls, const YamlNode* node, const SourceLoc& parent_loc,
                     const std::string& path, const std::string& owner, std::vector<std::string> other_keys,
                     std::vector<std::string>& errors) {
    auto error = [&](const SourceLoc& where, const std::string& key_path, const std::string& msg) {
        errors.push_back(where.str() + ": " + key_path + ": " + msg);
    };
    ParamSet params;
    for (const auto& p : decls) {
        const YamlNode* v = node ? node->find(p.name) : nullptr;
        std::string key_path = path + "." + p.name;
        if (!v) {
            if (p.required()) {
                error(node ? node->loc : parent_loc, key_path, "missing required key (" + p.meaning + ")");
                continue;
            }
            std::string why;
            auto val = parse_param(p, *p.default_text, &why);
            AIMC_ASSERT(val.has_value(), "default of " + key_path + " does not parse: " + why);
            val->where = "(default)";
            params.set(p.name, *val);
            continue;
        }
        if (!v->is_scalar()) {
            error(v->type == YamlNode::Type::Null ? v->key_loc : v->loc, key_path,
                  "expected " + with_article(p.type_name()) + " value, got " + v->type_name());
            continue;
        }
        std::string why;
        auto val = parse_param(p, v->scalar, &why);
        if (!val) {
            error(v->loc, key_path, why);
            continue;
        }
        val->where = v->loc.str();
        params.set(p.name, *val);
    }
    // Unknown keys, with the nearest known one (the caller's keys first).
    if (node) {
        for (const auto& p : decls) other_keys.push_back(p.name);
        for (const auto& [k, v] : node->map)
            if (std::find(other_keys.begin(), other_keys.end(), k) == other_keys.end())
                error(v.key_loc, path + "." + k, "unknown key for " + owner + suggestion(k, other_keys));
    }
    return params;
}

namespace {

class Validator {
public:
    std::vector<std::string> errors;

    void error(const SourceLoc& where, const std::string& key_path, const std::string& msg) {
        errors.push_back(where.str() + ": " + key_path + ": " + msg);
    }

    // node may be null (section absent).
    ComponentConfig component(const SlotDecl& slot, const YamlNode* node, const SourceLoc& parent_loc) {
        ComponentConfig cfg;
        cfg.path = slot.path;
        const auto& catalog = Catalog::instance();
        if (node && node->type != YamlNode::Type::Map) {
            error(node->loc, slot.path, "expected a mapping (a section with keys), got " + std::string(node->type_name()));
            return cfg;
        }
        // Kind.
        std::string kind = slot.default_kind;
        SourceLoc kind_loc = node ? node->loc : parent_loc;
        if (const YamlNode* k = node ? node->find("kind") : nullptr) {
            kind_loc = k->loc;
            if (!k->is_scalar()) {
                error(k->loc, slot.path + ".kind", "expected a kind name, got " + std::string(k->type_name()));
                return cfg;
            }
            kind = k->scalar;
        }
        std::vector<std::string> kind_names;
        for (const auto* d : catalog.kinds_of(slot.interface)) kind_names.push_back(d->kind);
        if (kind.empty()) {
            error(node ? node->loc : parent_loc, slot.path,
                  std::string(node ? "missing required key 'kind'" : "missing required section") + "; " +
                      slot.interface + " kinds: " + join(kind_names));
            return cfg;
        }
        cfg.decl = catalog.find(slot.interface, kind);
        if (!cfg.decl) {
            error(kind_loc, slot.path + ".kind",
                  "unknown " + slot.interface + " kind \"" + kind + "\"; known kinds: " + join(kind_names) +
                      suggestion(kind, kind_names));
            return cfg;
        }
        cfg.kind = kind;
        // Child slots.
        std::vector<std::string> known = {"kind"};
        for (const auto& s : chip_slots()) {
            if (parent(s.path) != slot.path) continue;
            known.push_back(leaf(s.path));
            const YamlNode* child = node ? node->find(leaf(s.path)) : nullptr;
            cfg.children.emplace(leaf(s.path), component(s, child, node ? node->loc : parent_loc));
        }
        cfg.params = read_params(cfg.decl->params, node, parent_loc, slot.path,
                                 slot.interface + " kind \"" + kind + "\"", known, errors);
        return cfg;
    }
};

void component_json(const ComponentConfig& c, nlohmann::ordered_json& out) {
    if (!c.decl) return;
    out["kind"] = c.kind;
    for (const auto& p : c.decl->params) {
        const auto& v = c.params.value(p.name);
        switch (p.type) {
            case ParamType::Integer: out[p.name] = v.integer; break;
            case ParamType::Real: out[p.name] = v.real; break;
            case ParamType::Bool: out[p.name] = v.boolean; break;
            case ParamType::String:
            case ParamType::Choice: out[p.name] = v.text; break;
            case ParamType::Quantity: out[p.name] = v.text; break;
        }
    }
    for (const auto& [name, child] : c.children) component_json(child, out[name]);
}

}  // namespace

nlohmann::ordered_json ChipConfig::resolved_json() const {
    nlohmann::ordered_json j;
    j["name"] = name;
    for (const auto& s : chip_slots()) {
        if (!parent(s.path).empty()) continue;
        component_json(root.child(s.path), j[s.path]);
    }
    return j;
}

ChipConfig build_chip_config(const YamlNode& root, const std::string& file) {
    Validator v;
    ChipConfig cfg;
    cfg.file = file;
    cfg.root.path = "";
    std::vector<std::string> known = {"name", "description"};
    for (const auto& s : chip_slots())
        if (parent(s.path).empty()) known.push_back(s.path);
    for (const auto& [k, node] : root.map) {
        if (std::find(known.begin(), known.end(), k) == known.end()) {
            v.error(node.key_loc, k, "unknown top-level key; expected one of " + join(known) + suggestion(k, known));
        } else if ((k == "name" || k == "description") && !node.is_scalar()) {
            v.error(node.loc, k, "expected text, got " + std::string(node.type_name()));
        }
    }
    if (const YamlNode* n = root.find("name"); n && n->is_scalar()) cfg.name = n->scalar;
    if (const YamlNode* d = root.find("description"); d && d->is_scalar()) cfg.description = d->scalar;
    if (cfg.name.empty()) v.error(root.loc, "name", "missing required key (the chip's name)");
    for (const auto& s : chip_slots()) {
        if (!parent(s.path).empty()) continue;
        cfg.root.children.emplace(s.path, v.component(s, root.find(s.path), root.loc));
    }
    if (!v.errors.empty()) throw InputErrors(v.errors);
    return cfg;
}

ChipConfig load_chip_config(const std::string& path, const std::vector<std::string>& overrides) {
    YamlNode root = load_with_base(path);
    for (const auto& o : overrides) apply_override(root, o);
    return build_chip_config(root, path);
}

ChipConfig load_chip_config_text(const std::string& text, const std::string& name,
                                 const std::vector<std::string>& overrides) {
    YamlNode root = parse_with_base(text, name);
    for (const auto& o : overrides) apply_override(root, o);
    return build_chip_config(root, name);
}

}  // namespace aimc
