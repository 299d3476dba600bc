#include "sim/report_diff.hpp"

#include <fnmatch.h>

#include <cmath>
#include <fmt/format.h>
#include <map>

namespace aimc {

namespace {

void walk(const nlohmann::json& j, const std::string& path, std::vector<std::pair<std::string, nlohmann::json>>& out) {
    if (j.is_object() && !j.empty()) {
        for (auto it = j.begin(); it != j.end(); ++it) walk(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    } else if (j.is_array() && !j.empty()) {
        for (std::size_t i = 0; i < j.size(); ++i) walk(j[i], path + "[" + std::to_string(i) + "]", out);
    } else {
        out.emplace_back(path, j);
    }
}

bool matches(const std::vector<std::string>& patterns, const std::string& key) {
    for (const auto& p : patterns)
        if (fnmatch(p.c_str(), key.c_str(), 0) == 0) return true;
    return false;
}

std::string text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

}  // namespace

std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& j) {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    walk(j, "", out);
    return out;
}

DiffResult diff_reports(const nlohmann::json& a, const nlohmann::json& b, const DiffOptions& opt) {
    std::map<std::string, nlohmann::json> left, right;
    for (auto& [k, v] : flatten(a)) left.emplace(k, v);
    for (auto& [k, v] : flatten(b)) right.emplace(k, v);
    std::map<std::string, bool> keys;
    for (const auto& [k, v] : left) keys[k] = true;
    for (const auto& [k, v] : right) keys[k] = true;
    DiffResult r;
    for (const auto& [key, unused] : keys) {
        if (!opt.include_wall_clock && (key == "sim.wall_s" || key.size() > 7 && key.compare(key.size() - 7, 7, "_wall_s") == 0))
            continue;
        if (!opt.keys.empty() && !matches(opt.keys, key)) continue;
        if (matches(opt.ignore, key)) continue;
        ++r.compared;
        const auto l = left.find(key), g = right.find(key);
        DiffEntry e;
        e.key = key;
        e.relative_change = std::nan("");
        if (l == left.end() || g == right.end()) {
            e.old_value = l == left.end() ? "(absent)" : text(l->second);
            e.new_value = g == right.end() ? "(absent)" : text(g->second);
            r.changed.push_back(e);
            continue;
        }
        const nlohmann::json &x = l->second, &y = g->second;
        e.old_value = text(x);
        e.new_value = text(y);
        if (x.is_number() && y.is_number()) {
            const double u = x.get<double>(), v = y.get<double>();
            e.numeric = true;
            e.relative_change = u != 0 ? (v - u) / std::fabs(u) : (v == 0 ? 0.0 : std::copysign(INFINITY, v));
            if (std::fabs(v - u) <= opt.atol + opt.rtol * std::fabs(u)) continue;
        } else if (x == y) {
            continue;
        }
        r.changed.push_back(e);
    }
    return r;
}

std::string diff_table(const DiffResult& r) {
    std::size_t wk = 3, wo = 3, wn = 3;
    for (const auto& e : r.changed) {
        wk = std::max(wk, e.key.size());
        wo = std::max(wo, std::min<std::size_t>(e.old_value.size(), 40));
        wn = std::max(wn, std::min<std::size_t>(e.new_value.size(), 40));
    }
    auto clip = [](const std::string& s) { return s.size() > 40 ? s.substr(0, 37) + "..." : s; };
    std::string out = fmt::format("{:<{}}  {:>{}}  {:>{}}  {}\n", "key", wk, "old", wo, "new", wn, "change");
    for (const auto& e : r.changed) {
        std::string change = "changed";
        if (e.numeric) change = std::isfinite(e.relative_change) ? fmt::format("{:+.4g}%", 100 * e.relative_change) : "from 0";
        out += fmt::format("{:<{}}  {:>{}}  {:>{}}  {}\n", e.key, wk, clip(e.old_value), wo, clip(e.new_value), wn, change);
    }
    return out;
}

}  // namespace aimc
