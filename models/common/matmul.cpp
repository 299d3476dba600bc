#include "models/common/matmul.hpp"

#include <algorithm>
#include <cstring>

namespace aimc {

namespace {
constexpr std::size_t kSamples = 4;   // vectors sharing each loaded weight row
constexpr std::size_t kColumns = 64;  // columns held in registers per vector
}  // namespace

// Blocked so that each weight row is loaded once for kSamples vectors and the partial sums stay
// in registers; vectorized across columns, so each element's sum runs over the rows in order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void matmul(const float* __restrict x, const float* __restrict w, float* __restrict y, std::size_t n,
            std::size_t rows, std::size_t cols) {
    for (std::size_t j0 = 0; j0 < cols; j0 += kColumns) {
        const std::size_t nc = std::min(kColumns, cols - j0);
        std::size_t b = 0;
        for (; b + kSamples <= n; b += kSamples) {
            float acc[kSamples][kColumns] = {};
            for (std::size_t k = 0; k < rows; ++k) {
                const float* wr = w + k * cols + j0;
                for (std::size_t s = 0; s < kSamples; ++s) {
                    const float xv = x[(b + s) * rows + k];
                    for (std::size_t j = 0; j < kColumns; ++j) acc[s][j] += xv * (j < nc ? wr[j] : 0.f);
                }
            }
            for (std::size_t s = 0; s < kSamples; ++s) std::memcpy(y + (b + s) * cols + j0, acc[s], nc * sizeof(float));
        }
        for (; b < n; ++b) {
            float acc[kColumns] = {};
            for (std::size_t k = 0; k < rows; ++k) {
                const float* wr = w + k * cols + j0;
                const float xv = x[b * rows + k];
                for (std::size_t j = 0; j < kColumns; ++j) acc[j] += xv * (j < nc ? wr[j] : 0.f);
            }
            std::memcpy(y + b * cols + j0, acc, nc * sizeof(float));
        }
    }
}

}  // namespace aimc
