// Unit-bearing values in configs: "133 ns", "1 GHz", "0.35 pJ", "25 uS", "1 d".
// Every quantity is stored in SI base units (s, Hz, J, W, S, m^2) as a double.
#pragma once

#include <optional>
#include <string>

namespace aimc {

enum class Dimension { Time, Frequency, Energy, Power, Conductance, Area };

// Name of the dimension ("time") and its SI unit symbol ("s").
const char* dimension_name(Dimension d);
const char* si_unit(Dimension d);
// The units accepted for a dimension, for help and error messages ("fs ps ns us ms s min h d y").
std::string accepted_units(Dimension d);

// "an energy", "a time", and "one of {a, b}" unchanged: for messages that name a type.
std::string with_article(const std::string& noun);

// Parses "<number> <unit>" (space optional, "u" or "µ" for micro). Returns std::nullopt and
// fills `why` when the text is not a quantity of that dimension.
std::optional<double> parse_quantity(const std::string& text, Dimension d, std::string* why);

// Parses a plain real number (the whole text, no trailing characters, finite).
std::optional<double> parse_real(const std::string& text);
// Parses a plain integer (decimal, optional sign, within int64).
std::optional<long long> parse_integer(const std::string& text);

// Formats an SI value with the most readable prefix, e.g. 1.33e-7 s -> "133 ns" (used by describe
// and reports; exact round trip is not promised).
std::string format_quantity(double si_value, Dimension d);

}  // namespace aimc
