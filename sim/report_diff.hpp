// `aimcsim diff`: two reports compared key by key, numbers within tolerances, everything else
// exactly (docs/regression.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aimc {

struct DiffOptions {
    double rtol = 0, atol = 0;         // a number passes when |new - old| <= atol + rtol · |old|
    std::vector<std::string> keys;     // glob patterns of the keys to compare (all when empty)
    std::vector<std::string> ignore;   // glob patterns of keys to skip
    bool include_wall_clock = false;   // compare sim.wall_s too
};

struct DiffEntry {
    std::string key;
    std::string old_value, new_value;  // "(absent)" when a side lacks the key
    double relative_change = 0;        // (new - old) / |old| for numbers; NaN otherwise
    bool numeric = false;
};

struct DiffResult {
    std::vector<DiffEntry> changed;  // beyond tolerance, in key order
    std::size_t compared = 0;        // leaf keys compared
};

// Leaves of a JSON document by path: a.b[2].c -> value.
std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& j);

DiffResult diff_reports(const nlohmann::json& a, const nlohmann::json& b, const DiffOptions& opt);

// The table of what changed: key, old, new, relative change.
std::string diff_table(const DiffResult& r);

}  // namespace aimc
