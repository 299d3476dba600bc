// Chip configuration: the YAML description validated against the component declarations and
// turned into a tree of resolved components (every parameter has a value, defaults filled in).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/params.hpp"
#include "sim/yaml_tree.hpp"

namespace aimc {

struct KindDecl;

// A place in the chip description that holds one component of some interface, e.g. `core.adc`
// holds an `adc`. A slot with a default kind may omit `kind:` (or the whole section).
struct SlotDecl {
    std::string path;          // "core.adc"
    std::string interface;     // "adc"
    std::string default_kind;  // "" = `kind:` required
    std::string meaning;
};

// The slots of a chip description, parents before children.
const std::vector<SlotDecl>& chip_slots();

struct ComponentConfig {
    std::string path;
    std::string kind;
    const KindDecl* decl = nullptr;
    ParamSet params;
    std::map<std::string, ComponentConfig> children;  // by leaf name ("adc")

    const ComponentConfig& child(const std::string& name) const;
    long long integer(const std::string& n) const { return params.integer(n); }
    double real(const std::string& n) const { return params.real(n); }
    bool boolean(const std::string& n) const { return params.boolean(n); }
    const std::string& text(const std::string& n) const { return params.text(n); }
};

struct ChipConfig {
    std::string file;  // the top-level file
    std::string name;
    std::string description;
    ComponentConfig root;  // children: the top-level slots

    // A component by slot path, e.g. "core.adc".
    const ComponentConfig& at(const std::string& path) const;
    // The resolved configuration (kinds and every parameter value as written or defaulted),
    // for reports: parameters in declaration order.
    nlohmann::ordered_json resolved_json() const;
};

// Loads, merges `base:` files, applies `--set` overrides and validates. All problems are
// collected and thrown together as InputErrors.
ChipConfig load_chip_config(const std::string& path, const std::vector<std::string>& overrides = {});
// The same for a description already in memory; `name` stands for its path in messages and `base:`
// is relative to its folder.
ChipConfig load_chip_config_text(const std::string& text, const std::string& name,
                                 const std::vector<std::string>& overrides = {});

// Validates an already-merged tree (used by tests and by load_chip_config).
ChipConfig build_chip_config(const YamlNode& root, const std::string& file);

// The parameters `decls` of one section at `path`, read from `node` (a mapping, or null when the
// section is absent, with `parent_loc` where it would be): each value is checked against its
// declaration and absent ones take their default. Keys that are neither declared nor in
// `other_keys` (the section's own, e.g. `kind`) are errors with a did-you-mean; `owner` says whose
// keys they are ("adc kind \"cco-adc\""). Problems are appended to `errors` as
// "file:line:col: path.key: what is wrong". Chip components and workload sections share it.
ParamSet read_params(const std::vector<ParamDecl>& decls, const YamlNode* node, const SourceLoc& parent_loc,
                     const std::string& path, const std::string& owner, std::vector<std::string> other_keys,
                     std::vector<std::string>& errors);

}  // namespace aimc
