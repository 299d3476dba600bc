// The near-memory digital unit next to each crossbar (interface "digital-unit"): the numerics of
// its post-processing and its cost figures. One `nmpu` operation runs these stages on a vector,
// in this order, each optional except the first:
//   pass      read the vector in (the per-column rescale of the ADC codes happens here)
//   add       accumulate partial sums from other cores:          y = x + p
//   affine    per-column scale and offset (batch norm folded):   y = s·y + o
//   bias                                                          y = y + b
//   activation relu, clipped relu (ceiling c) or leaky relu (slope a)
//   residual  add a skip connection:                              y = y + r
//   pooling   max or average over consecutive windows of k elements (n -> n / k), or over
//             k×k windows of an H×W×C channels-last map (pool_map set; n -> n / k²)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/config.hpp"

namespace aimc {

enum class Activation { None, Relu, Clipped, Leaky };
enum class Pooling { None, Max, Average };

struct DigitalOp {
    const float* add = nullptr;
    const float* scale = nullptr;   // with or without offset
    const float* offset = nullptr;
    const float* bias = nullptr;
    Activation activation = Activation::None;
    float activation_param = 0;     // ceiling (clipped) or slope (leaky)
    const float* residual = nullptr;
    Pooling pooling = Pooling::None;
    std::size_t pool_window = 1;
    std::size_t pool_map_h = 0, pool_map_w = 0, pool_map_c = 0;  // 0: pool consecutive elements

    bool affine() const { return scale || offset; }
    bool pools_map() const { return pool_map_c != 0; }
    // Elements per pooling window.
    std::size_t pool_size() const { return pools_map() ? pool_window * pool_window : pool_window; }
    // Reorders y so that each pooling window's elements are consecutive, window after window in
    // output order (a no-op for 1-D pooling), so the units pool consecutive runs of pool_size().
    template <class T>
    void arrange_pool_windows(std::vector<T>& y) const {
        if (!pools_map()) return;
        const std::size_t k = pool_window, ow = pool_map_w / k, oh = pool_map_h / k, c = pool_map_c;
        std::vector<T> g;
        g.reserve(oh * ow * c * k * k);
        for (std::size_t oy = 0; oy < oh; ++oy)
            for (std::size_t ox = 0; ox < ow; ++ox)
                for (std::size_t ch = 0; ch < c; ++ch)
                    for (std::size_t dy = 0; dy < k; ++dy)
                        for (std::size_t dx = 0; dx < k; ++dx)
                            g.push_back(y[((oy * k + dy) * pool_map_w + ox * k + dx) * c + ch]);
        y = std::move(g);
    }
    // Elements each stage processes, for timing and energy (the input length is n).
    std::vector<std::size_t> stage_elements(std::size_t n) const;
    std::size_t output_size(std::size_t n) const { return pooling == Pooling::None ? n : n / pool_size(); }
};

class DigitalUnit {
public:
    static constexpr const char* kInterface = "digital-unit";
    explicit DigitalUnit(const ComponentConfig& c);
    virtual ~DigitalUnit() = default;

    // out has op.output_size(n) elements.
    virtual void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const = 0;

    // The lane model shared by all kinds: a stage on m elements takes ceil(m / lanes) ·
    // cycles_per_op cycles; stages follow each other; the result is ready pipeline_depth cycles
    // after the last stage.
    std::uint64_t occupancy_cycles(const DigitalOp& op, std::size_t n) const;
    std::uint64_t latency_cycles(const DigitalOp& op, std::size_t n) const { return occupancy_cycles(op, n) + depth_; }
    std::uint64_t lane_ops(const DigitalOp& op, std::size_t n) const;
    double energy_per_lane_op() const { return energy_; }  // J
    double static_power() const { return static_power_; }  // W, per unit
    double area() const { return area_; }                  // m², per unit
    std::uint64_t lanes() const { return lanes_; }

    // The parameters every kind declares (lanes, cycles_per_op, pipeline_depth, energy, static
    // power, area), with this kind's defaults.
    static std::vector<ParamDecl> cost_params(long long lanes, long long cycles_per_op, long long depth);

private:
    std::uint64_t lanes_, cycles_per_op_, depth_;
    double energy_, static_power_, area_;
};

}  // namespace aimc
