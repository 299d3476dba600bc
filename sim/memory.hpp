// The memory a run will need, estimated before the big allocations (the crossbars' device state,
// the dataflow's batch buffers, the per-sample results), and the limit it is checked against
// (`--memory-limit`; docs/robustness.md gives the formula).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/config.hpp"
#include "sim/dataflow.hpp"
#include "sim/workload.hpp"

namespace aimc {

// Bytes, by what holds them. Every part is an upper bound of the largest amount alive at once,
// except `base`, which is measured.
struct MemoryEstimate {
    std::uint64_t base = 0;         // the process (code, libraries, SystemC kernel) and the chip's modules
    std::uint64_t workload = 0;     // loaded already: data set, network weights, trace, weight files
    std::uint64_t crossbars = 0;    // conductances of every programmed core (as programmed, at inference)
    std::uint64_t programming = 0;  // the device arrays of the tiles being programmed, one per thread
    std::uint64_t dataflow = 0;     // batch buffers, messages and MVM operands, one batch per thread
    std::uint64_t reference = 0;    // the float reference's batches, one per thread
    std::uint64_t results = 0;      // per-sample outputs and latencies, the --logits file, message latencies
    std::uint64_t report = 0;       // the JSON report

    std::uint64_t total() const;
    // "crossbars 192 MiB, programming 8 MiB, ..." (the parts that are not zero).
    std::string breakdown() const;
};

struct MemoryRun {
    std::size_t samples = 0;
    unsigned threads = 1;
    bool timed = true;    // false: the functional mode (no timing model, no per-sample latencies)
    bool logits = false;  // --logits
};

MemoryEstimate estimate_memory(const ChipConfig& cfg, const Workload& w, const FileTable& files, const MemoryRun& run);

// The default limit: 80% of the memory this process may use: the physical memory
// (sysconf), or the cgroup's memory.max, or the address-space limit (ulimit -v), whichever is
// the least.
std::uint64_t default_memory_limit();

// "4GiB", "512 MiB", "2G", "1.5GB", "1000000": bytes. Binary prefixes for K, M, G, T with or
// without "iB"; decimal ones for kB, MB, GB, TB. Nothing for anything else.
std::optional<std::uint64_t> parse_memory_size(const std::string& text);
// "1.5 GiB", "640 KiB", "12 B".
std::string format_bytes(std::uint64_t bytes);

// Throws InputError when the estimate exceeds `limit` (0: the default limit). `limit_given`:
// whether it came from --memory-limit (for the message).
void check_memory(const MemoryEstimate& e, std::uint64_t limit, bool limit_given);

}  // namespace aimc
