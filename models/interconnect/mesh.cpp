// mesh: see mesh.hpp for the latency formula and mesh_network.hpp for the router model.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "models/interconnect/mesh.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

MeshParams mesh_params(const ComponentConfig& c, const ChipGeometry& g) {
    MeshParams p;
    p.cols = g.grid_cols;
    p.rows = g.grid_rows;
    p.virtual_channels = static_cast<int>(c.integer("virtual_channels"));
    p.buffer_depth = static_cast<int>(c.integer("buffer_depth"));
    p.router_latency = static_cast<int>(c.integer("router_latency"));
    p.link_latency = static_cast<int>(c.integer("link_latency"));
    return p;
}

}  // namespace

Mesh::Mesh(const ComponentConfig& c, const char* name, const ChipGeometry& g)
    : Interconnect(name, c, g), network_(mesh_params(c, g)),
      link_bits_(static_cast<std::uint64_t>(c.integer("link_width_bits"))),
      energy_router_(c.real("energy_per_flit_router")), energy_link_(c.real("energy_per_flit_link")),
      router_static_(c.real("router_static_power")) {
    const MeshParams& p = network_.params();
    const auto pipeline = ni_latency() + static_cast<std::uint64_t>(p.router_latency + 2 * p.link_latency);
    if (watchdog_cycles() <= pipeline)
        throw InputError(c.params.value("watchdog_cycles").where + ": interconnect.watchdog_cycles: " +
                         std::to_string(watchdog_cycles()) + " cycles is not longer than a flit can legitimately "
                         "wait (ni_latency + router_latency + 2 x link_latency = " + std::to_string(pipeline) + ")");
    if (p.buffer_depth < p.router_latency + 2 * p.link_latency)
        spdlog::warn("{}: interconnect.buffer_depth: {} flits is less than the credit round trip "
                     "(router_latency + 2 x link_latency = {}): a link streams only {}/{} flits per cycle",
                     c.params.value("buffer_depth").where, p.buffer_depth, p.router_latency + 2 * p.link_latency,
                     p.buffer_depth, p.router_latency + 2 * p.link_latency);
}

std::uint64_t Mesh::zero_load_latency(int sx, int sy, int dx, int dy, std::uint64_t bits) const {
    const MeshParams& p = network_.params();
    const auto hops = static_cast<std::uint64_t>(std::abs(sx - dx) + std::abs(sy - dy));
    return 2 * ni_latency() + (hops + 1) * static_cast<std::uint64_t>(p.router_latency + p.link_latency) + (flits(bits) - 1);
}

void Mesh::kind_stats(nlohmann::ordered_json& j, std::uint64_t total_cycles) const {
    const MeshParams& p = network_.params();
    const double cycles = static_cast<double>(std::max<std::uint64_t>(total_cycles, 1));
    j["router_traversals"] = network_.router_traversals();
    j["link_traversals"] = network_.link_traversals();
    // Per-router grids (rows of y, each over x) for heat maps; null where a router has no link.
    const char* names[] = {"east", "west", "north", "south"};
    nlohmann::ordered_json links;
    int link_count = 0;
    double max_util = 0;
    for (int d = 0; d < MeshNetwork::kMeshPorts; ++d) {
        nlohmann::ordered_json grid = nlohmann::ordered_json::array();
        for (int y = 0; y < p.rows; ++y) {
            nlohmann::ordered_json row = nlohmann::ordered_json::array();
            for (int x = 0; x < p.cols; ++x) {
                const int r = y * p.cols + x;
                const auto dir = static_cast<MeshNetwork::Direction>(d);
                if (!network_.has_link(r, dir)) {
                    row.push_back(nullptr);
                    continue;
                }
                const double u = static_cast<double>(network_.link_flits(r, dir)) / cycles;
                ++link_count;
                max_util = std::max(max_util, u);
                row.push_back(u);
            }
            grid.push_back(row);
        }
        links[names[d]] = grid;
    }
    j["mean_link_utilisation"] =
            link_count ? static_cast<double>(network_.link_traversals()) / (link_count * cycles) : 0.0;
    j["max_link_utilisation"] = max_util;
    std::uint64_t stalls = 0;
    nlohmann::ordered_json stall_grid = nlohmann::ordered_json::array(), occupancy_grid = nlohmann::ordered_json::array();
    double occupancy_sum = 0;
    for (int y = 0; y < p.rows; ++y) {
        nlohmann::ordered_json srow = nlohmann::ordered_json::array(), orow = nlohmann::ordered_json::array();
        for (int x = 0; x < p.cols; ++x) {
            const int r = y * p.cols + x;
            stalls += network_.stall_cycles(r);
            srow.push_back(network_.stall_cycles(r));
            const double occ = static_cast<double>(network_.occupancy_flit_cycles(r)) / cycles;
            occupancy_sum += occ;
            orow.push_back(occ);
        }
        stall_grid.push_back(srow);
        occupancy_grid.push_back(orow);
    }
    j["stall_cycles"] = stalls;
    j["mean_buffer_occupancy_flits"] = occupancy_sum / network_.routers();
    j["per_router"] = {{"link_utilisation", links}, {"stall_cycles", stall_grid}, {"buffer_occupancy_flits", occupancy_grid}};
}

namespace {

AIMC_REGISTER_KIND(
    InterconnectFactory,
    KindDecl{"", "mesh",
             "2-D mesh of routers: XY routes, wormhole switching, virtual channels, credit flow control, flit by flit",
             Interconnect::with_common_params({ParamDecl::integer("link_width_bits", 64, 1, 65536, "bits a link carries per cycle (one flit)", "bits"),
              ParamDecl::integer("router_latency", 1, 1, 1000,
                                 "router pipeline: cycles from a flit's arrival in a router to its earliest departure",
                                 "cycles"),
              ParamDecl::integer("link_latency", 1, 1, 1000, "cycles on one link, for flits and for credits", "cycles"),
              ParamDecl::integer("virtual_channels", 2, 1, 16, "virtual channels per router port", "VCs"),
              ParamDecl::integer("buffer_depth", 4, 1, 1024,
                                 "input buffer per virtual channel; full speed needs router_latency + 2 x link_latency",
                                 "flits"),
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
