// mesh: a W x H grid of routers with dimension-order (XY) routes. This version charges every
// message its zero-load latency (no contention between messages); the flit-level model with
// buffers, virtual channels and credits replaces the timing inside, not the interface.
//
// Latency of a message of F flits over H hops (F = ceil(bits / link_width_bits)):
//   ni_latency (inject) + H * (router_latency + link_latency) + router_latency (ejecting router)
//   + (F - 1) serialization + ni_latency (eject)
#include <cmath>
#include <cstdlib>
#include <map>

#include "models/interconnect/interconnect.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class Mesh final : public Interconnect {
public:
    Mesh(const ComponentConfig& c, const char* name, const ChipGeometry& g)
        : Interconnect(name, c, g), link_bits_(static_cast<std::uint64_t>(c.integer("link_width_bits"))),
          router_latency_(static_cast<std::uint64_t>(c.integer("router_latency"))),
          link_latency_(static_cast<std::uint64_t>(c.integer("link_latency"))),
          energy_router_(c.real("energy_per_flit_router")), energy_link_(c.real("energy_per_flit_link")),
          router_static_(c.real("router_static_power")) {}

    std::uint64_t flits(std::uint64_t bits) const override { return std::max<std::uint64_t>(1, (bits + link_bits_ - 1) / link_bits_); }

    std::uint64_t zero_load_latency(int sx, int sy, int dx, int dy, std::uint64_t bits) const override {
        return 2 * ni_latency() + path_latency(sx, sy, dx, dy, bits);
    }

    double dynamic_energy() const override {
        return static_cast<double>(router_traversals_) * energy_router_ + static_cast<double>(link_traversals_) * energy_link_;
    }
    double static_power() const override { return router_static_ * geometry().grid_cols * geometry().grid_rows; }

private:
    std::uint64_t path_latency(int sx, int sy, int dx, int dy, std::uint64_t bits) const {
        std::uint64_t hops = static_cast<std::uint64_t>(std::abs(sx - dx) + std::abs(sy - dy));
        return hops * (router_latency_ + link_latency_) + router_latency_ + (flits(bits) - 1);
    }
    void enqueue(std::uint32_t id, const Packet& p, std::uint64_t ready) override {
        const NetworkInterface& s = *endpoints().at(p.src);
        const NetworkInterface& d = *endpoints().at(p.dst);
        std::uint64_t hops = static_cast<std::uint64_t>(std::abs(s.x() - d.x()) + std::abs(s.y() - d.y()));
        router_traversals_ += p.flits * (hops + 1);
        link_traversals_ += p.flits * hops;
        queue_.emplace(ready, std::make_pair(id, ready + path_latency(s.x(), s.y(), d.x(), d.y(), p.flits * link_bits_)));
        in_network_ += p.flits;
        flits_of_[id] = p.flits;
    }
    void simulate_cycle(std::uint64_t c) override {
        while (!queue_.empty() && queue_.begin()->first <= c) {
            auto [id, tail] = queue_.begin()->second;
            queue_.erase(queue_.begin());
            in_network_ -= flits_of_[id];
            moved(c);
            ejected(id, tail);
        }
    }
    std::optional<std::uint64_t> next_busy_cycle(std::uint64_t) const override {
        if (queue_.empty()) return std::nullopt;
        return queue_.begin()->first;
    }
    std::uint64_t flits_in_network() const override { return in_network_; }
    std::string stuck_report() const override { return ""; }
    void kind_stats(nlohmann::ordered_json& j, std::uint64_t total_cycles) const override {
        j["router_traversals"] = router_traversals_;
        j["link_traversals"] = link_traversals_;
        const auto& g = geometry();
        std::uint64_t links = 2ull * (static_cast<std::uint64_t>(g.grid_cols - 1) * g.grid_rows +
                                      static_cast<std::uint64_t>(g.grid_rows - 1) * g.grid_cols);
        j["mean_link_utilisation"] = (links && total_cycles)
                                         ? static_cast<double>(link_traversals_) / static_cast<double>(links * total_cycles)
                                         : 0.0;
    }

    std::uint64_t link_bits_, router_latency_, link_latency_;
    double energy_router_, energy_link_, router_static_;
    std::multimap<std::uint64_t, std::pair<std::uint32_t, std::uint64_t>> queue_;
    std::map<std::uint32_t, std::uint64_t> flits_of_;
    std::uint64_t in_network_ = 0, router_traversals_ = 0, link_traversals_ = 0;
};

AIMC_REGISTER_KIND(
    InterconnectFactory,
    KindDecl{"", "mesh",
             "2-D mesh of routers with XY routing; per-hop latency without contention in this version",
             Interconnect::with_common_params({ParamDecl::integer("link_width_bits", 64, 1, 65536, "bits a link carries per cycle (one flit)", "bits"),
              ParamDecl::integer("router_latency", 1, 0, 1000, "router pipeline latency per traversal", "cycles"),
              ParamDecl::integer("link_latency", 1, 0, 1000, "latency of one link", "cycles"),
              ParamDecl::quantity("energy_per_flit_router", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                  "energy of one flit through one router"),
              ParamDecl::quantity("energy_per_flit_link", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                  "energy of one flit over one link"),
              ParamDecl::quantity("router_static_power", Dimension::Power, std::string("0 W"), 0, 100,
                                  "static power of one router")})},
    [](const ComponentConfig& c, const char* name, const ChipGeometry& g) {
        return std::make_unique<Mesh>(c, name, g);
    });

}  // namespace
}  // namespace aimc
