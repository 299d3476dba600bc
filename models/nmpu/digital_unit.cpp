#include "models/nmpu/digital_unit.hpp"

namespace aimc {

std::vector<std::size_t> DigitalOp::stage_elements(std::size_t n) const {
    std::vector<std::size_t> s = {n};  // pass
    if (add) s.push_back(n);
    if (affine()) s.push_back(n);
    if (bias) s.push_back(n);
    if (activation != Activation::None) s.push_back(n);
    if (residual) s.push_back(n);
    if (pooling != Pooling::None) s.push_back(n);
    return s;
}

DigitalUnit::DigitalUnit(const ComponentConfig& c)
    : lanes_(static_cast<std::uint64_t>(c.integer("lanes"))),
      cycles_per_op_(static_cast<std::uint64_t>(c.integer("cycles_per_op"))),
      depth_(static_cast<std::uint64_t>(c.integer("pipeline_depth"))), energy_(c.real("energy_per_lane_op")),
      static_power_(c.real("static_power")), area_(c.real("area")) {}

std::uint64_t DigitalUnit::occupancy_cycles(const DigitalOp& op, std::size_t n) const {
    std::uint64_t cycles = 0;
    for (std::size_t m : op.stage_elements(n)) cycles += (m + lanes_ - 1) / lanes_ * cycles_per_op_;
    return cycles;
}

std::uint64_t DigitalUnit::lane_ops(const DigitalOp& op, std::size_t n) const {
    std::uint64_t ops = 0;
    for (std::size_t m : op.stage_elements(n)) ops += m;
    return ops;
}

std::vector<ParamDecl> DigitalUnit::cost_params(long long lanes, long long cycles_per_op, long long depth) {
    return {ParamDecl::integer("lanes", lanes, 1, 4096, "vector elements processed per cycle", "lanes"),
            ParamDecl::integer("cycles_per_op", cycles_per_op, 1, 1024, "cycles per lane-operation", "cycles"),
            ParamDecl::integer("pipeline_depth", depth, 0, 1024,
                               "cycles from the last stage's last element to the result", "cycles"),
            ParamDecl::quantity("energy_per_lane_op", Dimension::Energy, std::string("0 pJ"), 0, 1e-9,
                                "energy of one stage on one element"),
            ParamDecl::quantity("static_power", Dimension::Power, std::string("0 W"), 0, 10,
                                "static power of one unit (counted with the core's)"),
            ParamDecl::quantity("area", Dimension::Area, std::string("0 um2"), 0, 1e-4,
                                "silicon area of one unit (reported, for design-space studies)")};
}

}  // namespace aimc
