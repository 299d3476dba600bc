// The numerics of one core (plain C++, no SystemC), shared by the timed run and `aimcsim probe`: weight programming onto the crossbar, and one MVM through the peripherals:
//   DAC encode -> crossbar (one or four phases) -> ADC convert -> digital calibration
//   -> undo the input and weight scales -> global drift compensation.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "models/core/mvm_pipeline.hpp"
#include "models/crossbar/crossbar.hpp"
#include "models/device/device.hpp"
#include "models/nmpu/digital_unit.hpp"
#include "sim/config.hpp"

namespace aimc {

// Where the numerics of a core draw their randomness from, and when they are read.
struct NumericsContext {
    std::uint64_t seed = 1;
    int core = 0;
    double t_inference = 0;  // seconds since programming
};

class CoreNumerics {
public:
    CoreNumerics(const ComponentConfig& core, const NumericsContext& ctx);

    const Dac& dac() const { return *dac_; }
    const Crossbar& crossbar() const { return *crossbar_; }
    const Adc& adc() const { return *adc_; }
    const DigitalUnit& digital() const { return *digital_; }
    int phases() const { return phases_; }

    // Programs a tile and, with drift compensation on, reads the reference [AIHW
    // GlobalDriftCompensation] and the current readout to set alpha.
    void program(const WeightTile& tile);
    // `event` numbers this core's MVMs: it keys the per-MVM noise draws.
    void mvm(const float* x, float* y, std::uint64_t event) const { mvm_batch(x, y, 1, &event); }
    // n MVMs at once (x n × tile rows, y n × tile cols, row-major), vector b keyed by events[b]:
    // each vector's result is the same as alone. Thread-safe.
    void mvm_batch(const float* x, float* y, std::size_t n, const std::uint64_t* events) const;
    // The global drift compensation factor applied to every output (1 when off).
    double alpha() const { return compensation_ ? alpha_ : 1.0; }
    // Turns the drift compensation on or off after programming (the functional mode reports both).
    void set_drift_compensation(bool on) { compensation_ = on; }

private:
    double probe_readout(WeightState s) const;

    NumericsContext ctx_;
    std::unique_ptr<Dac> dac_;
    std::unique_ptr<Crossbar> crossbar_;
    std::unique_ptr<Adc> adc_;
    std::unique_ptr<DigitalUnit> digital_;
    int phases_;
    bool compensation_;
    double alpha_ = 1;
    std::uint64_t programmings_ = 0;
};

// The MVM timing of a core with these converters at this clock.
MvmCoreTiming core_timing(const ComponentConfig& core, const CoreNumerics& n, double clock_hz);

}  // namespace aimc
