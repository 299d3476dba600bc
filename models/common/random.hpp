// Counter-based random numbers (Philox4x32-10, Random123): a value depends only on its key
// (seed, stream) and counter (event, index), never on the order in which values are drawn or on
// the number of threads.
#pragma once

#include <Random123/philox.h>

#include <cstdint>

namespace aimc {

class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint64_t stream) {
        key_ = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
        stream_ = stream;
    }
    // Uniform in [0, 1) for (event, index): 24 random bits, exact in float and double.
    double uniform(std::uint64_t event, std::uint64_t index) const {
        r123::Philox4x32::ctr_type c = {{static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32),
                                         static_cast<std::uint32_t>(event), static_cast<std::uint32_t>(index)}};
        auto r = r123::Philox4x32()(c, key_);
        return static_cast<double>(r[0] >> 8) * (1.0 / 16777216.0);
    }
    // Uniform in [-1, 1).
    double symmetric(std::uint64_t event, std::uint64_t index) const { return 2.0 * uniform(event, index) - 1.0; }

private:
    r123::Philox4x32::key_type key_;
    std::uint64_t stream_;
};

}  // namespace aimc
