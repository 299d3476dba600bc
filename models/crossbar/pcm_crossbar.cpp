// pcm-crossbar: weights as differential PCM conductance pairs (G+ for w > 0, G- for w < 0,
// scale = g_max / max|W| over the tile) [AIHW conductance converter; LG23 unit cell]. The
// devices are ideal in this version: a programmed conductance is exactly its target.
#include <algorithm>
#include <cmath>

#include "models/crossbar/crossbar.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class PcmCrossbar final : public Crossbar {
public:
    explicit PcmCrossbar(const ComponentConfig& c)
        : rows_(static_cast<std::size_t>(c.integer("rows"))), cols_(static_cast<std::size_t>(c.integer("cols"))),
          devices_(static_cast<int>(c.integer("devices_per_polarity"))), g_max_(c.real("g_max")),
          energy_(c.real("energy_per_mac")) {}

    std::size_t rows() const override { return rows_; }
    std::size_t cols() const override { return cols_; }
    std::size_t tile_rows() const override { return tile_rows_; }
    std::size_t tile_cols() const override { return tile_cols_; }
    double weight_scale() const override { return w_max_; }
    double energy_per_mac() const override { return energy_; }

    void program(const WeightTile& t) override {
        AIMC_ASSERT(t.rows <= rows_ && t.cols <= cols_, "tile larger than the crossbar reached program()");
        tile_rows_ = t.rows;
        tile_cols_ = t.cols;
        w_max_ = 0;
        for (float v : t.w) w_max_ = std::max(w_max_, static_cast<double>(std::fabs(v)));
        if (w_max_ == 0) w_max_ = 1;
        // Each polarity's conductance is shared evenly by its devices; the full scale of a
        // polarity is devices * g_max.
        const double full_scale = devices_ * g_max_;
        const double scale = full_scale / w_max_;
        g_plus_.assign(t.rows * t.cols, 0.f);
        g_minus_.assign(t.rows * t.cols, 0.f);
        w_norm_.assign(t.rows * t.cols, 0.f);
        for (std::size_t i = 0; i < t.w.size(); ++i) {
            double g = std::fabs(t.w[i]) * scale;
            (t.w[i] >= 0 ? g_plus_ : g_minus_)[i] = static_cast<float>(g);
            w_norm_[i] = static_cast<float>((g_plus_[i] - g_minus_[i]) / full_scale);
        }
    }

    void mvm(const float* x, float* y) const override { accumulate_rows(x, w_norm_.data(), y, tile_rows_, tile_cols_); }

    // Row-major axpy sweeps: contiguous, vectorizable, no aliasing between the arrays.
    static void accumulate_rows(const float* __restrict x, const float* __restrict w, float* __restrict y,
                                std::size_t rows, std::size_t cols) {
        std::fill(y, y + cols, 0.f);
        for (std::size_t i = 0; i < rows; ++i) {
            const float xi = x[i];
            const float* __restrict row = w + i * cols;
            for (std::size_t j = 0; j < cols; ++j) y[j] += xi * row[j];
        }
    }

private:
    std::size_t rows_, cols_;
    int devices_;
    double g_max_;
    double energy_;
    std::size_t tile_rows_ = 0, tile_cols_ = 0;
    double w_max_ = 1;
    std::vector<float> g_plus_, g_minus_;  // siemens, summed over the devices of a polarity
    std::vector<float> w_norm_;            // (G+ - G-) / full scale, what the array computes with
};

AIMC_REGISTER_KIND(Factory<Crossbar>,
                   KindDecl{"", "pcm-crossbar",
                            "PCM crossbar of differential unit cells (ideal devices in this version)",
                            {ParamDecl::integer("rows", std::nullopt, 1, 4096, "word lines (inputs)", "rows"),
                             ParamDecl::integer("cols", std::nullopt, 1, 4096, "bit lines (outputs)", "columns"),
                             ParamDecl::integer("devices_per_polarity", 1, 1, 8,
                                                "PCM devices per weight polarity in a unit cell", "devices"),
                             ParamDecl::quantity("g_max", Dimension::Conductance, std::string("25 uS"), 1e-9, 1e-2,
                                                 "largest programmable conductance of one device"),
                             ParamDecl::quantity("energy_per_mac", Dimension::Energy, std::string("0 pJ"), 0, 1e-9,
                                                 "array energy per cell per MVM (read current through the cell)")}},
                   [](const ComponentConfig& c) { return std::make_unique<PcmCrossbar>(c); });

}  // namespace
}  // namespace aimc
