#include "models/core/aimc_core.hpp"

#include "sim/registry.hpp"

namespace aimc {

void CoreNumerics::mvm(const float* x, float* y, std::uint64_t event) const {
    const std::size_t rows = crossbar->tile_rows(), cols = crossbar->tile_cols();
    x_norm_.resize(rows);
    const double input_scale = dac->encode(x, rows, x_norm_.data());
    crossbar->mvm(x_norm_.data(), y);
    adc->convert(y, cols, event);
    adc->calibrate(y, cols);
    // Digital rescale back to the network's units (folded into the readout here).
    const float s = static_cast<float>(input_scale * crossbar->weight_scale());
    for (std::size_t j = 0; j < cols; ++j) y[j] *= s;
}

CoreNumerics make_core_numerics(const ComponentConfig& core, std::uint64_t seed, int core_index) {
    CoreNumerics n;
    n.dac = Factory<Dac>::create(core.child("dac"));
    n.crossbar = Factory<Crossbar>::create(core.child("crossbar"));
    AdcDrawContext draw;
    draw.seed = seed;
    draw.core = static_cast<std::uint64_t>(core_index);
    draw.columns = n.crossbar->cols();
    n.adc = AdcFactory::create(core.child("adc"), draw);
    n.digital = Factory<DigitalUnit>::create(core.child("digital"));
    return n;
}

MvmCoreTiming core_timing(const ComponentConfig& core, const CoreNumerics& n, double clock_hz) {
    MvmCoreTiming t;
    t.clock_hz = clock_hz;
    t.dac_bits = static_cast<std::uint64_t>(n.dac->bits());
    t.adc_bits = static_cast<std::uint64_t>(n.adc->bits());
    t.input_bus_bits = static_cast<std::uint64_t>(core.integer("input_bus_bits"));
    t.output_bus_bits = static_cast<std::uint64_t>(core.integer("output_bus_bits"));
    t.integration_s = n.dac->integration_time();
    t.conversion_s = n.adc->conversion_time();
    t.input_double_buffered = core.boolean("input_double_buffered");
    return t;
}

AimcCore::AimcCore(sc_core::sc_module_name name, int index, const ComponentConfig& cfg, const ChipGeometry& g,
                   std::uint64_t seed)
    : sc_core::sc_module(name), index_(index), geometry_(g), numerics_(make_core_numerics(cfg, seed, index)),
      timing_(core_timing(cfg, numerics_, g.clock_hz)), pipeline_(timing_.input_double_buffered),
      ni_(index, index % g.grid_cols, index / g.grid_cols), static_power_(cfg.real("static_power")) {}

void AimcCore::program(const WeightTile& tile) { numerics_.crossbar->program(tile); }

MvmPhases AimcCore::phases(std::size_t rows, std::size_t cols) const {
    return mvm_phases(timing_, MvmShape{rows, cols});
}

std::uint64_t AimcCore::mvm(const std::vector<float>& x, std::vector<float>& y, std::uint64_t ready) {
    const std::size_t rows = numerics_.crossbar->tile_rows(), cols = numerics_.crossbar->tile_cols();
    y.resize(cols);
    numerics_.mvm(x.data(), y.data(), mvms_);
    MvmSchedule s = pipeline_.issue(ready, phases(rows, cols));
    ++mvms_;
    macs_ += rows * cols;
    dac_conversions_ += rows;
    adc_conversions_ += cols;
    return s.done;
}

std::uint64_t AimcCore::nmpu(const DigitalOp& op, const std::vector<float>& in, std::vector<float>& out,
                             std::uint64_t start) {
    const std::size_t n = in.size();
    out.resize(n);
    numerics_.digital->apply(op, in.data(), out.data(), n);
    const int steps = op.steps();
    const std::uint64_t busy = numerics_.digital->occupancy_cycles(n, steps);
    digital_free_ = start + busy;
    digital_busy_ += busy;
    lane_ops_ += n * static_cast<std::uint64_t>(steps);
    return start + numerics_.digital->latency_cycles(n, steps);
}

void AimcCore::add_energy(EnergyBreakdown& e) const {
    e.dac += static_cast<double>(dac_conversions_) * numerics_.dac->energy_per_conversion();
    e.crossbar += static_cast<double>(macs_) * numerics_.crossbar->energy_per_mac();
    e.adc += static_cast<double>(adc_conversions_) * numerics_.adc->energy_per_conversion();
    e.nmpu += static_cast<double>(lane_ops_) * numerics_.digital->energy_per_lane_op();
}

nlohmann::ordered_json AimcCore::stats(std::uint64_t total_cycles) const {
    nlohmann::ordered_json j;
    j["id"] = index_;
    j["x"] = ni_.x();
    j["y"] = ni_.y();
    j["tile"] = {numerics_.crossbar->tile_rows(), numerics_.crossbar->tile_cols()};
    j["mvms"] = mvms_;
    j["macs"] = macs_;
    j["lane_ops"] = lane_ops_;
    const double t = total_cycles ? static_cast<double>(total_cycles) : 1.0;
    j["crossbar_utilisation"] = static_cast<double>(pipeline_.analog_busy_cycles()) / t;
    j["digital_utilisation"] = static_cast<double>(digital_busy_) / t;
    return j;
}

AIMC_DECLARE_KIND(KindDecl{
        "core", "aimc-core", "analog in-memory compute core: DAC -> crossbar -> ADC -> digital unit",
        {ParamDecl::integer("input_bus_bits", 256, 1, 65536,
                            "bits per cycle from the input buffer into the DAC registers", "bits/cycle"),
         ParamDecl::integer("output_bus_bits", 256, 1, 65536,
                            "bits per cycle from the ADC latches into the output buffer", "bits/cycle"),
         ParamDecl::boolean("input_double_buffered", true,
                            "the DAC input registers are double-buffered, so the next input loads during the "
                            "current integration"),
         ParamDecl::quantity("static_power", Dimension::Power, std::string("0 W"), 0, 100,
                             "static (leakage and bias) power of one core")}});

}  // namespace aimc
