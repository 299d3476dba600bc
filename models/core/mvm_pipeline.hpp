// Cycle model of one crossbar MVM and of consecutive MVMs in the core's pipeline (plain C++).
//
// Phases of one MVM, each a whole number of core clock cycles:
//   load      input buffer -> DAC registers: ceil(rows * dac_bits / input_bus_bits)
//   integrate W integration windows:         W * ceil(window * f_clk) + (W - 1) * window_switch
//             (W = MVM phases x DAC windows: 1 for one-phase PWM, 4 for four-phase PWM)
//   convert   ADC codes latched:             ceil(conversion_time * f_clk)
//   readout   ADC codes -> output buffer:    ceil(cols * adc_bits / output_bus_bits)
// Stages and what overlaps:
//   load    writes the DAC input registers. Double-buffered, the next input loads into the
//           shadow register, which frees when its content moves to the drive register at the
//           start of integration; single-buffered, the next load waits until integration ends.
//   analog  (integrate + convert) holds the array and the ADCs; the ADC latches are released
//           when the readout of their codes starts.
//   readout one MVM at a time, once the output buffer has a free slot.
#pragma once

#include <cstdint>

namespace aimc {

struct MvmPhases {
    std::uint64_t load = 0, integrate = 0, convert = 0, readout = 0;
    std::uint64_t latency() const { return load + integrate + convert + readout; }
    std::uint64_t analog() const { return integrate + convert; }
};

struct MvmShape {
    std::uint64_t rows = 0, cols = 0;  // of the programmed tile
};

struct MvmCoreTiming {
    double clock_hz = 1e9;
    std::uint64_t dac_bits = 8, adc_bits = 8;
    std::uint64_t input_bus_bits = 256, output_bus_bits = 256;
    std::uint64_t windows = 1;            // integration windows per MVM
    double window_s = 128e-9;             // one window
    std::uint64_t window_switch_cycles = 1;  // between consecutive windows
    bool convert_between_windows = false;    // the ADC converts after every window, not once
    double conversion_s = 5e-9;
    bool input_double_buffered = true;
};

// Whole cycles covering a duration (with a tolerance so that 128 ns at 1 GHz is 128, not 129).
std::uint64_t cycles_for(double seconds, double clock_hz);

MvmPhases mvm_phases(const MvmCoreTiming& t, const MvmShape& s);

struct MvmSchedule {
    std::uint64_t load_start, analog_start, readout_start, done;
    std::uint64_t readout_stall;  // cycles the readout waited for an output-buffer slot
};

class MvmPipeline {
public:
    explicit MvmPipeline(bool input_double_buffered) : double_buffered_(input_double_buffered) {}
    // First cycle at which a new MVM could start its load.
    std::uint64_t load_free() const { return load_free_; }
    // Reserves the stages for an MVM whose input is ready at `ready` and whose result can enter
    // the output buffer from cycle `slot_free` on.
    MvmSchedule issue(std::uint64_t ready, const MvmPhases& p, std::uint64_t slot_free = 0);
    std::uint64_t analog_busy_cycles() const { return analog_busy_; }

private:
    bool double_buffered_;
    std::uint64_t load_free_ = 0, analog_free_ = 0, readout_free_ = 0;
    std::uint64_t analog_busy_ = 0;
};

}  // namespace aimc
