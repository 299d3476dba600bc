// The crossbar array (interface "crossbar"): weights held as conductances, one analog MVM per
// call. Numerics only; the core module adds time and energy.
#pragma once

#include <cstddef>
#include <vector>

#include "sim/config.hpp"

namespace aimc {

// A dense row-major matrix of weights in (inputs, outputs) orientation: y = x · W.
struct WeightTile {
    std::size_t rows = 0, cols = 0;
    std::vector<float> w;  // rows * cols
};

class Crossbar {
public:
    static constexpr const char* kInterface = "crossbar";
    virtual ~Crossbar() = default;

    virtual std::size_t rows() const = 0;  // physical size
    virtual std::size_t cols() const = 0;
    // Maps a tile (at most rows() x cols()) onto conductances; the tile starts at row 0, column 0.
    virtual void program(const WeightTile& tile) = 0;
    virtual std::size_t tile_rows() const = 0;  // of the programmed tile (0 before programming)
    virtual std::size_t tile_cols() const = 0;
    // Weight magnitude that maps to full-scale conductance (max |W| of the tile).
    virtual double weight_scale() const = 0;
    // y_norm[j] = sum_i x_norm[i] * w_norm[i][j], w_norm = conductance difference / full scale.
    virtual void mvm(const float* x_norm, float* y_norm) const = 0;
    virtual double energy_per_mac() const = 0;  // J, per cell per MVM
};

}  // namespace aimc
