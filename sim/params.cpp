#include "sim/params.hpp"

#include <cctype>
#include <cstdio>
#include <limits>

#include "sim/errors.hpp"

namespace aimc {

namespace {
std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}
}  // namespace

ParamDecl ParamDecl::integer(std::string name, std::optional<long long> dflt, long long lo, long long hi,
                             std::string meaning, std::string unit_note) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::Integer;
    if (dflt) d.default_text = std::to_string(*dflt);
    d.min = static_cast<double>(lo);
    d.max = static_cast<double>(hi);
    d.meaning = std::move(meaning);
    d.unit_note = std::move(unit_note);
    return d;
}

ParamDecl ParamDecl::real(std::string name, std::optional<double> dflt, double lo, double hi,
                          std::string meaning, std::string unit_note) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::Real;
    if (dflt) d.default_text = num(*dflt);
    d.min = lo;
    d.max = hi;
    d.meaning = std::move(meaning);
    d.unit_note = std::move(unit_note);
    return d;
}

ParamDecl ParamDecl::boolean(std::string name, std::optional<bool> dflt, std::string meaning) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::Bool;
    if (dflt) d.default_text = *dflt ? "true" : "false";
    d.meaning = std::move(meaning);
    return d;
}

ParamDecl ParamDecl::text(std::string name, std::optional<std::string> dflt, std::string meaning) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::String;
    d.default_text = std::move(dflt);
    d.meaning = std::move(meaning);
    return d;
}

ParamDecl ParamDecl::choice(std::string name, std::optional<std::string> dflt, std::vector<std::string> choices,
                            std::string meaning) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::Choice;
    d.default_text = std::move(dflt);
    d.choices = std::move(choices);
    d.meaning = std::move(meaning);
    return d;
}

ParamDecl ParamDecl::quantity(std::string name, Dimension dim, std::optional<std::string> dflt, double lo_si,
                              double hi_si, std::string meaning) {
    ParamDecl d;
    d.name = std::move(name);
    d.type = ParamType::Quantity;
    d.dimension = dim;
    d.default_text = std::move(dflt);
    d.min = lo_si;
    d.max = hi_si;
    d.meaning = std::move(meaning);
    return d;
}

std::string ParamDecl::type_name() const {
    switch (type) {
        case ParamType::Integer: return "integer";
        case ParamType::Real: return "real";
        case ParamType::Bool: return "bool";
        case ParamType::String: return "string";
        case ParamType::Choice: {
            std::string s = "one of {";
            for (size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
            return s + "}";
        }
        case ParamType::Quantity: return dimension_name(dimension);
    }
    return "?";
}

std::string ParamDecl::unit_name() const {
    if (type == ParamType::Quantity) return si_unit(dimension);
    return unit_note;
}

std::string ParamDecl::range_text() const {
    bool has_lo = min > -1e299, has_hi = max < 1e299;
    if (type != ParamType::Integer && type != ParamType::Real && type != ParamType::Quantity) return "";
    auto fmt = [&](double v) {
        if (type == ParamType::Quantity) return format_quantity(v, dimension);
        if (type == ParamType::Integer)  // exact, also beyond 2^53 (the int64 maximum is stored rounded up)
            return v >= 9.2233720368547e18 ? std::to_string(std::numeric_limits<long long>::max())
                                           : std::to_string(static_cast<long long>(v));
        return num(v);
    };
    if (has_lo && has_hi) return type == ParamType::Integer ? fmt(min) + ".." + fmt(max) : fmt(min) + " to " + fmt(max);
    if (has_lo) return ">= " + fmt(min);
    if (has_hi) return "<= " + fmt(max);
    return "";
}

std::optional<ParamValue> parse_param(const ParamDecl& decl, const std::string& text, std::string* why) {
    ParamValue v;
    v.type = decl.type;
    v.text = text;
    auto fail = [&](const std::string& msg) -> std::optional<ParamValue> {
        if (why) *why = msg;
        return std::nullopt;
    };
    auto in_range = [&](double x) { return x >= decl.min && x <= decl.max; };
    switch (decl.type) {
        case ParamType::Integer: {
            auto i = parse_integer(text);
            std::string r = decl.range_text();
            if (!i || !in_range(static_cast<double>(*i)))
                return fail("expected an integer" + (r.empty() ? "" : " in " + r) + ", got \"" + text + "\"");
            v.integer = *i;
            v.real = static_cast<double>(*i);
            return v;
        }
        case ParamType::Real: {
            auto x = parse_real(text);
            std::string r = decl.range_text();
            if (!x || !in_range(*x))
                return fail("expected a number" + (r.empty() ? "" : " in " + r) + ", got \"" + text + "\"");
            v.real = *x;
            return v;
        }
        case ParamType::Bool: {
            std::string t;
            for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (t == "true" || t == "yes" || t == "on") v.boolean = true;
            else if (t == "false" || t == "no" || t == "off") v.boolean = false;
            else return fail("expected true or false, got \"" + text + "\"");
            return v;
        }
        case ParamType::String: return v;
        case ParamType::Choice: {
            for (const auto& c : decl.choices)
                if (c == text) return v;
            return fail("expected " + decl.type_name() + ", got \"" + text + "\"");
        }
        case ParamType::Quantity: {
            std::string reason;
            auto x = parse_quantity(text, decl.dimension, &reason);
            if (!x) return fail(reason);
            if (!in_range(*x))
                return fail("expected " + with_article(dimension_name(decl.dimension)) + " in " + decl.range_text() +
                            ", got \"" + text + "\"");
            v.real = *x;
            return v;
        }
    }
    return fail("unsupported parameter type");
}

const ParamValue& ParamSet::value(const std::string& name) const {
    auto it = values_.find(name);
    AIMC_ASSERT(it != values_.end(), "parameter '" + name + "' was not declared by its component");
    return it->second;
}

long long ParamSet::integer(const std::string& name) const {
    const auto& v = value(name);
    AIMC_ASSERT(v.type == ParamType::Integer, "parameter '" + name + "' is not an integer");
    return v.integer;
}

double ParamSet::real(const std::string& name) const {
    const auto& v = value(name);
    AIMC_ASSERT(v.type == ParamType::Real || v.type == ParamType::Quantity || v.type == ParamType::Integer,
                "parameter '" + name + "' is not numeric");
    return v.real;
}

bool ParamSet::boolean(const std::string& name) const {
    const auto& v = value(name);
    AIMC_ASSERT(v.type == ParamType::Bool, "parameter '" + name + "' is not a bool");
    return v.boolean;
}

const std::string& ParamSet::text(const std::string& name) const { return value(name).text; }

}  // namespace aimc
