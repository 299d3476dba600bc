#include "models/core/aimc_core.hpp"

#include <algorithm>

#include "sim/registry.hpp"

namespace aimc {

AimcCore::AimcCore(sc_core::sc_module_name name, int index, const ComponentConfig& cfg, const ChipGeometry& g,
                   const NumericsContext& ctx)
    : sc_core::sc_module(name), index_(index), geometry_(g), numerics_(cfg, ctx),
      timing_(core_timing(cfg, numerics_, g.clock_hz)), pipeline_(timing_.input_double_buffered),
      ni_(index, index % g.grid_cols, index / g.grid_cols),
      static_power_(cfg.real("static_power") + numerics_.digital().static_power()),
      buffer_energy_per_byte_(cfg.real("buffer_energy_per_byte")),
      output_slots_(static_cast<std::size_t>(cfg.integer("output_buffer_vectors"))) {}

void AimcCore::record_programming() {
    programming_time_ += numerics_.crossbar().programming_time();
    programming_energy_ += numerics_.crossbar().programming_energy();
    devices_programmed_ += numerics_.crossbar().devices_programmed();
}

MvmPhases AimcCore::phases(std::size_t rows, std::size_t cols) const {
    return mvm_phases(timing_, MvmShape{rows, cols});
}

std::optional<std::uint64_t> AimcCore::mvm_load_free(bool frees_a_slot) const {
    const bool any_released = std::any_of(output_buffer_.begin(), output_buffer_.end(),
                                          [](const auto& slot) { return slot.has_value(); });
    if (frees_a_slot || output_buffer_.size() < output_slots_ || any_released) return pipeline_.load_free();
    return std::nullopt;
}

std::uint64_t AimcCore::mvm(std::size_t count, std::uint64_t ready) {
    const std::size_t rows = numerics_.crossbar().tile_rows(), cols = numerics_.crossbar().tile_cols();
    // A full output buffer holds the readout until a slot is released: the earliest released
    // one (slots are interchangeable; releases are not in order, readers may be scheduled ahead).
    std::uint64_t slot_free = 0;
    if (output_buffer_.size() >= output_slots_) {
        auto earliest = output_buffer_.end();
        for (auto it = output_buffer_.begin(); it != output_buffer_.end(); ++it)
            if (it->has_value() && (earliest == output_buffer_.end() || **it < **earliest)) earliest = it;
        AIMC_ASSERT(earliest != output_buffer_.end(), "MVM issued while the output buffer is full");
        slot_free = **earliest;
        output_buffer_.erase(earliest);
    }
    const MvmPhases phases = this->phases(rows, cols);
    std::uint64_t done = ready;
    for (std::size_t i = 0; i < count; ++i) {
        MvmSchedule s = pipeline_.issue(ready, phases, i == 0 ? slot_free : 0);
        output_stall_cycles_ += s.readout_stall;
        done = s.done;
    }
    output_buffer_.push_back(std::nullopt);
    const std::uint64_t windows = timing_.windows;
    mvms_ += count;
    macs_ += count * rows * cols;
    dac_conversions_ += count * rows * windows;
    cell_reads_ += count * rows * cols * windows;
    adc_conversions_ += count * cols * windows;
    buffer_bytes_ += count * ((rows * timing_.dac_bits + cols * timing_.adc_bits + 7) / 8);
    return done;
}

void AimcCore::consume_output(std::uint64_t cycle) {
    for (auto& slot : output_buffer_)
        if (!slot) {
            slot = cycle;
            output_released.notify(sc_core::SC_ZERO_TIME);
            return;
        }
}

std::uint64_t AimcCore::nmpu(const DigitalOp& op, std::size_t n, std::uint64_t start) {
    const DigitalUnit& unit = numerics_.digital();
    const std::uint64_t busy = unit.occupancy_cycles(op, n);
    digital_free_ = start + busy;
    digital_busy_ += busy;
    lane_ops_ += unit.lane_ops(op, n);
    ++digital_ops_;
    return start + unit.latency_cycles(op, n);
}

void AimcCore::add_energy(EnergyBreakdown& e) const {
    e.dac += static_cast<double>(dac_conversions_) * numerics_.dac().energy_per_conversion();
    e.crossbar += static_cast<double>(cell_reads_) * numerics_.crossbar().energy_per_mac();
    e.adc += static_cast<double>(adc_conversions_) * numerics_.adc().energy_per_conversion();
    e.nmpu += static_cast<double>(lane_ops_) * numerics_.digital().energy_per_lane_op();
    e.memory += static_cast<double>(buffer_bytes_) * buffer_energy_per_byte_;
}

nlohmann::ordered_json AimcCore::stats(std::uint64_t total_cycles) const {
    nlohmann::ordered_json j;
    j["id"] = index_;
    j["x"] = ni_.x();
    j["y"] = ni_.y();
    j["tile"] = {numerics_.crossbar().tile_rows(), numerics_.crossbar().tile_cols()};
    j["mvms"] = mvms_;
    j["macs"] = macs_;
    j["lane_ops"] = lane_ops_;
    const double t = total_cycles ? static_cast<double>(total_cycles) : 1.0;
    j["crossbar_utilisation"] = static_cast<double>(pipeline_.analog_busy_cycles()) / t;
    j["digital_utilisation"] = static_cast<double>(digital_busy_) / t;
    j["digital_ops"] = digital_ops_;
    j["digital_busy_cycles"] = digital_busy_;
    j["output_stall_cycles"] = output_stall_cycles_;
    j["drift_compensation_alpha"] = numerics_.alpha();
    return j;
}

AIMC_DECLARE_KIND(KindDecl{
    "core", "aimc-core", "analog in-memory compute core: DAC -> crossbar -> ADC -> digital unit",
    {ParamDecl::choice("mvm_mode", std::string("one-phase"), {"one-phase", "four-phase"},
                       "one-phase: signed inputs on the device pairs in one window; four-phase (high precision): "
                       "positive and negative inputs on each polarity in four windows, combined digitally [LG23]"),
     ParamDecl::integer("window_switch_cycles", 1, 0, 1000,
                        "cycles between consecutive integration windows of one MVM", "cycles"),
     ParamDecl::integer("input_bus_bits", 256, 1, 65536,
                        "bits per cycle from the input buffer into the DAC registers", "bits/cycle"),
     ParamDecl::integer("output_bus_bits", 256, 1, 65536,
                        "bits per cycle from the ADC latches into the output buffer", "bits/cycle"),
     ParamDecl::boolean("input_double_buffered", true,
                        "the DAC input registers are double-buffered, so the next input loads during the "
                        "current integration"),
     ParamDecl::integer("output_buffer_vectors", 2, 1, 1024,
                        "MVM results the output buffer holds until their first reader starts; a full buffer "
                        "stalls the readout", "vectors"),
     ParamDecl::boolean("drift_compensation", true,
                        "global drift compensation: outputs are scaled by alpha = reference readout after "
                        "programming / readout at inference time"),
     ParamDecl::quantity("buffer_energy_per_byte", Dimension::Energy, std::string("0 pJ"), 0, 1e-9,
                         "energy per byte read from the input buffer or written to the output buffer (reported as "
                         "memory)"),
     ParamDecl::quantity("static_power", Dimension::Power, std::string("0 W"), 0, 100,
                         "static (leakage and bias) power of one core")}});

}  // namespace aimc
