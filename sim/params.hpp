// Parameter declarations (Ramulator 2 style): each component kind declares its parameters once,
// with type, unit, default and meaning. The config loader validates against these declarations
// and `aimcsim describe` prints them, so the two cannot disagree.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/units.hpp"

namespace aimc {

enum class ParamType { Integer, Real, Bool, String, Choice, Quantity };

struct ParamDecl {
    std::string name;
    ParamType type = ParamType::Integer;
    Dimension dimension = Dimension::Time;  // Quantity only
    std::optional<std::string> default_text;  // as a user would write it; absent = required
    std::string meaning;
    double min = -1e300, max = 1e300;  // inclusive range (SI units for quantities)
    std::vector<std::string> choices;  // Choice only
    std::string unit_note;             // for dimensionless reals/integers, e.g. "LSB", "bits"

    static ParamDecl integer(std::string name, std::optional<long long> dflt, long long lo, long long hi,
                             std::string meaning, std::string unit_note = "");
    static ParamDecl real(std::string name, std::optional<double> dflt, double lo, double hi,
                          std::string meaning, std::string unit_note = "");
    static ParamDecl boolean(std::string name, std::optional<bool> dflt, std::string meaning);
    static ParamDecl text(std::string name, std::optional<std::string> dflt, std::string meaning);
    static ParamDecl choice(std::string name, std::optional<std::string> dflt,
                            std::vector<std::string> choices, std::string meaning);
    // Range in SI units; dflt as text with a unit ("1 ns").
    static ParamDecl quantity(std::string name, Dimension d, std::optional<std::string> dflt, double lo_si,
                              double hi_si, std::string meaning);

    bool required() const { return !default_text.has_value(); }
    std::string type_name() const;   // "integer", "time", "choice of {a, b}"...
    std::string unit_name() const;   // "s", "Hz", "bits", "" ...
    std::string range_text() const;  // "1..16", ">= 0 s", ""
};

// A parsed parameter value. Quantities hold SI units in `real`.
struct ParamValue {
    ParamType type = ParamType::Integer;
    long long integer = 0;
    double real = 0;
    bool boolean = false;
    std::string text;        // String and Choice values; for all types the source text
    std::string where;       // "file:line:col" of the value, or "(default)"
};

// Checks `text` against `decl`; returns a value or fills `why` with the reason
// ("expected an integer in 1..16, got \"eight\"").
std::optional<ParamValue> parse_param(const ParamDecl& decl, const std::string& text, std::string* why);

// The resolved parameters of one component: every declared parameter has a value.
class ParamSet {
public:
    void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    long long integer(const std::string& name) const;
    double real(const std::string& name) const;      // Real or Quantity (SI)
    bool boolean(const std::string& name) const;
    const std::string& text(const std::string& name) const;
    const ParamValue& value(const std::string& name) const;
    const std::map<std::string, ParamValue>& values() const { return values_; }

private:
    std::map<std::string, ParamValue> values_;
};

}  // namespace aimc
