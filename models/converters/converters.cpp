// DAC and ADC kinds: pwm-dac, ideal-dac, cco-adc, ideal-adc.
#include <algorithm>
#include <cmath>

#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

// Abs-max input scaling (AIHWKit "noise management: abs_max") or a fixed input range.
double input_scale(const ComponentConfig& c, const float* x, std::size_t n) {
    if (c.text("input_scaling") == "fixed") return c.real("input_range");
    float m = 0.f;
    for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
    return m > 0.f ? m : 1.0;
}

std::vector<ParamDecl> input_scaling_params() {
    return {
        ParamDecl::choice("input_scaling", std::string("abs-max"), {"abs-max", "fixed"},
                          "how inputs are scaled to the full drive range: by the vector's largest magnitude "
                          "(undone digitally after the ADC), or by a fixed input_range"),
        ParamDecl::real("input_range", 1.0, 1e-30, 1e30, "input magnitude mapped to full scale when input_scaling is fixed"),
    };
}

class PwmDac final : public Dac {
public:
    explicit PwmDac(const ComponentConfig& c)
        : cfg_(c), bits_(static_cast<int>(c.integer("bits"))), levels_(std::ldexp(1.0, bits_ - 1) - 1),
          lsb_time_(c.real("lsb_time")), energy_(c.real("energy_per_conversion")) {}

    double encode(const float* x, std::size_t n, float* xn) const override {
        double s = input_scale(cfg_, x, n);
        for (std::size_t i = 0; i < n; ++i) {
            double q = std::nearbyint(x[i] / s * levels_);
            xn[i] = static_cast<float>(std::clamp(q, -levels_, levels_) / levels_);
        }
        return s;
    }
    // A signed PWM input of b bits drives up to 2^(b-1) - 1 LSB pulses; the window is 2^(b-1)
    // LSBs (128 ns at 8 bits and 1 ns/LSB, as in HERMES [KA22]).
    int windows() const override { return 1; }
    double window_time() const override { return std::ldexp(lsb_time_, bits_ - 1); }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    const ComponentConfig& cfg_;
    int bits_;
    double levels_;
    double lsb_time_;
    double energy_;
};

class IdealDac final : public Dac {
public:
    explicit IdealDac(const ComponentConfig& c)
        : cfg_(c), window_(c.real("window")), energy_(c.real("energy_per_conversion")),
          bits_(static_cast<int>(c.integer("bits"))) {}
    double encode(const float* x, std::size_t n, float* xn) const override {
        double s = input_scale(cfg_, x, n);
        for (std::size_t i = 0; i < n; ++i) xn[i] = static_cast<float>(std::clamp(x[i] / s, -1.0, 1.0));
        return s;
    }
    int windows() const override { return 1; }
    double window_time() const override { return window_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    const ComponentConfig& cfg_;
    double window_;
    double energy_;
    int bits_;
};

std::vector<ParamDecl> with(std::vector<ParamDecl> a, const std::vector<ParamDecl>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

AIMC_REGISTER_KIND(Factory<Dac>,
                   KindDecl{"", "pwm-dac",
                            "pulse-width-modulated signed input: quantize to 2^(bits-1)-1 levels per sign, "
                            "integrate for 2^(bits-1) LSB times",
                            with({ParamDecl::integer("bits", 8, 2, 16, "input resolution, sign included", "bits"),
                                  ParamDecl::quantity("lsb_time", Dimension::Time, std::string("1 ns"), 1e-15, 1e-3,
                                                      "pulse duration of one input LSB"),
                                  ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"),
                                                      0, 1e-6, "energy per row per MVM (driver and pulse)")},
                                 input_scaling_params())},
                   [](const ComponentConfig& c) { return std::make_unique<PwmDac>(c); });

AIMC_REGISTER_KIND(Factory<Dac>,
                   KindDecl{"", "ideal-dac", "unquantized input (for reference runs); timing from a fixed window",
                            with({ParamDecl::integer("bits", 8, 1, 32,
                                                     "word width of input vectors in buffers (no quantization)", "bits"),
                                  ParamDecl::quantity("window", Dimension::Time, std::string("128 ns"), 1e-15, 1e-3,
                                                      "integration window of one MVM phase"),
                                  ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"),
                                                      0, 1e-6, "energy per row per MVM")},
                                 input_scaling_params())},
                   [](const ComponentConfig& c) { return std::make_unique<IdealDac>(c); });

class CcoAdc final : public Adc {
public:
    CcoAdc(const ComponentConfig& c, const AdcDrawContext&)
        : bits_(static_cast<int>(c.integer("bits"))), levels_(std::ldexp(1.0, bits_ - 1) - 1),
          bound_(c.real("output_bound")), conversion_(c.real("conversion_time")),
          energy_(c.real("energy_per_conversion")) {}
    // Symmetric signed codes -L..L with L = 2^(bits-1) - 1 spanning [-bound, bound].
    void convert(float* y, std::size_t n, std::uint64_t) const override {
        for (std::size_t i = 0; i < n; ++i) {
            double q = std::nearbyint(y[i] / bound_ * levels_);
            y[i] = static_cast<float>(std::clamp(q, -levels_, levels_) * bound_ / levels_);
        }
    }
    void calibrate(float*, std::size_t) const override {}
    double conversion_time() const override { return conversion_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    int bits_;
    double levels_;
    double bound_;
    double conversion_;
    double energy_;
};

class IdealAdc final : public Adc {
public:
    IdealAdc(const ComponentConfig& c, const AdcDrawContext&)
        : bits_(static_cast<int>(c.integer("bits"))), conversion_(c.real("conversion_time")),
          energy_(c.real("energy_per_conversion")) {}
    void convert(float*, std::size_t, std::uint64_t) const override {}
    void calibrate(float*, std::size_t) const override {}
    double conversion_time() const override { return conversion_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    int bits_;
    double conversion_;
    double energy_;
};

std::vector<ParamDecl> adc_cost_params(const char* conversion_default) {
    return {ParamDecl::quantity("conversion_time", Dimension::Time, std::string(conversion_default), 0, 1e-3,
                                "time from the end of the integration window until the codes are latched"),
            ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                "energy per column per MVM")};
}

AIMC_REGISTER_KIND(AdcFactory,
                   KindDecl{"", "cco-adc",
                            "current-controlled-oscillator ADC: counts during integration, codes latched after "
                            "conversion_time; symmetric signed codes over [-output_bound, output_bound]",
                            with({ParamDecl::integer("bits", 8, 2, 16, "output resolution, sign included", "bits"),
                                  ParamDecl::real("output_bound", 10.0, 1e-6, 1e6,
                                                  "full-scale output, in units of full-scale input times full-scale "
                                                  "weight (AIHWKit out_bound)",
                                                  "normalized"),
                                  ParamDecl::quantity("time_per_lsb", Dimension::Time, std::string("300 ps"), 1e-15,
                                                      1e-6, "CCO time per LSB (documents the converter; the latency "
                                                            "is conversion_time)")},
                                 adc_cost_params("5 ns"))},
                   [](const ComponentConfig& c, const AdcDrawContext& d) { return std::make_unique<CcoAdc>(c, d); });

AIMC_REGISTER_KIND(AdcFactory,
                   KindDecl{"", "ideal-adc", "unquantized, unclipped output (for reference runs)",
                            with({ParamDecl::integer("bits", 8, 1, 32,
                                                     "word width of output vectors in buffers (no quantization)", "bits")},
                                 adc_cost_params("0 ns"))},
                   [](const ComponentConfig& c, const AdcDrawContext& d) { return std::make_unique<IdealAdc>(c, d); });

}  // namespace
}  // namespace aimc
