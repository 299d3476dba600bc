// The on-chip interconnect (interface "interconnect") and the network interface through which
// cores and the host port send and receive messages.
//
// The base class owns what every network kind shares: the message table, the SystemC process
// that runs the network only in cycles where something can move (and sleeps while it is empty),
// delivery to the destination interface, packet statistics, the progress watchdog and the
// end-of-run conservation check. A kind implements the cycle-level model behind five hooks.
#pragma once

#include <systemc>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.hpp"
#include "sim/params.hpp"
#include "sim/registry.hpp"

namespace aimc {

struct Message {
    int src = 0, dst = 0;  // endpoint ids (cores 0..N-1, host port N)
    int tag = 0;
    std::size_t elements = 0;  // words carried (the values live in the dataflow, sim/dataflow.hpp)
    std::uint64_t bits = 0;
    std::uint64_t inject_cycle = 0, arrival_cycle = 0;
    bool measured = true;  // counts towards latency and throughput statistics
};

// A core's or the host port's attachment to the network: where it sits and the messages that
// have arrived for it (matched by source and tag).
class NetworkInterface {
public:
    NetworkInterface(int id, int x, int y) : id_(id), x_(x), y_(y) {}
    int id() const { return id_; }
    int x() const { return x_; }
    int y() const { return y_; }

    // Called by the interconnect; arrival_cycle may lie in the future (the receiver sleeps
    // until then). Wakes any stream waiting for a message.
    void deliver(Message m) {
        queues_[{m.src, m.tag}].push_back(std::move(m));
        arrived.notify(sc_core::SC_ZERO_TIME);
    }
    // The oldest message from src with tag, or null.
    Message* peek(int src, int tag) {
        auto it = queues_.find({src, tag});
        return (it == queues_.end() || it->second.empty()) ? nullptr : &it->second.front();
    }
    Message pop(int src, int tag) {
        auto& q = queues_[{src, tag}];
        Message m = std::move(q.front());
        q.pop_front();
        return m;
    }
    std::size_t pending() const {
        std::size_t n = 0;
        for (const auto& [k, q] : queues_) n += q.size();
        return n;
    }
    sc_core::sc_event arrived;

private:
    int id_, x_, y_;
    std::map<std::pair<int, int>, std::deque<Message>> queues_;
};

struct ChipGeometry {
    int grid_cols = 1, grid_rows = 1;
    double clock_hz = 1e9;
    sc_core::sc_time cycle;  // one clock period
};

// Packet latencies and flit counts of one run, kept apart from the network model so that the
// percentiles and rates are computed (and tested) in one place.
class PacketStats {
public:
    // Returns whether a message injected at `cycle` lies in the measurement window.
    bool injected(std::uint64_t flits, std::uint64_t cycle);
    void delivered(std::uint64_t flits, std::uint64_t latency, std::uint64_t tail_cycle, bool measured);
    void set_window(std::uint64_t begin, std::uint64_t end) { window_begin_ = begin, window_end_ = end; }
    std::uint64_t flits_injected() const { return flits_injected_; }
    std::uint64_t flits_delivered() const { return flits_delivered_; }
    std::uint64_t messages_injected() const { return messages_injected_; }
    std::uint64_t messages_delivered() const { return messages_delivered_; }
    // Nearest-rank percentile (p in (0, 100]) of the measured latencies; 0 when none.
    std::uint64_t percentile(double p) const;
    // {messages, flits, packet_latency_cycles{...}, throughput_flits_per_node_cycle{...}}; rates
    // per node over the window clipped to [0, total_cycles).
    void to_json(nlohmann::ordered_json& j, std::uint64_t total_cycles, int nodes) const;

private:
    std::uint64_t window_begin_ = 0, window_end_ = UINT64_MAX;
    std::uint64_t flits_injected_ = 0, flits_delivered_ = 0, messages_injected_ = 0, messages_delivered_ = 0;
    std::uint64_t window_flits_offered_ = 0, window_flits_accepted_ = 0;
    std::vector<std::uint32_t> latencies_;  // measured messages, in delivery order
    std::uint64_t latency_sum_ = 0, latency_max_ = 0;
    // latencies_ for percentile(), which reorders it; valid unless a delivery came since.
    mutable bool copy_valid_ = true;
    mutable std::vector<std::uint32_t> latency_copy_;
};

class Interconnect : public sc_core::sc_module {
public:
    static constexpr const char* kInterface = "interconnect";
    SC_HAS_PROCESS(Interconnect);
    // Reads the parameters every kind declares through with_common_params().
    Interconnect(sc_core::sc_module_name name, const ComponentConfig& c, const ChipGeometry& g);

    // A kind's own parameters followed by those every kind has (ni_latency, watchdog_cycles).
    static std::vector<ParamDecl> with_common_params(std::vector<ParamDecl> own);

    void attach(NetworkInterface& ni);
    // The sender hands a message to its network interface at cycle `now`; the interface queues
    // it (an unbounded source queue, so the sender may hand over the next one at once) and the
    // network carries it from now + ni_latency.
    void inject(Message m, std::uint64_t now);
    // Only messages injected in [begin, end) count towards latency and throughput statistics.
    void set_measurement_window(std::uint64_t begin, std::uint64_t end) { stats_.set_window(begin, end); }
    // Synthetic traffic: delivered messages are counted and dropped instead of queued at the
    // destination interface.
    void set_sink_mode(bool sink) { sink_mode_ = sink; }
    // The latest arrival cycle of any delivered message (0 when none).
    std::uint64_t last_arrival_cycle() const { return last_arrival_; }

    // Flits of a message of `bits`.
    virtual std::uint64_t flits(std::uint64_t bits) const = 0;
    // Latency in cycles of a message of `bits` between two idle endpoints at these grid
    // positions: from the cycle it is handed over to the cycle it can be read at the destination.
    virtual std::uint64_t zero_load_latency(int src_x, int src_y, int dst_x, int dst_y, std::uint64_t bits) const = 0;
    // Energy in joules: dynamic (per flit and hop) and static (power over `cycles`).
    virtual double dynamic_energy() const = 0;
    virtual double static_power() const = 0;
    nlohmann::ordered_json stats(std::uint64_t total_cycles) const;

    // After sc_start returns: rethrows an error raised inside the network process (the
    // watchdog), then checks that every flit injected was ejected, each message exactly once
    // (InternalError otherwise).
    void rethrow_failure() const;
    void check_conservation() const;
    std::uint64_t ni_latency() const { return ni_latency_; }

protected:
    struct Packet {
        int src = 0, dst = 0;  // endpoint ids
        std::uint32_t flits = 1;
    };
    // A new packet with handle `id` waits in its source interface from cycle `ready` on.
    virtual void enqueue(std::uint32_t id, const Packet& p, std::uint64_t ready) = 0;
    // Simulates cycle c (called at most once per cycle, in increasing order, only for cycles
    // that next_busy_cycle() asked for or in which a packet became ready). Calls ejected() for
    // every packet whose tail reaches its destination interface and moved() when a flit moves.
    virtual void simulate_cycle(std::uint64_t c) = 0;
    // The next cycle after c that needs simulate_cycle, or none when the network is empty.
    virtual std::optional<std::uint64_t> next_busy_cycle(std::uint64_t c) const = 0;
    // Flits inside the network (buffers, links, source queues); 0 after a complete run.
    virtual std::uint64_t flits_in_network() const = 0;
    // For the watchdog: which routers hold flits that cannot move, and why.
    virtual std::string stuck_report() const = 0;
    // The kind's own statistics, added to the common ones.
    virtual void kind_stats(nlohmann::ordered_json& j, std::uint64_t total_cycles) const = 0;
    // Called when a kind is attached an endpoint (before the run).
    virtual void on_attach(const NetworkInterface&) {}

    // The tail of packet `id` entered its destination interface at `tail_cycle` (>= the cycle
    // being simulated); the message can be read ni_latency cycles later.
    void ejected(std::uint32_t id, std::uint64_t tail_cycle);
    void moved(std::uint64_t cycle) { last_progress_ = std::max(last_progress_, cycle); }
    const std::map<int, NetworkInterface*>& endpoints() const { return endpoints_; }
    const ChipGeometry& geometry() const { return geometry_; }
    // The cycle simulated last (0 before the first).
    std::uint64_t last_cycle() const { return last_simulated_.value_or(0); }
    std::uint64_t watchdog_cycles() const { return watchdog_cycles_; }

private:
    void tick();
    std::uint64_t now_cycle() const;

    ChipGeometry geometry_;
    std::string kind_;
    std::uint64_t ni_latency_, watchdog_cycles_;
    std::map<int, NetworkInterface*> endpoints_;
    std::vector<NetworkInterface*> endpoint_by_id_;  // endpoints_ as a table (null: none), for inject()
    // Messages by packet handle; handles are reused once delivered.
    std::vector<std::optional<Message>> messages_;
    std::vector<std::uint32_t> free_handles_;
    std::uint64_t outstanding_ = 0;  // packets injected, not yet ejected
    PacketStats stats_;
    sc_core::sc_event wake_;
    std::optional<std::uint64_t> last_simulated_;
    std::uint64_t last_progress_ = 0, cycles_simulated_ = 0, last_arrival_ = 0;
    bool sink_mode_ = false;
    std::exception_ptr failure_;
};

using InterconnectFactory = Factory<Interconnect, const char*, const ChipGeometry&>;

}  // namespace aimc
