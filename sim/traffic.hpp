// Synthetic traffic for the interconnect (workload.yaml `generator: traffic`): every core is an
// independent Bernoulli source that sends fixed-size messages to destinations chosen by a
// pattern (uniform, transpose, bit-complement, hotspot, neighbour). See docs/interconnect.md.
//
// The patterns and the generator are plain C++ (tested alone, reusable by a benchmark); only
// TrafficRun, which injects the generated messages into a chip's interconnect, uses SystemC.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "models/common/random.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace sc_core {
class sc_module;
}

namespace aimc {

class Chip;
class Interconnect;

// The parameters of the `traffic:` section, declared once for the loader and `aimcsim describe`
// (interface "workload generator", kind "traffic"; not a chip component).
const KindDecl& traffic_decl();

// A validated `traffic:` section.
struct TrafficSpec {
    std::string pattern;
    double rate = 0.1;  // offered load: flits per sending core per cycle
    std::uint64_t message_bits = 256;
    std::uint64_t warmup = 1000, duration = 10000;  // cycles
    int hotspot_node = 0;                           // resolved: a core index, never -1
    double hotspot_fraction = 0.2;
    std::string rate_where;  // where traffic.rate was given ("file:line:col", "--set ...", "(default)")

    // Messages are generated in [0, end_cycle()); the measurement window is [warmup, end_cycle()).
    std::uint64_t end_cycle() const { return warmup + duration; }
};

// Reads the `traffic:` section `node` (null when absent, `parent_loc` then says where it would
// be) for `chip`: values checked against traffic_decl(), the hotspot node resolved, the pattern
// checked against the core grid. Problems are appended to `errors` ("file:line:col: traffic.key:
// what"); the result is empty when there were any.
std::optional<TrafficSpec> read_traffic_spec(const YamlNode* node, const SourceLoc& parent_loc, const ChipConfig& chip,
                                             std::vector<std::string>& errors);

// Where the messages of each core go. Cores are numbered row by row: core i sits at
// x = i mod cols, y = i / cols.
class TrafficPattern {
public:
    // The values of traffic.pattern.
    static const std::vector<std::string>& names();
    // Throws InputError (without a location: the caller knows it) when the pattern does not fit
    // the grid: transpose needs a square grid. hotspot_node -1 is the centre core.
    TrafficPattern(const std::string& name, int cols, int rows, int hotspot_node = -1, double hotspot_fraction = 0.2);

    const std::string& name() const { return name_; }
    int nodes() const { return cols_ * rows_; }
    int hotspot() const { return hotspot_; }
    // Whether core `src` sends at all: not when it has no destination but itself (the diagonal
    // of transpose, the centre of an odd grid under bit-complement, a single core).
    bool sends(int src) const;
    // The destination of a message from sending core `src`, from two independent uniforms in
    // [0, 1): `choice` decides between the hotspot and the rest, `pick` picks among candidates.
    int destination(int src, double choice, double pick) const;

private:
    enum class Kind { Uniform, Transpose, BitComplement, Hotspot, Neighbour };
    // Uniformly one of the other nodes - 1 cores.
    int uniform_other(int src, double pick) const;
    // The cores at Manhattan distance 1 (2 to 4 of them on a grid of at least 2 x 2); returns how many.
    int neighbours(int src, int out[4]) const;

    std::string name_;
    Kind kind_;
    int cols_, rows_, hotspot_;
    double hotspot_fraction_;
};

// The probability that a sending core generates a message in a cycle: rate / flits per message.
// Throws InputError naming traffic.rate (at `where`) when it exceeds 1.
double message_probability(double rate, std::uint64_t flits_per_message, const std::string& where);

// Throughput bound of uniform traffic on a cols x rows mesh with XY routing, in flits per node
// per cycle: the load at which the busiest channel carries one flit per cycle, capped at one flit
// per node per cycle (docs/interconnect.md derives it). Empty for a single node.
std::optional<double> xy_saturation_bound(int cols, int rows);

struct TrafficMessage {
    std::uint64_t cycle = 0;  // generation cycle
    int src = 0, dst = 0;
};

// All cores' Bernoulli processes over cycles [0, end_cycle): each sending core generates a
// message in a cycle with probability p. The gap to a core's next message is drawn directly
// (geometric), so the cost is per message, not per cycle; a min-heap orders the cores by their
// next message. Message k of core c is decided by Philox block k of stream (seed, c, Traffic):
// the same seed gives the same messages.
class TrafficGenerator {
public:
    TrafficGenerator(TrafficPattern pattern, double p, std::uint64_t end_cycle, std::uint64_t seed);

    bool done() const { return next_.empty(); }
    // The cycle of the next message (when not done).
    std::uint64_t next_cycle() const { return next_.top() >> kSourceBits; }
    // The next message in order of cycle, then source core.
    TrafficMessage pop();
    const TrafficPattern& pattern() const { return pattern_; }
    int sending_nodes() const { return sending_nodes_; }
    std::uint64_t generated() const { return generated_; }

private:
    // Draws core `src`'s next message, at cycle `from` or later, unless that is past the end.
    void schedule(int src, std::uint64_t from);
    TrafficPattern pattern_;
    double log_no_message_;  // ln(1 - p)
    std::uint64_t end_cycle_;
    std::vector<CounterRng> rngs_;         // by core
    std::vector<std::uint64_t> drawn_;     // messages drawn so far, by core (the Philox counter)
    // Each sending core's next message: its cycle << kSourceBits | core, the earliest (then the
    // lowest core) on top, as one integer so that the heap compares cheaply; its destination.
    static constexpr int kSourceBits = 20;
    std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<std::uint64_t>> next_;
    std::vector<int> next_destination_;  // by core
    int sending_nodes_ = 0;
    std::uint64_t generated_ = 0;
};

// One synthetic-traffic run on an elaborated chip: a SystemC driver that injects the generated
// messages into the interconnect at their generation cycles (the network sinks them on
// delivery), and the report's `traffic` section afterwards.
class TrafficRun {
public:
    // Before sc_start. An error inside the driver is stored in `error` and stops the kernel.
    TrafficRun(const ChipConfig& cfg, Chip& chip, const TrafficSpec& spec, std::uint64_t seed, std::exception_ptr& error);
    ~TrafficRun();
    // After sc_start: the run ends when the last message has arrived, and not before injection
    // ends (the sources run through the whole window even when they draw no message late in it).
    std::uint64_t end_cycle() const;
    // The report's `traffic` section (docs/report.md).
    nlohmann::ordered_json report() const;
    // Activations of the driver process (for sim.events).
    std::uint64_t activations() const { return activations_; }

private:
    TrafficSpec spec_;
    Interconnect& net_;
    std::uint64_t flits_per_message_;
    TrafficGenerator generator_;
    std::optional<double> saturation_bound_;  // uniform traffic on a mesh only
    std::uint64_t activations_ = 0;
    std::unique_ptr<sc_core::sc_module> driver_;
};

}  // namespace aimc
