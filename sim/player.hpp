// The trace player: one SystemC process per trace stream. Operations issue in order; each waits
// until the buffers it reads are ready and its resource is free, then the block it runs on
// computes when its result will be ready. The process sleeps until the next thing can happen
// (a cycle count or a message arrival); it never ticks a clock.
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/chip/chip.hpp"
#include "sim/timeline.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"

namespace aimc {

// Barriers by name: the k-th arrival of every participating stream releases generation k.
struct BarrierState {
    int participants = 0;
    std::map<std::uint64_t, int> arrived;  // generation -> streams arrived
    sc_core::sc_event released;
};

// What all players of one run share.
struct RunState {
    const Trace* trace = nullptr;
    const Workload* workload = nullptr;
    Chip* chip = nullptr;
    std::uint64_t seed = 1;
    std::size_t samples = 1;
    std::vector<BarrierState> barriers;
    std::vector<std::vector<float>> outputs;  // per sample: the host's outputs, from the dataflow
    std::vector<std::uint64_t> sample_start, sample_end;  // cycles, over all streams
    std::uint64_t events = 0;                             // process activations
    std::uint64_t end_cycle = 0;
    bool host_collects = false;  // some host stream has output ops (enables the in-flight window)
    int host_output_streams = 0;
    std::vector<int> host_outputs_per_sample;  // streams done with sample k's outputs
    // The first exception raised inside a process: kept here, the kernel stopped, and rethrown
    // after sc_start returns (SystemC would otherwise turn it into its own report).
    std::exception_ptr error;
    Timeline* timeline = nullptr;  // --timeline
    Progress* progress = nullptr;  // samples collected
};

class StreamPlayer : public sc_core::sc_module {
public:
    SC_HAS_PROCESS(StreamPlayer);
    StreamPlayer(sc_core::sc_module_name name, const StreamTrace& stream, RunState& run);

    bool finished() const { return finished_; }
    // "core 3 at trace.txt:12 (recv), sample 4" for deadlock reports.
    std::string position() const;

private:
    struct Buffer {
        std::size_t len = 0;  // elements (the values are the dataflow's)
        std::uint64_t ready = 0;
        bool in_output_buffer = false;  // an MVM result not read yet: it holds an output-buffer slot
    };
    enum class Wait { None, Until, Event };
    struct Outcome {
        Wait kind = Wait::None;
        std::uint64_t cycle = 0;
        const sc_core::sc_event* event = nullptr;
        std::uint64_t done = 0;  // cycle at which the op's effect is complete (Wait::None)
    };

    void step();
    Outcome execute(const Op& op, std::uint64_t now);
    Outcome until(std::uint64_t cycle) const { return {Wait::Until, cycle, nullptr, 0}; }
    Outcome on(const sc_core::sc_event& e) const { return {Wait::Event, 0, &e, 0}; }
    Outcome done(std::uint64_t cycle) const { return {Wait::None, 0, nullptr, cycle}; }
    std::uint64_t now_cycle() const;
    Buffer& buf(int id) { return buffers_[static_cast<std::size_t>(id)]; }
    // The first read of an MVM result (at `cycle`) frees its slot in the core's output buffer.
    Buffer& read(int id, std::uint64_t cycle);
    NetworkInterface& ni();
    int endpoint_id(int trace_endpoint) const;
    // Adds an event of this stream's endpoint to the timeline, if one is written.
    void record(Timeline::Track track, const std::string& name, std::uint64_t start, std::uint64_t end) const;

    const StreamTrace& stream_;
    RunState& run_;
    AimcCore* core_ = nullptr;  // null for host streams
    bool collects_outputs_ = false;
    std::vector<Buffer> buffers_;
    std::map<int, std::uint64_t> barrier_generation_;  // barrier -> next generation
    std::optional<std::uint64_t> barrier_waiting_;      // generation this stream waits for
    bool in_setup_ = true;
    std::size_t pc_ = 0, sample_ = 0;
    std::uint64_t sample_first_ = 0, sample_last_ = 0;
    bool sample_started_ = false;
    bool finished_ = false;
};

}  // namespace aimc
