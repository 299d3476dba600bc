// FP16 by bit manipulation of the double: one rounding routine, used by every operation.
#include "models/nmpu/fp16.hpp"

#include <algorithm>
#include <cstring>

namespace aimc {

std::uint16_t to_fp16_bits(double x) {
    std::uint64_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    const auto sign = static_cast<std::uint16_t>(b >> 48 & 0x8000);
    const int e = static_cast<int>(b >> 52 & 0x7ff);
    std::uint64_t m = b & ((std::uint64_t(1) << 52) - 1);
    if (e == 0x7ff) return sign | 0x7c00 | (m ? 0x200 | m >> 42 : 0);  // inf; NaN made quiet
    const int E = e - (1023 - 15);                                     // the FP16 biased exponent
    if (E >= 31) return sign | 0x7c00;
    if (e) m |= std::uint64_t(1) << 52;  // (a subnormal double rounds to zero below anyway)
    // Keep 11 of 53 significand bits, fewer below the normal range (FP16 subnormals have a fixed
    // LSB of 2^-24). A carry out of the significand moves into the exponent, from the largest
    // finite value (0x7bff) into 0x7c00 = inf: exactly the overflow rule of IEEE 754.
    const int s = std::min(63, 42 + std::max(0, 1 - E));
    const std::uint64_t rest = m & ((std::uint64_t(1) << s) - 1), half = std::uint64_t(1) << (s - 1);
    std::uint64_t q = m >> s;
    q += rest > half || (rest == half && (q & 1));
    return sign | static_cast<std::uint16_t>((static_cast<std::uint64_t>(std::max(E, 1) - 1) << 10) + q);
}

std::uint16_t to_fp16_bits(float x) { return to_fp16_bits(static_cast<double>(x)); }  // exact widening

float from_fp16_bits(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16, m = h & 0x3ff;
    const int e = h >> 10 & 0x1f;
    std::uint32_t bits = 0;
    if (e == 31) {
        bits = sign | 0x7f800000 | m << 13 | (m ? 0x400000 : 0);
    } else if (e == 0) {
        float v = static_cast<float>(m) * 0x1p-24f;  // exact: at most 10 bits, a normal float
        return sign ? -v : v;
    } else {
        bits = sign | static_cast<std::uint32_t>(e + 127 - 15) << 23 | m << 13;
    }
    float v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

float round_fp16(float x) { return from_fp16_bits(to_fp16_bits(x)); }

// Exactness of the double intermediate, so that rounding it to FP16 is the only rounding:
// - add: FP16 values are multiples of 2^-24 below 2^16, so a sum is an integer multiple of 2^-24
//   below 2^41: a double holds it exactly.
// - mul: a product of two 11-bit significands has at most 22 bits: exact.
// - fma: a·b is exact (as mul), but a·b + c may need up to 64 bits; the double sum then rounds
//   once more, which never changes the FP16 result. Proof: let x = a·b + c. If |a·b| >= 2^17,
//   |x| > 65520 and both x and its double round to inf. If a·b is a multiple of 2^-24, so is x,
//   below 2^18: exact. Otherwise a·b's lowest set bit 2^t (t < -24) is below c's, so it is x's
//   too, and x is not a double only if |x| >= 2^(t+53); with |a·b| < 2^(t+22) (22 bits) that
//   gives |x - c| = |a·b| < 2^-31·|x|. Then c is a normal FP16 value whose neighbouring FP16
//   midpoints are >= 2^-12·|c| away, and x and its double (within 2^-53·|x| of x) both round to c.
//   tests/test_fp16.cpp checks fp16_fma against exact integer arithmetic.
std::uint16_t fp16_add(std::uint16_t a, std::uint16_t b) {
    return to_fp16_bits(static_cast<double>(from_fp16_bits(a)) + from_fp16_bits(b));
}

std::uint16_t fp16_mul(std::uint16_t a, std::uint16_t b) {
    return to_fp16_bits(static_cast<double>(from_fp16_bits(a)) * from_fp16_bits(b));
}

std::uint16_t fp16_fma(std::uint16_t a, std::uint16_t b, std::uint16_t c) {
    // The product is exact, so contracting this into a hardware fma rounds identically.
    return to_fp16_bits(static_cast<double>(from_fp16_bits(a)) * from_fp16_bits(b) + from_fp16_bits(c));
}

}  // namespace aimc
