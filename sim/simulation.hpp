// One timed run: chip + workload -> report.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/config.hpp"
#include "sim/workload.hpp"

namespace aimc {

struct RunOptions {
    std::optional<std::uint64_t> seed;       // overrides run.seed
    std::optional<std::size_t> samples;      // overrides the workload's samples
    std::optional<double> t_inference_s;     // overrides run.t_inference
    unsigned threads = 0;                    // for the numerics; 0: all hardware threads
    std::string logits_file;                 // write the host outputs (samples × outputs) there
    std::string timeline_file;               // write a Chrome/Perfetto trace-event timeline there
    bool progress = false;                   // progress bar on stderr (when it is a terminal)
    std::uint64_t memory_limit = 0;          // bytes (--memory-limit); 0: the default (sim/memory.hpp)
};

// Writes per-sample output vectors as a (samples, outputs) float64 .npy file (InputError when
// the samples have different lengths or the file cannot be written).
void write_logits(const std::string& path, const std::vector<std::vector<float>>& outputs);

inline constexpr const char* kToolVersion = "0.1.0";
inline constexpr int kReportSchemaVersion = 1;

// The keys every report starts with: schema_version, tool (name, version, git_commit), chip (name,
// file, cores, config_hash), workload (name, path, samples, files_hash), seed.
nlohmann::ordered_json report_head(const ChipConfig& cfg, const Workload& w, int cores, std::size_t samples,
                                   std::uint64_t seed);

// Elaborates the chip, plays the workload's trace and returns the report (see docs/report.md).
// Throws InputError for problems found while running (a malformed operation, a deadlock), and
// before elaborating when the memory estimate exceeds the limit.
// SystemC can elaborate once per process: call this at most once.
nlohmann::ordered_json simulate(const ChipConfig& chip, const Workload& workload, const RunOptions& options);

// Peak figures derived from the configuration alone: every core running back-to-back MVMs over
// its whole crossbar (for `aimcsim validate`).
struct PeakFigures {
    int cores;
    std::uint64_t mvm_latency_cycles, mvm_interval_cycles;
    double tops, power_w, tops_per_w;
};
PeakFigures peak_figures(const ChipConfig& chip);

}  // namespace aimc
