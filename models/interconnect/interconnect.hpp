// The on-chip interconnect (interface "interconnect") and the network interface through which
// cores and the host port send and receive messages.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace aimc {

struct Message {
    int src = 0, dst = 0;  // endpoint ids (cores 0..N-1, host port N)
    int tag = 0;
    std::vector<float> payload;
    std::uint64_t bits = 0;
    std::uint64_t inject_cycle = 0, arrival_cycle = 0;
};

// A core's or the host port's attachment to the network: where it sits, when its injection
// port is free, and the messages that have arrived for it (matched by source and tag).
class NetworkInterface {
public:
    NetworkInterface(int id, int x, int y) : id_(id), x_(x), y_(y) {}
    int id() const { return id_; }
    int x() const { return x_; }
    int y() const { return y_; }
    std::uint64_t free_at = 0;  // first cycle the injection port can start a new message

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

class Interconnect : public sc_core::sc_module {
public:
    static constexpr const char* kInterface = "interconnect";
    explicit Interconnect(sc_core::sc_module_name name) : sc_core::sc_module(name) {}

    virtual void attach(NetworkInterface& ni) = 0;
    // The sender hands a message to its interface at cycle `now`. Returns the first cycle at
    // which the sender's injection port is free again.
    virtual std::uint64_t inject(Message m, std::uint64_t now) = 0;
    // Energy in joules: dynamic (per flit and hop) and static (power over `cycles`).
    virtual double dynamic_energy() const = 0;
    virtual double static_power() const = 0;
    virtual nlohmann::ordered_json stats(std::uint64_t total_cycles) const = 0;
    // Latency in cycles of a message of `bits` between two idle endpoints (for validate and tests).
    virtual std::uint64_t zero_load_latency(int src_x, int src_y, int dst_x, int dst_y, std::uint64_t bits) const = 0;
};

using InterconnectFactory = Factory<Interconnect, const char*, const ChipGeometry&>;

}  // namespace aimc
