// Fixed-point numerics: every operation builds its exact result as a 256-bit integer with some
// number of fraction bits and hands it to quantize(), the one routine that rounds and handles
// overflow. 256 bits hold every exact intermediate: a·b + c with 64-bit operands aligned to a
// common fraction needs at most 191 bits.
#include "models/nmpu/fixed_point.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "sim/errors.hpp"

namespace aimc {

namespace {

using i128 = __int128;
using u128 = unsigned __int128;

// 256-bit two's complement, value = hi·2^128 + lo with hi read as signed. Arithmetic is modulo 2^256.
struct Wide {
    u128 lo = 0, hi = 0;
    Wide() = default;
    explicit Wide(i128 v) : lo(static_cast<u128>(v)), hi(v < 0 ? ~u128(0) : 0) {}
    bool negative() const { return static_cast<i128>(hi) < 0; }
    bool is_zero() const { return lo == 0 && hi == 0; }
    bool operator!=(const Wide& o) const { return lo != o.lo || hi != o.hi; }
    bool bit(int i) const { return ((i < 128 ? lo >> i : hi >> (i - 128)) & 1) != 0; }
    bool any_low(int n) const {  // any of the lowest n bits set, 0 <= n < 256
        if (n <= 128) return n > 0 && (n == 128 ? lo : lo << (128 - n)) != 0;
        return lo != 0 || (hi << (256 - n)) != 0;
    }
};

Wide operator+(Wide a, Wide b) {
    Wide r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}

Wide negate(Wide v) {
    Wide r;
    r.lo = ~v.lo + 1;
    r.hi = ~v.hi + (r.lo == 0);
    return r;
}

Wide shl(Wide v, int s) {  // 0 <= s < 128, modulo 2^256
    if (s == 0) return v;
    Wide r;
    r.hi = v.hi << s | v.lo >> (128 - s);
    r.lo = v.lo << s;
    return r;
}

Wide sar(Wide v, int s) {  // floor(v / 2^s), 0 <= s < 256
    if (s == 0) return v;
    const i128 h = static_cast<i128>(v.hi);
    Wide r;
    if (s < 128) {
        r.lo = v.lo >> s | v.hi << (128 - s);
        r.hi = static_cast<u128>(h >> s);
    } else {
        r.lo = static_cast<u128>(h >> (s - 128));
        r.hi = static_cast<u128>(h >> 127);
    }
    return r;
}

// floor(v / n) for n >= 1, by long division of the magnitude in 64-bit limbs.
Wide floor_div(Wide v, std::uint64_t n, bool* inexact) {
    const bool neg = v.negative();
    const Wide m = neg ? negate(v) : v;
    std::uint64_t limb[4] = {static_cast<std::uint64_t>(m.lo), static_cast<std::uint64_t>(m.lo >> 64),
                             static_cast<std::uint64_t>(m.hi), static_cast<std::uint64_t>(m.hi >> 64)};
    u128 rem = 0;
    for (int i = 3; i >= 0; --i) {
        const u128 cur = rem << 64 | limb[i];
        limb[i] = static_cast<std::uint64_t>(cur / n);
        rem = cur % n;
    }
    Wide q;
    q.lo = u128(limb[1]) << 64 | limb[0];
    q.hi = u128(limb[3]) << 64 | limb[2];
    *inexact = rem != 0;
    if (!neg) return q;
    return rem ? negate(q) + Wide(-1) : negate(q);  // toward -infinity
}

// v / 2^k (k >= 1) rounded to an integer.
Wide round_shift(Wide v, int k, Rounding r) {
    // |v| <= 2^255 < 2^k: only the sign still matters (even -2^255 / 2^256, a tie, rounds alike).
    if (k > 255) {
        v = Wide(v.negative() ? -1 : v.is_zero() ? 0 : 1);
        k = 255;
    }
    const Wide q = sar(v, k);
    const bool half = v.bit(k - 1), below = v.any_low(k - 1);
    bool up = false;
    switch (r) {
        case Rounding::NearestEven: up = half && (below || q.bit(0)); break;
        case Rounding::NearestUp: up = half; break;
        case Rounding::Truncate: break;
    }
    return up ? q + Wide(1) : q;
}

bool valid(FixedFormat f) {  // FixedFormat::invalid without building a message
    return f.integer_bits >= 1 && f.fraction_bits >= 0 && f.integer_bits <= 64 - f.fraction_bits;
}

[[noreturn]] __attribute__((noinline, cold)) void misuse(FixedFormat f, std::int64_t raw) {
    AIMC_ASSERT(valid(f), "fixed-point format " + f.describe() + " is invalid");
    AIMC_ASSERT(false, "raw value " + std::to_string(raw) + " outside " + f.describe());
    std::abort();  // unreachable: the asserts throw
}

void check(FixedFormat f) {
    if (!valid(f)) misuse(f, 0);
}

void check(Fixed x) {
    if (!valid(x.format) || x.raw < x.format.min_raw() || x.raw > x.format.max_raw()) misuse(x.format, x.raw);
}

// The exact value v·2^-frac, rounded once into `out`, then saturated or wrapped.
std::int64_t quantize(const Wide& v, int frac, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(out);
    const int k = frac - out.fraction_bits;  // bits to drop (k > 0) or to append (k < 0)
    Wide q;             // the result before overflow handling, exact in its low 64 bits
    bool lost = false;  // q lost high bits: certainly out of range
    if (k > 0) {
        q = round_shift(v, k, r);
    } else if (-k < 64) {
        q = shl(v, -k);
        lost = sar(q, -k) != v;
    } else {
        lost = !v.is_zero();  // |v·2^-k| >= 2^64 unless zero, and its low 64 bits are zero: q = 0
    }
    const auto low = static_cast<std::int64_t>(static_cast<std::uint64_t>(q.lo));
    const bool over = lost || Wide(low) != q || low < out.min_raw() || low > out.max_raw();
    if (overflowed) *overflowed = over;
    if (!over) return low;
    if (o == Overflow::Saturate) return (lost ? v : q).negative() ? out.min_raw() : out.max_raw();
    const int drop = 64 - out.width();  // sign-extend the low width bits
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) << drop) >> drop;
}

// a·2^-fa + b·2^-fb exactly, aligned to the larger fraction, which goes to *frac.
Wide sum(i128 a, int fa, i128 b, int fb, int* frac) {
    *frac = std::max(fa, fb);
    return shl(Wide(a), *frac - fa) + shl(Wide(b), *frac - fb);
}

}  // namespace

double FixedFormat::lsb() const { return std::ldexp(1.0, -fraction_bits); }
double FixedFormat::min_value() const { return to_real(min_raw(), *this); }
double FixedFormat::max_value() const { return to_real(max_raw(), *this); }

std::string FixedFormat::describe() const {
    return "Q" + std::to_string(integer_bits) + "." + std::to_string(fraction_bits);
}

std::optional<std::string> FixedFormat::invalid(int integer_bits, int fraction_bits) {
    if (integer_bits < 1) return std::string("integer bits must be >= 1 (the sign bit)");
    if (fraction_bits < 0) return std::string("fraction bits must be >= 0");
    const long long width = static_cast<long long>(integer_bits) + fraction_bits;
    if (width > 64) return "width " + std::to_string(width) + " exceeds 64 bits";
    return std::nullopt;
}

std::optional<Rounding> parse_rounding(const std::string& name) {
    for (Rounding r : {Rounding::NearestEven, Rounding::NearestUp, Rounding::Truncate})
        if (name == rounding_name(r)) return r;
    return std::nullopt;
}

const char* rounding_name(Rounding r) {
    switch (r) {
        case Rounding::NearestEven: return "nearest-even";
        case Rounding::NearestUp: return "nearest-up";
        case Rounding::Truncate: return "truncate";
    }
    return "?";
}

std::optional<Overflow> parse_overflow(const std::string& name) {
    for (Overflow o : {Overflow::Saturate, Overflow::Wrap})
        if (name == overflow_name(o)) return o;
    return std::nullopt;
}

const char* overflow_name(Overflow o) { return o == Overflow::Saturate ? "saturate" : "wrap"; }

std::int64_t from_real(double v, FixedFormat f, Rounding r, Overflow o, bool* overflowed) {
    AIMC_ASSERT(!std::isnan(v), "from_real: NaN has no fixed-point value");
    if (std::isinf(v)) {
        check(f);
        if (overflowed) *overflowed = true;
        return v > 0 ? f.max_raw() : f.min_raw();
    }
    int e = 0;
    const double m = std::frexp(v, &e);  // v = m·2^e, 0.5 <= |m| < 1: m·2^53 is an exact integer
    return quantize(Wide(static_cast<i128>(std::ldexp(m, 53))), 53 - e, f, r, o, overflowed);
}

double to_real(std::int64_t raw, FixedFormat f) {
    check({raw, f});
    return std::ldexp(static_cast<double>(raw), -f.fraction_bits);
}

std::int64_t convert(std::int64_t raw, FixedFormat from, FixedFormat to, Rounding r, Overflow o, bool* overflowed) {
    check({raw, from});
    return quantize(Wide(raw), from.fraction_bits, to, r, o, overflowed);
}

std::int64_t add(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(a), check(b);
    int frac = 0;
    const Wide s = sum(a.raw, a.format.fraction_bits, b.raw, b.format.fraction_bits, &frac);
    return quantize(s, frac, out, r, o, overflowed);
}

std::int64_t sub(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(a), check(b);
    int frac = 0;
    const Wide s = sum(a.raw, a.format.fraction_bits, -static_cast<i128>(b.raw), b.format.fraction_bits, &frac);
    return quantize(s, frac, out, r, o, overflowed);
}

std::int64_t mul(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(a), check(b);
    return quantize(Wide(static_cast<i128>(a.raw) * b.raw), a.format.fraction_bits + b.format.fraction_bits, out,
                    r, o, overflowed);
}

std::int64_t mul_add(Fixed a, Fixed b, Fixed c, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(a), check(b), check(c);
    int frac = 0;
    const Wide s = sum(static_cast<i128>(a.raw) * b.raw, a.format.fraction_bits + b.format.fraction_bits, c.raw,
                       c.format.fraction_bits, &frac);
    return quantize(s, frac, out, r, o, overflowed);
}

std::int64_t relu(Fixed x) {
    check(x);
    return std::max<std::int64_t>(x.raw, 0);
}

std::int64_t clipped_relu(Fixed x, std::int64_t ceiling_raw) {
    check(x);
    AIMC_ASSERT(ceiling_raw >= 0 && ceiling_raw <= x.format.max_raw(),
                "clipped_relu: ceiling " + std::to_string(ceiling_raw) + " outside [0, max] of " + x.format.describe());
    return std::clamp<std::int64_t>(x.raw, 0, ceiling_raw);
}

std::int64_t leaky_relu(Fixed x, Fixed slope, FixedFormat out, Rounding r, Overflow o, bool* overflowed) {
    check(slope);
    return x.raw >= 0 ? convert(x.raw, x.format, out, r, o, overflowed) : mul(x, slope, out, r, o, overflowed);
}

std::int64_t max_of(const std::int64_t* raws, std::size_t n) {
    AIMC_ASSERT(n >= 1, "max_of: no values");
    return *std::max_element(raws, raws + n);
}

std::int64_t average(const std::int64_t* raws, std::size_t n, FixedFormat in, FixedFormat out, Rounding r,
                     Overflow o, bool* overflowed) {
    AIMC_ASSERT(n >= 1, "average: no values");
    i128 total = 0;  // |total| <= n·2^63 < 2^127
    for (std::size_t i = 0; i < n; ++i) {
        check({raws[i], in});
        total += raws[i];
    }
    // floor(total·2^(K-F) / n) at K = out fraction + 2, with its LSB forced to 1 when inexact (a
    // sticky bit): below the half-LSB bit, it rounds, in every mode, as the exact quotient would.
    const int K = out.fraction_bits + 2, F = in.fraction_bits;
    Wide v(total);
    bool sticky = false;
    if (K >= F) {
        v = shl(v, K - F);
    } else {  // floor(floor(t / 2^d) / n) == floor(t / (2^d·n))
        sticky = v.any_low(F - K);
        v = sar(v, F - K);
    }
    bool inexact = false;
    v = floor_div(v, n, &inexact);
    if (sticky || inexact) v.lo |= 1;
    return quantize(v, K, out, r, o, overflowed);
}

}  // namespace aimc
