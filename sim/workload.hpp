// Workloads: a folder with workload.yaml naming a trace (or a trace generator), the data set and
// the network whose float forward pass is the accuracy reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/npy.hpp"
#include "sim/trace.hpp"
#include "sim/traffic.hpp"

namespace aimc {

struct ChipConfig;

struct DenseLayer {
    std::string weight_file, bias_file;
    NpyArray weight;  // (inputs, outputs)
    NpyArray bias;    // (outputs,)
    bool relu = false;
};

struct Workload {
    std::string dir;
    std::string file;  // workload.yaml
    std::string name, description;
    std::string generator;  // "", "peak" or "traffic"
    std::size_t default_samples = 1;  // 0 for traffic, which has no samples
    Trace trace;                      // empty for traffic
    std::optional<TrafficSpec> traffic;  // generator traffic only
    std::optional<NpyArray> inputs;  // (N, features)
    std::vector<long long> labels;   // N, or empty
    std::vector<DenseLayer> network;

    bool has_network() const { return !network.empty(); }
    std::size_t input_features() const { return inputs ? inputs->shape[1] : 0; }
    std::uint64_t network_macs_per_sample() const;
    // The float reference: logits of sample i through the network (double precision).
    std::vector<double> reference_logits(std::size_t i) const;
};

// `path` is a folder holding workload.yaml, or the YAML file itself. Synthetic generators build
// their trace (or traffic) for `chip`. `traffic_overrides` are `--set traffic.KEY=VALUE`
// assignments (without `--set `) applied to the `traffic:` section; an error when it has none.
Workload load_workload(const std::string& path, const ChipConfig& chip,
                       const std::vector<std::string>& traffic_overrides = {});

// Splits `--set` assignments into those for the workload's traffic section (key `traffic` or
// `traffic.*`) and those for the chip configuration.
void split_traffic_overrides(const std::vector<std::string>& sets, std::vector<std::string>& chip,
                             std::vector<std::string>& traffic);

// The trace of the `peak` generator: every core programs random weights over its whole
// crossbar and runs back-to-back MVMs, each followed by its digital pass.
std::string peak_trace_text(const ChipConfig& chip);

std::size_t argmax(const std::vector<double>& v);

}  // namespace aimc
