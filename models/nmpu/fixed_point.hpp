// Bit-exact fixed-point numerics of a near-memory digital unit (after Ferro et al. 2024, "A
// Precision-Optimized Fixed-Point Near-Memory Digital Processing Unit for AIMC").
//
// A value is a raw two's-complement integer with a format Qi.f: i integer bits including the sign,
// f fraction bits, value = raw · 2^-f. Every operation computes its exact result in wide integer
// arithmetic, then rounds ONCE and handles overflow ONCE into the result format, as hardware with
// a wide enough internal datapath does. `overflowed`, when given, is set to whether the result
// saturated or wrapped.
//
// Callers validate user-supplied formats with FixedFormat::invalid (and raise InputError); an
// invalid format or a raw value outside its format here is a bug (InternalError).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace aimc {

struct FixedFormat {
    int integer_bits = 1;  // including the sign bit
    int fraction_bits = 0;

    int width() const { return integer_bits + fraction_bits; }
    std::int64_t max_raw() const { return static_cast<std::int64_t>((std::uint64_t(1) << (width() - 1)) - 1); }
    std::int64_t min_raw() const { return -max_raw() - 1; }
    double lsb() const;        // 2^-f
    double min_value() const;  // -2^(i-1)
    double max_value() const;  // 2^(i-1) - 2^-f, to the nearest double when wider than 53 bits
    std::string describe() const;  // "Q4.12"
    // Why (i, f) is not a format (integer bits >= 1, fraction bits >= 0, width <= 64), or nothing.
    static std::optional<std::string> invalid(int integer_bits, int fraction_bits);
};

inline bool operator==(FixedFormat a, FixedFormat b) {
    return a.integer_bits == b.integer_bits && a.fraction_bits == b.fraction_bits;
}
inline bool operator!=(FixedFormat a, FixedFormat b) { return !(a == b); }

// How the bits below the result's LSB are disposed of.
enum class Rounding {
    NearestEven,  // to nearest, ties to even
    NearestUp,    // to nearest, ties toward +infinity (add half an LSB, then truncate)
    Truncate,     // drop the bits: floor, toward -infinity, as a two's-complement right shift does
};
std::optional<Rounding> parse_rounding(const std::string& name);  // "nearest-even", "nearest-up", "truncate"
const char* rounding_name(Rounding r);

enum class Overflow {
    Saturate,  // clamp to the format's min or max
    Wrap,      // keep the low width bits (two's complement modulo 2^width)
};
std::optional<Overflow> parse_overflow(const std::string& name);  // "saturate", "wrap"
const char* overflow_name(Overflow o);

struct Fixed {
    std::int64_t raw = 0;
    FixedFormat format;
};

// Real values. from_real is exact for every double: ±inf saturate (whatever the overflow mode),
// NaN is an InternalError. to_real rounds to the nearest double when the width exceeds 53 bits.
std::int64_t from_real(double v, FixedFormat f, Rounding r, Overflow o, bool* overflowed = nullptr);
double to_real(std::int64_t raw, FixedFormat f);

// Format conversion: an exact left shift or a rounded right shift, then overflow handling.
std::int64_t convert(std::int64_t raw, FixedFormat from, FixedFormat to, Rounding r, Overflow o,
                     bool* overflowed = nullptr);

// Arithmetic into the format `out`; results are raw values in `out`.
std::int64_t add(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed = nullptr);
std::int64_t sub(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed = nullptr);
std::int64_t mul(Fixed a, Fixed b, FixedFormat out, Rounding r, Overflow o, bool* overflowed = nullptr);
// a·b + c, exact before the one rounding: the affine step y = scale·x + offset.
std::int64_t mul_add(Fixed a, Fixed b, Fixed c, FixedFormat out, Rounding r, Overflow o,
                     bool* overflowed = nullptr);

// Activations. relu and clipped_relu stay in x's format and cannot overflow; clipped_relu clamps
// to [0, ceiling_raw] (ceiling_raw >= 0, in x's format). leaky_relu: x when x >= 0, else slope·x,
// either rounded into `out`.
std::int64_t relu(Fixed x);
std::int64_t clipped_relu(Fixed x, std::int64_t ceiling_raw);
std::int64_t leaky_relu(Fixed x, Fixed slope, FixedFormat out, Rounding r, Overflow o, bool* overflowed = nullptr);

// Reductions over n >= 1 raw values of one format. average: the exact sum divided by n, rounded once.
std::int64_t max_of(const std::int64_t* raws, std::size_t n);
std::int64_t average(const std::int64_t* raws, std::size_t n, FixedFormat in, FixedFormat out, Rounding r,
                     Overflow o, bool* overflowed = nullptr);

}  // namespace aimc
