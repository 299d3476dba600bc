// pcm-hermes and pcm-hermes-pair: PCM fits of the HERMES chip as in AIHWKit's HermesNoiseModel
// [LG23]. pcm-hermes describes one device (g_max 10.35 µS, t0 200 s); pcm-hermes-pair describes
// the two devices of a polarity programmed together as one conductance (g_max 20.7 µS, t0 300 s).
// Equations in docs/models.md.
#include <algorithm>
#include <cmath>

#include "models/device/device.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

struct HermesFit {
    double prog[4];      // σ_prog = Σ c_k x^k (µS at the fit's g_max)
    double g_max_ref;    // µS
    // σ_ν: clip(a·ln r + b, lo, hi) below r_knee, else q2·r² + q1·r + q0
    double sig_a, sig_b, sig_lo, sig_hi, sig_knee, sig_q2, sig_q1, sig_q0;
    // Q_s: clip(a·ln r + b, lo, hi) below r_knee, else c3·r³ + c2·r² + c1·r + c0
    double q_a, q_b, q_lo, q_hi, q_knee, q_c3, q_c2, q_c1, q_c0;
};

constexpr HermesFit kOneDevice = {{0.15781817, 2.32443916, -2.16310839, 0.68841818}, 10.35,
                                  -0.0120, -0.0023, 0.0124, 0.04, 0.3039, -0.0165, 0.0116, 0.0104,
                                  -0.0078, 0.0038, 0.0179, 0.04, 0.1591, 0.0664, -0.1352, 0.0768, 0.0088};
constexpr HermesFit kTwoDevices = {{0.16603222, 4.71806468, -8.48101252, 4.68961419}, 20.7,
                                   -0.0117, -0.0057, 0.0091, 0.04, 0.3055, -0.0118, 0.0093, 0.0073,
                                   -0.0117, -0.0069, 0.015, 0.04, 0.16, 0.0069, -0.0280, 0.0211, 0.0123};

class HermesDevice final : public DeviceModel {
public:
    HermesDevice(const ComponentConfig& c, const HermesFit& fit)
        : fit_(fit), g_max_(c.real("g_max") * 1e6), t0_(c.real("t0")), t_read_(c.real("t_read")),
          prog_scale_(c.real("prog_noise_scale")), drift_scale_(c.real("drift_scale")),
          read_scale_(c.real("read_noise_scale")) {}

    double g_max_us() const override { return g_max_; }

    void program(const float* g_target, float* g_prog, float* nu, std::size_t n, std::uint64_t first,
                 const DeviceStreams& rng) const override {
        NormalSequence prog_noise(rng.programming, 0), drift_noise(rng.drift, 0);
        for (std::size_t i = 0; i < n; ++i) {
            const double gt = g_target[i];
            const double x = gt / g_max_;
            const double sigma =
                (fit_.prog[0] + x * (fit_.prog[1] + x * (fit_.prog[2] + x * fit_.prog[3]))) * g_max_ / fit_.g_max_ref;
            g_prog[i] = static_cast<float>(std::max(0.0, gt + prog_scale_ * sigma * prog_noise(first + i)));
            const double r = std::max(std::fabs(x), 1e-7);
            const double mu = r < 0.0945 ? std::clamp(-0.0387 * std::log(r) - 0.0182, 0.0720, 0.13)
                                         : -0.0436 * r * r - 0.0126 * r + 0.0736;
            const double sd = r < fit_.sig_knee
                                  ? std::clamp(fit_.sig_a * std::log(r) + fit_.sig_b, fit_.sig_lo, fit_.sig_hi)
                                  : fit_.sig_q2 * r * r + fit_.sig_q1 * r + fit_.sig_q0;
            nu[i] = static_cast<float>(std::fabs(mu + sd * drift_noise(first + i)) * drift_scale_);
        }
    }

    void read(const float* g_prog, const float* nu, float* g, std::size_t n, double t_inference, std::uint64_t first,
              const DeviceStreams& rng) const override {
        const double t = t_inference + t0_;
        const double noise_time = std::sqrt(std::log((t + t_read_) / (2 * t_read_)));
        const double log_drift_time = std::log(t / t0_);
        NormalSequence read_noise(rng.read, 0);
        for (std::size_t i = 0; i < n; ++i) {
            const double gp = g_prog[i];
            const double gd = t > t0_ ? gp * std::exp(-static_cast<double>(nu[i]) * log_drift_time) : gp;
            const double r = std::fabs(gp) / g_max_;
            // No floor on r: r = 0 gives ln r = -inf and the upper clip.
            const double q = r < fit_.q_knee ? std::clamp(fit_.q_a * std::log(r) + fit_.q_b, fit_.q_lo, fit_.q_hi)
                                             : ((fit_.q_c3 * r + fit_.q_c2) * r + fit_.q_c1) * r + fit_.q_c0;
            const double gr = gd + std::fabs(gd) * read_scale_ * q * noise_time * read_noise(first + i);
            g[i] = static_cast<float>(std::max(0.0, gr));
        }
    }

private:
    const HermesFit& fit_;
    double g_max_, t0_, t_read_, prog_scale_, drift_scale_, read_scale_;
};

std::vector<ParamDecl> hermes_params(const char* g_max, const char* t0) {
    return {ParamDecl::quantity("g_max", Dimension::Conductance, std::string(g_max), 1e-9, 1e-2,
                                "largest target conductance (the fits are scaled to it)"),
            ParamDecl::quantity("t0", Dimension::Time, std::string(t0), 1e-9, 1e9, "time after programming at which drift starts"),
            ParamDecl::quantity("t_read", Dimension::Time, std::string("512 ns"), 1e-12, 1, "duration of one read"),
            ParamDecl::real("prog_noise_scale", 1.0, 0, 100, "scale of the programming noise (0 switches it off)"),
            ParamDecl::real("drift_scale", 1.0, 0, 100, "scale of the drift exponents (0 switches drift off)"),
            ParamDecl::real("read_noise_scale", 1.0, 0, 100, "scale of the 1/f read noise (0 switches it off)")};
}

AIMC_REGISTER_KIND(Factory<DeviceModel>,
                   KindDecl{"", "pcm-hermes",
                            "HERMES PCM fit for one device (AIHWKit HermesNoiseModel, num_devices 1) [LG23]",
                            hermes_params("10.35 uS", "200 s")},
                   [](const ComponentConfig& c) { return std::make_unique<HermesDevice>(c, kOneDevice); });

AIMC_REGISTER_KIND(Factory<DeviceModel>,
                   KindDecl{"", "pcm-hermes-pair",
                            "HERMES PCM fit for the two devices of a polarity programmed as one conductance "
                            "(AIHWKit HermesNoiseModel, num_devices 2); use with devices_per_polarity 1 [LG23]",
                            hermes_params("20.7 uS", "300 s")},
                   [](const ComponentConfig& c) { return std::make_unique<HermesDevice>(c, kTwoDevices); });

}  // namespace
}  // namespace aimc
