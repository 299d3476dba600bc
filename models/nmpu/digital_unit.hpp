// The near-memory digital unit next to each crossbar (interface "digital-unit"): numerics and
// its cost figures. Operations on one vector are applied in a fixed order: add partial sums,
// add bias, ReLU.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/config.hpp"

namespace aimc {

struct DigitalOp {
    const float* add = nullptr;   // partial sums from another core, or null
    const float* bias = nullptr;  // or null
    bool relu = false;
    // Lane-operations per element: the pass itself (per-column rescale) plus each optional step.
    int steps() const { return 1 + (add ? 1 : 0) + (bias ? 1 : 0) + (relu ? 1 : 0); }
};

class DigitalUnit {
public:
    static constexpr const char* kInterface = "digital-unit";
    virtual ~DigitalUnit() = default;

    virtual void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const = 0;
    // Cycles during which the unit is busy with one vector: ceil(n / lanes) * cycles_per_op * steps.
    virtual std::uint64_t occupancy_cycles(std::size_t n, int steps) const = 0;
    // Cycles from start until the result is in the output buffer: occupancy + pipeline depth.
    virtual std::uint64_t latency_cycles(std::size_t n, int steps) const = 0;
    virtual double energy_per_lane_op() const = 0;  // J
};

}  // namespace aimc
