// The crossbar array (interface "crossbar"): weights held as conductances of device pairs, one
// analog MVM per call. Numerics only; the core module adds time and energy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/device/device.hpp"
#include "sim/config.hpp"

namespace aimc {

// A dense row-major matrix of weights in (inputs, outputs) orientation: y = x · W.
struct WeightTile {
    std::size_t rows = 0, cols = 0;
    std::vector<float> w;  // rows * cols
};

// Which conductances an MVM integrates: the difference of the pair (one-phase), or one polarity
// alone (the phases of a four-phase MVM).
enum class Polarity { Difference, Positive, Negative };

// Which conductances to use: as programmed (before drift and read noise), or as read at the
// run's inference time.
enum class WeightState { Programmed, AtInference };

class Crossbar {
public:
    static constexpr const char* kInterface = "crossbar";
    virtual ~Crossbar() = default;

    virtual std::size_t rows() const = 0;  // physical size
    virtual std::size_t cols() const = 0;
    // Maps a tile (at most rows() x cols()) onto conductances, draws programming noise and drift
    // exponents, and reads the array at `t_inference` seconds after programming.
    virtual void program(const WeightTile& tile, double t_inference, const DeviceStreams& rng) = 0;
    virtual std::size_t tile_rows() const = 0;  // of the programmed tile (0 before programming)
    virtual std::size_t tile_cols() const = 0;
    // Weight magnitude that maps to full-scale conductance (max |W| of the tile).
    virtual double weight_scale() const = 0;
    // y_norm[j] = sum_i x_norm[i] * w_norm[i][j] with w_norm the chosen conductances over full
    // scale, plus short-term read noise (keyed by `event`) and IR drop when configured.
    // A batch of n vectors (x_norm n × tile_rows, y_norm n × tile_cols, row-major); events[b] keys
    // the noise of vector b, so a vector gives the same result alone or in any batch. Thread-safe.
    virtual void mvm_batch(const float* x_norm, float* y_norm, std::size_t n, Polarity p, WeightState s,
                           const std::uint64_t* events) const = 0;
    void mvm(const float* x_norm, float* y_norm, Polarity p, WeightState s, std::uint64_t event) const {
        mvm_batch(x_norm, y_norm, 1, p, s, &event);
    }
    // Effective weights (in weight units, tile_rows x tile_cols) that a read-back would give.
    virtual std::vector<float> effective_weights(WeightState s) const = 0;
    virtual double energy_per_mac() const = 0;  // J, per cell per integration window
    // Program-and-verify: time for the tile (rows programmed one after another) and energy.
    virtual double programming_time() const = 0;
    virtual double programming_energy() const = 0;
    virtual std::uint64_t devices_programmed() const = 0;
};

}  // namespace aimc
