#include "models/interconnect/interconnect.hpp"

#include <algorithm>
#include <cmath>

#include "sim/errors.hpp"

namespace aimc {

// ---- PacketStats ----

bool PacketStats::injected(std::uint64_t flits, std::uint64_t cycle) {
    ++messages_injected_;
    flits_injected_ += flits;
    const bool in_window = cycle >= window_begin_ && cycle < window_end_;
    if (in_window) window_flits_offered_ += flits;
    return in_window;
}

void PacketStats::delivered(std::uint64_t flits, std::uint64_t latency, std::uint64_t tail_cycle, bool measured) {
    ++messages_delivered_;
    flits_delivered_ += flits;
    if (tail_cycle >= window_begin_ && tail_cycle < window_end_) window_flits_accepted_ += flits;
    if (!measured) return;
    AIMC_ASSERT(latency <= UINT32_MAX, "message latency beyond 2^32 cycles");
    latencies_.push_back(static_cast<std::uint32_t>(latency));
    latency_sum_ += latency;
    latency_max_ = std::max(latency_max_, latency);
    copy_valid_ = false;
}

std::uint64_t PacketStats::percentile(double p) const {
    if (latencies_.empty()) return 0;
    if (!copy_valid_) {
        latency_copy_ = latencies_;
        copy_valid_ = true;
    }
    const double n = static_cast<double>(latency_copy_.size());
    const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * n)));
    // The rank-th smallest: a partial sort of the copy (any order of it will do) is enough.
    const auto nth = latency_copy_.begin() + static_cast<std::ptrdiff_t>(std::min(rank, latency_copy_.size()) - 1);
    std::nth_element(latency_copy_.begin(), nth, latency_copy_.end());
    return *nth;
}

void PacketStats::to_json(nlohmann::ordered_json& j, std::uint64_t total_cycles, int nodes) const {
    j["messages"] = messages_injected_;
    j["flits"] = flits_injected_;
    const std::size_t n = latencies_.size();
    j["packet_latency_cycles"] = {
            {"measured", n},
            {"mean", n ? static_cast<double>(latency_sum_) / static_cast<double>(n) : 0.0},
            {"p50", percentile(50)},
            {"p99", percentile(99)},
            {"max", latency_max_}};
    const std::uint64_t end = std::min(window_end_, total_cycles);
    const std::uint64_t begin = std::min(window_begin_, end);
    const double node_cycles = static_cast<double>(end - begin) * nodes;
    j["throughput_flits_per_node_cycle"] = {
            {"window_cycles", {begin, end}},
            {"offered", node_cycles > 0 ? static_cast<double>(window_flits_offered_) / node_cycles : 0.0},
            {"accepted", node_cycles > 0 ? static_cast<double>(window_flits_accepted_) / node_cycles : 0.0}};
}

// ---- Interconnect ----

std::vector<ParamDecl> Interconnect::with_common_params(std::vector<ParamDecl> own) {
    std::vector<ParamDecl> common{ParamDecl::integer("ni_latency", 1, 1, 1000,
                               "network interface latency at each end: from handing a message over to its head "
                               "entering the network, and from its tail leaving it to the message being readable",
                               "cycles"),
            ParamDecl::integer("watchdog_cycles", 100000, 1, 1'000'000'000'000,
                               "stop the run with an error when no flit moves for this many cycles while "
                               "messages are in the network",
                               "cycles")};
    own.insert(own.end(), common.begin(), common.end());
    return own;
}

Interconnect::Interconnect(sc_core::sc_module_name name, const ComponentConfig& c, const ChipGeometry& g)
    : sc_core::sc_module(name), geometry_(g), kind_(c.kind),
      ni_latency_(static_cast<std::uint64_t>(c.integer("ni_latency"))),
      watchdog_cycles_(static_cast<std::uint64_t>(c.integer("watchdog_cycles"))) {
    SC_METHOD(tick);
    sensitive << wake_;
    dont_initialize();
}

void Interconnect::attach(NetworkInterface& ni) {
    endpoints_[ni.id()] = &ni;
    if (ni.id() >= 0) {
        if (endpoint_by_id_.size() <= static_cast<std::size_t>(ni.id())) endpoint_by_id_.resize(static_cast<std::size_t>(ni.id()) + 1);
        endpoint_by_id_[static_cast<std::size_t>(ni.id())] = &ni;
    }
    on_attach(ni);
}

std::uint64_t Interconnect::now_cycle() const {
    return sc_core::sc_time_stamp().value() / geometry_.cycle.value();
}

void Interconnect::inject(Message m, std::uint64_t now) {
    const auto attached = [&](int id) {
        return id >= 0 && static_cast<std::size_t>(id) < endpoint_by_id_.size() && endpoint_by_id_[static_cast<std::size_t>(id)];
    };
    AIMC_ASSERT(attached(m.src) && attached(m.dst), "message between unattached endpoints");
    const std::uint64_t f = flits(m.bits);
    AIMC_ASSERT(f <= UINT32_MAX, "message of more than 2^32 flits");
    m.inject_cycle = now;
    m.measured = stats_.injected(f, now) && m.measured;
    std::uint32_t id;
    if (free_handles_.empty()) {
        AIMC_ASSERT(messages_.size() < UINT32_MAX, "more than 2^32 messages in flight");
        id = static_cast<std::uint32_t>(messages_.size());
        messages_.emplace_back();
    } else {
        id = free_handles_.back();
        free_handles_.pop_back();
    }
    const Packet p{m.src, m.dst, static_cast<std::uint32_t>(f)};
    messages_[id] = std::move(m);
    // The watchdog counts from here; a kind may have marked progress up to a later cycle.
    if (outstanding_++ == 0) last_progress_ = std::max(last_progress_, now);
    const std::uint64_t ready = now + ni_latency_;
    enqueue(id, p, ready);
    wake_.notify(static_cast<double>(ready - now) * geometry_.cycle);
}

void Interconnect::ejected(std::uint32_t id, std::uint64_t tail_cycle) {
    AIMC_ASSERT(id < messages_.size() && messages_[id], "packet " + std::to_string(id) + " ejected twice or never injected");
    Message m = std::move(*messages_[id]);
    messages_[id].reset();
    free_handles_.push_back(id);
    --outstanding_;
    m.arrival_cycle = tail_cycle + ni_latency_;
    stats_.delivered(flits(m.bits), m.arrival_cycle - m.inject_cycle, tail_cycle, m.measured);
    last_arrival_ = std::max(last_arrival_, m.arrival_cycle);
    if (!sink_mode_) endpoint_by_id_[static_cast<std::size_t>(m.dst)]->deliver(std::move(m));
}

void Interconnect::tick() {
    try {
        const std::uint64_t c = now_cycle();
        if (!last_simulated_ || c > *last_simulated_) {
            simulate_cycle(c);
            last_simulated_ = c;
            ++cycles_simulated_;
            if (outstanding_ > 0 && c > last_progress_ && c - last_progress_ > watchdog_cycles_)
                throw InternalError("interconnect watchdog: no flit moved for " + std::to_string(c - last_progress_) +
                                    " cycles (interconnect.watchdog_cycles = " + std::to_string(watchdog_cycles_) +
                                    ") while " + std::to_string(outstanding_) + " messages are in the network, at cycle " +
                                    std::to_string(c) + "; stuck:\n" + stuck_report());
        }
        if (const auto next = next_busy_cycle(c))
            next_trigger(static_cast<double>(*next - c) * geometry_.cycle, wake_);
        else
            next_trigger(wake_);
    } catch (...) {
        failure_ = std::current_exception();
        sc_core::sc_stop();
    }
}

nlohmann::ordered_json Interconnect::stats(std::uint64_t total_cycles) const {
    nlohmann::ordered_json j;
    j["kind"] = kind_;
    stats_.to_json(j, total_cycles, geometry_.grid_cols * geometry_.grid_rows);
    j["cycles_simulated"] = cycles_simulated_;
    kind_stats(j, total_cycles);
    return j;
}

void Interconnect::rethrow_failure() const {
    if (failure_) std::rethrow_exception(failure_);
}

void Interconnect::check_conservation() const {
    AIMC_ASSERT(outstanding_ == 0 && flits_in_network() == 0,
                std::to_string(outstanding_) + " messages and " + std::to_string(flits_in_network()) +
                        " flits are still in the network after the run");
    AIMC_ASSERT(stats_.flits_injected() == stats_.flits_delivered() &&
                        stats_.messages_injected() == stats_.messages_delivered(),
                "flits injected " + std::to_string(stats_.flits_injected()) + " != ejected " +
                        std::to_string(stats_.flits_delivered()) + ", or messages injected " +
                        std::to_string(stats_.messages_injected()) + " != delivered " +
                        std::to_string(stats_.messages_delivered()));
}

}  // namespace aimc
