#include "models/host/host_port.hpp"

#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace aimc {

HostPort::HostPort(sc_core::sc_module_name name, int endpoint_id, const ComponentConfig& cfg, const ChipGeometry& g)
    : sc_core::sc_module(name), ni_(endpoint_id, static_cast<int>(cfg.integer("attach_x")), static_cast<int>(cfg.integer("attach_y"))),
      bytes_per_cycle_(static_cast<std::uint64_t>(cfg.integer("bytes_per_cycle"))),
      latency_(static_cast<std::uint64_t>(cfg.integer("latency"))),
      samples_in_flight_(static_cast<std::uint64_t>(cfg.integer("samples_in_flight"))),
      energy_per_byte_(cfg.real("energy_per_byte")) {
    if (ni_.x() >= g.grid_cols || ni_.y() >= g.grid_rows)
        throw InputError(cfg.params.value("attach_x").where + ": host.attach_x/attach_y: (" + std::to_string(ni_.x()) +
                         ", " + std::to_string(ni_.y()) + ") is outside the " + std::to_string(g.grid_cols) + "x" +
                         std::to_string(g.grid_rows) + " grid");
}

std::uint64_t HostPort::transfer(std::uint64_t bytes, std::uint64_t start) {
    std::uint64_t occupancy = (bytes + bytes_per_cycle_ - 1) / bytes_per_cycle_;
    port_free_ = start + occupancy;
    busy_ += occupancy;
    bytes_ += bytes;
    ++transfers_;
    return start + latency_ + occupancy;
}

nlohmann::ordered_json HostPort::stats(std::uint64_t total_cycles) const {
    nlohmann::ordered_json j;
    j["x"] = ni_.x();
    j["y"] = ni_.y();
    j["transfers"] = transfers_;
    j["bytes"] = bytes_;
    j["utilisation"] = total_cycles ? static_cast<double>(busy_) / static_cast<double>(total_cycles) : 0.0;
    return j;
}

AIMC_DECLARE_KIND(KindDecl{
        "host-port", "host-port", "host I/O port attached to one router of the interconnect",
        {ParamDecl::integer("attach_x", 0, 0, 4095, "column of the router the port is attached to", "index"),
         ParamDecl::integer("attach_y", 0, 0, 4095, "row of the router the port is attached to", "index"),
         ParamDecl::integer("bytes_per_cycle", 32, 1, 1 << 20, "host memory bandwidth of the port", "bytes/cycle"),
         ParamDecl::integer("latency", 10, 0, 1 << 20, "host memory access latency", "cycles"),
         ParamDecl::integer("samples_in_flight", 4, 1, 1 << 20,
                            "inputs the host issues before the oldest sample's output is back (flow control)",
                            "samples"),
         ParamDecl::quantity("energy_per_byte", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                             "energy to move one byte between host memory and the port (reported as memory)")}});

}  // namespace aimc
