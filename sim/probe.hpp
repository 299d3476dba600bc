// `aimcsim probe`: one core's numerics on a weight matrix, outside any timed run: the effective
// weights a read-back gives after programming, drift and read noise (`weights`), or the error of
// MVMs on random inputs (`mvm`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config.hpp"

namespace aimc {

struct ProbeOptions {
    std::string weights_file;
    double t_inference_s = 0;
    std::uint64_t seed = 1;
    bool compensation = true;  // apply the drift-compensation alpha (if the core has it on)
    std::size_t inputs = 256;  // probe mvm: random input vectors
};

struct ProbeWeightsResult {
    std::size_t rows = 0, cols = 0;
    std::vector<double> effective;  // rows x cols, weight units
    double alpha = 1;
    double rms_error = 0;           // of effective - target, relative to max |W|
};

struct ProbeMvmResult {
    std::size_t rows = 0, cols = 0, inputs = 0;
    double relative_error = 0;  // std(y_noisy - y_ideal) / std(y_ideal)
    double alpha = 1;
};

ProbeWeightsResult probe_weights(const ChipConfig& chip, const ProbeOptions& opt);
ProbeMvmResult probe_mvm(const ChipConfig& chip, const ProbeOptions& opt);

}  // namespace aimc
