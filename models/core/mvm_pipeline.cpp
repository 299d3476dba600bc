#include "models/core/mvm_pipeline.hpp"

#include <algorithm>
#include <cmath>

namespace aimc {

std::uint64_t cycles_for(double seconds, double clock_hz) {
    double c = seconds * clock_hz;
    return static_cast<std::uint64_t>(std::ceil(c - 1e-9 * std::max(1.0, c)));
}

static std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

MvmPhases mvm_phases(const MvmCoreTiming& t, const MvmShape& s) {
    MvmPhases p;
    p.load = ceil_div(s.rows * t.dac_bits, t.input_bus_bits);
    p.convert = cycles_for(t.conversion_s, t.clock_hz);
    // Between windows: the switch, or the conversion of the previous window when the ADC counts
    // after integration.
    const std::uint64_t gap = t.convert_between_windows ? std::max(t.window_switch_cycles, p.convert) : t.window_switch_cycles;
    p.integrate = t.windows * cycles_for(t.window_s, t.clock_hz) + (t.windows - 1) * gap;
    p.convert = cycles_for(t.conversion_s, t.clock_hz);
    p.readout = ceil_div(s.cols * t.adc_bits, t.output_bus_bits);
    return p;
}

MvmSchedule MvmPipeline::issue(std::uint64_t ready, const MvmPhases& p, std::uint64_t slot_free) {
    MvmSchedule s;
    s.load_start = std::max(ready, load_free_);
    s.analog_start = std::max(s.load_start + p.load, analog_free_);
    const std::uint64_t converted = std::max(s.analog_start + p.analog(), readout_free_);
    s.readout_start = std::max(converted, slot_free);
    s.readout_stall = s.readout_start - converted;
    s.done = s.readout_start + p.readout;
    // Double-buffered: the shadow register frees when its input moves to the drive register at the
    // start of integration. Single: the drive register is busy until integration ends.
    load_free_ = double_buffered_ ? s.analog_start : s.analog_start + p.integrate;
    analog_free_ = s.readout_start;  // latches hold the codes until readout begins
    readout_free_ = s.done;
    analog_busy_ += p.analog();
    return s;
}

}  // namespace aimc
