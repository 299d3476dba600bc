// Digital units (models/nmpu): stage order and numerics of float, fp16-ldpu and fixed-point-nmpu
// against references written here independently (plain double, per-stage round_fp16, plain
// integer arithmetic), format validation, the lane timing model, the nmpu trace attributes and
// timed runs through a trace (one simulate per test case).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/nmpu/digital_unit.hpp"
#include "models/nmpu/fp16.hpp"
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/npy.hpp"
#include "sim/registry.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"
#include "support/temp_dir.hpp"

using namespace aimc;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::unique_ptr<DigitalUnit> make_unit(std::vector<std::string> sets) {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", sets);
    return Factory<DigitalUnit>::create(cfg.at("core.digital"));
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no InputError)";
}

// All operands of one nmpu operation; empty vectors are absent stages.
struct Operands {
    std::vector<float> in, add, scale, offset, bias, residual;
    Activation act = Activation::None;
    float act_param = 0;
    Pooling pool = Pooling::None;
    std::size_t k = 1;

    DigitalOp op() const {
        DigitalOp d;
        auto ptr = [](const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
        d.add = ptr(add);
        d.scale = ptr(scale);
        d.offset = ptr(offset);
        d.bias = ptr(bias);
        d.residual = ptr(residual);
        d.activation = act;
        d.activation_param = act_param;
        d.pooling = pool;
        d.pool_window = k;
        return d;
    }
};

std::vector<float> apply(const DigitalUnit& u, const Operands& o) {
    const DigitalOp d = o.op();
    std::vector<float> out(d.output_size(o.in.size()), -12345.f);
    u.apply(d, o.in.data(), out.data(), o.in.size());
    return out;
}

// n values m / 2^grid_bits with m uniform in [lo, hi] (exact dyadic rationals).
std::vector<float> grid_values(std::mt19937& g, std::size_t n, double lo, double hi, int grid_bits) {
    const double q = std::ldexp(1.0, grid_bits);
    std::uniform_int_distribution<long long> d(static_cast<long long>(std::ceil(lo * q)),
                                               static_cast<long long>(std::floor(hi * q)));
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(static_cast<double>(d(g)) / q);
    return v;
}

// ---------------------------------------------------------------------------------------------
// Float reference: plain double arithmetic, stage by stage, on exact dyadic data (every
// intermediate is exact in float, so double and float agree bit for bit).
std::vector<double> float_reference(const Operands& o) {
    const std::size_t n = o.in.size();
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        double v = o.in[i];
        if (!o.add.empty()) v = v + o.add[i];
        if (!o.scale.empty() || !o.offset.empty())
            v = (o.scale.empty() ? 1.0 : o.scale[i]) * v + (o.offset.empty() ? 0.0 : o.offset[i]);
        if (!o.bias.empty()) v = v + o.bias[i];
        if (o.act == Activation::Relu) v = v > 0 ? v : 0;
        if (o.act == Activation::Clipped) v = v < 0 ? 0 : v > o.act_param ? o.act_param : v;
        if (o.act == Activation::Leaky) v = v < 0 ? v * o.act_param : v;
        if (!o.residual.empty()) v = v + o.residual[i];
        y[i] = v;
    }
    if (o.pool == Pooling::None) return y;
    std::vector<double> p(n / o.k);
    for (std::size_t w = 0; w < n / o.k; ++w) {
        double m = y[w * o.k], s = 0;
        for (std::size_t j = 0; j < o.k; ++j) {
            m = std::max(m, y[w * o.k + j]);
            s += y[w * o.k + j];
        }
        p[w] = o.pool == Pooling::Max ? m : s / static_cast<double>(o.k);
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
// FP16 reference: every stage's result is round_fp16 of the float computation of that stage
// from fp16-rounded operands. The affine step is checked against the correctly rounded binary16
// fma (fp16_fma) too, which is what the unit computes.
std::vector<float> fp16_reference(const Operands& o, bool* fma_ambiguous) {
    const auto r = [](float v) { return round_fp16(v); };
    const std::size_t n = o.in.size();
    std::vector<float> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        float v = r(o.in[i]);
        if (!o.add.empty()) v = r(v + r(o.add[i]));
        if (!o.scale.empty() || !o.offset.empty()) {
            const float s = o.scale.empty() ? 1.f : r(o.scale[i]), c = o.offset.empty() ? 0.f : r(o.offset[i]);
            const float via_float = r(std::fma(s, v, c));
            const float ieee = from_fp16_bits(fp16_fma(to_fp16_bits(s), to_fp16_bits(v), to_fp16_bits(c)));
            if (!(via_float == ieee || (std::isnan(via_float) && std::isnan(ieee)))) *fma_ambiguous = true;
            v = ieee;
        }
        if (!o.bias.empty()) v = r(v + r(o.bias[i]));
        if (o.act == Activation::Relu) v = v > 0 ? v : 0.f;
        if (o.act == Activation::Clipped) v = v < 0 ? 0.f : (v > r(o.act_param) ? r(o.act_param) : v);
        if (o.act == Activation::Leaky && v < 0) v = r(v * r(o.act_param));
        if (!o.residual.empty()) v = r(v + r(o.residual[i]));
        y[i] = v;
    }
    if (o.pool == Pooling::None) return y;
    std::vector<float> p(n / o.k);
    for (std::size_t w = 0; w < n / o.k; ++w) {
        float m = y[w * o.k], s = 0;
        for (std::size_t j = 0; j < o.k; ++j) {
            m = std::max(m, y[w * o.k + j]);
            s = r(s + y[w * o.k + j]);  // accumulated in fp16, one rounding per addition
        }
        p[w] = o.pool == Pooling::Max ? m : r(s / static_cast<float>(o.k));
    }
    return p;
}

bool same_float(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// ---------------------------------------------------------------------------------------------
// Fixed-point reference in plain int64 arithmetic. A format Qi.f; raw values; every stage forms
// its exact result as num·2^-frac and rounds it once into the target format.
enum class Rm { Even, Up, Trunc };
struct Fmt {
    int i, f;
    int width() const { return i + f; }
    std::int64_t max() const { return (std::int64_t(1) << (width() - 1)) - 1; }
    std::int64_t min() const { return -max() - 1; }
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {  // b > 0
    std::int64_t q = a / b;
    if (a % b != 0 && a < 0) --q;
    return q;
}

// num / den rounded to an integer (den > 0).
std::int64_t round_div(std::int64_t num, std::int64_t den, Rm r) {
    const std::int64_t q = floor_div(num, den), rem = num - q * den;  // 0 <= rem < den
    switch (r) {
        case Rm::Trunc: return q;
        case Rm::Up: return 2 * rem >= den ? q + 1 : q;
        case Rm::Even: return 2 * rem > den || (2 * rem == den && (q & 1)) ? q + 1 : q;
    }
    return q;
}

std::int64_t overflow(std::int64_t q, Fmt out, bool wrap, bool* ovf = nullptr) {
    const bool over = q < out.min() || q > out.max();
    if (ovf) *ovf = over;
    if (!over) return q;
    if (!wrap) return q < out.min() ? out.min() : out.max();
    const std::int64_t m = std::int64_t(1) << out.width();
    return ((q - out.min()) % m + m) % m + out.min();
}

// num·2^-frac rounded into `out`.
std::int64_t requant(std::int64_t num, int frac, Fmt out, Rm r, bool wrap, bool* ovf = nullptr) {
    const std::int64_t q = frac >= out.f ? round_div(num, std::int64_t(1) << (frac - out.f), r)
                                         : num * (std::int64_t(1) << (out.f - frac));
    return overflow(q, out, wrap, ovf);
}

constexpr int kGrid = 12;  // all test data are multiples of 2^-12
std::int64_t grid_raw(float v) {
    const double m = std::ldexp(static_cast<double>(v), kGrid);
    REQUIRE(m == std::floor(m));
    return static_cast<std::int64_t>(m);
}

struct FixedSetup {
    Fmt in, scale, offset, acc, out;
    Rm rounding;
    bool wrap;
};

// A constant operand: rounded with the unit's rounding, must fit (the unit throws otherwise).
std::int64_t param(float v, Fmt f, Rm r) {
    bool ovf = false;
    const std::int64_t raw = requant(grid_raw(v), kGrid, f, r, false, &ovf);
    REQUIRE_FALSE(ovf);
    return raw;
}

// Exact a·2^-fa + b·2^-fb into `out`.
std::int64_t add_into(std::int64_t a, int fa, std::int64_t b, int fb, Fmt out, Rm r, bool wrap) {
    const int f = std::max(fa, fb);
    return requant(a * (std::int64_t(1) << (f - fa)) + b * (std::int64_t(1) << (f - fb)), f, out, r, wrap);
}

// Output raws (in the output format).
std::vector<std::int64_t> fixed_reference(const Operands& o, const FixedSetup& s) {
    const Rm r = s.rounding;
    const bool w = s.wrap;
    const std::size_t n = o.in.size();
    std::vector<std::int64_t> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t x = requant(grid_raw(o.in[i]), kGrid, s.in, r, w);
        std::int64_t acc = o.add.empty()
                               ? requant(x, s.in.f, s.acc, r, w)
                               : add_into(x, s.in.f, requant(grid_raw(o.add[i]), kGrid, s.in, r, w), s.in.f, s.acc, r, w);
        if (!o.scale.empty() || !o.offset.empty()) {
            const std::int64_t off = o.offset.empty() ? 0 : param(o.offset[i], s.offset, r);
            if (o.scale.empty()) {
                acc = add_into(acc, s.acc.f, off, s.offset.f, s.acc, r, w);  // y + o
            } else {
                const std::int64_t sc = param(o.scale[i], s.scale, r);
                acc = add_into(sc * acc, s.scale.f + s.acc.f, off, s.offset.f, s.acc, r, w);
            }
        }
        if (!o.bias.empty()) acc = add_into(acc, s.acc.f, param(o.bias[i], s.offset, r), s.offset.f, s.acc, r, w);
        if (o.act == Activation::Relu) acc = std::max<std::int64_t>(acc, 0);
        if (o.act == Activation::Clipped) acc = std::clamp<std::int64_t>(acc, 0, param(o.act_param, s.acc, r));
        if (o.act == Activation::Leaky && acc < 0)
            acc = requant(acc * param(o.act_param, s.scale, r), s.acc.f + s.scale.f, s.acc, r, w);
        if (!o.residual.empty())
            acc = add_into(acc, s.acc.f, requant(grid_raw(o.residual[i]), kGrid, s.in, r, w), s.in.f, s.acc, r, w);
        y[i] = requant(acc, s.acc.f, s.out, r, w);
    }
    if (o.pool == Pooling::None) return y;
    std::vector<std::int64_t> p(n / o.k);
    for (std::size_t wi = 0; wi < n / o.k; ++wi) {
        std::int64_t m = y[wi * o.k], sum = 0;
        for (std::size_t j = 0; j < o.k; ++j) {
            m = std::max(m, y[wi * o.k + j]);
            sum += y[wi * o.k + j];
        }
        p[wi] = o.pool == Pooling::Max ? m : overflow(round_div(sum, static_cast<std::int64_t>(o.k), r), s.out, w);
    }
    return p;
}

std::vector<std::string> fixed_sets(const FixedSetup& s) {
    auto fmt = [](const std::string& name, Fmt f) {
        return std::vector<std::string>{"core.digital." + name + "_int_bits=" + std::to_string(f.i),
                                        "core.digital." + name + "_frac_bits=" + std::to_string(f.f)};
    };
    std::vector<std::string> sets = {"core.digital.kind=fixed-point-nmpu",
                                     std::string("core.digital.rounding=") +
                                         (s.rounding == Rm::Even ? "nearest-even" : s.rounding == Rm::Up ? "nearest-up" : "truncate"),
                                     std::string("core.digital.overflow=") + (s.wrap ? "wrap" : "saturate")};
    for (const auto& [name, f] : {std::pair<std::string, Fmt>{"input", s.in}, {"scale", s.scale}, {"offset", s.offset},
                                  {"accumulator", s.acc}, {"output", s.out}})
        for (auto& kv : fmt(name, f)) sets.push_back(kv);
    return sets;
}

void check_fixed(const DigitalUnit& u, const Operands& o, const FixedSetup& s) {
    const std::vector<float> got = apply(u, o);
    const std::vector<std::int64_t> ref = fixed_reference(o, s);
    REQUIRE(got.size() == ref.size());
    for (std::size_t i = 0; i < ref.size(); ++i) {
        INFO("element " << i);
        CHECK(static_cast<double>(got[i]) == std::ldexp(static_cast<double>(ref[i]), -s.out.f));
    }
}

std::string make_workload(const aimc_test::TempDir& dir, const std::string& trace) {
    dir.write("trace.txt", trace);
    dir.write("workload.yaml", "name: nmpu-test\ntrace: trace.txt\nsamples: 1\n");
    return dir.path.string();
}

}  // namespace

// =============================================================================================
// 1. float: stage order and numerics
// =============================================================================================

TEST_CASE("nmpu: float runs add then affine then bias then activation then residual then pooling") {
    auto u = make_unit({"core.digital.kind=float"});
    std::mt19937 g(11);
    const std::size_t n = 32;
    Operands o;
    o.in = grid_values(g, n, -4, 4, 4);
    o.add = grid_values(g, n, -2, 2, 4);
    o.scale = grid_values(g, n, -2, 2, 3);
    o.offset = grid_values(g, n, -1, 1, 4);
    o.bias = grid_values(g, n, -2, 2, 4);
    o.residual = grid_values(g, n, -1, 1, 4);
    // A hand-checked element: (-1 + 0.5) = -0.5; 2·(-0.5) + 0.25 = -0.75; + 1 = 0.25; relu 0.25; - 1 = -0.75.
    // Any other order gives a different result (relu before the bias: 0 + 1 - 1 = 0, ...).
    o.in[0] = -1, o.add[0] = 0.5, o.scale[0] = 2, o.offset[0] = 0.25, o.bias[0] = 1, o.residual[0] = -1;
    o.act = Activation::Relu;
    CHECK(apply(*u, o)[0] == -0.75f);

    const std::pair<Activation, float> acts[] = {
        {Activation::None, 0}, {Activation::Relu, 0}, {Activation::Clipped, 1.5f}, {Activation::Leaky, 0.125f}};
    const std::pair<Pooling, std::size_t> pools[] = {{Pooling::None, 1}, {Pooling::Max, 2}, {Pooling::Max, 4},
                                                     {Pooling::Average, 2}, {Pooling::Average, 4}};
    for (const auto& [act, param] : acts)
        for (const auto& [pool, k] : pools) {
            o.act = act;
            o.act_param = param;
            o.pool = pool;
            o.k = k;
            INFO("activation " << static_cast<int>(act) << " pooling " << static_cast<int>(pool) << " window " << k);
            const std::vector<float> got = apply(*u, o);
            const std::vector<double> ref = float_reference(o);
            REQUIRE(got.size() == n / k);
            REQUIRE(ref.size() == n / k);
            for (std::size_t i = 0; i < ref.size(); ++i) {
                INFO("element " << i);
                CHECK(static_cast<double>(got[i]) == ref[i]);
            }
        }
    // The clipped ceiling and the leaky slope act where they should.
    Operands c;
    c.in = {-2.f, 0.5f, 1.5f, 3.f};
    c.act = Activation::Clipped;
    c.act_param = 1.25f;
    CHECK(apply(*u, c) == std::vector<float>{0.f, 0.5f, 1.25f, 1.25f});
    c.act = Activation::Leaky;
    c.act_param = 0.25f;
    CHECK(apply(*u, c) == std::vector<float>{-0.5f, 0.5f, 1.5f, 3.f});
    c.act = Activation::None;
    c.pool = Pooling::Average;
    c.k = 4;
    CHECK(apply(*u, c) == std::vector<float>{0.75f});
    c.pool = Pooling::Max;
    c.k = 2;
    CHECK(apply(*u, c) == std::vector<float>{0.5f, 3.f});
}

TEST_CASE("nmpu: float affine takes scale alone or offset alone") {
    auto u = make_unit({"core.digital.kind=float"});
    Operands o;
    o.in = {1.f, -2.f, 0.5f};
    o.scale = {2.f, 0.5f, -4.f};
    CHECK(apply(*u, o) == std::vector<float>{2.f, -1.f, -2.f});
    o.scale.clear();
    o.offset = {0.25f, 1.f, -1.f};
    CHECK(apply(*u, o) == std::vector<float>{1.25f, -1.f, -0.5f});
}

// =============================================================================================
// 2. fp16-ldpu
// =============================================================================================

TEST_CASE("nmpu: fp16-ldpu rounds every stage to binary16") {
    auto u = make_unit({"core.digital.kind=fp16-ldpu"});
    std::mt19937 g(5);
    std::uniform_real_distribution<float> big(-40.f, 40.f), unit(-1.f, 1.f), sc(0.25f, 3.f);
    const std::size_t n = 48;
    Operands o;
    for (std::size_t i = 0; i < n; ++i) {
        o.in.push_back(big(g));
        o.add.push_back(big(g));
        o.scale.push_back(sc(g));
        o.offset.push_back(unit(g));
        o.bias.push_back(unit(g) * 8);
        o.residual.push_back(unit(g) / 3);
    }
    const std::pair<Activation, float> acts[] = {
        {Activation::None, 0}, {Activation::Relu, 0}, {Activation::Clipped, 5.3f}, {Activation::Leaky, 0.1f}};
    const std::pair<Pooling, std::size_t> pools[] = {{Pooling::None, 1}, {Pooling::Max, 2}, {Pooling::Average, 3},
                                                     {Pooling::Average, 4}};
    // The same data through each subset of the optional stages.
    for (int mask = 0; mask < 16; ++mask)
        for (const auto& [act, param] : acts)
            for (const auto& [pool, k] : pools) {
                Operands p = o;
                if (!(mask & 1)) p.add.clear();
                if (!(mask & 2)) p.scale.clear();
                if (!(mask & 4)) p.bias.clear();
                if (!(mask & 8)) p.residual.clear();
                // offset with the scale, alone, or not at all
                if ((mask & 2) != 0 && (mask & 8) != 0) p.offset.clear();
                if ((mask & 2) == 0 && (mask & 8) == 0) p.offset.clear();
                p.act = act;
                p.act_param = param;
                p.pool = pool;
                p.k = k;
                INFO("mask " << mask << " activation " << static_cast<int>(act) << " pooling " << static_cast<int>(pool)
                             << " window " << k);
                bool ambiguous = false;
                const std::vector<float> ref = fp16_reference(p, &ambiguous);
                REQUIRE_FALSE(ambiguous);  // this data does not hit the double-rounding case
                const std::vector<float> got = apply(*u, p);
                REQUIRE(got.size() == n / k);
                for (std::size_t i = 0; i < ref.size(); ++i) {
                    INFO("element " << i);
                    CHECK(same_float(got[i], ref[i]));
                    CHECK(round_fp16(got[i]) == got[i]);  // every result is a binary16 value
                }
            }
}

TEST_CASE("nmpu: fp16-ldpu handles values binary16 cannot represent as IEEE binary16 does") {
    auto u = make_unit({"core.digital.kind=fp16-ldpu"});
    const float inf = std::numeric_limits<float>::infinity();
    Operands o;
    // 1/3 -> 0x1.554p-2; below half the smallest subnormal -> 0; beyond 65520 -> inf; 65519.99 ->
    // 65504; 3e-8 -> 2^-24; 1.5·2^-24 and 2049 and 2051 are ties -> even.
    o.in = {1.f / 3, 1e-8f, 70000.f, -70000.f, 65504.f, 65519.99f, 65520.f, 3e-8f, 1.5f * 0x1p-24f, 2049.f, 2051.f, -1e-8f};
    const std::vector<float> pass = apply(*u, o);
    const std::vector<float> expect = {0x1.554p-2f, 0.f, inf, -inf, 65504.f, 65504.f, inf, 0x1p-24f, 0x1p-23f,
                                       2048.f, 2052.f, -0.f};
    REQUIRE(pass.size() == expect.size());
    for (std::size_t i = 0; i < expect.size(); ++i) {
        INFO("element " << i << " input " << o.in[i]);
        CHECK(pass[i] == expect[i]);
    }
    CHECK(std::signbit(pass[11]));  // a negative underflow keeps its sign
    CHECK(pass[0] == 0.333251953125f);

    // The float unit keeps them.
    auto f = make_unit({"core.digital.kind=float"});
    CHECK(apply(*f, o)[0] == 1.f / 3);
    CHECK(apply(*f, o)[2] == 70000.f);

    // Stage results round too: 2048 + 1 is a tie (-> 2048), 2048 + 3 -> 2052; 1/3 + 1/3 -> 0x1.554p-1;
    // 1000·100 overflows to inf and stays there; -inf through relu is 0, through leaky stays -inf.
    Operands s;
    s.in = {2048.f, 2048.f, 1.f / 3, 1000.f, -1000.f, 1.f};
    s.add = {1.f, 3.f, 1.f / 3, 0.f, 0.f, 0.00075f};  // 1 + 0.00075 -> 1 + 2^-10
    CHECK(apply(*u, s) == std::vector<float>{2048.f, 2052.f, 0x1.554p-1f, 1000.f, -1000.f, 0x1.004p0f});
    s.scale = {1.f, 1.f, 1.f, 100.f, 100.f, 1.f};
    s.act = Activation::Relu;
    CHECK(apply(*u, s) == std::vector<float>{2048.f, 2052.f, 0x1.554p-1f, inf, 0.f, 0x1.004p0f});
    s.act = Activation::Leaky;
    s.act_param = 0.1f;
    CHECK(apply(*u, s)[4] == -inf);
    // Average pooling accumulates in binary16: 65504 + 65504 overflows before the division.
    Operands p;
    p.in = {65504.f, 65504.f, 1.f, 2.f};
    p.pool = Pooling::Average;
    p.k = 2;
    CHECK(apply(*u, p) == std::vector<float>{inf, 1.5f});
    CHECK(apply(*f, p) == std::vector<float>{65504.f, 1.5f});
}

TEST_CASE("nmpu: fp16-ldpu affine is a correctly rounded binary16 fma") {
    auto u = make_unit({"core.digital.kind=fp16-ldpu"});
    Operands o;
    o.in = {0x1.dd8p+7f, 0x1.408p+6f, 0x1.544p-2f};
    o.scale = {0x1.a88p+2f, 0x1.4p+9f, 0x1.d88p+1f};
    o.offset = {-0x1.584p-4f, 0x1.c5p-10f, 0x1.ccp+4f};
    const std::vector<float> got = apply(*u, o);
    for (std::size_t i = 0; i < o.in.size(); ++i) {
        INFO("element " << i);
        const float ieee = from_fp16_bits(fp16_fma(to_fp16_bits(o.scale[i]), to_fp16_bits(o.in[i]), to_fp16_bits(o.offset[i])));
        CHECK(got[i] == ieee);
    }
    CHECK(got[0] == 1583.f);  // the exact value 1583.49993896484375 rounded to binary16
}

// =============================================================================================
// 3. fixed-point-nmpu
// =============================================================================================

TEST_CASE("nmpu: fixed-point-nmpu is bit-exact against integer arithmetic for every rounding and overflow mode") {
    const std::vector<std::array<Fmt, 5>> formats = {
        // input, scale, offset, accumulator, output
        {Fmt{4, 4}, Fmt{2, 6}, Fmt{4, 4}, Fmt{8, 8}, Fmt{4, 4}},   // output saturates or wraps
        {Fmt{3, 5}, Fmt{3, 3}, Fmt{2, 6}, Fmt{5, 5}, Fmt{3, 2}},   // the accumulator overflows too
        {Fmt{6, 10}, Fmt{2, 10}, Fmt{3, 9}, Fmt{10, 14}, Fmt{5, 3}},  // wider; output loses many bits
    };
    std::mt19937 g(2024);
    const std::size_t n = 48;
    for (const auto& f : formats)
        for (Rm r : {Rm::Even, Rm::Up, Rm::Trunc})
            for (bool wrap : {false, true}) {
                const FixedSetup s{f[0], f[1], f[2], f[3], f[4], r, wrap};
                auto u = make_unit(fixed_sets(s));
                const double in_max = std::ldexp(1.0, s.in.i - 1), sc_max = std::ldexp(1.0, s.scale.i - 1) * 0.9,
                             of_max = std::ldexp(1.0, s.offset.i - 1) * 0.9;
                Operands o;
                // Inputs beyond the input format (to overflow) on a grid finer than every format (ties).
                o.in = grid_values(g, n, -1.5 * in_max, 1.5 * in_max, 7);
                o.add = grid_values(g, n, -in_max, in_max, 8);
                o.scale = grid_values(g, n, -sc_max, sc_max, kGrid);
                o.offset = grid_values(g, n, -of_max, of_max, 8);
                o.bias = grid_values(g, n, -of_max, of_max, 7);
                o.residual = grid_values(g, n, -in_max, in_max, 6);
                const std::pair<Activation, float> acts[] = {{Activation::None, 0},
                                                             {Activation::Relu, 0},
                                                             {Activation::Clipped, static_cast<float>(in_max / 2 + 0.375)},
                                                             {Activation::Leaky, 0.1015625f}};
                const std::pair<Pooling, std::size_t> pools[] = {{Pooling::None, 1}, {Pooling::Max, 4},
                                                                 {Pooling::Average, 2}, {Pooling::Average, 3}};
                for (int variant = 0; variant < 4; ++variant)
                    for (const auto& [act, param] : acts)
                        for (const auto& [pool, k] : pools) {
                            Operands p = o;
                            if (variant == 1) p.add.clear(), p.residual.clear();
                            if (variant == 2) p.scale.clear();   // offset alone
                            if (variant == 3) p.offset.clear(), p.bias.clear();  // scale alone
                            if (variant == 3 && act == Activation::None) p.scale.clear();  // pass only
                            p.act = act;
                            p.act_param = param;
                            p.pool = pool;
                            p.k = k;
                            INFO("formats in Q" << s.in.i << "." << s.in.f << " acc Q" << s.acc.i << "." << s.acc.f
                                                << " out Q" << s.out.i << "." << s.out.f << " rounding "
                                                << static_cast<int>(r) << " wrap " << wrap << " variant " << variant
                                                << " activation " << static_cast<int>(act) << " pooling "
                                                << static_cast<int>(pool) << " window " << k);
                            check_fixed(*u, p, s);
                        }
            }
}

TEST_CASE("nmpu: fixed-point-nmpu rounds ties and handles output overflow as configured") {
    // input Q4.4, scale Q2.6, offset Q4.4, accumulator Q8.8, output Q4.4.
    const Fmt in{4, 4}, sc{2, 6}, of{4, 4}, acc{8, 8}, out{4, 4};
    struct Case {
        Rm r;
        bool wrap;
        std::vector<float> pass, halves, sat;
    };
    // pass: inputs ±1/32 and ±3/32 are ties of the Q4.4 input (LSB 1/16).
    // halves: 1/16 · 0.5 = 1/32 exactly in the accumulator, a tie of the output; 3/16 · 0.5 = 3/32;
    //         -1/16 · 0.5, -3/16 · 0.5.
    // sat: 7.9375 + 7 = 14.9375 and -8 - 7 = -15 do not fit the output [-8, 7.9375].
    const std::vector<Case> cases = {
        {Rm::Even, false, {0, 0.125f, 0, -0.125f}, {0, 0.125f, 0, -0.125f}, {7.9375f, -8}},
        {Rm::Up, false, {0.0625f, 0.125f, 0, -0.0625f}, {0.0625f, 0.125f, 0, -0.0625f}, {7.9375f, -8}},
        {Rm::Trunc, false, {0, 0.0625f, -0.0625f, -0.125f}, {0, 0.0625f, -0.0625f, -0.125f}, {7.9375f, -8}},
        {Rm::Even, true, {0, 0.125f, 0, -0.125f}, {0, 0.125f, 0, -0.125f}, {-1.0625f, 1}},
        {Rm::Up, true, {0.0625f, 0.125f, 0, -0.0625f}, {0.0625f, 0.125f, 0, -0.0625f}, {-1.0625f, 1}},
        {Rm::Trunc, true, {0, 0.0625f, -0.0625f, -0.125f}, {0, 0.0625f, -0.0625f, -0.125f}, {-1.0625f, 1}},
    };
    for (const auto& c : cases) {
        INFO("rounding " << static_cast<int>(c.r) << " wrap " << c.wrap);
        auto u = make_unit(fixed_sets({in, sc, of, acc, out, c.r, c.wrap}));
        Operands p;
        p.in = {1.f / 32, 3.f / 32, -1.f / 32, -3.f / 32};
        CHECK(apply(*u, p) == c.pass);
        Operands h;
        h.in = {1.f / 16, 3.f / 16, -1.f / 16, -3.f / 16};
        h.scale = {0.5f, 0.5f, 0.5f, 0.5f};
        CHECK(apply(*u, h) == c.halves);
        Operands s;
        s.in = {7.9375f, -8.f};
        s.bias = {7.f, -7.f};
        CHECK(apply(*u, s) == c.sat);
        // Relu and the clipped ceiling never overflow; an input beyond Q4.4 saturates or wraps on entry.
        Operands e;
        e.in = {9.f, -9.f};
        CHECK(apply(*u, e) == (c.wrap ? std::vector<float>{-7.f, 7.f} : std::vector<float>{7.9375f, -8.f}));
    }
}

TEST_CASE("nmpu: fixed-point-nmpu average pooling rounds the exact mean once") {
    // output Q4.4: window 3 over raws {1, 1, 0} has the mean 2/3 LSB: nearest -> 1, truncate -> 0;
    // {1, 0, 0}: 1/3 -> 0 everywhere; {-1, 0, 0}: -1/3 -> 0 nearest, -1 truncate;
    // window 2 over {1, 0}: 1/2 LSB, a tie: even 0, up 1, truncate 0; {3, 0}: 3/2: even 2, up 2, truncate 1.
    const Fmt q44{4, 4}, acc{8, 8};
    for (Rm r : {Rm::Even, Rm::Up, Rm::Trunc}) {
        INFO("rounding " << static_cast<int>(r));
        auto u = make_unit(fixed_sets({q44, Fmt{2, 6}, q44, acc, q44, r, false}));
        Operands three;
        three.in = {0.0625f, 0.0625f, 0, 0.0625f, 0, 0, -0.0625f, 0, 0};
        three.pool = Pooling::Average;
        three.k = 3;
        const std::vector<float> e3 =
            r == Rm::Trunc ? std::vector<float>{0, 0, -0.0625f} : std::vector<float>{0.0625f, 0, 0};
        CHECK(apply(*u, three) == e3);
        Operands two;
        two.in = {0.0625f, 0, 0.1875f, 0};
        two.pool = Pooling::Average;
        two.k = 2;
        const std::vector<float> e2 = r == Rm::Even ? std::vector<float>{0, 0.125f}
                                      : r == Rm::Up ? std::vector<float>{0.0625f, 0.125f}
                                                    : std::vector<float>{0, 0.0625f};
        CHECK(apply(*u, two) == e2);
    }
}

TEST_CASE("nmpu: fixed-point-nmpu offset alone adds the offset for any scale format") {
    for (const char* mode : {"saturate", "wrap"}) {
        INFO("overflow " << mode);
        auto u = make_unit({"core.digital.kind=fixed-point-nmpu", "core.digital.scale_int_bits=1",
                            "core.digital.scale_frac_bits=7", std::string("core.digital.overflow=") + mode});
        Operands o;
        o.in = {1.f, -2.f};
        o.offset = {0.5f, 0.25f};
        CHECK(apply(*u, o) == std::vector<float>{1.5f, -1.75f});
    }
}

TEST_CASE("nmpu: fixed-point-nmpu default 16-bit formats stay within one output LSB of float") {
    auto fx = make_unit({"core.digital.kind=fixed-point-nmpu"});
    auto fl = make_unit({"core.digital.kind=float"});
    std::mt19937 g(77);
    const std::size_t n = 256;
    // Operands on their formats' grids (Q8.8 data, offsets and biases; Q4.12 scales): what is left
    // is the accumulator's and the output's rounding.
    Operands o;
    o.in = grid_values(g, n, -10, 10, 8);  // |result| < 80: no saturation of the Q8.8 output
    o.add = grid_values(g, n, -10, 10, 8);
    o.scale = grid_values(g, n, -3, 3, 12);
    o.offset = grid_values(g, n, -5, 5, 8);
    o.bias = grid_values(g, n, -5, 5, 8);
    o.residual = grid_values(g, n, -10, 10, 8);
    const double lsb = 1.0 / 256;
    double worst = 0;
    for (Activation act : {Activation::Relu, Activation::Leaky})
        for (Pooling pool : {Pooling::None, Pooling::Max}) {
            // (average pooling is left out: it rounds the mean of values each already off by up to
            // half an LSB, so it may differ by a little more than one LSB)
            o.act = act;
            o.act_param = 0.125f;  // the leaky slope, exact in Q4.12
            o.pool = pool;
            o.k = pool == Pooling::None ? 1 : 4;
            const std::vector<float> a = apply(*fx, o), b = apply(*fl, o);
            REQUIRE(a.size() == b.size());
            for (std::size_t i = 0; i < a.size(); ++i) {
                INFO("element " << i);
                worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
                CHECK(std::fabs(static_cast<double>(a[i]) - b[i]) <= lsb);
                CHECK(std::ldexp(static_cast<double>(a[i]), 8) == std::floor(std::ldexp(static_cast<double>(a[i]), 8)));
            }
        }
    CHECK(worst > 0);  // the output format does round
    // Arbitrary floats through the pass stage: two roundings of at most half an LSB each
    // (input then output, both Q8.8: the second is exact).
    std::uniform_real_distribution<float> d(-100.f, 100.f);
    Operands p;
    for (std::size_t i = 0; i < n; ++i) p.in.push_back(d(g));
    const std::vector<float> a = apply(*fx, p);
    for (std::size_t i = 0; i < n; ++i) CHECK(std::fabs(static_cast<double>(a[i]) - p.in[i]) <= lsb / 2);
}

// =============================================================================================
// 4. Bad formats and parameters that do not fit
// =============================================================================================

TEST_CASE("nmpu: fixed-point formats wider than 64 bits are input errors naming the key") {
    const std::string msg = error_of([] {
        make_unit({"core.digital.kind=fixed-point-nmpu", "core.digital.accumulator_int_bits=40",
                   "core.digital.accumulator_frac_bits=40"});
    });
    CHECK(msg == "--set core.digital.accumulator_int_bits=40: core.digital.accumulator_int_bits: width 80 exceeds 64 bits");
    // A format exactly 64 bits wide is fine.
    CHECK_NOTHROW(make_unit({"core.digital.kind=fixed-point-nmpu", "core.digital.accumulator_int_bits=32",
                             "core.digital.accumulator_frac_bits=32"}));
    const std::string out = error_of([] {
        make_unit({"core.digital.kind=fixed-point-nmpu", "core.digital.output_int_bits=60", "core.digital.output_frac_bits=8"});
    });
    CHECK_THAT(out, Contains("core.digital.output_int_bits: width 68 exceeds 64 bits"));
}

TEST_CASE("nmpu: fixed-point int bits below 1 and negative frac bits are loader range errors") {
    const auto load = [](const std::string& set) {
        return error_of([&] { load_chip_config("configs/tiny.yaml", {"core.digital.kind=fixed-point-nmpu", set}); });
    };
    CHECK_THAT(load("core.digital.input_int_bits=0"),
               Contains("--set core.digital.input_int_bits=0: core.digital.input_int_bits: expected an integer in 1..64, "
                        "got \"0\""));
    CHECK_THAT(load("core.digital.accumulator_int_bits=-3"),
               Contains("--set core.digital.accumulator_int_bits=-3: core.digital.accumulator_int_bits: expected an "
                        "integer in 1..64, got \"-3\""));
    CHECK_THAT(load("core.digital.output_frac_bits=-1"),
               Contains("--set core.digital.output_frac_bits=-1: core.digital.output_frac_bits: expected an integer in "
                        "0..63, got \"-1\""));
    CHECK_THAT(load("core.digital.rounding=stochastic"),
               Contains("core.digital.rounding: expected one of {nearest-even, nearest-up, truncate}, got \"stochastic\""));
}

TEST_CASE("nmpu: fixed-point constants that do not fit their format are input errors") {
    auto u = make_unit({"core.digital.kind=fixed-point-nmpu", "core.digital.offset_int_bits=1",
                        "core.digital.offset_frac_bits=4"});
    Operands o;
    o.in = {0.f, 0.f};
    o.bias = {0.5f, 1.5f};
    CHECK(error_of([&] { apply(*u, o); }) ==
          "bias 1.500000 (element 1) does not fit the Q1.4 format of core.digital (range -1.000000 to 0.937500)");
    // The largest value of the format fits; one that rounds up to 1.0 does not.
    o.bias = {0.9375f, -1.f};
    CHECK(apply(*u, o) == std::vector<float>{0.9375f, -1.f});
    o.bias = {0.97f, 0.f};
    CHECK_THAT(error_of([&] { apply(*u, o); }), Contains("does not fit the Q1.4 format"));
    Operands f;
    f.in = {0.f};
    f.offset = {-1.5f};
    CHECK_THAT(error_of([&] { apply(*u, f); }), StartsWith("offset -1.500000 (element 0) does not fit the Q1.4 format"));
}

TEST_CASE("nmpu: a bias that does not fit the offset format fails the timed run at its trace line") {
    aimc_test::TempDir dir("nmpu");
    write_npy(dir.file("b.npy"), {4}, {0.25, 1.5, 0.0, -0.5});
    const std::string w = make_workload(dir, "aimcsim-trace 1\nstream core 0\nfill buf=x len=4 value=0.5\nsample\n"
                                             "nmpu in=x out=z bias=b.npy\n");
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.digital.kind=fixed-point-nmpu",
                                                            "core.digital.offset_int_bits=1",
                                                            "core.digital.offset_frac_bits=4"});
    Workload wl = load_workload(w, cfg);
    const std::string msg = error_of([&] { simulate(cfg, wl, RunOptions{}); });
    CHECK_THAT(msg, StartsWith(dir.file("trace.txt") + ":5: nmpu: bias 1.500000 (element 1)"));
    CHECK_THAT(msg, Contains("does not fit the Q1.4 format"));
}

// =============================================================================================
// 5. Lane timing model
// =============================================================================================

TEST_CASE("nmpu: latency is the sum of per-stage lane passes plus the pipeline depth") {
    std::vector<float> v(300, 1.f);
    std::vector<DigitalOp> ops(5);
    ops[1].bias = v.data();
    ops[1].activation = Activation::Relu;  // pass, bias, activation
    ops[2].add = v.data();
    ops[2].scale = v.data();
    ops[2].offset = v.data();
    ops[2].bias = v.data();
    ops[2].activation = Activation::Leaky;
    ops[2].residual = v.data();
    ops[2].pooling = Pooling::Max;
    ops[2].pool_window = 4;  // all 7 stages
    ops[3].offset = v.data();
    ops[3].pooling = Pooling::Average;
    ops[3].pool_window = 2;  // pass, affine, pooling
    ops[4].activation = Activation::Clipped;
    ops[4].activation_param = 1;
    const std::size_t stages[] = {1, 3, 7, 3, 2};
    for (const char* kind : {"float", "fp16-ldpu", "fixed-point-nmpu"})
        for (std::uint64_t lanes : {1, 4, 16, 64})
            for (std::uint64_t cpo : {1, 3}) {
                const std::uint64_t depth = lanes == 4 ? 0 : 7;
                auto u = make_unit({std::string("core.digital.kind=") + kind, "core.digital.lanes=" + std::to_string(lanes),
                                    "core.digital.cycles_per_op=" + std::to_string(cpo),
                                    "core.digital.pipeline_depth=" + std::to_string(depth)});
                CHECK(u->lanes() == lanes);
                for (std::size_t k = 0; k < ops.size(); ++k)
                    for (std::size_t n : {1, 4, 15, 16, 17, 64, 65, 256, 300}) {
                        INFO(kind << " lanes " << lanes << " cycles_per_op " << cpo << " op " << k << " n " << n);
                        REQUIRE(ops[k].stage_elements(n).size() == stages[k]);
                        const std::uint64_t per_stage = (n + lanes - 1) / lanes * cpo;
                        CHECK(u->occupancy_cycles(ops[k], n) == stages[k] * per_stage);
                        CHECK(u->latency_cycles(ops[k], n) == stages[k] * per_stage + depth);
                        CHECK(u->lane_ops(ops[k], n) == stages[k] * n);
                    }
            }
}

TEST_CASE("nmpu: a timed MVM then nmpu takes the MVM latency plus the nmpu latency") {
    aimc_test::TempDir dir("nmpu");
    const std::size_t rows = 48, cols = 40;
    std::vector<double> b(cols);
    for (std::size_t i = 0; i < cols; ++i) b[i] = 0.01 * static_cast<double>(i) - 0.2;
    write_npy(dir.file("bias.npy"), {cols}, b);
    const std::string w = make_workload(
        dir, "aimcsim-trace 1\nstream core 1\nfill buf=x len=48 value=0.25\n"
             "program matrix=random rows=0:48 cols=0:40 seed=5\nsample\nmvm in=x out=y\nnmpu in=y out=z relu bias=bias.npy\n");
    const std::uint64_t lanes = 4, cpo = 3, depth = 5;
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"core.digital.lanes=4", "core.digital.cycles_per_op=3",
                                                            "core.digital.pipeline_depth=5"});
    // The MVM from the config's values: load, integration window, conversion, readout.
    const auto& core = cfg.at("core");
    const double clock = cfg.at("chip").real("clock");
    const std::uint64_t dac_bits = static_cast<std::uint64_t>(cfg.at("core.dac").integer("bits"));
    const std::uint64_t adc_bits = static_cast<std::uint64_t>(cfg.at("core.adc").integer("bits"));
    const std::uint64_t load = (rows * dac_bits + core.integer("input_bus_bits") - 1) / core.integer("input_bus_bits");
    const auto integrate =
        static_cast<std::uint64_t>(std::llround(std::ldexp(cfg.at("core.dac").real("lsb_time"), static_cast<int>(dac_bits) - 1) * clock));
    const auto convert = static_cast<std::uint64_t>(std::llround(cfg.at("core.adc").real("conversion_time") * clock));
    const std::uint64_t readout = (cols * adc_bits + core.integer("output_bus_bits") - 1) / core.integer("output_bus_bits");
    CHECK(load == 6);
    CHECK(integrate == 128);
    CHECK(convert == 5);
    CHECK(readout == 5);
    // nmpu: pass, bias, relu on 40 elements.
    const std::uint64_t busy = 3 * ((cols + lanes - 1) / lanes) * cpo;
    CHECK(busy == 90);
    Workload wl = load_workload(w, cfg);
    auto r = simulate(cfg, wl, RunOptions{});
    CHECK(r["latency"]["total_cycles"] == load + integrate + convert + readout + busy + depth);
    CHECK(r["cores"][1]["digital_ops"] == 1);
    CHECK(r["cores"][1]["digital_busy_cycles"] == busy);
    CHECK(r["cores"][1]["lane_ops"] == 3 * cols);
    CHECK(r["cores"][0]["digital_ops"] == 0);
    CHECK(r["energy"]["breakdown_pj"]["nmpu"].get<double>() ==
          Approx(3.0 * cols * cfg.at("core.digital").real("energy_per_lane_op") * 1e12));
}

// =============================================================================================
// 6. Trace attributes
// =============================================================================================

namespace {
const char* const kHead = "aimcsim-trace 1\nstream core 0\nfill buf=x len=8 value=1\nfill buf=r len=8 value=2\nsample\n";
Op nmpu_op(const std::string& line) {
    Trace t = parse_trace(std::string(kHead) + line + "\n", "t.trace", "/data");
    REQUIRE(t.streams.size() == 1);
    REQUIRE(t.streams[0].per_sample.size() == 1);
    return t.streams[0].per_sample[0];
}
std::string parse_error(const std::string& line) {
    return error_of([&] { parse_trace(std::string(kHead) + line + "\n", "t.trace", "/data"); });
}
}  // namespace

TEST_CASE("nmpu: trace attributes set activation pooling residual and per-column slices") {
    Op a = nmpu_op("nmpu in=x out=y act=clip:6");
    CHECK(a.code == OpCode::Nmpu);
    CHECK(a.line == 6);
    CHECK(a.activation == "clip");
    CHECK(a.activation_param == 6.0);
    CHECK(a.pooling.empty());
    CHECK(a.pool_window == 1);
    Op l = nmpu_op("nmpu in=x out=y act=leaky:0.1");
    CHECK(l.activation == "leaky");
    CHECK(l.activation_param == 0.1);
    CHECK(nmpu_op("nmpu in=x out=y act=leaky:-0.5").activation_param == -0.5);
    CHECK(nmpu_op("nmpu in=x out=y act=relu").activation == "relu");
    CHECK(nmpu_op("nmpu in=x out=y relu").activation == "relu");
    CHECK(nmpu_op("nmpu in=x out=y").activation.empty());
    Op p = nmpu_op("nmpu in=x out=y pool=max:2");
    CHECK(p.pooling == "max");
    CHECK(p.pool_window == 2);
    Op q = nmpu_op("nmpu in=x out=y pool=avg:4096");
    CHECK(q.pooling == "avg");
    CHECK(q.pool_window == 4096);
    Op r = nmpu_op("nmpu in=x out=y residual=r add=x");
    CHECK(r.residual == 1);  // buffer ids: x 0, r 1, y 2
    CHECK(r.add == 0);
    CHECK(r.out == 2);
    CHECK(nmpu_op("nmpu in=x out=y").residual == -1);
    Op s = nmpu_op("nmpu in=x out=y scale=s.npy offset=o.npy bias=b.npy cols=8:16");
    CHECK(s.scale_file == "/data/s.npy");
    CHECK(s.offset_file == "/data/o.npy");
    CHECK(s.file == "/data/b.npy");
    CHECK(s.cols.set);
    CHECK(s.cols.begin == 8);
    CHECK(s.cols.end == 16);
    Op so = nmpu_op("nmpu in=x out=y scale=s.npy cols=0:8");
    CHECK(so.scale_file == "/data/s.npy");
    CHECK(so.offset_file.empty());
    CHECK(so.file.empty());
    CHECK(nmpu_op("nmpu in=x out=y offset=o.npy cols=2:10").offset_file == "/data/o.npy");
}

TEST_CASE("nmpu: malformed trace attributes are errors with their exact messages") {
    const std::string act = ": expected relu, clip:C (a ceiling C > 0) or leaky:A (a slope A)";
    CHECK(parse_error("nmpu in=x out=y act=clip:0") == "t.trace:6: act=clip:0" + act);
    CHECK(parse_error("nmpu in=x out=y act=clip:-1") == "t.trace:6: act=clip:-1" + act);
    CHECK(parse_error("nmpu in=x out=y act=clip") == "t.trace:6: act=clip" + act);
    CHECK(parse_error("nmpu in=x out=y act=foo") == "t.trace:6: act=foo" + act);
    CHECK(parse_error("nmpu in=x out=y act=leaky:x") == "t.trace:6: act=leaky:x" + act);
    CHECK(parse_error("nmpu in=x out=y act=relu:1") == "t.trace:6: act=relu:1" + act);
    const std::string pool = ": expected max:K or avg:K with a window K in 1..4096";
    CHECK(parse_error("nmpu in=x out=y pool=max:0") == "t.trace:6: pool=max:0" + pool);
    CHECK(parse_error("nmpu in=x out=y pool=min:2") == "t.trace:6: pool=min:2" + pool);
    CHECK(parse_error("nmpu in=x out=y pool=avg:4097") == "t.trace:6: pool=avg:4097" + pool);
    CHECK(parse_error("nmpu in=x out=y pool=max") == "t.trace:6: pool=max" + pool);
    CHECK(parse_error("nmpu in=x out=y pool=avg:1.5") == "t.trace:6: pool=avg:1.5" + pool);
    CHECK(parse_error("nmpu in=x out=y relu act=leaky:0.1") == "t.trace:6: give either the relu flag or act=, not both");
    CHECK(parse_error("nmpu in=x out=y act=clip:6 relu") == "t.trace:6: give either the relu flag or act=, not both");
    CHECK(parse_error("nmpu in=x out=y cols=0:8") ==
          "t.trace:6: cols= selects a slice of the per-column files; give bias=, scale= or offset= too");
    CHECK(parse_error("nmpu in=x out=y residual=q") == "t.trace:6: buffer 'q' is read before any operation of this stream writes it");
    CHECK(parse_error("nmpu in=x out=y act=relu act=relu") == "t.trace:6: attribute 'act' given twice");
}

TEST_CASE("nmpu: a pool window that does not divide the vector fails the run at its trace line") {
    aimc_test::TempDir dir("nmpu");
    const std::string w = make_workload(dir, "aimcsim-trace 1\nstream core 2\nfill buf=x len=10 value=0.5\nsample\n"
                                             "nmpu in=x out=z pool=max:4\n");
    ChipConfig cfg = load_chip_config("configs/tiny.yaml");
    Workload wl = load_workload(w, cfg);
    CHECK(error_of([&] { simulate(cfg, wl, RunOptions{}); }) ==
          dir.file("trace.txt") + ":5: nmpu: pool window 4 does not divide the 10 elements of in=x");
}
