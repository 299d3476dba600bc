#include "sim/units.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <vector>

namespace aimc {

namespace {

struct UnitDef {
    const char* symbol;
    double factor;  // to SI
};

const std::vector<UnitDef>& units_of(Dimension d) {
    static const std::vector<UnitDef> time = {{"fs", 1e-15}, {"ps", 1e-12}, {"ns", 1e-9},
                                              {"us", 1e-6},  {"ms", 1e-3},  {"s", 1.0},
                                              {"min", 60.0}, {"h", 3600.0}, {"d", 86400.0}, {"y", 365.0 * 86400.0}};
    static const std::vector<UnitDef> freq = {{"Hz", 1.0}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
    static const std::vector<UnitDef> energy = {{"aJ", 1e-18}, {"fJ", 1e-15}, {"pJ", 1e-12},
                                                {"nJ", 1e-9},  {"uJ", 1e-6},  {"mJ", 1e-3},
                                                {"J", 1.0}};
    static const std::vector<UnitDef> power = {{"pW", 1e-12}, {"nW", 1e-9}, {"uW", 1e-6},
                                               {"mW", 1e-3},  {"W", 1.0}};
    static const std::vector<UnitDef> conductance = {{"pS", 1e-12}, {"nS", 1e-9}, {"uS", 1e-6},
                                                     {"mS", 1e-3},  {"S", 1.0}};
    static const std::vector<UnitDef> area = {{"um2", 1e-12}, {"mm2", 1e-6}, {"m2", 1.0}};
    switch (d) {
        case Dimension::Time: return time;
        case Dimension::Frequency: return freq;
        case Dimension::Energy: return energy;
        case Dimension::Power: return power;
        case Dimension::Conductance: return conductance;
        case Dimension::Area: return area;
    }
    return time;
}

std::string trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

}  // namespace

const char* dimension_name(Dimension d) {
    switch (d) {
        case Dimension::Time: return "time";
        case Dimension::Frequency: return "frequency";
        case Dimension::Energy: return "energy";
        case Dimension::Power: return "power";
        case Dimension::Conductance: return "conductance";
        case Dimension::Area: return "area";
    }
    return "?";
}

const char* si_unit(Dimension d) {
    switch (d) {
        case Dimension::Time: return "s";
        case Dimension::Frequency: return "Hz";
        case Dimension::Energy: return "J";
        case Dimension::Power: return "W";
        case Dimension::Conductance: return "S";
        case Dimension::Area: return "m2";
    }
    return "?";
}

std::string accepted_units(Dimension d) {
    std::string out;
    for (const auto& u : units_of(d)) {
        if (!out.empty()) out += ' ';
        out += u.symbol;
    }
    return out;
}

std::string with_article(const std::string& noun) {
    if (noun.rfind("one of", 0) == 0) return noun;
    const bool vowel = !noun.empty() && std::string("aeiou").find(noun[0]) != std::string::npos;
    return (vowel ? "an " : "a ") + noun;
}

std::optional<double> parse_real(const std::string& text) {
    std::string t = trim(text);
    if (t.empty()) return std::nullopt;
    // Reject hex floats and "inf"/"nan" spellings that strtod accepts.
    for (char c : t)
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
              c == 'e' || c == 'E'))
            return std::nullopt;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<long long> parse_integer(const std::string& text) {
    std::string t = trim(text);
    if (t.empty()) return std::nullopt;
    size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
    if (i == t.size()) return std::nullopt;
    for (size_t k = i; k < t.size(); ++k)
        if (!std::isdigit(static_cast<unsigned char>(t[k]))) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(t.c_str(), &end, 10);
    if (errno == ERANGE || end != t.c_str() + t.size()) return std::nullopt;
    return v;
}

std::optional<double> parse_quantity(const std::string& text, Dimension d, std::string* why) {
    std::string t = trim(text);
    // Split the numeric part from the unit: the unit starts at the first letter that is not an
    // exponent marker followed by a digit or sign.
    size_t i = 0;
    while (i < t.size()) {
        char c = t[i];
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+') {
            ++i;
            continue;
        }
        if ((c == 'e' || c == 'E') && i > 0 && i + 1 < t.size() &&
            (std::isdigit(static_cast<unsigned char>(t[i + 1])) || t[i + 1] == '-' || t[i + 1] == '+')) {
            ++i;
            continue;
        }
        break;
    }
    std::string number = trim(t.substr(0, i));
    std::string unit = trim(t.substr(i));
    // Accept the micro sign (UTF-8 U+00B5 or Greek mu U+03BC) as "u".
    for (const char* micro : {"\xC2\xB5", "\xCE\xBC"}) {
        if (unit.rfind(micro, 0) == 0) unit = "u" + unit.substr(2);
    }
    if (unit == "um^2" || unit == "um\xC2\xB2") unit = "um2";
    if (unit == "mm^2" || unit == "mm\xC2\xB2") unit = "mm2";
    auto value = parse_real(number);
    auto fail = [&](const std::string& msg) -> std::optional<double> {
        if (why) *why = msg;
        return std::nullopt;
    };
    if (number.empty() || !value)
        return fail("expected " + with_article(dimension_name(d)) + " such as \"" +
                    (d == Dimension::Time ? "133 ns" : d == Dimension::Frequency ? "1 GHz"
                     : d == Dimension::Energy ? "0.35 pJ" : d == Dimension::Power ? "20 mW"
                     : d == Dimension::Conductance ? "25 uS" : "0.2 mm2") +
                    "\", got \"" + text + "\"");
    if (unit.empty())
        return fail("missing unit: expected " + with_article(dimension_name(d)) + " in one of " +
                    accepted_units(d) + ", got \"" + text + "\"");
    for (const auto& u : units_of(d))
        if (unit == u.symbol) return *value * u.factor;
    return fail("unknown unit \"" + unit + "\" for " + with_article(dimension_name(d)) + "; expected one of " +
                accepted_units(d));
}

std::string format_quantity(double si_value, Dimension d) {
    // Largest unit not above the value (units are sorted ascending): "133 ns", "1 d".
    const auto& units = units_of(d);
    const UnitDef* best = &units.front();
    double a = std::fabs(si_value);
    for (const auto& u : units)
        if (a == 0.0 ? u.factor == 1.0 : a >= u.factor * (1 - 1e-12)) best = &u;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g %s", si_value / best->factor, best->symbol);
    return buf;
}

}  // namespace aimc
