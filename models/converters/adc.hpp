// Output converters (interface "adc"), one per crossbar column. Numerics only.
#pragma once

#include <cstddef>

#include "sim/config.hpp"

namespace aimc {

class Adc {
public:
    static constexpr const char* kInterface = "adc";
    virtual ~Adc() = default;

    // Converts normalized column outputs (units of one full-scale input times one full-scale
    // weight) in place: clip to the output bound, quantize to the ADC codes, back to units.
    virtual void convert(float* y, std::size_t n) const = 0;
    // Time from the end of the integration window until the codes are latched, in seconds.
    virtual double conversion_time() const = 0;
    virtual double energy_per_conversion() const = 0;  // J, per column per MVM
    virtual int bits() const = 0;
};

}  // namespace aimc
