// Converter and crossbar numerics (plain C++, no kernel), bit-exact against hand calculations.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "models/core/core_numerics.hpp"
#include "models/crossbar/crossbar.hpp"
#include "models/nmpu/digital_unit.hpp"
#include "sim/config.hpp"
#include "sim/registry.hpp"

using namespace aimc;

TEST_CASE("numerics: 8-bit PWM DAC scales by abs-max and rounds to 127 levels per sign") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml");
    auto dac = Factory<Dac>::create(cfg.at("core.dac"));
    std::vector<float> x = {2.0f, -1.0f, 0.5f, 0.0f, -2.0f, 0.01f}, xn(x.size());
    double s = dac->encode(x.data(), x.size(), xn.data());
    CHECK(s == 2.0);
    CHECK(xn[0] == 1.0f);
    CHECK(xn[1] == static_cast<float>(-64.0 / 127));   // -63.5 rounds to even -64
    CHECK(xn[2] == static_cast<float>(32.0 / 127));    // 31.75 -> 32
    CHECK(xn[3] == 0.0f);
    CHECK(xn[4] == -1.0f);
    CHECK(xn[5] == static_cast<float>(1.0 / 127));     // 0.635 -> 1
    CHECK(dac->integration_time() == Approx(128e-9).epsilon(1e-12));
}

TEST_CASE("numerics: fixed input range clips instead of scaling") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.dac.input_scaling=fixed", "core.dac.input_range=1",
                                                            "core.dac.bits=4"});
    auto dac = Factory<Dac>::create(cfg.at("core.dac"));
    std::vector<float> x = {3.0f, -0.5f, 0.2f}, xn(3);
    CHECK(dac->encode(x.data(), 3, xn.data()) == 1.0);
    CHECK(xn[0] == 1.0f);                              // clipped
    CHECK(xn[1] == static_cast<float>(-4.0 / 7));      // 4 bits: 7 levels, -3.5 -> -4
    CHECK(xn[2] == static_cast<float>(1.0 / 7));       // 1.4 -> 1
    CHECK(dac->integration_time() == Approx(8e-9).epsilon(1e-12));
}

TEST_CASE("numerics: CCO ADC clips to the output bound and quantizes to symmetric codes") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml");
    auto adc = AdcFactory::create(cfg.at("core.adc"), AdcDrawContext{1, 0, 64});
    std::vector<float> y = {10.5f, -12.0f, 1.0f, 0.03f, -0.035f};
    adc->convert(y.data(), y.size(), 0);
    CHECK(y[0] == 10.0f);
    CHECK(y[1] == -10.0f);
    CHECK(y[2] == static_cast<float>(13 * 10.0 / 127));  // 12.7 -> 13
    CHECK(y[3] == 0.0f);                                  // 0.381 -> 0
    CHECK(y[4] == -0.0f);                                 // -0.44 -> 0
    std::vector<float> tie = {-0.04f};                     // -0.508 -> -1
    adc->convert(tie.data(), 1, 0);
    CHECK(tie[0] == static_cast<float>(-10.0 / 127));
}

TEST_CASE("numerics: ideal converters pass values through unchanged") {
    ChipConfig cfg = load_chip_config("configs/tiny-ideal.yaml");
    auto dac = Factory<Dac>::create(cfg.at("core.dac"));
    auto adc = AdcFactory::create(cfg.at("core.adc"), AdcDrawContext{1, 0, 64});
    std::vector<float> x = {0.3f, -0.7f}, xn(2);
    CHECK(dac->encode(x.data(), 2, xn.data()) == Approx(0.7f));
    CHECK(xn[0] == 0.3f / 0.7f);
    CHECK(xn[1] == -1.0f);
    std::vector<float> y = {123.456f, -1e-6f};
    adc->convert(y.data(), 2, 0);
    CHECK(y[0] == 123.456f);
    CHECK(y[1] == -1e-6f);
}

TEST_CASE("numerics: the PCM crossbar maps weights to a differential pair scaled by max |W|") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.crossbar.device.kind=ideal"});
    auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
    CHECK(xb->rows() == 64);
    CHECK(xb->cols() == 64);
    WeightTile t;
    t.rows = 2;
    t.cols = 3;
    t.w = {1.0f, -2.0f, 0.0f, 0.5f, 0.25f, -1.0f};
    xb->program(t, 0.0, DeviceStreams(1, 0));
    CHECK(xb->tile_rows() == 2);
    CHECK(xb->tile_cols() == 3);
    CHECK(xb->weight_scale() == 2.0);
    std::vector<float> x = {1.0f, -0.5f}, y(3);
    xb->mvm(x.data(), y.data(), Polarity::Difference, WeightState::AtInference, 0);
    // w_norm = W / 2
    CHECK(y[0] == Approx(0.5 - 0.125));
    CHECK(y[1] == Approx(-1.0 - 0.0625));
    CHECK(y[2] == Approx(0.25));
}

TEST_CASE("numerics: core MVM through ideal converters equals the float product") {
    ChipConfig cfg = load_chip_config("configs/tiny-ideal.yaml");
    CoreNumerics n(cfg.at("core"), NumericsContext{});
    WeightTile t;
    t.rows = 16;
    t.cols = 8;
    for (std::size_t i = 0; i < t.rows * t.cols; ++i) t.w.push_back(std::sin(0.37f * static_cast<float>(i)));
    n.program(t);
    std::vector<float> x(16), y(8);
    for (std::size_t i = 0; i < 16; ++i) x[i] = std::cos(0.11f * static_cast<float>(i)) * 3.0f;
    n.mvm(x.data(), y.data(), 0);
    for (std::size_t j = 0; j < 8; ++j) {
        double ref = 0;
        for (std::size_t i = 0; i < 16; ++i) ref += static_cast<double>(x[i]) * t.w[i * 8 + j];
        CHECK(y[j] == Approx(ref).margin(1e-5));
    }
}

TEST_CASE("numerics: the quantized core MVM error stays within the converters' resolution") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.crossbar.device.kind=ideal"});
    CoreNumerics n(cfg.at("core"), NumericsContext{});
    WeightTile t;
    t.rows = 64;
    t.cols = 4;
    for (std::size_t i = 0; i < t.rows * t.cols; ++i) t.w.push_back(0.1f * std::sin(0.37f * static_cast<float>(i)));
    n.program(t);
    std::vector<float> x(64), y(4);
    for (std::size_t i = 0; i < 64; ++i) x[i] = std::cos(0.11f * static_cast<float>(i));
    n.mvm(x.data(), y.data(), 0);
    const double w_max = n.crossbar().weight_scale();
    const double x_max = 1.0;
    for (std::size_t j = 0; j < 4; ++j) {
        double ref = 0;
        for (std::size_t i = 0; i < 64; ++i) ref += static_cast<double>(x[i]) * t.w[i * 4 + j];
        // Input LSB error: at most 64 rows x half an LSB; output: half an ADC LSB.
        const double bound = (64 * 0.5 / 127 + 0.5 * 10.0 / 127) * x_max * w_max;
        CHECK(std::fabs(y[j] - ref) <= bound);
    }
}

TEST_CASE("numerics: the float digital unit adds partial sums and bias then applies ReLU") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.digital.lanes=16", "core.digital.cycles_per_op=1",
                                                            "core.digital.pipeline_depth=2"});
    auto du = Factory<DigitalUnit>::create(cfg.at("core.digital"));
    std::vector<float> in = {1.0f, -2.0f, 0.5f}, add = {0.5f, 0.5f, -1.0f}, bias = {0.25f, 0.0f, 0.0f}, out(3);
    DigitalOp op;
    op.add = add.data();
    op.bias = bias.data();
    op.activation = Activation::Relu;
    du->apply(op, in.data(), out.data(), 3);
    CHECK(out == std::vector<float>{1.75f, 0.0f, 0.0f});
    // Stages: pass, add, bias, activation; each ceil(n/16) cycles at 1 cycle per op; depth 2.
    CHECK(op.stage_elements(3).size() == 4);
    CHECK(du->occupancy_cycles(op, 3) == 4);
    CHECK(du->latency_cycles(op, 3) == 6);
    CHECK(du->occupancy_cycles(DigitalOp{}, 64) == 4);
    CHECK(du->lane_ops(op, 33) == 4 * 33);
    DigitalOp two;
    two.add = add.data();
    CHECK(du->latency_cycles(two, 33) == 3 * 2 + 2);
}
