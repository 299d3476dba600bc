// pcm-hermes and pcm-hermes-pair: PCM fits of the HERMES chip as in AIHWKit's HermesNoiseModel
// [LG23]. pcm-hermes describes one device (g_max 10.35 µS, t0 200 s); pcm-hermes-pair describes
// the two devices of a polarity programmed together as one conductance (g_max 20.7 µS, t0 300 s).
// Equations in docs/models.md.
#include <algorithm>
#include <cmath>

#include "models/device/device.hpp"
#include "models/device/pcm_family.hpp"
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

class HermesDevice final : public PcmFamilyDevice {
public:
    HermesDevice(const ComponentConfig& c, const HermesFit& fit) : PcmFamilyDevice(c), fit_(fit) {}

protected:
    double programming_sigma(double x) const override {
        return (fit_.prog[0] + x * (fit_.prog[1] + x * (fit_.prog[2] + x * fit_.prog[3]))) * g_max_ / fit_.g_max_ref;
    }
    std::pair<double, double> drift_moments(double r) const override {
        const double mu = r < 0.0945 ? std::clamp(-0.0387 * std::log(r) - 0.0182, 0.0720, 0.13)
                                     : -0.0436 * r * r - 0.0126 * r + 0.0736;
        const double sd = r < fit_.sig_knee ? std::clamp(fit_.sig_a * std::log(r) + fit_.sig_b, fit_.sig_lo, fit_.sig_hi)
                                            : fit_.sig_q2 * r * r + fit_.sig_q1 * r + fit_.sig_q0;
        return {mu, sd};
    }
    // No floor on r: r = 0 gives ln r = -inf and the upper clip.
    double relative_read_noise(double r) const override {
        return r < fit_.q_knee ? std::clamp(fit_.q_a * std::log(r) + fit_.q_b, fit_.q_lo, fit_.q_hi)
                               : ((fit_.q_c3 * r + fit_.q_c2) * r + fit_.q_c1) * r + fit_.q_c0;
    }

private:
    const HermesFit& fit_;
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
