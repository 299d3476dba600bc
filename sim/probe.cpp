#include "sim/probe.hpp"

#include <cmath>

#include "models/common/random.hpp"
#include "models/core/core_numerics.hpp"
#include "sim/errors.hpp"
#include "sim/npy.hpp"

namespace aimc {

namespace {

WeightTile load_tile(const ChipConfig& chip, const std::string& file) {
    NpyArray a = read_npy(file);
    if (a.shape.size() != 2)
        throw InputError(file + ": expected a 2-D weight matrix (rows, cols), got " + std::to_string(a.shape.size()) +
                         " dimension(s)");
    const auto& xb = chip.at("core.crossbar");
    const auto rows = static_cast<std::size_t>(xb.integer("rows")), cols = static_cast<std::size_t>(xb.integer("cols"));
    if (a.shape[0] == 0 || a.shape[1] == 0 || a.shape[0] > rows || a.shape[1] > cols)
        throw InputError(file + ": a " + std::to_string(a.shape[0]) + "x" + std::to_string(a.shape[1]) +
                         " matrix does not fit the " + std::to_string(rows) + "x" + std::to_string(cols) +
                         " crossbar of " + chip.file);
    WeightTile t;
    t.rows = a.shape[0];
    t.cols = a.shape[1];
    t.w.assign(a.data.begin(), a.data.end());
    return t;
}

}  // namespace

ProbeWeightsResult probe_weights(const ChipConfig& chip, const ProbeOptions& opt) {
    WeightTile tile = load_tile(chip, opt.weights_file);
    CoreNumerics n(chip.at("core"), NumericsContext{opt.seed, 0, opt.t_inference_s});
    n.program(tile);
    ProbeWeightsResult r;
    r.rows = tile.rows;
    r.cols = tile.cols;
    r.alpha = opt.compensation ? n.alpha() : 1.0;
    const std::vector<float> w = n.crossbar().effective_weights(WeightState::AtInference);
    r.effective.resize(w.size());
    double sq = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        r.effective[i] = static_cast<double>(w[i]) * r.alpha;
        sq += (r.effective[i] - tile.w[i]) * (r.effective[i] - tile.w[i]);
    }
    r.rms_error = std::sqrt(sq / static_cast<double>(w.size())) / n.crossbar().weight_scale();
    return r;
}

ProbeMvmResult probe_mvm(const ChipConfig& chip, const ProbeOptions& opt) {
    WeightTile tile = load_tile(chip, opt.weights_file);
    CoreNumerics n(chip.at("core"), NumericsContext{opt.seed, 0, opt.t_inference_s});
    n.program(tile);
    const CounterRng rng(opt.seed, 0, RandomPurpose::ProbeInputs);
    std::vector<float> x(tile.rows), y(tile.cols);
    double err_sum = 0, err_sq = 0, ref_sum = 0, ref_sq = 0;
    const double count = static_cast<double>(opt.inputs * tile.cols);
    for (std::size_t k = 0; k < opt.inputs; ++k) {
        for (std::size_t i = 0; i < tile.rows; ++i) x[i] = static_cast<float>(rng.symmetric(k, i));
        n.mvm(x.data(), y.data(), k);
        // Without compensation the outputs are compared as they leave the array, before alpha.
        const double undo = opt.compensation ? 1.0 : 1.0 / n.alpha();
        for (std::size_t j = 0; j < tile.cols; ++j) {
            double ideal = 0;
            for (std::size_t i = 0; i < tile.rows; ++i) ideal += static_cast<double>(x[i]) * tile.w[i * tile.cols + j];
            const double e = y[j] * undo - ideal;
            err_sum += e;
            err_sq += e * e;
            ref_sum += ideal;
            ref_sq += ideal * ideal;
        }
    }
    auto stdev = [&](double s, double sq) { return std::sqrt(std::max(0.0, sq / count - (s / count) * (s / count))); };
    ProbeMvmResult r;
    r.rows = tile.rows;
    r.cols = tile.cols;
    r.inputs = opt.inputs;
    r.alpha = opt.compensation ? n.alpha() : 1.0;
    r.relative_error = stdev(err_sum, err_sq) / stdev(ref_sum, ref_sq);
    return r;
}

}  // namespace aimc
