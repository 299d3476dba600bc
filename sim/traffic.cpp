#include "sim/traffic.hpp"

#include <systemc>

#include <algorithm>
#include <cmath>

#include "models/chip/chip.hpp"
#include "sim/errors.hpp"

namespace aimc {

// ---- Parameters ----

const KindDecl& traffic_decl() {
    static const KindDecl decl{
        "workload generator", "traffic",
        "every core a Bernoulli source of fixed-size messages, their destinations chosen by a pattern "
        "(docs/interconnect.md)",
        {ParamDecl::choice("pattern", std::nullopt, TrafficPattern::names(),
                           "where each core's messages go: uniform (any other core), transpose ((x,y) to (y,x); "
                           "square grids), bit-complement ((W-1-x, H-1-y)), hotspot (hotspot_fraction to one "
                           "core, the rest uniform), neighbour (a core at distance 1)"),
         ParamDecl::real("rate", 0.1, 0, 1,
                         "offered load: flits each sending core injects per cycle, on average (a message every "
                         "flits-per-message / rate cycles)",
                         "flits/node/cycle"),
         ParamDecl::integer("message_bits", 256, 1, 1'000'000'000,
                            "size of every message; its flits are the interconnect's flits for this many bits", "bits"),
         ParamDecl::integer("warmup", 1000, 0, 1'000'000'000'000,
                            "cycles of injection before the measurement window (not counted in the statistics)",
                            "cycles"),
         ParamDecl::integer("duration", 10000, 1, 1'000'000'000'000,
                            "cycles of measured injection after the warmup; the run then continues until every "
                            "message is delivered",
                            "cycles"),
         ParamDecl::integer("hotspot_node", -1, -1, 1'000'000,
                            "the core that pattern hotspot favours; -1: the centre core (grid_cols/2, grid_rows/2)"),
         ParamDecl::real("hotspot_fraction", 0.2, 0, 1,
                         "pattern hotspot: the probability that a message goes to the hotspot core")}};
    return decl;
}

std::optional<TrafficSpec> read_traffic_spec(const YamlNode* node, const SourceLoc& parent_loc, const ChipConfig& chip,
                                             std::vector<std::string>& errors) {
    const std::size_t errors_before = errors.size();
    const ParamSet p = read_params(traffic_decl().params, node, parent_loc, "traffic", "the traffic generator", {}, errors);
    if (errors.size() > errors_before) return std::nullopt;
    TrafficSpec s;
    s.pattern = p.text("pattern");
    s.rate = p.real("rate");
    s.rate_where = p.value("rate").where;
    s.message_bits = static_cast<std::uint64_t>(p.integer("message_bits"));
    s.warmup = static_cast<std::uint64_t>(p.integer("warmup"));
    s.duration = static_cast<std::uint64_t>(p.integer("duration"));
    s.hotspot_fraction = p.real("hotspot_fraction");
    const auto cols = static_cast<int>(chip.at("chip").integer("grid_cols"));
    const auto rows = static_cast<int>(chip.at("chip").integer("grid_rows"));
    const auto hotspot = p.integer("hotspot_node");
    if (hotspot >= static_cast<long long>(cols) * rows) {
        errors.push_back(p.value("hotspot_node").where + ": traffic.hotspot_node: core " + std::to_string(hotspot) +
                         " does not exist: chip '" + chip.name + "' has " + std::to_string(cols * rows) +
                         " cores (0.." + std::to_string(cols * rows - 1) + ")");
        return std::nullopt;
    }
    try {
        s.hotspot_node = TrafficPattern(s.pattern, cols, rows, static_cast<int>(hotspot), s.hotspot_fraction).hotspot();
    } catch (const InputError& e) {
        errors.push_back(p.value("pattern").where + ": traffic.pattern: " + e.what());
        return std::nullopt;
    }
    return s;
}

// ---- Patterns ----

const std::vector<std::string>& TrafficPattern::names() {
    static const std::vector<std::string> n{"uniform", "transpose", "bit-complement", "hotspot", "neighbour"};
    return n;
}

TrafficPattern::TrafficPattern(const std::string& name, int cols, int rows, int hotspot_node, double hotspot_fraction)
    : name_(name), cols_(cols), rows_(rows),
      hotspot_(hotspot_node >= 0 ? hotspot_node : (rows / 2) * cols + cols / 2), hotspot_fraction_(hotspot_fraction) {
    const auto& n = names();
    const auto it = std::find(n.begin(), n.end(), name);
    AIMC_ASSERT(it != n.end(), "unknown traffic pattern '" + name + "'");
    kind_ = static_cast<Kind>(it - n.begin());  // names() lists the kinds in order
    AIMC_ASSERT(cols >= 1 && rows >= 1 && hotspot_ < nodes(), "traffic pattern on a bad grid");
    if (kind_ == Kind::Transpose && cols != rows)
        throw InputError("transpose needs a square grid of cores, the chip has " + std::to_string(cols) + " x " +
                         std::to_string(rows) + " (grid_cols x grid_rows)");
}

int TrafficPattern::neighbours(int src, int out[4]) const {
    const int x = src % cols_, y = src / cols_;
    int n = 0;
    if (x > 0) out[n++] = src - 1;
    if (x + 1 < cols_) out[n++] = src + 1;
    if (y > 0) out[n++] = src - cols_;
    if (y + 1 < rows_) out[n++] = src + cols_;
    return n;
}

bool TrafficPattern::sends(int src) const {
    switch (kind_) {
        case Kind::Transpose: return src % cols_ != src / cols_;
        // (W-1-x, H-1-y) is core N-1-i: only the centre of an odd grid maps to itself.
        case Kind::BitComplement: return nodes() - 1 - src != src;
        case Kind::Uniform:
        case Kind::Hotspot:
        case Kind::Neighbour: return nodes() > 1;
    }
    return false;
}

int TrafficPattern::uniform_other(int src, double pick) const {
    // Pick among the nodes - 1 others by skipping over src.
    const int k = std::min(static_cast<int>(pick * (nodes() - 1)), nodes() - 2);
    return k >= src ? k + 1 : k;
}

int TrafficPattern::destination(int src, double choice, double pick) const {
    switch (kind_) {
        case Kind::Uniform: return uniform_other(src, pick);
        case Kind::Transpose: return (src % cols_) * cols_ + src / cols_;
        case Kind::BitComplement: return nodes() - 1 - src;
        case Kind::Hotspot:  // the hotspot itself sends uniformly
            return src != hotspot_ && choice < hotspot_fraction_ ? hotspot_ : uniform_other(src, pick);
        case Kind::Neighbour: {
            int n[4];
            const int count = neighbours(src, n);
            return n[std::min(static_cast<int>(pick * count), count - 1)];
        }
    }
    return src;
}

// ---- Generation ----

double message_probability(double rate, std::uint64_t flits_per_message, const std::string& where) {
    AIMC_ASSERT(flits_per_message >= 1, "an interconnect reported 0 flits for a message");
    const double p = rate / static_cast<double>(flits_per_message);
    if (p > 1)
        throw InputError(where + ": traffic.rate: " + std::to_string(rate) + " flits per cycle with " +
                         std::to_string(flits_per_message) + "-flit messages is " + std::to_string(p) +
                         " messages per core per cycle; at most 1 can be generated");
    return p;
}

std::optional<double> xy_saturation_bound(int cols, int rows) {
    const double n = static_cast<double>(cols) * rows;
    if (n < 2) return std::nullopt;
    // The busiest channel crosses the middle of a row (or column): floor(W/2) * ceil(W/2) * H
    // source-destination pairs use it.
    const double across_x = std::floor(cols / 2.0) * std::ceil(cols / 2.0) * rows;
    const double across_y = std::floor(rows / 2.0) * std::ceil(rows / 2.0) * cols;
    return std::min(1.0, (n - 1) / std::max(across_x, across_y));
}

TrafficGenerator::TrafficGenerator(TrafficPattern pattern, double p, std::uint64_t end_cycle, std::uint64_t seed)
    : pattern_(std::move(pattern)), log_no_message_(std::log1p(-p)), end_cycle_(end_cycle) {
    AIMC_ASSERT(p >= 0 && p <= 1, "message probability outside [0, 1]");
    const int n = pattern_.nodes();
    AIMC_ASSERT(n < (1 << kSourceBits) && end_cycle < (std::uint64_t{1} << (64 - kSourceBits)),
                "too many cores or cycles for the traffic generator");
    drawn_.assign(static_cast<std::size_t>(n), 0);
    next_destination_.assign(static_cast<std::size_t>(n), 0);
    for (int c = 0; c < n; ++c) {
        rngs_.emplace_back(seed, static_cast<std::uint64_t>(c), RandomPurpose::Traffic);
        if (!pattern_.sends(c)) continue;
        ++sending_nodes_;
        if (p > 0) schedule(c, 0);
    }
}

void TrafficGenerator::schedule(int src, std::uint64_t from) {
    if (from >= end_cycle_) return;
    const std::uint64_t k = drawn_[static_cast<std::size_t>(src)]++;
    const auto r = rngs_[static_cast<std::size_t>(src)].block(k & 0xffffffffu, k >> 32);
    // U in (0, 1] from 53 random bits; the cycles without a message before the next one follow
    // the geometric distribution: floor(ln U / ln(1 - p)) (0 when p = 1).
    const double u = (static_cast<double>((std::uint64_t{r[0]} << 21) | (r[1] >> 11)) + 1.0) * 0x1p-53;
    const double idle = std::floor(std::log(u) / log_no_message_);
    if (!(idle < static_cast<double>(end_cycle_ - from))) return;
    const std::uint64_t cycle = from + static_cast<std::uint64_t>(idle);
    next_destination_[static_cast<std::size_t>(src)] = pattern_.destination(src, r[2] * 0x1p-32, r[3] * 0x1p-32);
    next_.push(cycle << kSourceBits | static_cast<std::uint64_t>(src));
}

TrafficMessage TrafficGenerator::pop() {
    AIMC_ASSERT(!next_.empty(), "no traffic message left");
    const std::uint64_t key = next_.top();
    next_.pop();
    const auto src = static_cast<int>(key & ((std::uint64_t{1} << kSourceBits) - 1));
    const TrafficMessage m{key >> kSourceBits, src, next_destination_[static_cast<std::size_t>(src)]};
    ++generated_;
    schedule(m.src, m.cycle + 1);
    return m;
}

// ---- The run ----

namespace {

// One SC_METHOD for all cores: injects the messages of the current cycle, then sleeps until the
// next message's cycle.
class TrafficDriver : public sc_core::sc_module {
public:
    SC_HAS_PROCESS(TrafficDriver);
    TrafficDriver(sc_core::sc_module_name name, TrafficGenerator& generator, Interconnect& net,
                  std::uint64_t message_bits, sc_core::sc_time cycle, std::uint64_t& activations,
                  std::exception_ptr& error)
        : sc_core::sc_module(name), generator_(generator), net_(net), message_bits_(message_bits), cycle_(cycle),
          activations_(activations), error_(error) {
        SC_METHOD(inject_due);
    }

private:
    void inject_due() {
        ++activations_;
        try {
            const std::uint64_t now = sc_core::sc_time_stamp().value() / cycle_.value();
            while (!generator_.done() && generator_.next_cycle() <= now) {
                const TrafficMessage g = generator_.pop();
                AIMC_ASSERT(g.cycle == now, "traffic message of cycle " + std::to_string(g.cycle) +
                                                    " injected at cycle " + std::to_string(now));
                Message m;
                m.src = g.src;
                m.dst = g.dst;
                m.bits = message_bits_;
                net_.inject(std::move(m), now);
            }
            if (!generator_.done()) next_trigger(static_cast<double>(generator_.next_cycle() - now) * cycle_);
        } catch (...) {
            error_ = std::current_exception();
            sc_core::sc_stop();
        }
    }

    TrafficGenerator& generator_;
    Interconnect& net_;
    std::uint64_t message_bits_;
    sc_core::sc_time cycle_;
    std::uint64_t& activations_;
    std::exception_ptr& error_;
};

}  // namespace

TrafficRun::TrafficRun(const ChipConfig& cfg, Chip& chip, const TrafficSpec& spec, std::uint64_t seed,
                       std::exception_ptr& error)
    : spec_(spec), net_(chip.interconnect()), flits_per_message_(net_.flits(spec.message_bits)),
      generator_(TrafficPattern(spec.pattern, chip.geometry().grid_cols, chip.geometry().grid_rows, spec.hotspot_node,
                                spec.hotspot_fraction),
                 message_probability(spec.rate, flits_per_message_, spec.rate_where), spec.end_cycle(), seed) {
    if (spec.pattern == "uniform" && cfg.at("interconnect").kind == "mesh")
        saturation_bound_ = xy_saturation_bound(chip.geometry().grid_cols, chip.geometry().grid_rows);
    net_.set_sink_mode(true);
    net_.set_measurement_window(spec.warmup, spec.end_cycle());
    driver_ = std::make_unique<TrafficDriver>("traffic_driver", generator_, net_, spec.message_bits,
                                              chip.geometry().cycle, activations_, error);
}

TrafficRun::~TrafficRun() = default;

std::uint64_t TrafficRun::end_cycle() const { return std::max(net_.last_arrival_cycle(), spec_.end_cycle()); }

nlohmann::ordered_json TrafficRun::report() const {
    nlohmann::ordered_json j;
    j["pattern"] = spec_.pattern;
    j["rate"] = spec_.rate;
    j["message_bits"] = spec_.message_bits;
    j["flits_per_message"] = flits_per_message_;
    j["warmup"] = spec_.warmup;
    j["duration"] = spec_.duration;
    j["messages_generated"] = generator_.generated();
    j["sending_nodes"] = generator_.sending_nodes();
    j["xy_saturation_bound_flits_per_node_cycle"] =
        saturation_bound_ ? nlohmann::ordered_json(*saturation_bound_) : nlohmann::ordered_json(nullptr);
    return j;
}

}  // namespace aimc
