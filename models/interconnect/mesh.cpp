// mesh: a W x H grid of routers with dimension-order (XY) routes. This version charges every
// message its zero-load latency (no contention between messages); the flit-level model with
// buffers, virtual channels and credits replaces the timing inside, not the interface.
//
// Latency of a message of F flits over H hops (F = ceil(bits / link_width_bits)):
//   ni_latency (inject) + H * (router_latency + link_latency) + router_latency (ejecting router)
//   + (F - 1) serialization + ni_latency (eject)
#include <cmath>
#include <cstdlib>

#include "models/interconnect/interconnect.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class Mesh final : public Interconnect {
public:
    Mesh(const ComponentConfig& c, const char* name, const ChipGeometry& g)
        : Interconnect(name), geometry_(g), link_bits_(static_cast<std::uint64_t>(c.integer("link_width_bits"))),
          router_latency_(static_cast<std::uint64_t>(c.integer("router_latency"))),
          link_latency_(static_cast<std::uint64_t>(c.integer("link_latency"))),
          ni_latency_(static_cast<std::uint64_t>(c.integer("ni_latency"))),
          energy_router_(c.real("energy_per_flit_router")), energy_link_(c.real("energy_per_flit_link")),
          router_static_(c.real("router_static_power")) {}

    void attach(NetworkInterface& ni) override { endpoints_[ni.id()] = &ni; }

    std::uint64_t flits(std::uint64_t bits) const { return std::max<std::uint64_t>(1, (bits + link_bits_ - 1) / link_bits_); }

    std::uint64_t zero_load_latency(int sx, int sy, int dx, int dy, std::uint64_t bits) const override {
        std::uint64_t hops = static_cast<std::uint64_t>(std::abs(sx - dx) + std::abs(sy - dy));
        return 2 * ni_latency_ + hops * (router_latency_ + link_latency_) + router_latency_ + (flits(bits) - 1);
    }

    std::uint64_t inject(Message m, std::uint64_t now) override {
        NetworkInterface* src = endpoints_.at(m.src);
        NetworkInterface* dst = endpoints_.at(m.dst);
        std::uint64_t f = flits(m.bits);
        std::uint64_t hops = static_cast<std::uint64_t>(std::abs(src->x() - dst->x()) + std::abs(src->y() - dst->y()));
        m.inject_cycle = now;
        m.arrival_cycle = now + zero_load_latency(src->x(), src->y(), dst->x(), dst->y(), m.bits);
        ++messages_;
        flits_ += f;
        router_traversals_ += f * (hops + 1);
        link_traversals_ += f * hops;
        latency_sum_ += m.arrival_cycle - now;
        max_latency_ = std::max(max_latency_, m.arrival_cycle - now);
        dst->deliver(std::move(m));
        return now + f;  // the injection port streams one flit per cycle
    }

    double dynamic_energy() const override {
        return static_cast<double>(router_traversals_) * energy_router_ + static_cast<double>(link_traversals_) * energy_link_;
    }
    double static_power() const override { return router_static_ * geometry_.grid_cols * geometry_.grid_rows; }

    nlohmann::ordered_json stats(std::uint64_t total_cycles) const override {
        nlohmann::ordered_json j;
        j["kind"] = "mesh";
        j["messages"] = messages_;
        j["flits"] = flits_;
        j["router_traversals"] = router_traversals_;
        j["link_traversals"] = link_traversals_;
        j["mean_message_latency_cycles"] = messages_ ? static_cast<double>(latency_sum_) / static_cast<double>(messages_) : 0.0;
        j["max_message_latency_cycles"] = max_latency_;
        std::uint64_t links = 2ull * (static_cast<std::uint64_t>(geometry_.grid_cols - 1) * geometry_.grid_rows +
                                      static_cast<std::uint64_t>(geometry_.grid_rows - 1) * geometry_.grid_cols);
        j["mean_link_utilisation"] = (links && total_cycles)
                                         ? static_cast<double>(link_traversals_) / static_cast<double>(links * total_cycles)
                                         : 0.0;
        return j;
    }

private:
    ChipGeometry geometry_;
    std::uint64_t link_bits_, router_latency_, link_latency_, ni_latency_;
    double energy_router_, energy_link_, router_static_;
    std::map<int, NetworkInterface*> endpoints_;
    std::uint64_t messages_ = 0, flits_ = 0, router_traversals_ = 0, link_traversals_ = 0, latency_sum_ = 0,
                  max_latency_ = 0;
};

AIMC_REGISTER_KIND(
    InterconnectFactory,
    KindDecl{"", "mesh",
             "2-D mesh of routers with XY routing; per-hop latency without contention in this version",
             {ParamDecl::integer("link_width_bits", 64, 1, 65536, "bits a link carries per cycle (one flit)", "bits"),
              ParamDecl::integer("router_latency", 1, 0, 1000, "router pipeline latency per traversal", "cycles"),
              ParamDecl::integer("link_latency", 1, 0, 1000, "latency of one link", "cycles"),
              ParamDecl::integer("ni_latency", 1, 0, 1000, "network interface latency at each end", "cycles"),
              ParamDecl::quantity("energy_per_flit_router", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                  "energy of one flit through one router"),
              ParamDecl::quantity("energy_per_flit_link", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                  "energy of one flit over one link"),
              ParamDecl::quantity("router_static_power", Dimension::Power, std::string("0 W"), 0, 100,
                                  "static power of one router")}},
    [](const ComponentConfig& c, const char* name, const ChipGeometry& g) {
        return std::make_unique<Mesh>(c, name, g);
    });

}  // namespace
}  // namespace aimc
