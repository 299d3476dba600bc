#include "sim/provenance.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "git_commit.h"
#include "sim/config.hpp"
#include "sim/workload.hpp"

namespace aimc {

namespace fs = std::filesystem;

const char* git_commit() { return AIMC_GIT_COMMIT; }

void Fingerprint::add(const std::string& bytes) {
    for (unsigned char c : bytes) {
        h_ ^= c;
        h_ *= 1099511628211ull;
    }
    // A separator, so that ("ab", "c") and ("a", "bc") differ.
    h_ ^= 0xff;
    h_ *= 1099511628211ull;
}

void Fingerprint::add_file(const std::string& path) {
    add(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) return;
    std::ostringstream ss;
    ss << in.rdbuf();
    add(ss.str());
}

std::string Fingerprint::hex() const {
    static const char* digits = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 0; i < 16; ++i) s[static_cast<std::size_t>(15 - i)] = digits[(h_ >> (4 * i)) & 0xf];
    return s;
}

std::string config_hash(const ChipConfig& cfg) {
    Fingerprint f;
    f.add(cfg.resolved_json().dump());
    return f.hex();
}

std::string workload_hash(const Workload& w) {
    Fingerprint f;
    std::vector<fs::path> files;
    std::error_code ec;
    const fs::path dir = w.dir.empty() ? fs::path(".") : fs::path(w.dir);
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
        f.add(p.lexically_relative(dir).generic_string());
        f.add_file(p.string());
    }
    for (const auto& p : w.data_files) {
        const fs::path rel = fs::path(p).lexically_relative(dir);
        if (rel.empty() || *rel.begin() == "..") f.add_file(p);  // outside the folder
    }
    return f.hex();
}

}  // namespace aimc
