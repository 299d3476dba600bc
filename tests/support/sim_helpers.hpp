// Helpers for tests that run one simulation in-process (one per test case: SystemC elaborates
// once per process).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.hpp"
#include "sim/simulation.hpp"
#include "sim/workload.hpp"
#include "run_helpers.hpp"

namespace aimc_test {

// A workload folder holding `trace` and no network.
inline std::string make_workload(const std::string& trace, int samples) {
    auto dir = temp_dir("aimc-run");
    write_file(dir / "trace.txt", trace);
    write_file(dir / "workload.yaml", "name: test\ntrace: trace.txt\nsamples: " + std::to_string(samples) + "\n");
    return dir.string();
}

inline nlohmann::ordered_json run(const std::string& chip, const std::string& workload, aimc::RunOptions opt = {},
                                  std::vector<std::string> sets = {}) {
    aimc::ChipConfig cfg = aimc::load_chip_config(chip, std::move(sets));
    aimc::Workload w = aimc::load_workload(workload, cfg);
    return aimc::simulate(cfg, w, opt);
}

}  // namespace aimc_test
