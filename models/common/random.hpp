// Counter-based random numbers (Philox4x32-10, Random123): a value depends only on its key
// (seed, stream) and counter (event, index), never on the order in which values are drawn or on
// the number of threads.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace aimc {

// What a random stream is for; with the core index it forms the stream id, so that each
// purpose on each core draws from its own sequence.
enum class RandomPurpose : std::uint32_t {
    RandomWeights = 1,
    FillData = 2,
    AdcOutputNoise = 3,
    AdcMismatch = 4,
    ProgrammingNoise = 5,
    DriftExponent = 6,
    ReadNoise = 7,
    ShortTermReadNoise = 8,
    ProbeInputs = 9,
    Traffic = 10,  // synthetic interconnect traffic (sim/traffic.hpp)
};

inline std::uint64_t stream_id(std::uint64_t unit, RandomPurpose p) {
    return (unit << 32) | static_cast<std::uint32_t>(p);
}

class CounterRng;

// The standard normals of one event of a stream, by index: value i is lane i % 4 of Philox block
// i / 4, so it does not depend on how the indices are split across calls. Values are made 64 at a
// time by normal_batch (vectorized), and in-order access reuses each batch.
class NormalSequence {
public:
    static constexpr std::uint64_t kBatch = 64;  // values, a multiple of 4
    NormalSequence(const CounterRng& rng, std::uint64_t event) : rng_(rng), event_(event) {}
    inline float operator()(std::uint64_t index);

private:
    const CounterRng& rng_;
    std::uint64_t event_;
    std::uint64_t batch_ = ~std::uint64_t{0};
    float cache_[kBatch];
};

// Values 4·first_block .. 4·(first_block + blocks) − 1 of NormalSequence(rng, event): two
// Box-Muller pairs per Philox block, on 24-bit uniforms.
void normal_batch(const CounterRng& rng, std::uint64_t event, std::uint64_t first_block, std::size_t blocks, float* out);

class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint64_t unit, RandomPurpose p) : CounterRng(seed, stream_id(unit, p)) {}
    CounterRng(std::uint64_t seed, std::uint64_t stream) {
        key_ = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
        stream_ = stream;
    }
    // Uniform in [0, 1) for (event, index): 24 random bits, exact in float and double.
    double uniform(std::uint64_t event, std::uint64_t index) const {
        return static_cast<double>(block(event, index)[0] >> 8) * (1.0 / 16777216.0);
    }
    // Uniform in [-1, 1).
    double symmetric(std::uint64_t event, std::uint64_t index) const { return 2.0 * uniform(event, index) - 1.0; }
    // Standard normal for (event, index), by Box-Muller on two 32-bit uniforms of one Philox block.
    double normal(std::uint64_t event, std::uint64_t index) const {
        auto r = block(event, index);
        const double u1 = (static_cast<double>(r[0]) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
        const double u2 = static_cast<double>(r[1]) * (1.0 / 4294967296.0);
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

    // The raw 128-bit block for (event, index). Events and indices use their low 32 bits each; the
    // stream keeps 64.
    r123::Philox4x32::ctr_type block(std::uint64_t event, std::uint64_t index) const {
        r123::Philox4x32::ctr_type c = {{static_cast<std::uint32_t>(stream_), static_cast<std::uint32_t>(stream_ >> 32),
                                         static_cast<std::uint32_t>(event), static_cast<std::uint32_t>(index)}};
        return r123::Philox4x32()(c, key_);
    }

private:
    r123::Philox4x32::key_type key_;
    std::uint64_t stream_;
};

inline float NormalSequence::operator()(std::uint64_t index) {
    if (index / kBatch != batch_) {
        batch_ = index / kBatch;
        normal_batch(rng_, event_, batch_ * (kBatch / 4), kBatch / 4, cache_);
    }
    return cache_[index % kBatch];
}

}  // namespace aimc
