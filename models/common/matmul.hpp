// The one matrix product of the numerics: Y (n × cols) = X (n × rows) · W (rows × cols), all
// row-major float. Every output element is accumulated over the rows in order, whatever n is, so
// a vector gives the same bits alone or inside a batch: the timed run, the functional mode and
// `aimcsim probe` agree exactly. Compiled for the widest vector unit the CPU has (the clones
// are chosen at load time); on one machine the result does not depend on threads or batching.
#pragma once

#include <cstddef>

namespace aimc {

void matmul(const float* x, const float* w, float* y, std::size_t n, std::size_t rows, std::size_t cols);

}  // namespace aimc
