// Device kinds: pcm (AIHWKit PCMLikeNoiseModel, fitted on IBM PCM [JO20]) and ideal.
// The equations are in docs/models.md.
#include <algorithm>
#include <cmath>

#include "models/device/device.hpp"
#include "models/device/pcm_family.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

class IdealDevice final : public DeviceModel {
public:
    explicit IdealDevice(const ComponentConfig& c) : g_max_(c.real("g_max") * 1e6) {}
    double g_max_us() const override { return g_max_; }
    void program(const float* g_target, float* g_prog, float* nu, std::size_t n, std::uint64_t,
                 const DeviceStreams&) const override {
        std::copy(g_target, g_target + n, g_prog);
        std::fill(nu, nu + n, 0.f);
    }
    void read(const float* g_prog, const float*, float* g, std::size_t n, double, std::uint64_t,
              const DeviceStreams&) const override {
        std::copy(g_prog, g_prog + n, g);
    }

private:
    double g_max_;
};

class PcmDevice final : public PcmFamilyDevice {
public:
    explicit PcmDevice(const ComponentConfig& c)
        : PcmFamilyDevice(c), coeff_{c.real("prog_coeff_0"), c.real("prog_coeff_1"), c.real("prog_coeff_2")} {}

protected:
    // σ_prog = c0 + c1·x + c2·x², fitted at g_max = 25 µS and scaled with g_max.
    double programming_sigma(double x) const override {
        return (coeff_[0] + coeff_[1] * x + coeff_[2] * x * x) * g_max_ / 25.0;
    }
    std::pair<double, double> drift_moments(double r) const override {
        return {std::clamp(-0.0155 * std::log(r) + 0.0244, 0.049, 0.1),
                std::clamp(-0.0125 * std::log(r) - 0.0059, 0.008, 0.045)};
    }
    double relative_read_noise(double r) const override {
        return std::min(0.0088 / std::max(std::pow(r, 0.65), 1e-3), 0.2);
    }

private:
    double coeff_[3];
};

ParamDecl g_max_param(const char* dflt) {
    return ParamDecl::quantity("g_max", Dimension::Conductance, std::string(dflt), 1e-9, 1e-2,
                               "largest target conductance of one device");
}

AIMC_REGISTER_KIND(Factory<DeviceModel>,
                   KindDecl{"", "ideal", "noiseless devices: a programmed conductance is its target, forever",
                            {g_max_param("25 uS")}},
                   [](const ComponentConfig& c) { return std::make_unique<IdealDevice>(c); });

AIMC_REGISTER_KIND(
    Factory<DeviceModel>,
    KindDecl{"", "pcm",
             "PCM statistical model of AIHWKit's PCMLikeNoiseModel [JO20]: programming noise, drift, 1/f read noise",
             {g_max_param("25 uS"),
              ParamDecl::quantity("t0", Dimension::Time, std::string("20 s"), 1e-9, 1e9,
                                  "time after programming at which drift starts (reference read time)"),
              ParamDecl::quantity("t_read", Dimension::Time, std::string("250 ns"), 1e-12, 1,
                                  "duration of one read (lower limit of the 1/f noise integral)"),
              ParamDecl::real("prog_noise_scale", 1.0, 0, 100, "scale of the programming noise (0 switches it off)"),
              ParamDecl::real("drift_scale", 1.0, 0, 100, "scale of the drift exponents (0 switches drift off)"),
              ParamDecl::real("read_noise_scale", 1.0, 0, 100, "scale of the 1/f read noise (0 switches it off)"),
              ParamDecl::real("prog_coeff_0", 0.26348, -100, 100, "programming noise σ = c0 + c1·x + c2·x² (µS at 25 µS)", "uS"),
              ParamDecl::real("prog_coeff_1", 1.9650, -100, 100, "programming noise coefficient c1", "uS"),
              ParamDecl::real("prog_coeff_2", -1.1731, -100, 100, "programming noise coefficient c2", "uS")}},
    [](const ComponentConfig& c) { return std::make_unique<PcmDevice>(c); });

}  // namespace
}  // namespace aimc
