#include "models/common/matmul.hpp"

#include <algorithm>
#include <cstring>

namespace aimc {

namespace {
constexpr std::size_t kSamples = 8;   // vectors sharing each loaded weight row
constexpr std::size_t kColumns = 32;  // columns held in registers per vector
}  // namespace

// Blocked so that each weight row is loaded once for kSamples vectors and the partial sums stay
// in registers (8 × 32 floats: 16 AVX-512 registers); vectorized across columns, so each
// element's sum runs over the rows in order in every path. Column blocks narrower than kColumns
// and the last vectors of a batch take the one-vector path, with the same order.
__attribute__((target_clones("avx512f", "avx2", "default")))
void matmul(const float* __restrict x, const float* __restrict w, float* __restrict y, std::size_t n,
            std::size_t rows, std::size_t cols) {
    for (std::size_t j0 = 0; j0 < cols; j0 += kColumns) {
        const std::size_t nc = std::min(kColumns, cols - j0);
        std::size_t b = 0;
        if (nc == kColumns) {
            for (; b + kSamples <= n; b += kSamples) {
                float acc[kSamples][kColumns] = {};
                for (std::size_t k = 0; k < rows; ++k) {
                    const float* wr = w + k * cols + j0;
                    for (std::size_t s = 0; s < kSamples; ++s) {
                        const float xv = x[(b + s) * rows + k];
                        for (std::size_t j = 0; j < kColumns; ++j) acc[s][j] += xv * wr[j];
                    }
                }
                for (std::size_t s = 0; s < kSamples; ++s)
                    std::memcpy(y + (b + s) * cols + j0, acc[s], kColumns * sizeof(float));
            }
        }
        for (; b < n; ++b) {
            float acc[kColumns] = {};
            for (std::size_t k = 0; k < rows; ++k) {
                const float* wr = w + k * cols + j0;
                const float xv = x[b * rows + k];
                for (std::size_t j = 0; j < nc; ++j) acc[j] += xv * wr[j];
            }
            std::memcpy(y + b * cols + j0, acc, nc * sizeof(float));
        }
    }
}

}  // namespace aimc
