// The common shape of the PCM statistical models (AIHWKit PCMLikeNoiseModel and HermesNoiseModel):
// programming noise σ(x) on the target, a drift exponent drawn from the target, the drift law
// g·(t/t0)^(−ν) once t > t0, and accumulated 1/f read noise relative to the drifted conductance
// with a relative amplitude Q(r) of the programmed one. Kinds supply σ, (μ_ν, σ_ν) and Q.
#pragma once

#include <algorithm>
#include <cmath>
#include <utility>

#include "models/device/device.hpp"

namespace aimc {

class PcmFamilyDevice : public DeviceModel {
public:
    explicit PcmFamilyDevice(const ComponentConfig& c)
        : g_max_(c.real("g_max") * 1e6), t0_(c.real("t0")), t_read_(c.real("t_read")),
          prog_scale_(c.real("prog_noise_scale")), drift_scale_(c.real("drift_scale")),
          read_scale_(c.real("read_noise_scale")) {}

    double g_max_us() const override { return g_max_; }

    void program(const float* g_target, float* g_prog, float* nu, std::size_t n, std::uint64_t first,
                 const DeviceStreams& rng) const override {
        NormalSequence prog_noise(rng.programming, rng.event), drift_noise(rng.drift, rng.event);
        for (std::size_t i = 0; i < n; ++i) {
            const double gt = g_target[i];
            const double x = gt / g_max_;
            g_prog[i] = static_cast<float>(std::max(0.0, gt + prog_scale_ * programming_sigma(x) * prog_noise(first + i)));
            // The fits floor the relative target at 1e-7 (AIHWKit _ZERO_CLIP).
            const auto [mu, sd] = drift_moments(std::max(std::fabs(x), 1e-7));
            nu[i] = static_cast<float>(std::fabs(mu + sd * drift_noise(first + i)) * drift_scale_);
        }
    }

    void read(const float* g_prog, const float* nu, float* g, std::size_t n, double t_inference, std::uint64_t first,
              const DeviceStreams& rng) const override {
        const double t = t_inference + t0_;
        // Accumulated 1/f noise since programming, integrated from t_read to t.
        // Zero before t_read has passed (t0 + t_inference < t_read): no noise accumulated yet.
        const double noise_time = std::sqrt(std::max(0.0, std::log((t + t_read_) / (2 * t_read_))));
        const double log_drift_time = std::log(t / t0_);
        NormalSequence read_noise(rng.read, rng.event);
        for (std::size_t i = 0; i < n; ++i) {
            const double gp = g_prog[i];
            const double gd = t > t0_ ? gp * std::exp(-static_cast<double>(nu[i]) * log_drift_time) : gp;
            const double sigma = relative_read_noise(std::fabs(gp) / g_max_) * noise_time;
            g[i] = static_cast<float>(std::max(0.0, gd + std::fabs(gd) * read_scale_ * sigma * read_noise(first + i)));
        }
    }

protected:
    // µS, at relative target x.
    virtual double programming_sigma(double x) const = 0;
    // (μ_ν, σ_ν) at relative target r >= 1e-7.
    virtual std::pair<double, double> drift_moments(double r) const = 0;
    // Q at relative programmed conductance r >= 0.
    virtual double relative_read_noise(double r) const = 0;

    double g_max_, t0_, t_read_, prog_scale_, drift_scale_, read_scale_;
};

}  // namespace aimc
