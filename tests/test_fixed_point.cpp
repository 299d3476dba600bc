// Fixed-point numerics (models/nmpu/fixed_point.*) against an independent reference: each result
// as an exact rational N/D (no alignment shifts), rounded by dividing and comparing twice the
// remainder with D, where the implementation shifts a 256-bit integer and inspects bits.
// Exhaustive for formats up to 8 bits (__int128 reference), random up to 64 bits
// (boost::multiprecision::cpp_int reference).
#include <catch2/catch.hpp>

#include <boost/multiprecision/cpp_int.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/nmpu/fixed_point.hpp"
#include "sim/errors.hpp"

using namespace aimc;
using BigInt = boost::multiprecision::cpp_int;
using i128 = __int128;

namespace {

constexpr Rounding kRoundings[] = {Rounding::NearestEven, Rounding::NearestUp, Rounding::Truncate};
constexpr Overflow kOverflows[] = {Overflow::Saturate, Overflow::Wrap};

std::vector<FixedFormat> formats_up_to(int width) {
    std::vector<FixedFormat> v;
    for (int w = 1; w <= width; ++w)
        for (int i = 1; i <= w; ++i) v.push_back({i, w - i});
    return v;
}


// ---- the reference: exact rationals ----

template <class Int>
struct Rational {
    Int n, d;  // value n / d, d > 0
};

template <class Int>
Int pow2(int k) {
    return Int(1) << k;
}

template <class Int>
Rational<Int> value(std::int64_t raw, FixedFormat f) {
    return {Int(raw), pow2<Int>(f.fraction_bits)};
}
template <class Int>
Rational<Int> operator+(const Rational<Int>& a, const Rational<Int>& b) {
    return {a.n * b.d + b.n * a.d, a.d * b.d};
}
template <class Int>
Rational<Int> operator-(const Rational<Int>& a) {
    return {-a.n, a.d};
}
template <class Int>
Rational<Int> operator*(const Rational<Int>& a, const Rational<Int>& b) {
    return {a.n * b.n, a.d * b.d};
}

std::int64_t to_i64(std::int64_t v) { return v; }
std::int64_t to_i64(const BigInt& v) { return v.convert_to<std::int64_t>(); }

struct Expect {
    std::int64_t raw;
    bool overflowed;
};

struct Reference {
    Expect at[3][2];  // [rounding][overflow], in the order of kRoundings and kOverflows
    bool tie = false, inexact = false;
};

// x rounded into `out` for every mode: q = floor(x·2^F), r = remainder, then 2r against d.
template <class Int>
Reference reference(const Rational<Int>& x, FixedFormat out) {
    const Int t = x.n * pow2<Int>(out.fraction_bits);
    Int q = t / x.d, r = t % x.d;  // toward zero
    if (r < 0) q -= 1, r += x.d;
    const Int twice = r * 2;
    Reference ref;
    ref.tie = twice == x.d;
    ref.inexact = r != 0;
    const Int rounded[3] = {twice > x.d || (ref.tie && q % 2 != 0) ? q + 1 : q, twice >= x.d ? q + 1 : q, q};
    const Int lo(out.min_raw()), hi(out.max_raw()), modulus = pow2<Int>(out.width());
    for (int i = 0; i < 3; ++i) {
        const Int& v = rounded[i];
        const bool over = v < lo || v > hi;
        Int wrapped = (v - lo) % modulus;
        if (wrapped < 0) wrapped += modulus;
        ref.at[i][0] = {to_i64(over ? (v < lo ? lo : hi) : v), over};
        ref.at[i][1] = {to_i64(wrapped + lo), over};
    }
    return ref;
}

// Failures are counted, not CHECKed one by one (millions of comparisons); the first few are kept.
struct Tally {
    std::uint64_t checks = 0, failures = 0, ties = 0, inexact = 0, overflows = 0;
    std::string first;

    // impl(rounding, overflow, &overflowed) -> raw; what() describes the case.
    template <class Impl, class What>
    void compare(const Reference& ref, Impl&& impl, What&& what) {
        ties += ref.tie;
        inexact += ref.inexact;
        overflows += ref.at[0][0].overflowed;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 2; ++j) {
                bool over = !ref.at[i][j].overflowed;
                const std::int64_t got = impl(kRoundings[i], kOverflows[j], &over);
                ++checks;
                if (got != ref.at[i][j].raw || over != ref.at[i][j].overflowed) {
                    if (++failures <= 5) {
                        std::ostringstream s;
                        s << what() << " " << rounding_name(kRoundings[i]) << " " << overflow_name(kOverflows[j])
                          << ": got " << got << (over ? " (overflowed)" : "") << ", want " << ref.at[i][j].raw
                          << (ref.at[i][j].overflowed ? " (overflowed)" : "") << "\n";
                        first += s.str();
                    }
                }
            }
    }
    void require_clean() const {
        INFO(first);
        INFO("checks " << checks << ", ties " << ties << ", inexact " << inexact << ", overflows " << overflows);
        REQUIRE(failures == 0);
    }
};

std::string show(std::int64_t raw, FixedFormat f) { return std::to_string(raw) + " " + f.describe(); }

// ---- random draws for wide formats ----

using Rng = std::mt19937_64;

int uniform(Rng& g, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }

FixedFormat draw_format(Rng& g) {
    const int w = uniform(g, 1, 64);
    const int i = uniform(g, 1, w);
    return {i, w - i};
}

// Extremes one time in six; otherwise a random bit string of random length shifted left by a
// random amount (trailing zeros make exact ties common), read as a width-bit two's complement.
std::int64_t draw_raw(Rng& g, FixedFormat f) {
    const int w = f.width();
    if (g() % 6 == 0) {
        const std::int64_t picks[] = {f.min_raw(), f.max_raw(), f.min_raw() + 1, f.max_raw() - 1, 0, 1, -1};
        const std::int64_t v = picks[g() % 7];
        return std::min(std::max(v, f.min_raw()), f.max_raw());
    }
    const int len = uniform(g, 0, w), shift = uniform(g, 0, w - 1);
    const std::uint64_t bits = len == 0 ? 0 : (g() >> (64 - len)) << shift;
    return static_cast<std::int64_t>(bits << (64 - w)) >> (64 - w);
}

// Results of a random test must have exercised ties, inexact results, overflow and its absence.
void require_coverage(const Tally& t) {
    INFO("checks " << t.checks << ", ties " << t.ties << ", inexact " << t.inexact << ", overflows " << t.overflows);
    const std::uint64_t cases = t.checks / 6;
    CHECK(t.ties > cases / 200);
    CHECK(t.inexact > cases / 10);
    CHECK(t.overflows > cases / 20);
    CHECK(t.overflows < cases - cases / 10);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("fixed: format properties and validation messages") {
    FixedFormat q{4, 12};
    CHECK(q.width() == 16);
    CHECK(q.describe() == "Q4.12");
    CHECK(q.min_raw() == -32768);
    CHECK(q.max_raw() == 32767);
    CHECK(q.lsb() == 1.0 / 4096);
    CHECK(q.min_value() == -8.0);
    CHECK(q.max_value() == 8.0 - 1.0 / 4096);
    FixedFormat sign_only{1, 0};
    CHECK(sign_only.min_raw() == -1);
    CHECK(sign_only.max_raw() == 0);
    FixedFormat frac{1, 7};
    CHECK(frac.min_value() == -1.0);
    CHECK(frac.max_value() == 1.0 - 1.0 / 128);
    FixedFormat wide{64, 0};
    CHECK(wide.min_raw() == std::numeric_limits<std::int64_t>::min());
    CHECK(wide.max_raw() == std::numeric_limits<std::int64_t>::max());
    CHECK(FixedFormat{1, 63}.lsb() == std::ldexp(1.0, -63));

    CHECK(!FixedFormat::invalid(1, 0));
    CHECK(!FixedFormat::invalid(64, 0));
    CHECK(!FixedFormat::invalid(1, 63));
    CHECK(FixedFormat::invalid(0, 4) == std::string("integer bits must be >= 1 (the sign bit)"));
    CHECK(FixedFormat::invalid(-3, 4) == std::string("integer bits must be >= 1 (the sign bit)"));
    CHECK(FixedFormat::invalid(4, -1) == std::string("fraction bits must be >= 0"));
    CHECK(FixedFormat::invalid(40, 30) == std::string("width 70 exceeds 64 bits"));
    CHECK(FixedFormat::invalid(1, 64) == std::string("width 65 exceeds 64 bits"));
    CHECK(FixedFormat::invalid(std::numeric_limits<int>::max(), std::numeric_limits<int>::max()) ==
          std::string("width 4294967294 exceeds 64 bits"));

    for (Rounding r : kRoundings) CHECK(parse_rounding(rounding_name(r)) == r);
    CHECK(std::string(rounding_name(Rounding::NearestEven)) == "nearest-even");
    CHECK(std::string(rounding_name(Rounding::NearestUp)) == "nearest-up");
    CHECK(std::string(rounding_name(Rounding::Truncate)) == "truncate");
    CHECK(!parse_rounding("nearest"));
    CHECK(!parse_rounding("Truncate"));
    CHECK(parse_overflow("saturate") == Overflow::Saturate);
    CHECK(parse_overflow("wrap") == Overflow::Wrap);
    CHECK(!parse_overflow("clamp"));
}

TEST_CASE("fixed: misuse is an internal error") {
    const auto R = Rounding::NearestEven;
    const auto O = Overflow::Saturate;
    CHECK_THROWS_AS(convert(0, {0, 4}, {4, 4}, R, O), InternalError);
    CHECK_THROWS_AS(convert(0, {4, 4}, {40, 30}, R, O), InternalError);
    CHECK_THROWS_AS(convert(128, {4, 4}, {8, 8}, R, O), InternalError);  // raw outside Q4.4
    CHECK_THROWS_AS(add({-129, {4, 4}}, {0, {4, 4}}, {8, 8}, R, O), InternalError);
    CHECK_THROWS_AS(from_real(std::nan(""), {4, 4}, R, O), InternalError);
    CHECK_THROWS_AS(from_real(INFINITY, {4, -1}, R, O), InternalError);
    CHECK_THROWS_AS(clipped_relu({5, {4, 4}}, -1), InternalError);
    CHECK_THROWS_AS(clipped_relu({5, {4, 4}}, 128), InternalError);
    CHECK_THROWS_AS(max_of(nullptr, 0), InternalError);
    CHECK_THROWS_AS(average(nullptr, 0, {4, 4}, {4, 4}, R, O), InternalError);
    const std::int64_t bad[] = {1, 200};
    CHECK_THROWS_AS(average(bad, 2, {4, 4}, {4, 4}, R, O), InternalError);
}

TEST_CASE("fixed: from_real ties huge values and wrap by hand") {
    const FixedFormat q44{4, 4};  // LSB 1/16, raw -128..127
    const auto NE = Rounding::NearestEven, NU = Rounding::NearestUp, TR = Rounding::Truncate;
    const auto SAT = Overflow::Saturate, WRAP = Overflow::Wrap;
    struct Case {
        double lsbs;  // value in LSBs
        std::int64_t ne, nu, tr;
    };
    for (const Case& c : {Case{2.5, 2, 3, 2}, Case{3.5, 4, 4, 3}, Case{-2.5, -2, -2, -3}, Case{-3.5, -4, -3, -4},
                          Case{0.5, 0, 1, 0}, Case{-0.5, 0, 0, -1}, Case{2.4999, 2, 2, 2}, Case{-2.5001, -3, -3, -3},
                          Case{-0.0001, 0, 0, -1}, Case{126.5, 126, 127, 126}, Case{-127.5, -128, -127, -128}}) {
        INFO("lsbs " << c.lsbs);
        const double v = c.lsbs / 16;
        CHECK(from_real(v, q44, NE, SAT) == c.ne);
        CHECK(from_real(v, q44, NU, SAT) == c.nu);
        CHECK(from_real(v, q44, TR, SAT) == c.tr);
    }
    bool over = false;
    CHECK(from_real(127.5 / 16, q44, NE, SAT, &over) == 127);  // 128 rounds past the top
    CHECK(over);
    CHECK(from_real(127.5 / 16, q44, NE, WRAP, &over) == -128);
    CHECK(over);
    CHECK(from_real(127.5 / 16, q44, TR, WRAP, &over) == 127);
    CHECK(!over);
    CHECK(from_real(9.5, q44, NE, SAT, &over) == 127);
    CHECK(over);
    CHECK(from_real(9.5, q44, NE, WRAP) == 152 - 256);
    CHECK(from_real(-8.0, q44, NE, SAT, &over) == -128);
    CHECK(!over);
    CHECK(from_real(-8.0625, q44, NE, WRAP) == 127);
    CHECK(from_real(-8.0625, q44, NE, SAT) == -128);
    for (Overflow o : kOverflows) {
        CHECK(from_real(INFINITY, q44, NE, o, &over) == 127);
        CHECK(over);
        CHECK(from_real(-INFINITY, q44, NE, o, &over) == -128);
        CHECK(over);
    }
    CHECK(from_real(1e300, q44, NE, SAT) == 127);
    CHECK(from_real(-1e300, q44, NE, SAT) == -128);
    CHECK(from_real(1e300, q44, NE, WRAP, &over) == 0);  // a multiple of 2^900: low bits all zero
    CHECK(over);
    CHECK(from_real(-0.0, q44, NE, SAT, &over) == 0);
    CHECK(!over);
    // Far below the LSB only the sign survives: floor of a tiny negative value is -1.
    CHECK(from_real(5e-324, q44, TR, SAT) == 0);
    CHECK(from_real(-5e-324, q44, TR, SAT) == -1);
    CHECK(from_real(-5e-324, q44, NE, SAT) == 0);
    CHECK(from_real(-5e-324, q44, NU, SAT) == 0);
    // 64-bit edges.
    const FixedFormat q64{64, 0}, q1_63{1, 63};
    CHECK(from_real(std::ldexp(1.0, 63), q64, NE, SAT, &over) == std::numeric_limits<std::int64_t>::max());
    CHECK(over);
    CHECK(from_real(std::ldexp(1.0, 63), q64, NE, WRAP) == std::numeric_limits<std::int64_t>::min());
    CHECK(from_real(-std::ldexp(1.0, 63), q64, NE, SAT, &over) == std::numeric_limits<std::int64_t>::min());
    CHECK(!over);
    CHECK(from_real(std::ldexp(1.0, 64) + std::ldexp(1.0, 12), q64, NE, WRAP) == 4096);
    CHECK(from_real(1.0, q1_63, NE, SAT) == std::numeric_limits<std::int64_t>::max());
    for (Overflow o : kOverflows) {  // -1 is exactly the minimum: no overflow
        CHECK(from_real(-1.0, q1_63, NE, o, &over) == std::numeric_limits<std::int64_t>::min());
        CHECK(!over);
        CHECK(convert(-1, {1, 0}, q1_63, NE, o, &over) == std::numeric_limits<std::int64_t>::min());
        CHECK(!over);
        CHECK(mul({-1, {1, 0}}, {-1, {1, 0}}, {2, 62}, NE, o, &over) == std::int64_t(1) << 62);
        CHECK(!over);
    }
    CHECK(convert(1, {2, 0}, q1_63, NE, WRAP, &over) == std::numeric_limits<std::int64_t>::min());
    CHECK(over);
    CHECK(from_real(0.75, q1_63, NE, SAT) == std::int64_t(3) << 61);
    CHECK(to_real(std::int64_t(3) << 61, q1_63) == 0.75);
    CHECK(to_real(-3, q44) == -0.1875);
}

TEST_CASE("fixed: convert exhaustive between all formats up to 8 bits") {
    const auto formats = formats_up_to(8);
    Tally t;
    for (FixedFormat from : formats)
        for (FixedFormat to : formats)
            for (std::int64_t a = from.min_raw(); a <= from.max_raw(); ++a)
                t.compare(
                    reference(value<std::int64_t>(a, from), to),
                    [&](Rounding r, Overflow o, bool* ov) { return convert(a, from, to, r, o, ov); },
                    [&] { return "convert " + show(a, from) + " to " + to.describe(); });
    t.require_clean();
    CHECK(t.checks == 6 * 36 * 3586);
}

// Exhaustive binary operations over every raw pair of the input formats, into each output format,
// in every rounding and overflow mode. impl(a, b, out, rounding, overflow, overflowed);
// ref(a, b) -> the exact Rational.
template <class Impl, class Ref>
Tally exhaustive_binary(const std::vector<FixedFormat>& fas, const std::vector<FixedFormat>& fbs,
                        const std::vector<FixedFormat>& outs, Impl impl, Ref ref, bool same_format) {
    Tally t;
    for (FixedFormat fa : fas)
        for (FixedFormat fb : fbs) {
            if (same_format && fa != fb) continue;
            for (FixedFormat fo : outs)
                for (std::int64_t a = fa.min_raw(); a <= fa.max_raw(); ++a)
                    for (std::int64_t b = fb.min_raw(); b <= fb.max_raw(); ++b)
                        t.compare(
                            reference(ref(value<std::int64_t>(a, fa), value<std::int64_t>(b, fb)), fo),
                            [&](Rounding r, Overflow o, bool* ov) { return impl(Fixed{a, fa}, Fixed{b, fb}, fo, r, o, ov); },
                            [&] { return show(a, fa) + " op " + show(b, fb) + " into " + fo.describe(); });
        }
    return t;
}

// Both inputs in one format, each format up to 8 bits, into every split of 8 bits.
template <class Impl, class Ref>
void exhaustive_same_format(Impl impl, Ref ref) {
    std::vector<FixedFormat> outs;
    for (FixedFormat f : formats_up_to(8))
        if (f.width() == 8) outs.push_back(f);
    const auto ins = formats_up_to(8);
    Tally t = exhaustive_binary(ins, ins, outs, impl, ref, true);
    t.require_clean();
    CHECK(t.checks == 6 * outs.size() * 669924);  // sum over formats of 4^width
}

// Every pair of input formats up to 5 bits into every output format up to 6 bits.
template <class Impl, class Ref>
void exhaustive_mixed_formats(Impl impl, Ref ref) {
    const auto ins = formats_up_to(5);
    Tally t = exhaustive_binary(ins, ins, formats_up_to(6), impl, ref, false);
    t.require_clean();
    CHECK(t.checks == 6 * 21 * 258 * 258);
}

using R64 = Rational<std::int64_t>;
const auto add_impl = [](Fixed a, Fixed b, FixedFormat o, Rounding r, Overflow v, bool* ov) { return add(a, b, o, r, v, ov); };
const auto sub_impl = [](Fixed a, Fixed b, FixedFormat o, Rounding r, Overflow v, bool* ov) { return sub(a, b, o, r, v, ov); };
const auto mul_impl = [](Fixed a, Fixed b, FixedFormat o, Rounding r, Overflow v, bool* ov) { return mul(a, b, o, r, v, ov); };
const auto add_ref = [](const R64& a, const R64& b) { return a + b; };
const auto sub_ref = [](const R64& a, const R64& b) { return a + -b; };
const auto mul_ref = [](const R64& a, const R64& b) { return a * b; };

TEST_CASE("fixed: add exhaustive in one format up to 8 bits") { exhaustive_same_format(add_impl, add_ref); }
TEST_CASE("fixed: add exhaustive over mixed formats up to 5 bits") { exhaustive_mixed_formats(add_impl, add_ref); }
TEST_CASE("fixed: sub exhaustive in one format up to 8 bits") { exhaustive_same_format(sub_impl, sub_ref); }
TEST_CASE("fixed: sub exhaustive over mixed formats up to 5 bits") { exhaustive_mixed_formats(sub_impl, sub_ref); }
TEST_CASE("fixed: mul exhaustive in one format up to 8 bits") { exhaustive_same_format(mul_impl, mul_ref); }
TEST_CASE("fixed: mul exhaustive over mixed formats up to 5 bits") { exhaustive_mixed_formats(mul_impl, mul_ref); }

TEST_CASE("fixed: mul_add exhaustive a and b up to 8 bits with sampled c") {
    // Every (a, b) pair of every format up to 8 bits; c and the output format vary with the pair:
    // c's format runs through all formats up to 8 bits, c through its raws, the output through
    // every split of 8 and of 4 bits.
    const auto formats = formats_up_to(8);
    std::vector<FixedFormat> outs;
    for (FixedFormat f : formats)
        if (f.width() == 8 || f.width() == 4) outs.push_back(f);
    Tally t;
    std::uint64_t k = 0;
    for (FixedFormat f : formats)
        for (std::int64_t a = f.min_raw(); a <= f.max_raw(); ++a)
            for (std::int64_t b = f.min_raw(); b <= f.max_raw(); ++b)
                for (int rep = 0; rep < 2; ++rep, ++k) {
                    const FixedFormat fc = formats[k % formats.size()], fo = outs[k % 11 % outs.size()];
                    const std::int64_t c = fc.min_raw() + static_cast<std::int64_t>(k * 7919 % (std::uint64_t(1) << fc.width()));
                    t.compare(
                        reference(value<std::int64_t>(a, f) * value<std::int64_t>(b, f) + value<std::int64_t>(c, fc), fo),
                        [&](Rounding r, Overflow o, bool* ov) { return mul_add({a, f}, {b, f}, {c, fc}, fo, r, o, ov); },
                        [&] { return show(a, f) + " * " + show(b, f) + " + " + show(c, fc) + " into " + fo.describe(); });
                }
    t.require_clean();
    CHECK(t.checks == 6 * 2 * 669924);
}

// Every (a, b, c) over formats up to `width` bits into each of `outs`.
Tally exhaustive_mul_add(int width, const std::vector<FixedFormat>& outs) {
    const auto ins = formats_up_to(width);
    Tally t;
    for (FixedFormat fa : ins)
        for (FixedFormat fb : ins)
            for (FixedFormat fc : ins)
                for (FixedFormat fo : outs)
                    for (std::int64_t a = fa.min_raw(); a <= fa.max_raw(); ++a)
                        for (std::int64_t b = fb.min_raw(); b <= fb.max_raw(); ++b)
                            for (std::int64_t c = fc.min_raw(); c <= fc.max_raw(); ++c)
                                t.compare(
                                    reference(value<std::int64_t>(a, fa) * value<std::int64_t>(b, fb) +
                                                  value<std::int64_t>(c, fc),
                                              fo),
                                    [&](Rounding r, Overflow o, bool* ov) { return mul_add({a, fa}, {b, fb}, {c, fc}, fo, r, o, ov); },
                                    [&] {
                                        return show(a, fa) + " * " + show(b, fb) + " + " + show(c, fc) + " into " +
                                               fo.describe();
                                    });
    return t;
}

TEST_CASE("fixed: mul_add exhaustive over all triples up to 4 bits") {
    std::vector<FixedFormat> outs4;
    for (FixedFormat f : formats_up_to(4))
        if (f.width() == 4) outs4.push_back(f);
    Tally t = exhaustive_mul_add(4, outs4);  // every split of 4 bits
    t.require_clean();
    CHECK(t.checks == 6 * 4 * 98 * 98 * 98);
    t = exhaustive_mul_add(3, formats_up_to(5));  // every output format up to 5 bits
    t.require_clean();
    CHECK(t.checks == 6 * 15 * 34 * 34 * 34);
}

TEST_CASE("fixed: activations exhaustive up to 8 bits") {
    const auto formats = formats_up_to(8), slopes = formats_up_to(4);
    std::vector<FixedFormat> outs;
    for (FixedFormat f : formats)
        if (f.width() == 8) outs.push_back(f);
    Tally t;
    for (FixedFormat f : formats)
        for (std::int64_t x = f.min_raw(); x <= f.max_raw(); ++x) {
            CHECK(relu({x, f}) == std::max<std::int64_t>(x, 0));
            for (std::int64_t ceiling = 0; ceiling <= f.max_raw(); ++ceiling)
                if (clipped_relu({x, f}, ceiling) != std::min(std::max<std::int64_t>(x, 0), ceiling))
                    FAIL("clipped_relu " << show(x, f) << " ceiling " << ceiling);
            for (FixedFormat fs : slopes)
                for (std::int64_t s = fs.min_raw(); s <= fs.max_raw(); ++s)
                    for (FixedFormat fo : outs) {
                        const R64 vx = value<std::int64_t>(x, f);
                        t.compare(
                            reference(x >= 0 ? vx : vx * value<std::int64_t>(s, fs), fo),
                            [&](Rounding r, Overflow o, bool* ov) { return leaky_relu({x, f}, {s, fs}, fo, r, o, ov); },
                            [&] { return "leaky_relu " + show(x, f) + " slope " + show(s, fs) + " into " + fo.describe(); });
                    }
        }
    t.require_clean();
    const std::int64_t xs[] = {-5, 3, -128, 17, 3};
    CHECK(max_of(xs, 5) == 17);
    CHECK(max_of(xs, 1) == -5);
    CHECK(max_of(xs + 2, 1) == -128);
}

TEST_CASE("fixed: average exhaustive over counts 1 to 10 up to 6 bits") {
    // The average depends on the sum only: every reachable sum of n values, as n values.
    const auto formats = formats_up_to(6);
    Tally t;
    std::vector<std::int64_t> xs;
    for (FixedFormat fi : formats)
        for (FixedFormat fo : formats)
            for (std::int64_t n = 1; n <= 10; ++n)
                for (std::int64_t total = n * fi.min_raw(); total <= n * fi.max_raw(); ++total) {
                    const std::int64_t base = total >= 0 ? total / n : -((-total + n - 1) / n);  // floor
                    xs.assign(static_cast<std::size_t>(n), base);
                    for (std::int64_t i = 0; i < total - base * n; ++i) ++xs[static_cast<std::size_t>(i)];
                    t.compare(
                        reference(R64{total, n << fi.fraction_bits}, fo),
                        [&](Rounding r, Overflow o, bool* ov) { return average(xs.data(), xs.size(), fi, fo, r, o, ov); },
                        [&] { return "average of " + std::to_string(n) + " summing to " + show(total, fi) + " into " + fo.describe(); });
                }
    t.require_clean();
    CHECK(t.ties > 0);
}

// ---- random, up to 64 bits, against cpp_int ----

// An output format near (integer_bits, fraction_bits) of the exact result, so that rounding,
// ties and overflow all occur; one time in four any format.
FixedFormat draw_out(Rng& g, int integer_bits, int fraction_bits) {
    if (g() % 4 == 0) return draw_format(g);
    const int i = std::clamp(integer_bits + uniform(g, -3, 1), 1, 64);
    return {i, std::clamp(fraction_bits + uniform(g, -10, 1), 0, 64 - i)};
}

using Big = Rational<BigInt>;
Big big(std::int64_t raw, FixedFormat f) { return value<BigInt>(raw, f); }

TEST_CASE("fixed: convert random up to 64 bits") {
    Rng g(11);
    Tally t;
    for (int i = 0; i < 300000; ++i) {
        const FixedFormat from = draw_format(g), to = draw_out(g, from.integer_bits, from.fraction_bits);
        const std::int64_t a = draw_raw(g, from);
        t.compare(
            reference(big(a, from), to), [&](Rounding r, Overflow o, bool* ov) { return convert(a, from, to, r, o, ov); },
            [&] { return "convert " + show(a, from) + " to " + to.describe(); });
    }
    t.require_clean();
    require_coverage(t);
}

TEST_CASE("fixed: add and sub random up to 64 bits") {
    Rng g(12);
    Tally t;
    for (int i = 0; i < 300000; ++i) {
        const FixedFormat fa = draw_format(g), fb = draw_format(g);
        const FixedFormat fo = draw_out(g, std::max(fa.integer_bits, fb.integer_bits) + 1,
                                        std::max(fa.fraction_bits, fb.fraction_bits));
        const std::int64_t a = draw_raw(g, fa), b = draw_raw(g, fb);
        const bool minus = i % 2 != 0;
        t.compare(
            reference(minus ? big(a, fa) + -big(b, fb) : big(a, fa) + big(b, fb), fo),
            [&](Rounding r, Overflow o, bool* ov) {
                return minus ? sub({a, fa}, {b, fb}, fo, r, o, ov) : add({a, fa}, {b, fb}, fo, r, o, ov);
            },
            [&] { return show(a, fa) + (minus ? " - " : " + ") + show(b, fb) + " into " + fo.describe(); });
    }
    t.require_clean();
    require_coverage(t);
}

TEST_CASE("fixed: mul random up to 64 bits") {
    Rng g(13);
    Tally t;
    for (int i = 0; i < 250000; ++i) {
        const FixedFormat fa = draw_format(g), fb = draw_format(g);
        const FixedFormat fo = draw_out(g, fa.integer_bits + fb.integer_bits, fa.fraction_bits + fb.fraction_bits);
        const std::int64_t a = draw_raw(g, fa), b = draw_raw(g, fb);
        t.compare(
            reference(big(a, fa) * big(b, fb), fo),
            [&](Rounding r, Overflow o, bool* ov) { return mul({a, fa}, {b, fb}, fo, r, o, ov); },
            [&] { return show(a, fa) + " * " + show(b, fb) + " into " + fo.describe(); });
    }
    t.require_clean();
    require_coverage(t);
}

TEST_CASE("fixed: mul_add random up to 64 bits") {
    Rng g(14);
    Tally t;
    for (int i = 0; i < 250000; ++i) {
        const FixedFormat fa = draw_format(g), fb = draw_format(g), fc = draw_format(g);
        const FixedFormat fo = draw_out(g, std::max(fa.integer_bits + fb.integer_bits, fc.integer_bits),
                                        std::max(fa.fraction_bits + fb.fraction_bits, fc.fraction_bits));
        const std::int64_t a = draw_raw(g, fa), b = draw_raw(g, fb), c = draw_raw(g, fc);
        t.compare(
            reference(big(a, fa) * big(b, fb) + big(c, fc), fo),
            [&](Rounding r, Overflow o, bool* ov) { return mul_add({a, fa}, {b, fb}, {c, fc}, fo, r, o, ov); },
            [&] { return show(a, fa) + " * " + show(b, fb) + " + " + show(c, fc) + " into " + fo.describe(); });
    }
    t.require_clean();
    require_coverage(t);
}

// The exact value of a double, read from its bit fields (the implementation uses frexp).
Big exact(double v) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    const int e = static_cast<int>(bits >> 52 & 0x7ff);
    BigInt n = bits & ((std::uint64_t(1) << 52) - 1);
    if (e != 0) n += BigInt(1) << 52;
    if (bits >> 63) n = -n;
    const int exponent = (e != 0 ? e : 1) - 1075;
    return exponent >= 0 ? Big{n << exponent, 1} : Big{n, pow2<BigInt>(-exponent)};
}

// A finite double for format f: an exact tie one time in four, any bit pattern one time in four,
// else a random significand near f's range.
double draw_double(Rng& g, FixedFormat f) {
    const int F = f.fraction_bits;
    switch (g() % 4) {
        case 0: {
            const int len = uniform(g, 0, 51);
            const auto m = static_cast<std::int64_t>(len == 0 ? 0 : g() >> (64 - len));
            return std::ldexp(static_cast<double>(g() % 2 ? 2 * m + 1 : -2 * m - 1), -F - 1);
        }
        case 1:
            for (;;) {
                std::uint64_t bits = g();
                double v = 0;
                std::memcpy(&v, &bits, sizeof v);
                if (std::isfinite(v)) return v;
            }
        default: {
            const int len = uniform(g, 1, 53);
            const double m = static_cast<double>((g() >> (64 - len)) | std::uint64_t(1) << (len - 1));
            return std::ldexp(g() % 2 ? m : -m, uniform(g, -F - len - 4, f.integer_bits + 2 - len));
        }
    }
}

TEST_CASE("fixed: from_real random up to 64 bits") {
    Rng g(15);
    Tally t;
    for (int i = 0; i < 300000; ++i) {
        const FixedFormat f = draw_format(g);
        const double v = draw_double(g, f);
        t.compare(
            reference(exact(v), f), [&](Rounding r, Overflow o, bool* ov) { return from_real(v, f, r, o, ov); },
            [&] {
                std::ostringstream s;
                s.precision(17);
                s << "from_real " << v << " into " << f.describe();
                return s.str();
            });
    }
    t.require_clean();
    require_coverage(t);
}

TEST_CASE("fixed: average random up to 64 bits") {
    Rng g(16);
    Tally t;
    std::vector<std::int64_t> xs;
    for (int i = 0; i < 40000; ++i) {
        const FixedFormat fi = draw_format(g), fo = draw_out(g, fi.integer_bits, fi.fraction_bits);
        const int n = g() % 10 == 0 ? uniform(g, 100, 1000) : uniform(g, 1, 12);
        xs.resize(static_cast<std::size_t>(n));
        BigInt total = 0;
        for (auto& x : xs) total += x = draw_raw(g, fi);
        t.compare(
            reference(Big{total, BigInt(n) << fi.fraction_bits}, fo),
            [&](Rounding r, Overflow o, bool* ov) { return average(xs.data(), xs.size(), fi, fo, r, o, ov); },
            [&] { return "average of " + std::to_string(n) + " in " + fi.describe() + " into " + fo.describe(); });
    }
    t.require_clean();
    INFO("ties " << t.ties << ", inexact " << t.inexact << ", overflows " << t.overflows);
    CHECK(t.ties > 100);
    CHECK(t.inexact > 10000);
    CHECK(t.overflows > 1000);
    // Sums past 64 bits.
    const FixedFormat q64{64, 0};
    xs.assign(1000, q64.max_raw());
    CHECK(average(xs.data(), xs.size(), q64, q64, Rounding::NearestEven, Overflow::Saturate) == q64.max_raw());
    xs.assign(7, q64.min_raw());
    CHECK(average(xs.data(), xs.size(), q64, {1, 63}, Rounding::Truncate, Overflow::Wrap) == 0);
}
