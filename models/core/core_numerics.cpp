#include "models/core/core_numerics.hpp"

#include <cmath>

#include "sim/registry.hpp"

namespace aimc {

CoreNumerics::CoreNumerics(const ComponentConfig& core, const NumericsContext& ctx)
    : ctx_(ctx), dac_(Factory<Dac>::create(core.child("dac"))),
      crossbar_(Factory<Crossbar>::create(core.child("crossbar"))),
      adc_(AdcFactory::create(core.child("adc"),
                              AdcDrawContext{ctx.seed, static_cast<std::uint64_t>(ctx.core), crossbar_->cols()})),
      digital_(Factory<DigitalUnit>::create(core.child("digital"))),
      phases_(core.text("mvm_mode") == "four-phase" ? 4 : 1), compensation_(core.boolean("drift_compensation")) {}

void CoreNumerics::program(const WeightTile& tile) {
    crossbar_->program(tile, ctx_.t_inference,
                       DeviceStreams(ctx_.seed, static_cast<std::uint64_t>(ctx_.core), programmings_++));
    alpha_ = 1;
    if (compensation_) {
        const double current = probe_readout(WeightState::AtInference);
        if (current > 0) alpha_ = probe_readout(WeightState::Programmed) / current;
    }
}

// The compensation readout of AIHWKit's GlobalDriftCompensation: the mean |y| over one-hot
// inputs, one per row, which on the ideal array output is the mean |w| of the tile.
double CoreNumerics::probe_readout(WeightState s) const {
    const std::vector<float> w = crossbar_->effective_weights(s);
    double sum = 0;
    for (float v : w) sum += std::fabs(v);
    return w.empty() ? 0.0 : sum / static_cast<double>(w.size());
}

void CoreNumerics::mvm(const float* x, float* y, std::uint64_t event) const {
    const std::size_t rows = crossbar_->tile_rows(), cols = crossbar_->tile_cols();
    x_norm_.resize(rows);
    const double input_scale = dac_->encode(x, rows, x_norm_.data());
    if (phases_ == 1) {
        crossbar_->mvm(x_norm_.data(), y, Polarity::Difference, WeightState::AtInference, event);
        adc_->convert(y, cols, event);
        adc_->calibrate(y, cols);
    } else {
        // Four phases [LG23]: positive and negative inputs, each on the positive and the negative
        // devices, converted separately and combined digitally.
        x_part_.resize(rows);
        y_part_.resize(cols);
        std::fill(y, y + cols, 0.f);
        static const struct {
            float input_sign;
            Polarity devices;
            float sign;
        } kPhases[4] = {{1, Polarity::Positive, 1}, {1, Polarity::Negative, -1}, {-1, Polarity::Positive, -1},
                        {-1, Polarity::Negative, 1}};
        for (int p = 0; p < 4; ++p) {
            for (std::size_t i = 0; i < rows; ++i) x_part_[i] = std::max(kPhases[p].input_sign * x_norm_[i], 0.f);
            const std::uint64_t phase_event = event * 4 + static_cast<std::uint64_t>(p);
            crossbar_->mvm(x_part_.data(), y_part_.data(), kPhases[p].devices, WeightState::AtInference, phase_event);
            adc_->convert(y_part_.data(), cols, phase_event);
            adc_->calibrate(y_part_.data(), cols);
            for (std::size_t j = 0; j < cols; ++j) y[j] += kPhases[p].sign * y_part_[j];
        }
    }
    // Digital: undo the input and weight scales, apply the drift compensation factor.
    const float s = static_cast<float>(input_scale * crossbar_->weight_scale() * alpha_);
    for (std::size_t j = 0; j < cols; ++j) y[j] *= s;
}

MvmCoreTiming core_timing(const ComponentConfig& core, const CoreNumerics& n, double clock_hz) {
    MvmCoreTiming t;
    t.clock_hz = clock_hz;
    t.dac_bits = static_cast<std::uint64_t>(n.dac().bits());
    t.adc_bits = static_cast<std::uint64_t>(n.adc().bits());
    t.input_bus_bits = static_cast<std::uint64_t>(core.integer("input_bus_bits"));
    t.output_bus_bits = static_cast<std::uint64_t>(core.integer("output_bus_bits"));
    t.windows = static_cast<std::uint64_t>(n.phases() * n.dac().windows());
    t.window_s = n.dac().window_time();
    t.window_switch_cycles = static_cast<std::uint64_t>(core.integer("window_switch_cycles"));
    t.conversion_s = n.adc().conversion_time();
    t.convert_between_windows = n.adc().converts_after_each_window();
    t.input_double_buffered = core.boolean("input_double_buffered");
    return t;
}

}  // namespace aimc
