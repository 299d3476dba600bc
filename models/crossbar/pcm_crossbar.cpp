// pcm-crossbar: weights as differential pairs of PCM conductances [AIHW conductance converter;
// LG23 unit cell]. Device physics come from the `device` model; equations in docs/models.md.
#include <algorithm>
#include <cmath>
#include <memory>

#include "models/common/matmul.hpp"
#include "models/crossbar/crossbar.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"
#include "sim/units.hpp"

namespace aimc {

namespace {

class PcmCrossbar final : public Crossbar {
public:
    explicit PcmCrossbar(const ComponentConfig& c)
        : rows_(static_cast<std::size_t>(c.integer("rows"))), cols_(static_cast<std::size_t>(c.integer("cols"))),
          devices_(static_cast<std::size_t>(c.integer("devices_per_polarity"))),
          device_(Factory<DeviceModel>::create(c.child("device"))), g_min_(c.real("g_min") * 1e6),
          energy_(c.real("energy_per_mac")), read_noise_(c.real("read_noise")), ir_drop_(c.real("ir_drop")),
          ir_drop_g_ratio_(c.real("ir_drop_g_ratio")),
          iterations_(static_cast<double>(c.integer("program_iterations"))),
          iteration_time_(c.real("program_iteration_time")),
          iteration_energy_(c.real("program_energy_per_device_iteration")) {
        if (g_min_ >= device_->g_max_us())
            throw InputError(c.params.value("g_min").where + ": core.crossbar.g_min: must be below the device's g_max (" +
                             format_quantity(device_->g_max_us() * 1e-6, Dimension::Conductance) + ")");
    }

    std::size_t rows() const override { return rows_; }
    std::size_t cols() const override { return cols_; }
    std::size_t tile_rows() const override { return tile_rows_; }
    std::size_t tile_cols() const override { return tile_cols_; }
    double weight_scale() const override { return w_max_; }
    double energy_per_mac() const override { return energy_; }
    double programming_time() const override { return static_cast<double>(tile_rows_) * iterations_ * iteration_time_; }
    double programming_energy() const override {
        return static_cast<double>(devices_programmed()) * iterations_ * iteration_energy_;
    }
    std::uint64_t devices_programmed() const override { return tile_rows_ * tile_cols_ * 2 * devices_; }

    void program(const WeightTile& t, double t_inference, const DeviceStreams& rng) override {
        AIMC_ASSERT(t.rows <= rows_ && t.cols <= cols_, "tile larger than the crossbar reached program()");
        tile_rows_ = t.rows;
        tile_cols_ = t.cols;
        w_max_ = 0;
        for (float v : t.w) w_max_ = std::max(w_max_, static_cast<double>(std::fabs(v)));
        if (w_max_ == 0) w_max_ = 1;
        // Device d of cell (r, c): ((r * cols + c) * 2 + polarity) * devices + k. Both devices of a
        // pair are programmed: the "off" one to g_min.
        const std::size_t cells = t.rows * t.cols, n = cells * 2 * devices_;
        const double span = device_->g_max_us() - g_min_;
        std::vector<float> target(n), prog(n), nu(n), read(n);
        for (std::size_t i = 0; i < cells; ++i) {
            const double g = g_min_ + std::fabs(t.w[i]) / w_max_ * span;
            const bool positive = t.w[i] >= 0;
            for (std::size_t k = 0; k < devices_; ++k) {
                target[(i * 2 + 0) * devices_ + k] = static_cast<float>(positive ? g : g_min_);
                target[(i * 2 + 1) * devices_ + k] = static_cast<float>(positive ? g_min_ : g);
            }
        }
        short_term_ = rng.short_term;
        device_->program(target.data(), prog.data(), nu.data(), n, 0, rng);
        device_->read(prog.data(), nu.data(), read.data(), n, t_inference, 0, rng);
        // Full scale of a weight: all devices of one polarity at g_max, the other at g_min.
        const double full_scale = static_cast<double>(devices_) * span;
        fold(prog, full_scale, programmed_);
        fold(read, full_scale, at_inference_);
    }

    void mvm_batch(const float* x, float* y, std::size_t n, Polarity p, WeightState s,
                   const std::uint64_t* events) const override {
        const Conductances& g = s == WeightState::Programmed ? programmed_ : at_inference_;
        const std::vector<float>& w = p == Polarity::Difference ? g.difference
                                      : p == Polarity::Positive ? g.positive
                                                                : g.negative;
        matmul(x, w.data(), y, n, tile_rows_, tile_cols_);
        if (ir_drop_ > 0)
            for (std::size_t b = 0; b < n; ++b) apply_ir_drop(x + b * tile_rows_, w.data(), y + b * tile_cols_);
        if (read_noise_ > 0) {
            // The noise variance of each output, Σ_i |w_ij| x_i², is a second product.
            const std::vector<float>& magnitude = p == Polarity::Difference ? g.magnitude
                                                  : p == Polarity::Positive ? g.positive_magnitude
                                                                            : g.negative_magnitude;
            std::vector<float> x2(n * tile_rows_), variance(n * tile_cols_);
            for (std::size_t i = 0; i < x2.size(); ++i) x2[i] = x[i] * x[i];
            matmul(x2.data(), magnitude.data(), variance.data(), n, tile_rows_, tile_cols_);
            for (std::size_t b = 0; b < n; ++b)
                add_read_noise(y + b * tile_cols_, variance.data() + b * tile_cols_, events[b]);
        }
    }

    std::vector<float> effective_weights(WeightState s) const override {
        const Conductances& g = s == WeightState::Programmed ? programmed_ : at_inference_;
        std::vector<float> w(g.difference.size());
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(g.difference[i] * w_max_);
        return w;
    }

private:
    // Per cell, over full scale: the positive devices, the negative ones, and their difference.
    struct Conductances {
        std::vector<float> positive, negative, difference;
        // |positive|, |negative|, |difference|, for the short-term read noise (with g_min > 0 and
        // noise a polarity's offset-corrected conductance can dip below zero).
        std::vector<float> positive_magnitude, negative_magnitude, magnitude;
    };

    void fold(const std::vector<float>& g, double full_scale, Conductances& out) const {
        const std::size_t cells = tile_rows_ * tile_cols_;
        out.positive.assign(cells, 0.f);
        out.negative.assign(cells, 0.f);
        out.difference.assign(cells, 0.f);
        for (std::size_t i = 0; i < cells; ++i) {
            double plus = 0, minus = 0;
            for (std::size_t k = 0; k < devices_; ++k) {
                plus += g[(i * 2 + 0) * devices_ + k];
                minus += g[(i * 2 + 1) * devices_ + k];
            }
            // g_min is a common offset of both polarities; it cancels in the difference.
            plus -= static_cast<double>(devices_) * g_min_;
            minus -= static_cast<double>(devices_) * g_min_;
            out.positive[i] = static_cast<float>(plus / full_scale);
            out.negative[i] = static_cast<float>(minus / full_scale);
            out.difference[i] = static_cast<float>((plus - minus) / full_scale);
        }
        auto magnitudes = [](const std::vector<float>& v, std::vector<float>& m) {
            m.resize(v.size());
            for (std::size_t i = 0; i < v.size(); ++i) m[i] = std::fabs(v[i]);
        };
        magnitudes(out.positive, out.positive_magnitude);
        magnitudes(out.negative, out.negative_magnitude);
        magnitudes(out.difference, out.magnitude);
    }

    // Short-term read noise, output-referred: σ_j = read_noise · sqrt(Σ_i |w_ij| x_i²) [RA23;
    // AIHW w_noise of type PCM_READ], fresh for every MVM.
    void add_read_noise(float* y, const float* variance, std::uint64_t event) const {
        NormalSequence noise(short_term_, event);
        for (std::size_t j = 0; j < tile_cols_; ++j)
            y[j] += static_cast<float>(read_noise_) * std::sqrt(variance[j]) * noise(j);
    }

    // IR drop as in AIHWKit's forward pass [AIHW rpu_forward_backward_pass]: a column carrying
    // the total current I_j = Σ_i |w_ij x_i| loses c_j · ir_drop · Σ_i w_ij x_i (1 − (1 − i/n)²),
    // a_j = n · I_j / g_ratio, c_j = a_j (a_j (0.05 a_j − 0.2) + 0.5); rows far from the first
    // input (larger i) see more of the drop.
    void apply_ir_drop(const float* x, const float* w, float* y) const {
        const std::size_t n = tile_rows_;
        std::vector<double> current(tile_cols_, 0.0), drop(tile_cols_, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            const double d = 1.0 - static_cast<double>(i) / static_cast<double>(n);
            const double position = 1.0 - d * d;
            const float* row = w + i * tile_cols_;
            for (std::size_t j = 0; j < tile_cols_; ++j) {
                current[j] += std::fabs(row[j] * x[i]);
                drop[j] += row[j] * x[i] * position;
            }
        }
        for (std::size_t j = 0; j < tile_cols_; ++j) {
            const double a = static_cast<double>(n) / ir_drop_g_ratio_ * current[j];
            const double c = a * (a * (0.05 * a - 0.2) + 0.5);
            y[j] = static_cast<float>(y[j] - c * ir_drop_ * drop[j]);
        }
    }

    std::size_t rows_, cols_, devices_;
    std::unique_ptr<DeviceModel> device_;
    double g_min_, energy_, read_noise_, ir_drop_, ir_drop_g_ratio_;
    double iterations_, iteration_time_, iteration_energy_;
    std::size_t tile_rows_ = 0, tile_cols_ = 0;
    double w_max_ = 1;
    Conductances programmed_, at_inference_;
    CounterRng short_term_{0, 0, RandomPurpose::ShortTermReadNoise};  // set at programming
};

AIMC_REGISTER_KIND(
    Factory<Crossbar>,
    KindDecl{"", "pcm-crossbar", "PCM crossbar of differential unit cells (device physics from core.crossbar.device)",
             {ParamDecl::integer("rows", std::nullopt, 1, 4096, "word lines (inputs)", "rows"),
              ParamDecl::integer("cols", std::nullopt, 1, 4096, "bit lines (outputs)", "columns"),
              ParamDecl::integer("devices_per_polarity", 1, 1, 8, "PCM devices per weight polarity in a unit cell",
                                 "devices"),
              ParamDecl::quantity("g_min", Dimension::Conductance, std::string("0 uS"), 0, 1e-2,
                                  "conductance of a device at weight 0 (both devices of a pair sit here)"),
              ParamDecl::quantity("energy_per_mac", Dimension::Energy, std::string("0 pJ"), 0, 1e-9,
                                  "array energy per cell per integration window (read current through the cell)"),
              ParamDecl::real("read_noise", 0.0, 0, 10,
                              "short-term read noise per MVM: output std = read_noise · sqrt(Σ|w|·x²) in normalized "
                              "units (AIHWKit w_noise, PCM type); 0 switches it off"),
              ParamDecl::real("ir_drop", 0.0, 0, 10, "IR-drop strength (AIHWKit ir_drop); 0 switches it off"),
              ParamDecl::real("ir_drop_g_ratio", 571428.57, 1, 1e12,
                              "wire conductance over the device g_max (AIHWKit ir_drop_g_ratio = 1/0.35/5e-6)"),
              ParamDecl::integer("program_iterations", 10, 1, 1000,
                                 "program-and-verify iterations per row (assumed)", "iterations"),
              ParamDecl::quantity("program_iteration_time", Dimension::Time, std::string("1 us"), 0, 1,
                                  "one program pulse and verify read of a row"),
              ParamDecl::quantity("program_energy_per_device_iteration", Dimension::Energy, std::string("0 pJ"), 0,
                                  1e-6, "energy of one program pulse and verify of one device")}},
    [](const ComponentConfig& c) { return std::make_unique<PcmCrossbar>(c); });

}  // namespace
}  // namespace aimc
