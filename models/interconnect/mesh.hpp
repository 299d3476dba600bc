// The `mesh` interconnect kind: the SystemC side of MeshNetwork (mesh_network.hpp).
//
// Zero-load latency of a message of F flits (F = ceil(bits / link_width_bits)) between routers
// H hops apart, with buffers of at least router_latency + 2 * link_latency flits:
//   ni_latency + (H + 1) * (router_latency + link_latency) + (F - 1) + ni_latency
// The head crosses H + 1 routers, each followed by one link: the H links between routers and the
// link into the destination interface.
#pragma once

#include <algorithm>
#include <vector>

#include "models/interconnect/interconnect.hpp"
#include "models/interconnect/mesh_network.hpp"

namespace aimc {

class Mesh final : public Interconnect {
public:
    Mesh(const ComponentConfig& c, const char* name, const ChipGeometry& g);
    // For fault-injection tests.
    MeshNetwork& network() { return network_; }

    std::uint64_t flits(std::uint64_t bits) const override { return std::max<std::uint64_t>(1, (bits + link_bits_ - 1) / link_bits_); }
    std::uint64_t zero_load_latency(int sx, int sy, int dx, int dy, std::uint64_t bits) const override;

    double dynamic_energy() const override {
        return static_cast<double>(network_.router_traversals()) * energy_router_ +
               static_cast<double>(network_.link_traversals()) * energy_link_;
    }
    double static_power() const override { return router_static_ * network_.routers(); }

private:
    void on_attach(const NetworkInterface& ni) override { network_.attach(ni.id(), ni.x(), ni.y()); }
    void enqueue(std::uint32_t id, const Packet& p, std::uint64_t ready) override {
        network_.enqueue(id, p.src, p.dst, p.flits, ready);
    }
    void simulate_cycle(std::uint64_t c) override {
        ejections_.clear();
        if (network_.step(c, ejections_)) moved(c);
        for (const auto& e : ejections_) ejected(e.packet, e.tail_cycle);
    }
    std::optional<std::uint64_t> next_busy_cycle(std::uint64_t c) const override { return network_.next_busy_cycle(c); }
    std::uint64_t flits_in_network() const override { return network_.flits_in_network(); }
    std::string stuck_report() const override { return network_.stuck_report(last_cycle()); }
    void kind_stats(nlohmann::ordered_json& j, std::uint64_t total_cycles) const override;

    MeshNetwork network_;
    std::uint64_t link_bits_;
    double energy_router_, energy_link_, router_static_;
    std::vector<MeshNetwork::Ejection> ejections_;
};

}  // namespace aimc
