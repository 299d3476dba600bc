// FP16 emulation (models/nmpu/fp16.*) against independent references: the nearest value found by
// binary search over the ascending list of every finite FP16 value (ties decided by comparing with
// the exact midpoint), and exact integer arithmetic (every FP16 value is a multiple of 2^-24) for
// add, mul and fma. The implementation rounds by bit manipulation of a double.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/nmpu/fp16.hpp"

using namespace aimc;
using i128 = __int128;

namespace {

bool is_nan_bits(std::uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

// |value| · 2^24 of a finite FP16 value, from the definition: subnormal m·2^-24, normal
// (1024 + m)·2^(e-25).
std::int64_t magnitude24(std::uint16_t h) {
    const int e = h >> 10 & 0x1f, m = h & 0x3ff;
    return e == 0 ? m : std::int64_t(1024 + m) << (e - 1);
}

// Finite non-negative FP16 values ascending, index = bit pattern (0 .. 0x7bff), then 65536 at
// 0x7c00 standing for +inf: 65520, the overflow threshold, is its midpoint with 65504.
struct Ladder {
    std::vector<double> real;
    std::vector<i128> scaled48;  // value · 2^48
    Ladder() {
        for (int i = 0; i <= 0x7c00; ++i) {
            const std::int64_t m24 = i == 0x7c00 ? std::int64_t(1) << 40 : magnitude24(static_cast<std::uint16_t>(i));
            real.push_back(std::ldexp(static_cast<double>(m24), -24));
            scaled48.push_back(static_cast<i128>(m24) << 24);
        }
    }
};
const Ladder& ladder() {
    static const Ladder l;
    return l;
}

// Index i of the rung at or below a (a >= 0, below the top), rounded to nearest, ties to the even
// index (= even significand), by comparison with the exact midpoint (l[i] + l[i+1]) / 2.
template <class T>
std::uint16_t nearest_rung(const std::vector<T>& l, T a) {
    if (a >= l.back()) return 0x7c00;
    std::size_t i = static_cast<std::size_t>(std::upper_bound(l.begin(), l.end(), a) - l.begin()) - 1;
    const T twice = a * 2, mid2 = l[i] + l[i + 1];  // compare 2a with l[i] + l[i+1]: exact in both types
    if (twice > mid2 || (twice == mid2 && (i & 1))) ++i;
    return static_cast<std::uint16_t>(i);
}

// Reference rounding of a non-NaN double.
std::uint16_t reference_bits(double x) {
    const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    return sign | nearest_rung(ladder().real, std::fabs(x));
}

// Reference rounding of the exact value n·2^-48; `negative_zero` gives the sign of an exact zero.
std::uint16_t reference_bits48(i128 n, bool negative_zero) {
    const bool neg = n < 0 || (n == 0 && negative_zero);
    return static_cast<std::uint16_t>((neg ? 0x8000 : 0) | nearest_rung(ladder().scaled48, n < 0 ? -n : n));
}

constexpr i128 kScale24 = i128(1) << 24;  // 2^-24 units to 2^-48 units
i128 value24(std::uint16_t h) { return h & 0x8000 ? -magnitude24(h) : magnitude24(h); }
bool finite(std::uint16_t h) { return (h & 0x7c00) != 0x7c00; }
bool sign_of(std::uint16_t h) { return (h & 0x8000) != 0; }

std::string hex(std::uint32_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
}

std::string describe(float x) {
    std::uint32_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    std::ostringstream s;
    s.precision(9);
    s << x << " (" << hex(b) << ")";
    return s.str();
}

// Results compared bit for bit; any NaN matches any NaN.
struct Tally {
    std::uint64_t checks = 0, failures = 0;
    std::string first;
    template <class What>
    void compare(std::uint16_t got, std::uint16_t want, What&& what) {
        ++checks;
        if (got == want || (is_nan_bits(got) && is_nan_bits(want))) return;
        if (++failures <= 5) first += what() + ": got " + hex(got) + ", want " + hex(want) + "\n";
    }
    void require_clean() const {
        INFO(first);
        INFO("checks " << checks);
        REQUIRE(failures == 0);
    }
};

using Rng = std::mt19937_64;

float float_of(std::uint32_t b) {
    float v = 0;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

// Floats that stress FP16 rounding: any bit pattern, FP16 values and their float neighbours,
// exact FP16 midpoints and theirs, the FP16 subnormal range, and the overflow threshold.
float draw_float(Rng& g) {
    const auto& l = ladder().real;
    const float sign = g() % 2 ? -1.f : 1.f;
    const std::size_t i = g() % (l.size() - 1);
    switch (g() % 5) {
        case 0: return float_of(static_cast<std::uint32_t>(g()));
        case 1: {  // a FP16 value, nudged by up to 3 float ULPs
            float v = static_cast<float>(l[i]);
            for (int k = static_cast<int>(g() % 7) - 3; k != 0; k += k < 0 ? 1 : -1)
                v = std::nextafter(v, k < 0 ? 0.f : INFINITY);
            return sign * v;
        }
        case 2: {  // a midpoint, nudged by up to one float ULP
            const float mid = static_cast<float>((l[i] + l[i + 1]) / 2);
            const int k = static_cast<int>(g() % 3) - 1;
            return sign * (k == 0 ? mid : std::nextafter(mid, k < 0 ? 0.f : INFINITY));
        }
        case 3:  // below the smallest normal FP16 (2^-14), down into float subnormals
            return sign * float_of(static_cast<std::uint32_t>(g() % (std::uint64_t(113) << 23)));
        default: {
            const float edges[] = {65504.f, 65519.99f, 65520.f, 65536.f, 65535.f, 0x1p-25f, 0x1p-24f, 0x1.8p-24f,
                                   0x1p-14f, 0.f, 1e-40f, std::numeric_limits<float>::max(), INFINITY};
            return sign * edges[g() % 13];
        }
    }
}

}  // namespace

TEST_CASE("fp16: every bit pattern round-trips") {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const auto h = static_cast<std::uint16_t>(b);
        const float f = from_fp16_bits(h);
        INFO("bits " << hex(h));
        if (is_nan_bits(h)) {
            REQUIRE(std::isnan(f));
            REQUIRE(std::signbit(f) == sign_of(h));
            // Quiet NaNs keep their payload; signalling ones come back quiet.
            std::uint32_t fb = 0;
            std::memcpy(&fb, &f, sizeof fb);
            REQUIRE(fb == ((sign_of(h) ? 0xffc00000u : 0x7fc00000u) | (h & 0x3ffu) << 13));
            REQUIRE(to_fp16_bits(f) == (h | 0x200));
            REQUIRE(to_fp16_bits(static_cast<double>(f)) == (h | 0x200));
            continue;
        }
        const double want = (h & 0x7fff) == 0x7c00 ? INFINITY : ladder().real[h & 0x7fff];
        REQUIRE(static_cast<double>(f) == (sign_of(h) ? -want : want));
        REQUIRE(std::signbit(f) == sign_of(h));
        REQUIRE(to_fp16_bits(f) == h);
        REQUIRE(to_fp16_bits(static_cast<double>(f)) == h);
        std::uint32_t fb = 0;
        const float r = round_fp16(f);
        std::memcpy(&fb, &r, sizeof fb);
        std::uint32_t eb = 0;
        std::memcpy(&eb, &f, sizeof eb);
        REQUIRE(fb == eb);
    }
}

TEST_CASE("fp16: conversion edges by hand") {
    CHECK(to_fp16_bits(65504.f) == 0x7bff);
    CHECK(to_fp16_bits(65519.99f) == 0x7bff);
    CHECK(to_fp16_bits(65520.f) == 0x7c00);  // the midpoint to 65536 ties to even: inf
    CHECK(to_fp16_bits(-65520.f) == 0xfc00);
    CHECK(to_fp16_bits(1e10f) == 0x7c00);
    CHECK(to_fp16_bits(INFINITY) == 0x7c00);
    CHECK(to_fp16_bits(-0.f) == 0x8000);
    CHECK(to_fp16_bits(0x1p-24f) == 0x0001);   // smallest subnormal
    CHECK(to_fp16_bits(0x1p-25f) == 0x0000);   // tie between 0 and 2^-24: even
    CHECK(to_fp16_bits(-0x1p-25f) == 0x8000);  // keeps its sign
    CHECK(to_fp16_bits(std::nextafter(0x1p-25f, 1.f)) == 0x0001);
    CHECK(to_fp16_bits(0x1.8p-24f) == 0x0002);                    // 1.5 ULP ties up to even 2
    CHECK(to_fp16_bits(0x1.ff8p-15f) == 0x03ff);                             // largest subnormal
    CHECK(to_fp16_bits(0x1.ffcp-15f) == 0x0400);                             // tie, up into the normals
    CHECK(to_fp16_bits(std::nextafter(0x1.ffcp-15f, 0.f)) == 0x03ff);
    CHECK(to_fp16_bits(1.f + 0x1p-11f) == 0x3c00);               // tie to even
    CHECK(to_fp16_bits(1.f + 0x3p-11f) == 0x3c02);               // tie to even, upward
    CHECK(to_fp16_bits(std::nextafter(1.f + 0x1p-11f, 2.f)) == 0x3c01);
    CHECK(to_fp16_bits(1e-45f) == 0x0000);                        // float subnormal
    CHECK(is_nan_bits(to_fp16_bits(std::numeric_limits<float>::quiet_NaN())));
    CHECK(is_nan_bits(to_fp16_bits(std::numeric_limits<float>::signaling_NaN())));
    // The double overload rounds once: 1 + 2^-11 + 2^-40 is above the midpoint, but the nearest
    // float is the midpoint itself, which would tie down to 1.
    const double above_mid = 1.0 + 0x1p-11 + 0x1p-40;
    CHECK(to_fp16_bits(above_mid) == 0x3c01);
    CHECK(to_fp16_bits(static_cast<float>(above_mid)) == 0x3c00);
    CHECK(to_fp16_bits(65519.999999) == 0x7bff);
    CHECK(to_fp16_bits(1e300) == 0x7c00);
    CHECK(to_fp16_bits(-1e-300) == 0x8000);
    CHECK(round_fp16(0.1f) == 0x1.998p-4f);
    CHECK(from_fp16_bits(0x3555) == 0x1.554p-2f);
}

TEST_CASE("fp16: rounding agrees with a nearest-value search on random floats and doubles") {
    Rng g(21);
    Tally t;
    for (int n = 0; n < 1200000; ++n) {
        const float x = draw_float(g);
        const std::uint16_t got = to_fp16_bits(x);
        if (std::isnan(x)) {
            t.compare(got, 0x7e00, [&] { return "to_fp16_bits " + describe(x); });
            continue;
        }
        const std::uint16_t want = reference_bits(x);
        t.compare(got, want, [&] { return "to_fp16_bits " + describe(x); });
        const float r = round_fp16(x), rw = from_fp16_bits(want);
        const bool same = std::memcmp(&r, &rw, sizeof r) == 0;  // bit for bit: signed zeros too
        t.compare(same, true, [&] { return "round_fp16 " + describe(x); });
    }
    // Doubles: a float draw plus a perturbation below float precision, or any bit pattern.
    for (int n = 0; n < 300000; ++n) {
        double x = draw_float(g);
        if (g() % 4 == 0) {
            std::uint64_t b = g();
            std::memcpy(&x, &b, sizeof x);
        } else if (std::isfinite(x) && x != 0) {
            x += std::ldexp(x, -30 - static_cast<int>(g() % 20)) * (g() % 2 ? 1 : -1);
        }
        if (std::isnan(x)) continue;
        t.compare(to_fp16_bits(x), reference_bits(x), [&] {
            std::ostringstream s;
            s.precision(17);
            s << "to_fp16_bits(double) " << x;
            return s.str();
        });
    }
    t.require_clean();
}

namespace {

// FP16 operands: any bit pattern one time in four, otherwise finite values, often close to
// `near` in magnitude (cancellation, ties) or tiny.
std::uint16_t draw_half(Rng& g, std::uint16_t near) {
    switch (g() % 8) {
        case 0:
        case 1: return static_cast<std::uint16_t>(g());
        case 2:  // -near plus a few ULPs: cancellation
            return static_cast<std::uint16_t>(((near ^ 0x8000) & 0x8000) |
                                              std::min<int>(0x7bff, std::max<int>(0, (near & 0x7fff) + int(g() % 9) - 4)));
        case 3: return static_cast<std::uint16_t>((g() & 0x8000) | g() % 0x400);  // subnormal
        case 4: {  // same binade as near, or within 12 binades (exact sums near ties)
            const int e = std::clamp(int(near >> 10 & 0x1f) - int(g() % 13), 0, 30);
            return static_cast<std::uint16_t>((g() & 0x8000) | e << 10 | (g() & 0x3ff));
        }
        default: return static_cast<std::uint16_t>(g() % 0x7c00 | (g() & 0x8000));
    }
}

// IEEE results for non-finite operands, from double arithmetic: NaN stays NaN, inf keeps its sign.
std::uint16_t special(double v) { return std::isnan(v) ? 0x7e00 : std::signbit(v) ? 0xfc00 : 0x7c00; }

std::uint16_t reference_add(std::uint16_t a, std::uint16_t b) {
    if (!finite(a) || !finite(b)) return special(double(from_fp16_bits(a)) + from_fp16_bits(b));
    return reference_bits48((value24(a) + value24(b)) * kScale24, sign_of(a) && sign_of(b));
}

std::uint16_t reference_mul(std::uint16_t a, std::uint16_t b) {
    if (!finite(a) || !finite(b)) return special(double(from_fp16_bits(a)) * from_fp16_bits(b));
    const i128 p = value24(a) * value24(b);
    return reference_bits48(p, sign_of(a) != sign_of(b));  // the sign of a zero product too
}

std::uint16_t reference_fma(std::uint16_t a, std::uint16_t b, std::uint16_t c) {
    if (!finite(a) || !finite(b) || !finite(c))
        return special(double(from_fp16_bits(a)) * from_fp16_bits(b) + from_fp16_bits(c));
    const i128 p = value24(a) * value24(b), s = p + value24(c) * kScale24;
    // An exact zero sum is -0 only when both the product and c are zeros of negative sign.
    return reference_bits48(s, p == 0 && (sign_of(a) != sign_of(b)) && sign_of(c) && value24(c) == 0);
}

}  // namespace

TEST_CASE("fp16: add and mul are correctly rounded on random operands") {
    Rng g(22);
    Tally t;
    for (int n = 0; n < 1000000; ++n) {
        const auto a = static_cast<std::uint16_t>(g());
        const std::uint16_t b = draw_half(g, a);
        t.compare(fp16_add(a, b), reference_add(a, b), [&] { return "add " + hex(a) + " " + hex(b); });
        t.compare(fp16_mul(a, b), reference_mul(a, b), [&] { return "mul " + hex(a) + " " + hex(b); });
    }
    // Signed zeros.
    t.compare(fp16_add(0x8000, 0x8000), 0x8000, [] { return std::string("-0 + -0"); });
    t.compare(fp16_add(0x8000, 0x0000), 0x0000, [] { return std::string("-0 + 0"); });
    t.compare(fp16_add(0x3c00, 0xbc00), 0x0000, [] { return std::string("1 + -1"); });
    t.compare(fp16_mul(0x8001, 0x0001), 0x8000, [] { return std::string("-tiny * tiny"); });
    t.require_clean();
    CHECK(t.checks == 2000004);
}

TEST_CASE("fp16: fma is correctly rounded on random and adversarial operands") {
    Rng g(23);
    Tally t;
    for (int n = 0; n < 1000000; ++n) {
        const auto c = static_cast<std::uint16_t>(g());
        const std::uint16_t a = draw_half(g, c);
        std::uint16_t b = draw_half(g, c);
        if (n % 2 && finite(a) && finite(c) && (a & 0x7fff) != 0) {
            // b such that a·b is about half an ULP of c, or a random fraction of it: sums near ties.
            const double ulp = std::ldexp(1.0, std::max(int(c >> 10 & 0x1f), 1) - 25);
            b = to_fp16_bits(ulp / 2 / from_fp16_bits(a) * (1 + std::ldexp(double(int(g() % 64) - 32), -12)));
            b ^= static_cast<std::uint16_t>(g() & 0x8000);
        }
        t.compare(fp16_fma(a, b, c), reference_fma(a, b, c),
                  [&] { return "fma " + hex(a) + " " + hex(b) + " " + hex(c); });
    }
    // Where the double sum itself rounds (c large, a·b tiny): every finite c with the tiniest products.
    const std::uint16_t tiny[][2] = {{0x0001, 0x0001}, {0x8001, 0x0001}, {0x0003, 0x0005}, {0x83ff, 0x03ff},
                                     {0x0001, 0x3c00}, {0x0001, 0xbc01}, {0x0200, 0x0001}};
    for (std::uint32_t cb = 0; cb < 0x10000; ++cb) {
        const auto c = static_cast<std::uint16_t>(cb);
        for (const auto& ab : tiny)
            t.compare(fp16_fma(ab[0], ab[1], c), reference_fma(ab[0], ab[1], c),
                      [&] { return "fma " + hex(ab[0]) + " " + hex(ab[1]) + " " + hex(c); });
    }
    t.compare(fp16_fma(0x8000, 0x3c00, 0x8000), 0x8000, [] { return std::string("-0 * 1 + -0"); });
    t.compare(fp16_fma(0x3c00, 0x3c00, 0xbc00), 0x0000, [] { return std::string("1 * 1 - 1"); });
    t.require_clean();
}
