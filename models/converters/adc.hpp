// Output converters (interface "adc"), one per crossbar column. Numerics only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/config.hpp"
#include "sim/registry.hpp"

namespace aimc {

// What an ADC bank needs at build time to draw its per-column mismatch and its noise streams.
struct AdcDrawContext {
    std::uint64_t seed = 1;
    std::uint64_t core = 0;
    std::size_t columns = 0;
};

class Adc {
public:
    static constexpr const char* kInterface = "adc";
    virtual ~Adc() = default;

    // Converts normalized column outputs (units of one full-scale input times one full-scale
    // weight) in place, as the hardware does: nonlinearity, output noise, column gain/offset
    // mismatch, clip to the output bound, quantize to codes, back to units. `event` keys the noise
    // draws (one per conversion round), so results do not depend on simulation order.
    virtual void convert(float* y, std::size_t n, std::uint64_t event) const = 0;
    // The digital correction of the column mismatch (a no-op unless calibration is on).
    virtual void calibrate(float* y, std::size_t n) const = 0;
    // Time from the end of the integration window until the codes are latched, in seconds.
    virtual double conversion_time() const = 0;
    // Whether the conversion follows each window (a converter that counts after integration), so
    // that a multi-window MVM waits for it between windows; otherwise it overlaps integration.
    virtual bool converts_after_each_window() const { return false; }
    virtual double energy_per_conversion() const = 0;  // J, per column per conversion
    virtual int bits() const = 0;
};

using AdcFactory = Factory<Adc, const AdcDrawContext&>;

}  // namespace aimc
