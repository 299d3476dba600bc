// IEEE 754 binary16 (FP16) emulation for a floating-point post-processing unit (HERMES-style):
// correctly rounded conversions (round to nearest, ties to even) and arithmetic on FP16 bit
// patterns, each rounded once from the exact result.
#pragma once

#include <cstdint>

namespace aimc {

// To FP16: ties to even, gradual underflow to subnormals, |x| >= 65520 to ±inf, signed zeros
// kept, NaN to a quiet NaN keeping the top payload bits. The double overload rounds once from
// the double (no double rounding through float).
std::uint16_t to_fp16_bits(float x);
std::uint16_t to_fp16_bits(double x);
// Exact (every FP16 value is a float); a signalling NaN comes back quiet.
float from_fp16_bits(std::uint16_t h);
// x rounded to the nearest FP16 value, as a float.
float round_fp16(float x);

// Correctly rounded FP16 arithmetic: the exact result rounded once (sub: add b ^ 0x8000).
std::uint16_t fp16_add(std::uint16_t a, std::uint16_t b);
std::uint16_t fp16_mul(std::uint16_t a, std::uint16_t b);
std::uint16_t fp16_fma(std::uint16_t a, std::uint16_t b, std::uint16_t c);  // a·b + c

}  // namespace aimc
