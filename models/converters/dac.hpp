// Input converters (interface "dac"), one per crossbar row. Numerics only: they map a real input
// vector onto the normalized drive levels in [-1, 1] that the crossbar integrates, and say how
// long the drive takes (in integration windows).
#pragma once

#include <cstddef>

#include "sim/config.hpp"

namespace aimc {

class Dac {
public:
    static constexpr const char* kInterface = "dac";
    virtual ~Dac() = default;

    // Writes x_norm with |x_norm| <= 1 and returns the input scale s such that x ≈ s · x_norm.
    // Order as in the AIHWKit forward pass: scale the input, quantize, clip.
    virtual double encode(const float* x, std::size_t n, float* x_norm) const = 0;
    // Integration windows per MVM phase (PWM: 1; bit-serial: one per magnitude bit) and the
    // duration of one window, in seconds. The ADCs convert once per window.
    virtual int windows() const = 0;
    virtual double window_time() const = 0;
    double integration_time() const { return windows() * window_time(); }
    virtual double energy_per_conversion() const = 0;  // J, per row per window
    virtual int bits() const = 0;                       // input resolution, sign included
};

}  // namespace aimc
