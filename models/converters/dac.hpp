// Input converters (interface "dac"), one per crossbar row. Numerics only: they map a real input
// vector onto the normalized drive levels in [-1, 1] that the crossbar integrates.
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
    // Duration of one integration window (one phase of an MVM), in seconds.
    virtual double integration_time() const = 0;
    virtual double energy_per_conversion() const = 0;  // J, per row per MVM
    virtual int bits() const = 0;                       // input resolution, sign included
};

}  // namespace aimc
