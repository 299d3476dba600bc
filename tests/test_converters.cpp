// Converter kinds (models/converters): exact quantization edges, the ADC's noise, nonlinearity,
// column mismatch and calibration, and the timing of the conversion and input modes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "models/common/random.hpp"
#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"

using namespace aimc;

namespace {

// The configs outlive the converters built from them.
struct Adc1 {
    ChipConfig cfg;
    std::unique_ptr<Adc> adc;
    Adc1(const std::vector<std::string>& overrides, AdcDrawContext d = {1, 0, 64})
        : cfg(load_chip_config("configs/tiny.yaml", overrides)), adc(AdcFactory::create(cfg.at("core.adc"), d)) {}
};

struct Dac1 {
    ChipConfig cfg;
    std::unique_ptr<Dac> dac;
    explicit Dac1(const std::vector<std::string>& overrides)
        : cfg(load_chip_config("configs/tiny.yaml", overrides)), dac(Factory<Dac>::create(cfg.at("core.dac"))) {}
    std::vector<float> encode(const std::vector<float>& x, double* scale = nullptr) const {
        std::vector<float> xn(x.size());
        const double s = dac->encode(x.data(), x.size(), xn.data());
        if (scale) *scale = s;
        return xn;
    }
};

std::vector<float> converted(const Adc& adc, std::vector<float> y, std::uint64_t event = 0) {
    adc.convert(y.data(), y.size(), event);
    return y;
}

// Today's (pre-noise) cco-adc and pwm-dac, written out: the reference for "all new effects off".
float reference_adc(double y, double bound, double levels) {
    const double q = std::nearbyint(y / bound * levels);
    return static_cast<float>(std::clamp(q, -levels, levels) * bound / levels);
}

std::vector<float> sweep(float lo, float hi, int n) {
    std::vector<float> v;
    for (int i = 0; i < n; ++i) v.push_back(lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1));
    return v;
}

double mean_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

double std_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

TEST_CASE("converters: cco-adc with every new effect off equals the plain quantizer") {
    const std::vector<float> y = sweep(-13.f, 13.f, 20001);
    const std::vector<std::vector<std::string>> same = {
        {},
        {"core.adc.output_noise=0", "core.adc.nonlinearity=0", "core.adc.gain_mismatch=0",
         "core.adc.offset_mismatch=0", "core.adc.calibrated=false", "core.adc.conversion=fixed"}};
    for (const auto& o : same) {
        Adc1 a(o, {7, 3, 64});
        std::vector<float> got = y;
        for (std::size_t k = 0; k < got.size(); k += 64) {
            const std::size_t n = std::min<std::size_t>(64, got.size() - k);
            a.adc->convert(got.data() + k, n, k);
            a.adc->calibrate(got.data() + k, n);
        }
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(got[i] == reference_adc(y[i], 10.0, 127.0));
        CHECK(a.adc->conversion_time() == 5e-9);
    }
}

TEST_CASE("converters: pwm-dac output is unchanged by the shared quantizer") {
    Dac1 d({});
    std::vector<float> x = sweep(-3.f, 2.f, 4001);
    double s = 0;
    std::vector<float> xn = d.encode(x, &s);
    CHECK(s == 3.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double q = std::clamp(std::nearbyint(x[i] / s * 127.0), -127.0, 127.0);
        REQUIRE(xn[i] == static_cast<float>(q / 127.0));
    }
    CHECK(d.dac->windows() == 1);
    CHECK(d.dac->window_time() == Approx(128e-9).epsilon(1e-12));
}

TEST_CASE("converters: DAC quantization edges zero max clipping and ties to even") {
    // 4 bits: 7 levels per sign. With input_range = 7 the code of x is x itself ((k/7)·7 == k
    // exactly in double for these k), so the ties are exact.
    Dac1 d({"core.dac.bits=4", "core.dac.input_scaling=fixed", "core.dac.input_range=7"});
    std::vector<float> x = {0.f, 7.f, -7.f, 9.f, -100.f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 3.5f, 6.5f, -6.5f, 6.49f};
    std::vector<float> want;
    for (double code : {0, 7, -7, 7, -7, 0, 0, 2, 2, -2, 4, 6, -6, 6}) want.push_back(static_cast<float>(code / 7));
    CHECK(d.encode(x) == want);
    CHECK(std::signbit(d.encode({-0.5f})[0]));  // -0.5 rounds to -0, harmless to the crossbar
    // Abs-max scaling: the largest magnitude is exactly ±1.
    Dac1 m({});
    const float lo = -0.3f, hi = 0.2f;
    CHECK(m.encode({lo, hi}) == std::vector<float>{-1.f, static_cast<float>(std::nearbyint(hi / 0.3 * 127) / 127)});
    CHECK(m.encode({0.f, 0.f}) == std::vector<float>{0.f, 0.f});
}

TEST_CASE("converters: ADC quantization edges zero bound clipping and ties to even") {
    Adc1 a({"core.adc.bits=4", "core.adc.output_bound=7"});
    std::vector<float> y = {0.f, 7.f, -7.f, 7.4f, -1e6f, 0.5f, 1.5f, 2.5f, -2.5f, 3.5f, 4.5f, 6.5f, -6.5f};
    CHECK(converted(*a.adc, y) == std::vector<float>{0, 7, -7, 7, -7, 0, 2, 2, -2, 4, 4, 6, -6});
    // The HERMES bound: ±bound converts to exactly ±bound.
    Adc1 h({});
    CHECK(converted(*h.adc, {10.f, -10.f, 10.0001f}) == std::vector<float>{10.f, -10.f, 10.f});
}

TEST_CASE("converters: output noise has zero mean and the configured std") {
    // 16 bits: the LSB (3e-4) is far below the noise, so quantization barely changes the statistics.
    Adc1 a({"core.adc.bits=16", "core.adc.output_noise=0.1"}, {1, 0, 1000});
    const float y0 = 1.0f;
    std::vector<double> err;
    for (std::uint64_t event = 0; event < 100; ++event)
        for (float v : converted(*a.adc, std::vector<float>(1000, y0), event)) err.push_back(v - y0);
    REQUIRE(err.size() == 100000);
    CHECK(std::fabs(mean_of(err)) < 5 * 0.1 / std::sqrt(1e5));
    CHECK(std_of(err) == Approx(0.1).epsilon(0.02));
}

TEST_CASE("converters: output noise is keyed by seed core event and column") {
    const std::vector<float> y(256, 0.5f);
    auto run = [&](std::uint64_t seed, std::uint64_t core, std::uint64_t event) {
        Adc1 a({"core.adc.bits=16", "core.adc.output_noise=0.05"}, {seed, core, 256});
        return converted(*a.adc, y, event);
    };
    const auto base = run(1, 2, 3);
    CHECK(run(1, 2, 3) == base);
    CHECK(run(1, 2, 4) != base);
    CHECK(run(1, 3, 3) != base);
    CHECK(run(2, 2, 3) != base);
    CHECK(std::set<float>(base.begin(), base.end()).size() > y.size() / 2);  // each column draws its own
    // The draw is value `column` of NormalSequence(CounterRng(seed, core, AdcOutputNoise), event),
    // scaled by output_noise.
    const CounterRng rng(1, 2, RandomPurpose::AdcOutputNoise);
    NormalSequence draws(rng, 3);
    for (std::size_t j = 0; j < y.size(); ++j)
        REQUIRE(base[j] == reference_adc(static_cast<float>(0.5 + 0.05 * draws(j)), 10.0, 32767.0));
}

TEST_CASE("converters: column mismatch is drawn per column with the configured spread") {
    const std::size_t cols = 4096;
    Adc1 a({"core.adc.bits=16", "core.adc.gain_mismatch=0.05", "core.adc.offset_mismatch=0.01"}, {5, 1, cols});
    const std::vector<float> at0 = converted(*a.adc, std::vector<float>(cols, 0.f));
    const std::vector<float> at5 = converted(*a.adc, std::vector<float>(cols, 5.f));
    std::vector<double> gain, offset;
    for (std::size_t j = 0; j < cols; ++j) {
        offset.push_back(at0[j]);
        gain.push_back((at5[j] - at0[j]) / 5.0);
    }
    CHECK(std::fabs(mean_of(gain) - 1.0) < 5 * 0.05 / std::sqrt(double(cols)));
    CHECK(std::fabs(mean_of(offset)) < 5 * 0.1 / std::sqrt(double(cols)));
    CHECK(std_of(gain) == Approx(0.05).epsilon(0.05));
    CHECK(std_of(offset) == Approx(0.01 * 10).epsilon(0.05));
    // Drawn once, from CounterRng(seed, core, AdcMismatch): event 0 gain, event 1 offset.
    const CounterRng rng(5, 1, RandomPurpose::AdcMismatch);
    const double lsb = 10.0 / 32767;
    for (std::size_t j = 0; j < cols; ++j) {
        const double tol = 0.5 * lsb + 1e-6;  // half an LSB, and the output's float rounding
        REQUIRE(std::fabs(at0[j] - 0.1 * rng.normal(1, j)) <= tol);
        REQUIRE(std::fabs(at5[j] - ((1 + 0.05 * rng.normal(0, j)) * 5 + 0.1 * rng.normal(1, j))) <= tol);
    }
    CHECK(converted(*a.adc, std::vector<float>(cols, 0.f)) == at0);  // fixed, not redrawn per conversion
}

TEST_CASE("converters: calibration undoes the column mismatch up to quantization") {
    const std::size_t cols = 512;
    const std::vector<std::string> mismatch = {"core.adc.bits=16", "core.adc.gain_mismatch=0.05",
                                               "core.adc.offset_mismatch=0.02"};
    Adc1 a(mismatch, {3, 0, cols});
    std::vector<float> y = sweep(-6.f, 6.f, cols), out = y;
    a.adc->convert(out.data(), cols, 0);
    std::vector<float> raw = out;
    a.adc->calibrate(out.data(), cols);
    const CounterRng rng(3, 0, RandomPurpose::AdcMismatch);
    const double lsb = 10.0 / 32767;
    double worst_raw = 0;
    for (std::size_t j = 0; j < cols; ++j) {
        const double g = 1 + 0.05 * rng.normal(0, j);
        REQUIRE(std::fabs(out[j] - y[j]) <= 0.5 * lsb / g + 2e-6);  // + float rounding
        worst_raw = std::max(worst_raw, std::fabs(double(raw[j]) - y[j]));
    }
    CHECK(worst_raw > 100 * lsb);  // the mismatch itself is far above the quantization
    // Uncalibrated: calibrate() leaves the converted values as they are.
    std::vector<std::string> off = mismatch;
    off.push_back("core.adc.calibrated=false");
    Adc1 u(off, {3, 0, cols});
    std::vector<float> v = converted(*u.adc, y);
    CHECK(v == raw);
    u.adc->calibrate(v.data(), cols);
    CHECK(v == raw);
}

TEST_CASE("converters: a mismatch spread that draws a non-positive gain is an input error") {
    // With a spread of 1 about one column in six draws g <= 0.
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.adc.gain_mismatch=1"});
    try {
        AdcFactory::create(cfg.at("core.adc"), AdcDrawContext{1, 0, 64});
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()).find("core.adc.gain_mismatch: 1 drew a non-positive gain for column ") !=
              std::string::npos);
    }
}

TEST_CASE("converters: the S-shaped nonlinearity keeps zero and the bound and is odd") {
    Adc1 nl({"core.adc.bits=16", "core.adc.nonlinearity=2"});
    Adc1 lin({"core.adc.bits=16", "core.adc.nonlinearity=0"});
    Adc1 plain({"core.adc.bits=16"});
    CHECK(converted(*nl.adc, {0.f, 10.f, -10.f}) == std::vector<float>{0.f, 10.f, -10.f});
    const double lsb = 10.0 / 32767;
    CHECK(converted(*nl.adc, {5.f})[0] == Approx(10 * std::tanh(1.0) / std::tanh(2.0)).margin(0.5 * lsb));
    const std::vector<float> y = sweep(0.f, 12.f, 1201);
    std::vector<float> neg;
    for (float v : y) neg.push_back(-v);
    const std::vector<float> pos_out = converted(*nl.adc, y), neg_out = converted(*nl.adc, neg);
    for (std::size_t i = 0; i < y.size(); ++i) {
        REQUIRE(neg_out[i] == -pos_out[i]);
        if (y[i] > 0 && y[i] < 10) REQUIRE(pos_out[i] >= y[i] - 0.5 * lsb);  // concave: above the line
    }
    // s = 0 is exactly the linear converter; a tiny s tends to it.
    const std::vector<float> wide = sweep(-12.f, 12.f, 2401);
    CHECK(converted(*lin.adc, wide) == converted(*plain.adc, wide));
    Adc1 tiny({"core.adc.bits=16", "core.adc.nonlinearity=1e-6"});
    const std::vector<float> a = converted(*tiny.adc, wide), b = converted(*plain.adc, wide);
    for (std::size_t i = 0; i < wide.size(); ++i) REQUIRE(std::fabs(a[i] - b[i]) <= lsb * (1 + 1e-6));
}

TEST_CASE("converters: cco-adc applies nonlinearity then noise then mismatch then clipping") {
    const std::size_t cols = 256;
    Adc1 a({"core.adc.bits=12", "core.adc.output_noise=0.3", "core.adc.nonlinearity=1.5",
            "core.adc.gain_mismatch=0.1", "core.adc.offset_mismatch=0.05", "core.adc.calibrated=false"},
           {9, 2, cols});
    const std::vector<float> y = sweep(-11.f, 11.f, cols);
    const std::vector<float> got = converted(*a.adc, y, 17);
    const CounterRng noise(9, 2, RandomPurpose::AdcOutputNoise), mm(9, 2, RandomPurpose::AdcMismatch);
    const double B = 10, s = 1.5, L = 2047;
    int clipped = 0;
    NormalSequence draws(noise, 17);
    for (std::size_t j = 0; j < cols; ++j) {
        double v = B * (std::tanh(s * y[j] / B) / std::tanh(s));
        v += 0.3 * draws(j);
        v = (1 + 0.1 * mm.normal(0, j)) * v + 0.05 * B * mm.normal(1, j);
        clipped += std::fabs(v) > B;
        const double code = std::clamp(std::nearbyint(v / B * L), -L, L);
        REQUIRE(got[j] == static_cast<float>(code * B / L));
    }
    CHECK(clipped > 0);
}

TEST_CASE("converters: conversion latency is fixed or counted per LSB") {
    Adc1 fixed({});
    CHECK(fixed.adc->conversion_time() == 5e-9);
    Adc1 per({"core.adc.conversion=per-lsb"});
    CHECK(per.adc->conversion_time() == Approx(256 * 300e-12).epsilon(1e-12));
    Adc1 per6({"core.adc.conversion=per-lsb", "core.adc.bits=6", "core.adc.time_per_lsb=1 ns"});
    CHECK(per6.adc->conversion_time() == Approx(64e-9).epsilon(1e-12));
}

TEST_CASE("converters: bit-serial-dac drives bits-1 windows and encodes as pwm-dac") {
    Dac1 bs({"core.dac.kind=bit-serial-dac"});
    CHECK(bs.dac->bits() == 8);
    CHECK(bs.dac->windows() == 7);
    CHECK(bs.dac->window_time() == Approx(128e-9).epsilon(1e-12));
    CHECK(bs.dac->integration_time() == Approx(7 * 128e-9).epsilon(1e-12));
    CHECK(bs.dac->energy_per_conversion() == 0.0);

    Dac1 bs4({"core.dac.kind=bit-serial-dac", "core.dac.bits=4", "core.dac.bit_time=2 ns",
              "core.dac.energy_per_conversion=0.5 pJ"});
    CHECK(bs4.dac->windows() == 3);
    CHECK(bs4.dac->integration_time() == Approx(6e-9).epsilon(1e-12));
    CHECK(bs4.dac->energy_per_conversion() == Approx(0.5e-12).epsilon(1e-12));

    std::vector<float> x = sweep(-2.f, 1.3f, 999);
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {}, {"core.dac.bits=5"}, {"core.dac.input_scaling=fixed", "core.dac.input_range=0.7"}}) {
        std::vector<std::string> b = {"core.dac.kind=bit-serial-dac"}, p = {"core.dac.kind=pwm-dac"};
        b.insert(b.end(), extra.begin(), extra.end());
        p.insert(p.end(), extra.begin(), extra.end());
        double sb = 0, sp = 0;
        CHECK(Dac1(b).encode(x, &sb) == Dac1(p).encode(x, &sp));
        CHECK(sb == sp);
    }
}
