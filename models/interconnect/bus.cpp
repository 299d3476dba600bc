// bus: one shared medium that carries one message at a time, for small or layer-serial designs
// where a mesh's routers cost more than they bring. Each endpoint (cores 0..N-1, the host port N)
// queues its messages in order; the bus grants the endpoints round-robin in id order.
//
// A message of F flits (F = ceil(bits / width_bits)) granted at cycle t holds the bus for
// arbitration_latency + F cycles and its tail enters the destination at t + arbitration_latency + F.
// Latency of a message on an idle bus, wherever its endpoints sit:
//   ni_latency (inject) + arbitration_latency + F + ni_latency (eject)
#include <algorithm>
#include <deque>
#include <map>

#include "models/interconnect/interconnect.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class Bus final : public Interconnect {
public:
    Bus(const ComponentConfig& c, const char* name, const ChipGeometry& g)
        : Interconnect(name, c, g), width_bits_(static_cast<std::uint64_t>(c.integer("width_bits"))),
          arbitration_latency_(static_cast<std::uint64_t>(c.integer("arbitration_latency"))),
          energy_per_flit_(c.real("energy_per_flit")), static_power_(c.real("static_power")) {}

    std::uint64_t flits(std::uint64_t bits) const override {
        return std::max<std::uint64_t>(1, (bits + width_bits_ - 1) / width_bits_);
    }
    // Every endpoint is one transfer away from every other: the positions do not matter.
    std::uint64_t zero_load_latency(int, int, int, int, std::uint64_t bits) const override {
        return 2 * ni_latency() + occupancy(flits(bits));
    }
    double dynamic_energy() const override { return static_cast<double>(flits_transferred_) * energy_per_flit_; }
    double static_power() const override { return static_power_; }

private:
    struct Queued {
        std::uint32_t id;
        std::uint32_t flits;
        std::uint64_t ready;  // first cycle it may be granted
    };
    using Queues = std::map<int, std::deque<Queued>>;  // by endpoint id, so round-robin follows id order

    // Cycles one transfer holds the bus: arbitration, then one flit per cycle.
    std::uint64_t occupancy(std::uint64_t flits) const { return arbitration_latency_ + flits; }

    void on_attach(const NetworkInterface& ni) override { queues_[ni.id()]; }

    void enqueue(std::uint32_t id, const Packet& p, std::uint64_t ready) override {
        queues_.at(p.src).push_back({id, p.flits, ready});
        queued_flits_ += p.flits;
    }

    void simulate_cycle(std::uint64_t t) override {
        if (t < free_at_) {
            // A transfer is under way: that is progress. The watchdog would otherwise count from
            // a message queued behind it (inject() restarts the count when the network looks
            // empty, and a granted message has already left the count).
            moved(t);
            return;
        }
        const auto granted = next_in_turn(t);
        if (granted == queues_.end()) return;
        const Queued m = granted->second.front();
        granted->second.pop_front();
        last_granted_ = granted->first;
        queued_flits_ -= m.flits;
        ++grants_;
        arbitration_wait_ += t - m.ready;
        busy_cycles_ += occupancy(m.flits);
        flits_transferred_ += m.flits;
        free_at_ = t + occupancy(m.flits);  // the cycle the tail enters the destination
        moved(free_at_);
        ejected(m.id, free_at_);
    }

    // Round-robin: the first endpoint after the last granted one (wrapping) whose head is ready at t.
    Queues::iterator next_in_turn(std::uint64_t t) {
        const auto head_ready = [t](const Queues::value_type& q) { return !q.second.empty() && q.second.front().ready <= t; };
        const auto after = queues_.upper_bound(last_granted_);
        auto it = std::find_if(after, queues_.end(), head_ready);
        if (it != queues_.end()) return it;
        it = std::find_if(queues_.begin(), after, head_ready);
        return it != after ? it : queues_.end();
    }

    std::optional<std::uint64_t> next_busy_cycle(std::uint64_t c) const override {
        std::optional<std::uint64_t> earliest_head;
        for (const auto& [endpoint, q] : queues_)
            if (!q.empty()) earliest_head = std::min(earliest_head.value_or(UINT64_MAX), q.front().ready);
        if (!earliest_head) return std::nullopt;
        return std::max({c + 1, free_at_, *earliest_head});
    }

    std::uint64_t flits_in_network() const override { return queued_flits_; }

    std::string stuck_report() const override {
        const int host = geometry().grid_cols * geometry().grid_rows;  // the host port's endpoint id
        std::string s;
        for (const auto& [endpoint, q] : queues_)
            if (!q.empty())
                s += "  endpoint " + std::to_string(endpoint) + (endpoint == host ? " (host port)" : "") + ": " +
                     std::to_string(q.size()) + " queued, the first ready at cycle " +
                     std::to_string(q.front().ready) + "\n";
        return s + "  bus free at cycle " + std::to_string(free_at_) + "\n";
    }

    void kind_stats(nlohmann::ordered_json& j, std::uint64_t total_cycles) const override {
        j["busy_cycles"] = busy_cycles_;
        j["utilisation"] = total_cycles ? static_cast<double>(busy_cycles_) / static_cast<double>(total_cycles) : 0.0;
        j["grants"] = grants_;
        j["mean_arbitration_wait_cycles"] =
                grants_ ? static_cast<double>(arbitration_wait_) / static_cast<double>(grants_) : 0.0;
        j["flits_transferred"] = flits_transferred_;
    }

    std::uint64_t width_bits_, arbitration_latency_;
    double energy_per_flit_, static_power_;
    Queues queues_;
    int last_granted_ = -1;  // no grant yet: endpoint 0 comes first
    std::uint64_t free_at_ = 0;  // first cycle the bus can start a new transfer
    std::uint64_t queued_flits_ = 0, grants_ = 0, arbitration_wait_ = 0, busy_cycles_ = 0, flits_transferred_ = 0;
};

AIMC_REGISTER_KIND(
    InterconnectFactory,
    KindDecl{"", "bus", "one shared bus, granted round-robin to the endpoints; one message at a time",
             Interconnect::with_common_params(
                     {ParamDecl::integer("width_bits", 64, 1, 65536, "bits the bus carries per cycle (one flit)", "bits"),
                      ParamDecl::integer("arbitration_latency", 1, 0, 1000,
                                         "cycles from a grant to the first flit on the bus", "cycles"),
                      ParamDecl::quantity("energy_per_flit", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                          "energy of one flit crossing the bus"),
                      ParamDecl::quantity("static_power", Dimension::Power, std::string("0 W"), 0, 100,
                                          "static power of the whole bus")})},
    [](const ComponentConfig& c, const char* name, const ChipGeometry& g) {
        return std::make_unique<Bus>(c, name, g);
    });

}  // namespace
}  // namespace aimc
