// The functional mode (`aimcsim run --mode functional`): the same numerics as a timed run (the
// dataflow, sim/dataflow.hpp) without the timing model, over whole test sets, for several seeds
// and drift times in one call, with and without drift compensation. Also the accuracy scoring
// that both modes share.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/workload.hpp"

namespace aimc {

// The float reference's predicted class for samples 0..samples-1 (sample k reads data row k mod N).
std::vector<std::size_t> reference_predictions(const Workload& w, std::size_t samples, unsigned threads);

struct Top1 {
    std::size_t samples = 0, correct = 0, reference_correct = 0, agree = 0;
};
// Scores the host outputs of each sample against the labels and the reference predictions.
Top1 score_outputs(const Workload& w, const std::vector<std::vector<float>>& outputs,
                   const std::vector<std::size_t>& reference);

struct DriftTime {
    std::string label;  // as given, e.g. "1h"
    double seconds = 0;
};

struct FunctionalOptions {
    std::uint64_t seed = 1;
    unsigned seeds = 1;  // seeds seed, seed + 1, ..., seed + seeds - 1
    std::vector<DriftTime> times;
    std::size_t samples = 0;
    unsigned threads = 1;
    bool compensated = true, uncompensated = true;  // which columns to compute
    bool progress = false;    // progress bar on stderr (when it is a terminal)
    std::uint64_t memory_limit = 0;  // bytes (--memory-limit); 0: the default (sim/memory.hpp)
    std::string logits_file;  // the outputs of the first seed at the first time, compensation as configured
                              // (or as the one setting computed)
};

// Runs every (seed, time) point with drift compensation on and off; the report is described in
// docs/report.md ("Functional mode").
nlohmann::ordered_json run_functional(const ChipConfig& cfg, const Workload& w, const FunctionalOptions& opt);

}  // namespace aimc
