// float: an ideal single-precision digital unit (the accuracy reference). Its timing follows the
// lane model shared by all digital units.
#include <algorithm>

#include "models/nmpu/digital_unit.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class FloatUnit final : public DigitalUnit {
public:
    explicit FloatUnit(const ComponentConfig& c)
        : lanes_(static_cast<std::uint64_t>(c.integer("lanes"))),
          cycles_per_op_(static_cast<std::uint64_t>(c.integer("cycles_per_op"))),
          depth_(static_cast<std::uint64_t>(c.integer("pipeline_depth"))), energy_(c.real("energy_per_lane_op")) {}

    void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const override {
        for (std::size_t i = 0; i < n; ++i) {
            float v = in[i];
            if (op.add) v += op.add[i];
            if (op.bias) v += op.bias[i];
            if (op.relu) v = std::max(v, 0.f);
            out[i] = v;
        }
    }
    std::uint64_t occupancy_cycles(std::size_t n, int steps) const override {
        return (n + lanes_ - 1) / lanes_ * cycles_per_op_ * static_cast<std::uint64_t>(steps);
    }
    std::uint64_t latency_cycles(std::size_t n, int steps) const override {
        return occupancy_cycles(n, steps) + depth_;
    }
    double energy_per_lane_op() const override { return energy_; }

private:
    std::uint64_t lanes_, cycles_per_op_, depth_;
    double energy_;
};

AIMC_REGISTER_KIND(Factory<DigitalUnit>,
                   KindDecl{"", "float",
                            "ideal float32 post-processing (partial-sum add, bias, ReLU) with a lane timing model",
                            {ParamDecl::integer("lanes", 16, 1, 4096, "vector elements processed per cycle", "lanes"),
                             ParamDecl::integer("cycles_per_op", 1, 1, 1024, "cycles per lane-operation", "cycles"),
                             ParamDecl::integer("pipeline_depth", 2, 0, 1024,
                                                "cycles from the last input element to the last result", "cycles"),
                             ParamDecl::quantity("energy_per_lane_op", Dimension::Energy, std::string("0 pJ"), 0, 1e-9,
                                                 "energy of one operation on one element")}},
                   [](const ComponentConfig& c) { return std::make_unique<FloatUnit>(c); });

}  // namespace
}  // namespace aimc
