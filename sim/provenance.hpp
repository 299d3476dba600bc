// What produced a report: the build's git commit and hashes of the resolved chip description and
// of the workload's files, so that a stored report (a regression golden) names its inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aimc {

struct ChipConfig;
struct Workload;

// The source tree's commit at build time ("0123456789ab", "…-dirty", or "unknown").
const char* git_commit();

// 64-bit FNV-1a, printed as 16 hex digits: a fingerprint, not a cryptographic hash.
class Fingerprint {
public:
    void add(const std::string& bytes);
    // Adds a file's path (as given) and contents; a file that cannot be read adds its name only.
    void add_file(const std::string& path);
    std::string hex() const;

private:
    std::uint64_t h_ = 14695981039346656037ull;
};

// Of the resolved chip description (its JSON, as in the report's `config`).
std::string config_hash(const ChipConfig& cfg);
// Of the workload's files: every file in its folder (sorted by relative path) and the data files
// it names outside it.
std::string workload_hash(const Workload& w);

}  // namespace aimc
