// DAC and ADC kinds: pwm-dac, bit-serial-dac, ideal-dac, cco-adc, ideal-adc. The equations are in
// models/converters/README.md.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/common/random.hpp"
#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

std::vector<ParamDecl> with(std::vector<ParamDecl> a, const std::vector<ParamDecl>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// out[i] = code(in[i] / scale) · gain / L with the codes of SymmetricCodes, for whole vectors:
// compiled for the widest vector unit (no operation here can fuse, so every clone rounds alike).
__attribute__((target_clones("avx512f", "avx2", "default"))) __attribute__((optimize("fp-contract=off")))
void quantize(const float* in, float* out, std::size_t n, double scale, double gain, double levels) {
    constexpr double kShift = 6755399441055744.0;  // 1.5 · 2^52, see SymmetricCodes::nearest
    for (std::size_t i = 0; i < n; ++i) {
        const double v = in[i] / scale * levels;
        const double c = std::clamp(std::copysign((std::fabs(v) + kShift) - kShift, v), -levels, levels);
        out[i] = static_cast<float>(c * gain / levels);
    }
}

// Symmetric signed codes -L..L with L = 2^(bits-1) - 1 (zero is a code and both signs reach the
// same magnitude), shared by the DACs and the ADC. Ties round to even (nearbyint in the default
// rounding mode), so the rounding has no bias towards either sign.
class SymmetricCodes {
public:
    // nearbyint (ties to even) for |v| < 2^51 without a library call, so conversion loops
    // vectorize: adding and removing 1.5 · 2^52 leaves the nearest integer in the default
    // rounding mode; done on the magnitude so that the sign (of zero too) is kept. Larger
    // magnitudes are clipped by code() anyway (L < 2^31).
    static double nearest(double v) {
        constexpr double kShift = 6755399441055744.0;  // 1.5 · 2^52
        return std::copysign((std::fabs(v) + kShift) - kShift, v);
    }
    explicit SymmetricCodes(int bits) : levels_(std::ldexp(1.0, bits - 1) - 1) {}
    // The code nearest to v·L, clipped to ±L; v is in units of full scale.
    double code(double v) const { return std::clamp(nearest(v * levels_), -levels_, levels_); }
    double levels() const { return levels_; }

private:
    double levels_;
};

// Abs-max input scaling (AIHWKit "noise management: abs_max") or a fixed input range; parsed once
// because encode() runs for every MVM.
class InputScaling {
public:
    explicit InputScaling(const ComponentConfig& c)
        : fixed_(c.text("input_scaling") == "fixed"), range_(c.real("input_range")) {}
    double operator()(const float* x, std::size_t n) const {
        if (fixed_) return range_;
        float m = 0.f;
        for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
        return m > 0.f ? m : 1.0;
    }

private:
    bool fixed_;
    double range_;
};

std::vector<ParamDecl> input_scaling_params() {
    return {
        ParamDecl::choice("input_scaling", std::string("abs-max"), {"abs-max", "fixed"},
                          "how inputs are scaled to the full drive range: by the vector's largest magnitude "
                          "(undone digitally after the ADC), or by a fixed input_range"),
        ParamDecl::real("input_range", 1.0, 1e-30, 1e30, "input magnitude mapped to full scale when input_scaling is fixed"),
    };
}

// pwm-dac and bit-serial-dac: the same quantized drive levels, delivered in one window (PWM) or in
// one window per magnitude bit (bit-serial); only the timing differs.
class QuantizedDac final : public Dac {
public:
    QuantizedDac(const ComponentConfig& c, int windows, double window_time)
        : scale_(c), bits_(static_cast<int>(c.integer("bits"))), codes_(bits_), windows_(windows),
          window_time_(window_time), energy_(c.real("energy_per_conversion")) {}

    double encode(const float* x, std::size_t n, float* xn) const override {
        const double s = scale_(x, n);
        quantize(x, xn, n, s, 1.0, codes_.levels());
        return s;
    }
    int windows() const override { return windows_; }
    double window_time() const override { return window_time_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    InputScaling scale_;
    int bits_;
    SymmetricCodes codes_;
    int windows_;
    double window_time_;
    double energy_;
};

class IdealDac final : public Dac {
public:
    explicit IdealDac(const ComponentConfig& c)
        : scale_(c), window_(c.real("window")), energy_(c.real("energy_per_conversion")),
          bits_(static_cast<int>(c.integer("bits"))) {}
    double encode(const float* x, std::size_t n, float* xn) const override {
        const double s = scale_(x, n);
        for (std::size_t i = 0; i < n; ++i) xn[i] = static_cast<float>(std::clamp(x[i] / s, -1.0, 1.0));
        return s;
    }
    int windows() const override { return 1; }
    double window_time() const override { return window_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    InputScaling scale_;
    double window_;
    double energy_;
    int bits_;
};

// The parameters pwm-dac and bit-serial-dac share, around each one's timing.
std::vector<ParamDecl> quantized_dac_params(ParamDecl timing) {
    return with({ParamDecl::integer("bits", 8, 2, 16, "input resolution, sign included", "bits"), std::move(timing),
                 ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                     "energy per row per integration window (driver and pulses)")},
                input_scaling_params());
}

int dac_bits(const ComponentConfig& c) { return static_cast<int>(c.integer("bits")); }

// A signed PWM input of b bits drives up to 2^(b-1) - 1 LSB pulses; the window is 2^(b-1) LSBs
// (128 ns at 8 bits and 1 ns/LSB, as in HERMES [KA22]).
AIMC_REGISTER_KIND(Factory<Dac>,
                   KindDecl{"", "pwm-dac",
                            "pulse-width-modulated signed input: quantize to 2^(bits-1)-1 levels per sign, "
                            "integrate for 2^(bits-1) LSB times in one window",
                            quantized_dac_params(ParamDecl::quantity("lsb_time", Dimension::Time, std::string("1 ns"),
                                                                     1e-15, 1e-3, "pulse duration of one input LSB"))},
                   [](const ComponentConfig& c) {
                       return std::make_unique<QuantizedDac>(c, 1, std::ldexp(c.real("lsb_time"), dac_bits(c) - 1));
                   });

// The sign is applied by the drive polarity, so a b-bit input needs b - 1 magnitude-bit windows.
AIMC_REGISTER_KIND(Factory<Dac>,
                   KindDecl{"", "bit-serial-dac",
                            "bit-serial signed input: quantized as pwm-dac, driven one magnitude bit per window "
                            "(bits-1 windows of bit_time, one ADC conversion each; numerics equal pwm-dac's in this "
                            "version, shift-and-add of per-bit partial sums is not modelled)",
                            quantized_dac_params(ParamDecl::quantity(
                                "bit_time", Dimension::Time, std::string("128 ns"), 1e-15, 1e-3,
                                "integration window of one input bit (assumed: as long as the 8-bit PWM window, so "
                                "that the same ADC sees the same full-scale charge per conversion)"))},
                   [](const ComponentConfig& c) {
                       return std::make_unique<QuantizedDac>(c, dac_bits(c) - 1, c.real("bit_time"));
                   });

AIMC_REGISTER_KIND(Factory<Dac>,
                   KindDecl{"", "ideal-dac", "unquantized input (for reference runs); timing from a fixed window",
                            with({ParamDecl::integer("bits", 8, 1, 32,
                                                     "word width of input vectors in buffers (no quantization)", "bits"),
                                  ParamDecl::quantity("window", Dimension::Time, std::string("128 ns"), 1e-15, 1e-3,
                                                      "integration window of one MVM phase"),
                                  ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"),
                                                      0, 1e-6, "energy per row per integration window")},
                                 input_scaling_params())},
                   [](const ComponentConfig& c) { return std::make_unique<IdealDac>(c); });

// Per-column gain and offset of an ADC bank, drawn once when the chip is built.
struct ColumnMismatch {
    std::vector<double> gain, offset;  // empty: no mismatch

    ColumnMismatch(const ComponentConfig& c, const AdcDrawContext& d, double bound) {
        const double gain_std = c.real("gain_mismatch"), offset_std = c.real("offset_mismatch") * bound;
        if (gain_std == 0 && offset_std == 0) return;
        const CounterRng rng(d.seed, d.core, RandomPurpose::AdcMismatch);
        gain.resize(d.columns);
        offset.resize(d.columns);
        for (std::size_t j = 0; j < d.columns; ++j) {
            gain[j] = 1.0 + gain_std * rng.normal(0, j);
            offset[j] = offset_std * rng.normal(1, j);
            // A column gain at or below zero would invert or null its outputs: no calibration undoes that.
            if (gain[j] <= 0)
                throw InputError(c.params.value("gain_mismatch").where + ": " + c.path + ".gain_mismatch: " +
                                 c.params.value("gain_mismatch").text + " drew a non-positive gain for column " +
                                 std::to_string(j) + " of core " + std::to_string(d.core) + "; use a smaller spread");
        }
    }
    bool empty() const { return gain.empty(); }
};

class CcoAdc final : public Adc {
public:
    CcoAdc(const ComponentConfig& c, const AdcDrawContext& d)
        : bits_(static_cast<int>(c.integer("bits"))), codes_(bits_), bound_(c.real("output_bound")),
          noise_std_(c.real("output_noise")), noise_(d.seed, d.core, RandomPurpose::AdcOutputNoise),
          s_(c.real("nonlinearity")), tanh_s_(std::tanh(s_)), mismatch_(c, d, bound_),
          calibrated_(c.boolean("calibrated")),
          per_lsb_(c.text("conversion") == "per-lsb"),
          conversion_(per_lsb_ ? std::ldexp(c.real("time_per_lsb"), bits_) : c.real("conversion_time")),
          energy_(c.real("energy_per_conversion")) {}

    // Order as in the AIHWKit forward pass, mismatch added: nonlinearity, noise, gain/offset, then
    // clip and quantize (one step: the clip is on the codes, as ±bound maps to ±L exactly).
    void convert(float* y, std::size_t n, std::uint64_t event) const override {
        AIMC_ASSERT(mismatch_.empty() || n <= mismatch_.gain.size(), "ADC bank narrower than the converted vector");
        if (s_ == 0 && noise_std_ == 0 && mismatch_.empty()) {
            // The common case (no nonlinearity, noise or mismatch): clip and quantize only.
            quantize(y, y, n, bound_, bound_, codes_.levels());
            return;
        }
        NormalSequence noise(noise_, event);
        for (std::size_t i = 0; i < n; ++i) {
            double v = y[i];
            // The nonlinearity acts on the signal, the noise comes after it (AIHWKit's order).
            // t/t is exactly 1, so ±bound maps to ±bound exactly; s = 0 is the linear limit.
            if (s_ > 0) v = bound_ * (std::tanh(s_ * v / bound_) / tanh_s_);
            if (noise_std_ > 0) v += noise_std_ * noise(i);
            if (!mismatch_.empty()) v = mismatch_.gain[i] * v + mismatch_.offset[i];
            y[i] = static_cast<float>(codes_.code(v / bound_) * bound_ / codes_.levels());
        }
    }
    // The digital unit knows each column's gain and offset from a calibration step.
    void calibrate(float* y, std::size_t n) const override {
        if (!calibrated_ || mismatch_.empty()) return;
        for (std::size_t i = 0; i < n; ++i)
            y[i] = static_cast<float>((y[i] - mismatch_.offset[i]) / mismatch_.gain[i]);
    }
    double conversion_time() const override { return conversion_; }
    bool converts_after_each_window() const override { return per_lsb_; }
    double energy_per_conversion() const override { return energy_; }
    int bits() const override { return bits_; }

private:
    int bits_;
    SymmetricCodes codes_;
    double bound_;
    double noise_std_;
    CounterRng noise_;
    double s_, tanh_s_;
    ColumnMismatch mismatch_;
    bool calibrated_;
    bool per_lsb_;
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

std::vector<ParamDecl> adc_cost_params(const char* conversion_default, const char* conversion_meaning) {
    return {ParamDecl::quantity("conversion_time", Dimension::Time, std::string(conversion_default), 0, 1e-3,
                                conversion_meaning),
            ParamDecl::quantity("energy_per_conversion", Dimension::Energy, std::string("0 pJ"), 0, 1e-6,
                                "energy per column per conversion (one per integration window)")};
}

AIMC_REGISTER_KIND(
    AdcFactory,
    KindDecl{"", "cco-adc",
             "current-controlled-oscillator ADC: output noise, S-shaped nonlinearity, column gain/offset mismatch, "
             "clip to [-output_bound, output_bound], symmetric signed codes; latency fixed or counted per LSB",
             with({ParamDecl::integer("bits", 8, 2, 16, "output resolution, sign included", "bits"),
                   ParamDecl::real("output_bound", 10.0, 1e-6, 1e6,
                                   "full-scale output, in units of full-scale input times full-scale weight "
                                   "(AIHWKit out_bound)",
                                   "normalized"),
                   ParamDecl::real("output_noise", 0.0, 0, 1e6,
                                   "std of the Gaussian noise added to each output before conversion, fresh per "
                                   "conversion; in normalized output units, the units of output_bound, not a fraction "
                                   "of it (as AIHWKit out_noise: 0.04 with output_bound 10 in the hardware-aware "
                                   "preset [RA23])",
                                   "normalized"),
                   ParamDecl::real("nonlinearity", 0.0, 0, 10,
                                   "S-shape s of the transfer y' = B*tanh(s*y/B)/tanh(s), B = output_bound "
                                   "(0: linear)"),
                   ParamDecl::real("gain_mismatch", 0.0, 0, 1,
                                   "std of the per-column gain g = 1 + gain_mismatch*N(0,1), drawn once per chip"),
                   ParamDecl::real("offset_mismatch", 0.0, 0, 1,
                                   "std of the per-column offset, as a fraction of output_bound, drawn once per chip",
                                   "output_bound"),
                   ParamDecl::boolean("calibrated", true,
                                      "the digital unit undoes each column's gain and offset after the ADC, "
                                      "y = (code value - offset)/gain (it knows them from a calibration step)"),
                   ParamDecl::choice("conversion", std::string("fixed"), {"fixed", "per-lsb"},
                                     "how the latency is set: conversion_time (fixed: the CCO counts during "
                                     "integration, as in HERMES [KA22]) or 2^bits*time_per_lsb (per-lsb: the CCO "
                                     "counts a full range after integration)"),
                   ParamDecl::quantity("time_per_lsb", Dimension::Time, std::string("300 ps"), 1e-15, 1e-6,
                                       "CCO time per LSB; sets the latency when conversion is per-lsb")},
                  adc_cost_params("5 ns", "time from the end of the integration window until the codes are "
                                          "latched, when conversion is fixed"))},
    [](const ComponentConfig& c, const AdcDrawContext& d) { return std::make_unique<CcoAdc>(c, d); });

AIMC_REGISTER_KIND(AdcFactory,
                   KindDecl{"", "ideal-adc", "unquantized, unclipped output (for reference runs)",
                            with({ParamDecl::integer("bits", 8, 1, 32,
                                                     "word width of output vectors in buffers (no quantization)", "bits")},
                                 adc_cost_params("0 ns", "time from the end of the integration window until the "
                                                         "codes are latched"))},
                   [](const ComponentConfig& c, const AdcDrawContext& d) { return std::make_unique<IdealAdc>(c, d); });

}  // namespace
}  // namespace aimc
