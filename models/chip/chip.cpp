#include "models/chip/chip.hpp"

#include <cmath>
#include <string>

#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace aimc {

ChipGeometry chip_geometry(const ChipConfig& cfg) {
    const auto& c = cfg.at("chip");
    ChipGeometry g;
    g.grid_cols = static_cast<int>(c.integer("grid_cols"));
    g.grid_rows = static_cast<int>(c.integer("grid_rows"));
    g.clock_hz = c.real("clock");
    const double period_ps = 1e12 / g.clock_hz;
    const double whole = std::round(period_ps);
    if (std::fabs(period_ps - whole) > 1e-6 * period_ps || whole < 1)
        throw InputError(c.params.value("clock").where + ": chip.clock: the period (" + std::to_string(period_ps) +
                         " ps) must be a whole number of picoseconds");
    g.cycle = sc_core::sc_time(whole, sc_core::SC_PS);
    return g;
}

Chip::Chip(sc_core::sc_module_name name, const ChipConfig& cfg, const NumericsContext& numerics)
    : sc_core::sc_module(name), geometry_(chip_geometry(cfg)),
      word_bits_(static_cast<std::uint64_t>(cfg.at("chip").integer("word_bits"))),
      static_power_(cfg.at("chip").real("static_power")) {
    const int n = geometry_.grid_cols * geometry_.grid_rows;
    interconnect_ = InterconnectFactory::create(cfg.at("interconnect"), "interconnect", geometry_);
    for (int i = 0; i < n; ++i) {
        NumericsContext ctx = numerics;
        ctx.core = i;
        cores_.push_back(std::make_unique<AimcCore>(("core" + std::to_string(i)).c_str(), i, cfg.at("core"), geometry_, ctx));
        interconnect_->attach(cores_.back()->ni());
    }
    host_ = std::make_unique<HostPort>("host", n, cfg.at("host"), geometry_);
    interconnect_->attach(host_->ni());
}

double Chip::total_static_power() const {
    double p = static_power_ + interconnect_->static_power();
    for (const auto& c : cores_) p += c->static_power();
    return p;
}

AIMC_DECLARE_KIND(KindDecl{
        "chip", "aimc-chip", "a grid of identical cores with an interconnect and a host port",
        {ParamDecl::quantity("clock", Dimension::Frequency, std::nullopt, 1e3, 1e12,
                             "clock of the cores, the digital units and the interconnect"),
         ParamDecl::integer("grid_cols", std::nullopt, 1, 64, "cores along x (core i sits at x = i mod grid_cols)", "cores"),
         ParamDecl::integer("grid_rows", std::nullopt, 1, 64, "cores along y", "cores"),
         ParamDecl::integer("word_bits", 8, 1, 64, "bits per vector element in messages and host transfers", "bits"),
         ParamDecl::quantity("static_power", Dimension::Power, std::string("0 W"), 0, 1000,
                             "chip-level static power not attributed to cores or routers (clock tree, I/O)")}});

}  // namespace aimc
