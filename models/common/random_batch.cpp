// Box-Muller over a batch, in a loop the compiler vectorizes (log, sqrt, sin, cos from the vector
// math library): per-MVM noise needs hundreds of normals per conversion round. This file is built
// with -ffast-math for that (CMakeLists); nothing here depends on NaN, infinity or signed zeros:
// u1 lies in (0, 1], u2 in [0, 1).
#include "models/common/random.hpp"

namespace aimc {

void normal_batch(const CounterRng& rng, std::uint64_t event, std::uint64_t first_block, std::size_t blocks, float* out) {
    constexpr std::size_t kMaxBlocks = NormalSequence::kBatch / 4;
    float u1[2 * kMaxBlocks], u2[2 * kMaxBlocks];
    for (std::size_t start = 0; start < blocks; start += kMaxBlocks) {
        const std::size_t count = std::min(kMaxBlocks, blocks - start);
        for (std::size_t b = 0; b < count; ++b) {
            const auto r = rng.block(event, first_block + start + b);
            for (int k = 0; k < 2; ++k) {
                u1[2 * b + k] = (static_cast<float>(r[2 * k] >> 8) + 1.0f) * (1.0f / 16777216.0f);
                u2[2 * b + k] = static_cast<float>(r[2 * k + 1] >> 8) * (1.0f / 16777216.0f);
            }
        }
        float radius[2 * kMaxBlocks], c[2 * kMaxBlocks], s[2 * kMaxBlocks];
        const std::size_t pairs = 2 * count;
#pragma omp simd
        for (std::size_t p = 0; p < pairs; ++p) radius[p] = std::sqrt(-2.0f * std::log(u1[p]));
#pragma omp simd
        for (std::size_t p = 0; p < pairs; ++p) c[p] = std::cos(6.2831853f * u2[p]);
#pragma omp simd
        for (std::size_t p = 0; p < pairs; ++p) s[p] = std::sin(6.2831853f * u2[p]);
        float* o = out + 4 * start;
        for (std::size_t p = 0; p < pairs; ++p) {
            o[2 * p] = radius[p] * c[p];
            o[2 * p + 1] = radius[p] * s[p];
        }
    }
}

}  // namespace aimc
