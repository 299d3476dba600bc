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
    // The compensation reference is read whether or not compensation is on, so that it can be
    // switched afterwards without reprogramming.
    alpha_ = 1;
    const double current = probe_readout(WeightState::AtInference);
    if (current > 0) alpha_ = probe_readout(WeightState::Programmed) / current;
}

// The compensation readout of AIHWKit's GlobalDriftCompensation: the mean |y| over one-hot
// inputs, one per row, which on the ideal array output is the mean |w| of the tile.
double CoreNumerics::probe_readout(WeightState s) const {
    const std::vector<float> w = crossbar_->effective_weights(s);
    double sum = 0;
    for (float v : w) sum += std::fabs(v);
    return w.empty() ? 0.0 : sum / static_cast<double>(w.size());
}

void CoreNumerics::mvm_batch(const float* x, float* y, std::size_t n, const std::uint64_t* events) const {
    const std::size_t rows = crossbar_->tile_rows(), cols = crossbar_->tile_cols();
    std::vector<float> x_norm(n * rows);
    std::vector<double> input_scale(n);
    for (std::size_t b = 0; b < n; ++b) input_scale[b] = dac_->encode(x + b * rows, rows, x_norm.data() + b * rows);
    if (phases_ == 1) {
        crossbar_->mvm_batch(x_norm.data(), y, n, Polarity::Difference, WeightState::AtInference, events);
        for (std::size_t b = 0; b < n; ++b) {
            adc_->convert(y + b * cols, cols, events[b]);
            adc_->calibrate(y + b * cols, cols);
        }
    } else {
        // Four phases [LG23]: positive and negative inputs, each on the positive and the negative
        // devices, converted separately and combined digitally.
        std::vector<float> x_part(n * rows), y_part(n * cols);
        std::vector<std::uint64_t> phase_events(n);
        std::fill(y, y + n * cols, 0.f);
        static const struct {
            float input_sign;
            Polarity devices;
            float sign;
        } kPhases[4] = {{1, Polarity::Positive, 1}, {1, Polarity::Negative, -1}, {-1, Polarity::Positive, -1},
                        {-1, Polarity::Negative, 1}};
        for (int p = 0; p < 4; ++p) {
            for (std::size_t i = 0; i < x_part.size(); ++i) x_part[i] = std::max(kPhases[p].input_sign * x_norm[i], 0.f);
            for (std::size_t b = 0; b < n; ++b) phase_events[b] = events[b] * 4 + static_cast<std::uint64_t>(p);
            crossbar_->mvm_batch(x_part.data(), y_part.data(), n, kPhases[p].devices, WeightState::AtInference,
                                 phase_events.data());
            for (std::size_t b = 0; b < n; ++b) {
                float* yp = y_part.data() + b * cols;
                adc_->convert(yp, cols, phase_events[b]);
                adc_->calibrate(yp, cols);
                for (std::size_t j = 0; j < cols; ++j) y[b * cols + j] += kPhases[p].sign * yp[j];
            }
        }
    }
    // Digital: undo the input and weight scales, apply the drift compensation factor.
    for (std::size_t b = 0; b < n; ++b) {
        const float s = static_cast<float>(input_scale[b] * crossbar_->weight_scale() * alpha());
        for (std::size_t j = 0; j < cols; ++j) y[b * cols + j] *= s;
    }
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
