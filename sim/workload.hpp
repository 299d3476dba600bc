// Workloads: a folder with workload.yaml naming a trace (or a trace generator), the data set and
// the network whose float forward pass is the accuracy reference.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.hpp"
#include "sim/npy.hpp"
#include "sim/trace.hpp"
#include "sim/traffic.hpp"

namespace aimc {

struct ChipConfig;

// A float data set: (samples, features), row-major.
struct FloatArray {
    std::vector<std::size_t> shape;
    std::vector<float> data;
};

struct ReferenceCache;  // reference logits computed once, in batches (workload.cpp)

struct Workload {
    std::string dir;
    std::string file;  // workload.yaml
    std::string name, description;
    std::string generator;  // "", "peak" or "traffic"
    std::size_t default_samples = 1;  // 0 for traffic, which has no samples
    Trace trace;                      // empty for traffic
    std::string generated_trace;      // the trace text when it was generated (peak, or mapped from the network)
    std::optional<TrafficSpec> traffic;  // generator traffic only
    std::optional<FloatArray> inputs;  // (N, features), after data.scale and data.offset
    std::vector<long long> labels;     // N, or empty
    Network network;
    // Files the mapper derived (conv weights as 2-D matrices, folded batchnorm weights and biases),
    // by the path the trace resolves them to: the run takes them from here, not from the disk.
    std::map<std::string, NpyArray> generated_files;
    std::vector<std::string> data_files;  // data.inputs and data.labels, as read

    bool has_network() const { return !network.empty(); }
    std::size_t input_features() const { return inputs ? inputs->shape[1] : 0; }
    std::uint64_t network_macs_per_sample() const { return network.macs_per_sample(); }
    // The float reference: logits of sample i through the network.
    std::vector<double> reference_logits(std::size_t i) const;
    // The same for samples first..first+count-1: count × classes, row-major.
    std::vector<float> reference_logits_batch(std::size_t first, std::size_t count) const;

    std::shared_ptr<ReferenceCache> reference_cache;  // set by load_workload
};

// `path` is a folder holding workload.yaml, or the YAML file itself. Synthetic generators build
// their trace (or traffic) for `chip`. `traffic_overrides` are `--set traffic.KEY=VALUE`
// assignments (without `--set `) applied to the `traffic:` section; an error when it has none.
// A workload with a `network:` and neither `trace:` nor `generator:` gets the trace of the
// mapper (sim/mapper.hpp) for `chip`, unless `map_network` is false (then its trace is empty).
Workload load_workload(const std::string& path, const ChipConfig& chip,
                       const std::vector<std::string>& traffic_overrides = {}, bool map_network = true);

// Splits `--set` assignments into those for the workload's traffic section (key `traffic` or
// `traffic.*`) and those for the chip configuration.
void split_traffic_overrides(const std::vector<std::string>& sets, std::vector<std::string>& chip,
                             std::vector<std::string>& traffic);

// The trace of the `peak` generator: every core programs random weights over its whole
// crossbar and runs back-to-back MVMs, each followed by its digital pass.
std::string peak_trace_text(const ChipConfig& chip);

std::size_t argmax(const std::vector<double>& v);

}  // namespace aimc
