// Tests for quantities with units (sim/units.*) and parameter declarations (sim/params.*):
// exact SI values, exact rejection messages, and parse_param for every ParamType.
#include "sim/errors.hpp"
#include "sim/params.hpp"
#include "sim/units.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <optional>
#include <string>

using aimc::Dimension;
using aimc::ParamDecl;
using aimc::ParamType;
using aimc::ParamValue;
using aimc::format_quantity;
using aimc::parse_integer;
using aimc::parse_param;
using aimc::parse_quantity;
using aimc::parse_real;

namespace {

// Parses a quantity that must be accepted; fails the test with the reason otherwise.
double quantity_ok(const std::string& text, Dimension d) {
    std::string why;
    auto v = parse_quantity(text, d, &why);
    INFO("text: \"" << text << "\", why: " << why);
    REQUIRE(v.has_value());
    CHECK(why.empty());
    return *v;
}

// Parses a quantity that must be rejected; returns the reason.
std::string quantity_error(const std::string& text, Dimension d) {
    std::string why;
    auto v = parse_quantity(text, d, &why);
    INFO("text: \"" << text << "\"");
    if (v) FAIL("accepted as " << *v);
    return why;
}

// parse_param that must fail; returns the reason.
std::string param_error(const ParamDecl& decl, const std::string& text) {
    std::string why;
    auto v = parse_param(decl, text, &why);
    INFO("param " << decl.name << ", text: \"" << text << "\"");
    REQUIRE_FALSE(v.has_value());
    return why;
}

ParamValue param_ok(const ParamDecl& decl, const std::string& text) {
    std::string why;
    auto v = parse_param(decl, text, &why);
    INFO("param " << decl.name << ", text: \"" << text << "\", why: " << why);
    REQUIRE(v.has_value());
    return *v;
}

const std::string kTimeUnits = "fs ps ns us ms s min h d y";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dimensions and unit lists

TEST_CASE("units: dimension names and SI units") {
    CHECK(std::string(aimc::dimension_name(Dimension::Time)) == "time");
    CHECK(std::string(aimc::dimension_name(Dimension::Frequency)) == "frequency");
    CHECK(std::string(aimc::dimension_name(Dimension::Energy)) == "energy");
    CHECK(std::string(aimc::dimension_name(Dimension::Power)) == "power");
    CHECK(std::string(aimc::dimension_name(Dimension::Conductance)) == "conductance");
    CHECK(std::string(aimc::dimension_name(Dimension::Area)) == "area");
    CHECK(std::string(aimc::si_unit(Dimension::Time)) == "s");
    CHECK(std::string(aimc::si_unit(Dimension::Frequency)) == "Hz");
    CHECK(std::string(aimc::si_unit(Dimension::Energy)) == "J");
    CHECK(std::string(aimc::si_unit(Dimension::Power)) == "W");
    CHECK(std::string(aimc::si_unit(Dimension::Conductance)) == "S");
    CHECK(std::string(aimc::si_unit(Dimension::Area)) == "m2");
}

TEST_CASE("units: accepted unit lists per dimension") {
    CHECK(aimc::accepted_units(Dimension::Time) == kTimeUnits);
    CHECK(aimc::accepted_units(Dimension::Frequency) == "Hz kHz MHz GHz");
    CHECK(aimc::accepted_units(Dimension::Energy) == "aJ fJ pJ nJ uJ mJ J");
    CHECK(aimc::accepted_units(Dimension::Power) == "pW nW uW mW W");
    CHECK(aimc::accepted_units(Dimension::Conductance) == "pS nS uS mS S");
    CHECK(aimc::accepted_units(Dimension::Area) == "um2 mm2 m2");
}

// ---------------------------------------------------------------------------------------------
// parse_quantity: accepted forms

TEST_CASE("units: time quantities in every unit") {
    CHECK(quantity_ok("133 ns", Dimension::Time) == Approx(1.33e-7).epsilon(1e-12));
    CHECK(quantity_ok("1 fs", Dimension::Time) == Approx(1e-15).epsilon(1e-12));
    CHECK(quantity_ok("300 ps", Dimension::Time) == Approx(3e-10).epsilon(1e-12));
    CHECK(quantity_ok("7 us", Dimension::Time) == Approx(7e-6).epsilon(1e-12));
    CHECK(quantity_ok("2 ms", Dimension::Time) == Approx(2e-3).epsilon(1e-12));
    CHECK(quantity_ok("0 s", Dimension::Time) == 0.0);
    CHECK(quantity_ok("1.5 s", Dimension::Time) == 1.5);
    CHECK(quantity_ok("1 min", Dimension::Time) == 60.0);
    CHECK(quantity_ok("1 h", Dimension::Time) == 3600.0);
    CHECK(quantity_ok("1 d", Dimension::Time) == 86400.0);
    CHECK(quantity_ok("2 d", Dimension::Time) == 172800.0);
}

TEST_CASE("units: number formats - no space and exponents and signs") {
    CHECK(quantity_ok("5ns", Dimension::Time) == Approx(5e-9).epsilon(1e-12));
    CHECK(quantity_ok("1h", Dimension::Time) == 3600.0);
    CHECK(quantity_ok("1e-9 s", Dimension::Time) == Approx(1e-9).epsilon(1e-12));
    CHECK(quantity_ok("1E3 ps", Dimension::Time) == Approx(1e-9).epsilon(1e-12));
    CHECK(quantity_ok("1e3ps", Dimension::Time) == Approx(1e-9).epsilon(1e-12));
    CHECK(quantity_ok("2.5e+2 us", Dimension::Time) == Approx(2.5e-4).epsilon(1e-12));
    CHECK(quantity_ok(".5 ns", Dimension::Time) == Approx(5e-10).epsilon(1e-12));
    CHECK(quantity_ok("5. ns", Dimension::Time) == Approx(5e-9).epsilon(1e-12));
    CHECK(quantity_ok("+5 ns", Dimension::Time) == Approx(5e-9).epsilon(1e-12));
    // Negative values parse; ranges are checked by parse_param.
    CHECK(quantity_ok("-5 ns", Dimension::Time) == Approx(-5e-9).epsilon(1e-12));
    // Surrounding white space is ignored.
    CHECK(quantity_ok("  7 us  ", Dimension::Time) == Approx(7e-6).epsilon(1e-12));
}

TEST_CASE("units: frequency quantities") {
    CHECK(quantity_ok("1 GHz", Dimension::Frequency) == 1e9);
    CHECK(quantity_ok("2.5 MHz", Dimension::Frequency) == 2.5e6);
    CHECK(quantity_ok("100 kHz", Dimension::Frequency) == 1e5);
    CHECK(quantity_ok("50 Hz", Dimension::Frequency) == 50.0);
    CHECK(quantity_ok("1GHz", Dimension::Frequency) == 1e9);
}

TEST_CASE("units: energy quantities") {
    CHECK(quantity_ok("0.35 pJ", Dimension::Energy) == Approx(0.35e-12).epsilon(1e-12));
    CHECK(quantity_ok("1 aJ", Dimension::Energy) == Approx(1e-18).epsilon(1e-12));
    CHECK(quantity_ok("3 fJ", Dimension::Energy) == Approx(3e-15).epsilon(1e-12));
    CHECK(quantity_ok("24 pJ", Dimension::Energy) == Approx(24e-12).epsilon(1e-12));
    CHECK(quantity_ok("2 nJ", Dimension::Energy) == Approx(2e-9).epsilon(1e-12));
    CHECK(quantity_ok("2 uJ", Dimension::Energy) == Approx(2e-6).epsilon(1e-12));
    CHECK(quantity_ok("2 mJ", Dimension::Energy) == Approx(2e-3).epsilon(1e-12));
    CHECK(quantity_ok("1 J", Dimension::Energy) == 1.0);
}

TEST_CASE("units: power quantities") {
    CHECK(quantity_ok("20 mW", Dimension::Power) == Approx(0.02).epsilon(1e-12));
    CHECK(quantity_ok("1.6 mW", Dimension::Power) == Approx(1.6e-3).epsilon(1e-12));
    CHECK(quantity_ok("1 pW", Dimension::Power) == Approx(1e-12).epsilon(1e-12));
    CHECK(quantity_ok("3 nW", Dimension::Power) == Approx(3e-9).epsilon(1e-12));
    CHECK(quantity_ok("3 uW", Dimension::Power) == Approx(3e-6).epsilon(1e-12));
    CHECK(quantity_ok("6.5 W", Dimension::Power) == 6.5);
}

TEST_CASE("units: conductance quantities with u and the micro signs") {
    CHECK(quantity_ok("25 uS", Dimension::Conductance) == Approx(25e-6).epsilon(1e-12));
    CHECK(quantity_ok("25 \xC2\xB5S", Dimension::Conductance) == Approx(25e-6).epsilon(1e-12));  // U+00B5 micro sign
    CHECK(quantity_ok("25 \xCE\xBCS", Dimension::Conductance) == Approx(25e-6).epsilon(1e-12));  // U+03BC Greek mu
    CHECK(quantity_ok("1 pS", Dimension::Conductance) == Approx(1e-12).epsilon(1e-12));
    CHECK(quantity_ok("1 nS", Dimension::Conductance) == Approx(1e-9).epsilon(1e-12));
    CHECK(quantity_ok("2 mS", Dimension::Conductance) == Approx(2e-3).epsilon(1e-12));
    CHECK(quantity_ok("1 S", Dimension::Conductance) == 1.0);
    // The micro sign works for other dimensions too.
    CHECK(quantity_ok("7 \xC2\xB5s", Dimension::Time) == Approx(7e-6).epsilon(1e-12));
}

TEST_CASE("units: area quantities and their spellings") {
    CHECK(quantity_ok("0.2 mm2", Dimension::Area) == Approx(0.2e-6).epsilon(1e-12));
    CHECK(quantity_ok("0.2 mm^2", Dimension::Area) == Approx(0.2e-6).epsilon(1e-12));
    CHECK(quantity_ok("0.2 mm\xC2\xB2", Dimension::Area) == Approx(0.2e-6).epsilon(1e-12));  // superscript two
    CHECK(quantity_ok("3 um2", Dimension::Area) == Approx(3e-12).epsilon(1e-12));
    CHECK(quantity_ok("3 um^2", Dimension::Area) == Approx(3e-12).epsilon(1e-12));
    CHECK(quantity_ok("3 \xC2\xB5m2", Dimension::Area) == Approx(3e-12).epsilon(1e-12));
    CHECK(quantity_ok("1 m2", Dimension::Area) == 1.0);
}

// ---------------------------------------------------------------------------------------------
// parse_quantity: rejections and their exact reasons

TEST_CASE("units: missing unit is rejected with the accepted units") {
    CHECK(quantity_error("5", Dimension::Time) ==
          "missing unit: expected a time in one of " + kTimeUnits + ", got \"5\"");
    CHECK(quantity_error("1e9", Dimension::Frequency) ==
          "missing unit: expected a frequency in one of Hz kHz MHz GHz, got \"1e9\"");
    CHECK(quantity_error("25", Dimension::Conductance) ==
          "missing unit: expected a conductance in one of pS nS uS mS S, got \"25\"");
}

TEST_CASE("units: unknown units are rejected and units are case sensitive") {
    CHECK(quantity_error("5 nss", Dimension::Time) ==
          "unknown unit \"nss\" for a time; expected one of " + kTimeUnits);
    CHECK(quantity_error("5 Ns", Dimension::Time) ==
          "unknown unit \"Ns\" for a time; expected one of " + kTimeUnits);
    CHECK(quantity_error("1 ghz", Dimension::Frequency) ==
          "unknown unit \"ghz\" for a frequency; expected one of Hz kHz MHz GHz");
    CHECK(quantity_error("5 n s", Dimension::Time) ==
          "unknown unit \"n s\" for a time; expected one of " + kTimeUnits);
}

TEST_CASE("units: a unit of the wrong dimension is rejected") {
    CHECK(quantity_error("5 pJ", Dimension::Time) ==
          "unknown unit \"pJ\" for a time; expected one of " + kTimeUnits);
    CHECK(quantity_error("1 ns", Dimension::Frequency) ==
          "unknown unit \"ns\" for a frequency; expected one of Hz kHz MHz GHz");
    CHECK(quantity_error("20 mW", Dimension::Conductance) ==
          "unknown unit \"mW\" for a conductance; expected one of pS nS uS mS S");
    CHECK(quantity_error("25 uS", Dimension::Power) ==
          "unknown unit \"uS\" for a power; expected one of pW nW uW mW W");
    // "s" (seconds) is not "S" (siemens).
    CHECK(quantity_error("1 s", Dimension::Conductance) ==
          "unknown unit \"s\" for a conductance; expected one of pS nS uS mS S");
}

TEST_CASE("units: garbage and non-finite numbers are rejected") {
    const std::string time_example = "expected a time such as \"133 ns\", got ";
    CHECK(quantity_error("abc", Dimension::Time) == time_example + "\"abc\"");
    CHECK(quantity_error("", Dimension::Time) == time_example + "\"\"");
    CHECK(quantity_error("nan", Dimension::Time) == time_example + "\"nan\"");
    CHECK(quantity_error("inf", Dimension::Time) == time_example + "\"inf\"");
    CHECK(quantity_error("nan s", Dimension::Time) == time_example + "\"nan s\"");
    CHECK(quantity_error("inf s", Dimension::Time) == time_example + "\"inf s\"");
    CHECK(quantity_error("-inf s", Dimension::Time) == time_example + "\"-inf s\"");
    CHECK(quantity_error("1.5.3 ns", Dimension::Time) == time_example + "\"1.5.3 ns\"");
    CHECK(quantity_error("--5 s", Dimension::Time) == time_example + "\"--5 s\"");
    CHECK(quantity_error("5-3 s", Dimension::Time) == time_example + "\"5-3 s\"");
    // Overflowing the double range is not a number.
    CHECK(quantity_error("1e400 s", Dimension::Time) == time_example + "\"1e400 s\"");
    // The example names the dimension asked for.
    CHECK(quantity_error("x", Dimension::Frequency) == "expected a frequency such as \"1 GHz\", got \"x\"");
    CHECK(quantity_error("x", Dimension::Power) == "expected a power such as \"20 mW\", got \"x\"");
    CHECK(quantity_error("x", Dimension::Conductance) == "expected a conductance such as \"25 uS\", got \"x\"");
}

TEST_CASE("units: hex numbers are not quantities") {
    CHECK(quantity_error("0x10 ns", Dimension::Time) ==
          "unknown unit \"x10 ns\" for a time; expected one of " + kTimeUnits);
}

TEST_CASE("units: why may be null") {
    CHECK_FALSE(parse_quantity("5 pJ", Dimension::Time, nullptr).has_value());
    CHECK(parse_quantity("5 ns", Dimension::Time, nullptr).value() == Approx(5e-9).epsilon(1e-12));
}

TEST_CASE("units: messages use the right article for energy and area") {
    CHECK(quantity_error("abc", Dimension::Energy) == "expected an energy such as \"0.35 pJ\", got \"abc\"");
    CHECK(quantity_error("3", Dimension::Energy) ==
          "missing unit: expected an energy in one of aJ fJ pJ nJ uJ mJ J, got \"3\"");
    CHECK(quantity_error("3 ns", Dimension::Energy) ==
          "unknown unit \"ns\" for an energy; expected one of aJ fJ pJ nJ uJ mJ J");
    CHECK(quantity_error("x", Dimension::Area) == "expected an area such as \"0.2 mm2\", got \"x\"");
    CHECK(quantity_error("2 mm3", Dimension::Area) == "unknown unit \"mm3\" for an area; expected one of um2 mm2 m2");
}

// ---------------------------------------------------------------------------------------------
// parse_integer / parse_real

TEST_CASE("units: parse_integer accepts decimal int64 values") {
    CHECK(parse_integer("0") == 0LL);
    CHECK(parse_integer("42") == 42LL);
    CHECK(parse_integer("+7") == 7LL);
    CHECK(parse_integer("-7") == -7LL);
    CHECK(parse_integer("007") == 7LL);
    CHECK(parse_integer(" 42 ") == 42LL);
    CHECK(parse_integer("9223372036854775807") == std::numeric_limits<long long>::max());
    CHECK(parse_integer("-9223372036854775808") == std::numeric_limits<long long>::min());
}

TEST_CASE("units: parse_integer rejects overflow and junk and hex") {
    CHECK_FALSE(parse_integer("9223372036854775808").has_value());
    CHECK_FALSE(parse_integer("-9223372036854775809").has_value());
    CHECK_FALSE(parse_integer("99999999999999999999999").has_value());
    CHECK_FALSE(parse_integer("12abc").has_value());
    CHECK_FALSE(parse_integer("12 3").has_value());
    CHECK_FALSE(parse_integer("0x10").has_value());
    CHECK_FALSE(parse_integer("1.0").has_value());
    CHECK_FALSE(parse_integer("1e3").has_value());
    CHECK_FALSE(parse_integer("-").has_value());
    CHECK_FALSE(parse_integer("+").has_value());
    CHECK_FALSE(parse_integer("").has_value());
    CHECK_FALSE(parse_integer("   ").has_value());
    CHECK_FALSE(parse_integer("--1").has_value());
    CHECK_FALSE(parse_integer("eight").has_value());
}

TEST_CASE("units: parse_real accepts plain finite numbers") {
    CHECK(parse_real("1.5") == 1.5);
    CHECK(parse_real("-1.5e-3") == -1.5e-3);
    CHECK(parse_real("+2") == 2.0);
    CHECK(parse_real("1.") == 1.0);
    CHECK(parse_real(".25") == 0.25);
    CHECK(parse_real(" 3.5 ") == 3.5);
    CHECK(parse_real("1E2") == 100.0);
    CHECK(parse_real("1e308") == 1e308);
}

TEST_CASE("units: parse_real rejects overflow and junk and hex and non-finite") {
    CHECK_FALSE(parse_real("1e309").has_value());
    CHECK_FALSE(parse_real("-1e309").has_value());
    CHECK_FALSE(parse_real("0x10").has_value());
    CHECK_FALSE(parse_real("0x1p3").has_value());
    CHECK_FALSE(parse_real("inf").has_value());
    CHECK_FALSE(parse_real("-inf").has_value());
    CHECK_FALSE(parse_real("infinity").has_value());
    CHECK_FALSE(parse_real("nan").has_value());
    CHECK_FALSE(parse_real("NaN").has_value());
    CHECK_FALSE(parse_real("1.5x").has_value());
    CHECK_FALSE(parse_real("1 2").has_value());
    CHECK_FALSE(parse_real("1e").has_value());
    CHECK_FALSE(parse_real(".").has_value());
    CHECK_FALSE(parse_real("+-1").has_value());
    CHECK_FALSE(parse_real("").has_value());
    CHECK_FALSE(parse_real("1,5").has_value());
}

// ---------------------------------------------------------------------------------------------
// format_quantity

TEST_CASE("units: format_quantity picks the largest prefix not above the value") {
    CHECK(format_quantity(1.33e-7, Dimension::Time) == "133 ns");
    CHECK(format_quantity(1e-9, Dimension::Time) == "1 ns");
    CHECK(format_quantity(3e-10, Dimension::Time) == "300 ps");
    CHECK(format_quantity(1e-15, Dimension::Time) == "1 fs");
    CHECK(format_quantity(0.5, Dimension::Time) == "500 ms");
    CHECK(format_quantity(-2e-9, Dimension::Time) == "-2 ns");
    CHECK(format_quantity(1e9, Dimension::Frequency) == "1 GHz");
    CHECK(format_quantity(2.5e6, Dimension::Frequency) == "2.5 MHz");
    CHECK(format_quantity(24e-12, Dimension::Energy) == "24 pJ");
    CHECK(format_quantity(0.35e-12, Dimension::Energy) == "350 fJ");
    CHECK(format_quantity(0.02, Dimension::Power) == "20 mW");
    CHECK(format_quantity(25e-6, Dimension::Conductance) == "25 uS");
    CHECK(format_quantity(1e-6, Dimension::Area) == "1 mm2");
    // A value a hair below a prefix still uses it.
    CHECK(format_quantity(1e-6 * (1 - 1e-13), Dimension::Time) == "1 us");
}

TEST_CASE("units: format_quantity of zero uses the SI unit") {
    CHECK(format_quantity(0, Dimension::Time) == "0 s");
    CHECK(format_quantity(0, Dimension::Frequency) == "0 Hz");
    CHECK(format_quantity(0, Dimension::Energy) == "0 J");
    CHECK(format_quantity(0, Dimension::Power) == "0 W");
    CHECK(format_quantity(0, Dimension::Conductance) == "0 S");
    CHECK(format_quantity(0, Dimension::Area) == "0 m2");
}

TEST_CASE("units: format_quantity picks min h d y for long times") {
    CHECK(format_quantity(60, Dimension::Time) == "1 min");
    CHECK(format_quantity(3600, Dimension::Time) == "1 h");
    CHECK(format_quantity(86400, Dimension::Time) == "1 d");
    CHECK(format_quantity(365 * 86400.0, Dimension::Time) == "1 y");
    CHECK(format_quantity(5400, Dimension::Time) == "1.5 h");
}

TEST_CASE("units: format_quantity below the smallest unit uses the smallest unit") {
    CHECK(format_quantity(1e-18, Dimension::Time) == "0.001 fs");
    CHECK(format_quantity(0.5, Dimension::Frequency) == "0.5 Hz");
}

TEST_CASE("units: format_quantity output parses back to the same value") {
    struct Case {
        double v;
        Dimension d;
    };
    for (const Case& c : {Case{1.33e-7, Dimension::Time}, Case{5e-9, Dimension::Time}, Case{86400, Dimension::Time},
                          Case{1e9, Dimension::Frequency}, Case{0.35e-12, Dimension::Energy},
                          Case{1.6e-3, Dimension::Power}, Case{25e-6, Dimension::Conductance},
                          Case{0.2e-6, Dimension::Area}, Case{0, Dimension::Time}}) {
        std::string text = format_quantity(c.v, c.d);
        INFO(text);
        CHECK(quantity_ok(text, c.d) == Approx(c.v).epsilon(1e-9).margin(0));
    }
}

// ---------------------------------------------------------------------------------------------
// ParamDecl texts

TEST_CASE("units: ParamDecl type names and units and ranges") {
    auto i = ParamDecl::integer("bits", 8, 2, 16, "resolution", "bits");
    CHECK(i.type_name() == "integer");
    CHECK(i.unit_name() == "bits");
    CHECK(i.range_text() == "2..16");
    CHECK(i.default_text == std::optional<std::string>("8"));
    CHECK_FALSE(i.required());

    auto r = ParamDecl::real("bound", 10.0, 1e-6, 1e6, "bound", "normalized");
    CHECK(r.type_name() == "real");
    CHECK(r.range_text() == "1e-06 to 1e+06");
    CHECK(r.default_text == std::optional<std::string>("10"));

    auto lo_only = ParamDecl::real("x", 0.5, 0, 1e300, "x");
    CHECK(lo_only.range_text() == ">= 0");
    auto hi_only = ParamDecl::real("x", 0.5, -1e300, 3, "x");
    CHECK(hi_only.range_text() == "<= 3");
    auto unbounded = ParamDecl::real("x", std::nullopt, -1e300, 1e300, "x");
    CHECK(unbounded.range_text() == "");
    CHECK(unbounded.required());

    auto b = ParamDecl::boolean("on", true, "switch");
    CHECK(b.type_name() == "bool");
    CHECK(b.default_text == std::optional<std::string>("true"));
    CHECK(b.range_text() == "");
    CHECK(b.unit_name() == "");

    auto c = ParamDecl::choice("mode", std::string("a"), {"a", "b-c"}, "mode");
    CHECK(c.type_name() == "one of {a, b-c}");
    CHECK(c.range_text() == "");

    auto q = ParamDecl::quantity("t", Dimension::Time, std::string("5 ns"), 0, 1e-3, "t");
    CHECK(q.type_name() == "time");
    CHECK(q.unit_name() == "s");
    CHECK(q.range_text() == "0 s to 1 ms");
    auto qf = ParamDecl::quantity("f", Dimension::Frequency, std::nullopt, 1e3, 1e300, "f");
    CHECK(qf.range_text() == ">= 1 kHz");
    CHECK(qf.required());

    auto s = ParamDecl::text("name", std::nullopt, "a name");
    CHECK(s.type_name() == "string");
    CHECK(s.required());
}

TEST_CASE("units: integer ranges print their bounds exactly") {
    auto big = ParamDecl::integer("latency", 10, 0, 1048576, "latency", "cycles");
    CHECK(big.range_text() == "0..1048576");
    CHECK(param_error(big, "2000000") == "expected an integer in 0..1048576, got \"2000000\"");
    auto seed = ParamDecl::integer("seed", 1, 0, std::numeric_limits<long long>::max(), "seed");
    CHECK(seed.range_text() == "0..9223372036854775807");
}

// ---------------------------------------------------------------------------------------------
// parse_param for each type

TEST_CASE("units: parse_param integer values and errors") {
    auto d = ParamDecl::integer("bits", 8, 2, 16, "resolution", "bits");
    auto v = param_ok(d, "6");
    CHECK(v.type == ParamType::Integer);
    CHECK(v.integer == 6);
    CHECK(v.real == 6.0);
    CHECK(v.text == "6");
    CHECK(param_ok(d, "2").integer == 2);    // bounds are inclusive
    CHECK(param_ok(d, "16").integer == 16);
    CHECK(param_error(d, "eight") == "expected an integer in 2..16, got \"eight\"");
    CHECK(param_error(d, "1") == "expected an integer in 2..16, got \"1\"");
    CHECK(param_error(d, "17") == "expected an integer in 2..16, got \"17\"");
    CHECK(param_error(d, "8.0") == "expected an integer in 2..16, got \"8.0\"");
    CHECK(param_error(d, "0x8") == "expected an integer in 2..16, got \"0x8\"");
    CHECK(param_error(d, "99999999999999999999") == "expected an integer in 2..16, got \"99999999999999999999\"");
    CHECK(param_error(d, "") == "expected an integer in 2..16, got \"\"");
    auto neg = ParamDecl::integer("offset", 0, -3, 3, "offset");
    CHECK(param_ok(neg, "-3").integer == -3);
    CHECK(param_error(neg, "-4") == "expected an integer in -3..3, got \"-4\"");
}

TEST_CASE("units: parse_param real values and errors") {
    auto d = ParamDecl::real("bound", 10.0, 1e-6, 1e6, "bound", "normalized");
    auto v = param_ok(d, "2.5");
    CHECK(v.type == ParamType::Real);
    CHECK(v.real == 2.5);
    CHECK(v.text == "2.5");
    CHECK(param_ok(d, "1e6").real == 1e6);
    CHECK(param_ok(d, "10").real == 10.0);
    CHECK(param_error(d, "0") == "expected a number in 1e-06 to 1e+06, got \"0\"");
    CHECK(param_error(d, "2e6") == "expected a number in 1e-06 to 1e+06, got \"2e6\"");
    CHECK(param_error(d, "ten") == "expected a number in 1e-06 to 1e+06, got \"ten\"");
    CHECK(param_error(d, "nan") == "expected a number in 1e-06 to 1e+06, got \"nan\"");
    CHECK(param_error(d, ".inf") == "expected a number in 1e-06 to 1e+06, got \".inf\"");
    auto free = ParamDecl::real("x", 0.0, -1e300, 1e300, "x");
    CHECK(param_error(free, "abc") == "expected a number, got \"abc\"");
    CHECK(param_ok(free, "-1e100").real == -1e100);
}

TEST_CASE("units: parse_param bool values and errors") {
    auto d = ParamDecl::boolean("on", false, "switch");
    for (const char* t : {"true", "yes", "on", "True", "TRUE", "Yes"}) {
        auto v = param_ok(d, t);
        CHECK(v.type == ParamType::Bool);
        CHECK(v.boolean);
    }
    for (const char* t : {"false", "no", "off", "False", "OFF"}) CHECK_FALSE(param_ok(d, t).boolean);
    CHECK(param_error(d, "1") == "expected true or false, got \"1\"");
    CHECK(param_error(d, "maybe") == "expected true or false, got \"maybe\"");
    CHECK(param_error(d, "") == "expected true or false, got \"\"");
}

TEST_CASE("units: parse_param string takes any text") {
    auto d = ParamDecl::text("label", std::string("x"), "a label");
    CHECK(param_ok(d, "hello world").text == "hello world");
    CHECK(param_ok(d, "").text == "");
    CHECK(param_ok(d, "5 ns").type == ParamType::String);
}

TEST_CASE("units: parse_param choice values and errors") {
    auto d = ParamDecl::choice("input_scaling", std::string("abs-max"), {"abs-max", "fixed"}, "scaling");
    auto v = param_ok(d, "fixed");
    CHECK(v.type == ParamType::Choice);
    CHECK(v.text == "fixed");
    CHECK(param_ok(d, "abs-max").text == "abs-max");
    CHECK(param_error(d, "foo") == "expected one of {abs-max, fixed}, got \"foo\"");
    CHECK(param_error(d, "Fixed") == "expected one of {abs-max, fixed}, got \"Fixed\"");
    CHECK(param_error(d, "") == "expected one of {abs-max, fixed}, got \"\"");
}

TEST_CASE("units: parse_param quantity values and errors") {
    auto d = ParamDecl::quantity("conversion_time", Dimension::Time, std::string("5 ns"), 0, 1e-3, "latency");
    auto v = param_ok(d, "133 ns");
    CHECK(v.type == ParamType::Quantity);
    CHECK(v.real == Approx(1.33e-7).epsilon(1e-12));
    CHECK(v.text == "133 ns");
    CHECK(param_ok(d, "0 s").real == 0.0);
    CHECK(param_ok(d, "1 ms").real == Approx(1e-3).epsilon(1e-12));
    CHECK(param_error(d, "-1 ns") == "expected a time in 0 s to 1 ms, got \"-1 ns\"");
    CHECK(param_error(d, "2 ms") == "expected a time in 0 s to 1 ms, got \"2 ms\"");
    CHECK(param_error(d, "1 h") == "expected a time in 0 s to 1 ms, got \"1 h\"");
    // Unit problems come straight from parse_quantity.
    CHECK(param_error(d, "5") == "missing unit: expected a time in one of " + kTimeUnits + ", got \"5\"");
    CHECK(param_error(d, "5 pJ") == "unknown unit \"pJ\" for a time; expected one of " + kTimeUnits);
    CHECK(param_error(d, "soon") == "expected a time such as \"133 ns\", got \"soon\"");

    auto f = ParamDecl::quantity("clock", Dimension::Frequency, std::nullopt, 1e3, 1e12, "clock");
    CHECK(param_ok(f, "1 GHz").real == 1e9);
    CHECK(param_error(f, "100 Hz") == "expected a frequency in 1 kHz to 1000 GHz, got \"100 Hz\"");
}

TEST_CASE("units: parse_param leaves why alone on success and accepts a null why") {
    auto d = ParamDecl::integer("bits", 8, 2, 16, "resolution");
    std::string why = "untouched";
    CHECK(parse_param(d, "4", &why).has_value());
    CHECK(why == "untouched");
    CHECK_FALSE(parse_param(d, "40", nullptr).has_value());
}

// ---------------------------------------------------------------------------------------------
// ParamSet

TEST_CASE("units: ParamSet typed accessors and internal errors") {
    aimc::ParamSet set;
    std::string why;
    set.set("bits", *parse_param(ParamDecl::integer("bits", 8, 2, 16, "r"), "6", &why));
    set.set("t", *parse_param(ParamDecl::quantity("t", Dimension::Time, std::nullopt, 0, 1, "t"), "5 ns", &why));
    set.set("on", *parse_param(ParamDecl::boolean("on", false, "o"), "yes", &why));
    set.set("mode", *parse_param(ParamDecl::choice("mode", std::nullopt, {"a", "b"}, "m"), "b", &why));
    CHECK(set.has("bits"));
    CHECK_FALSE(set.has("nope"));
    CHECK(set.integer("bits") == 6);
    CHECK(set.real("bits") == 6.0);  // integers read as reals too
    CHECK(set.real("t") == Approx(5e-9).epsilon(1e-12));
    CHECK(set.boolean("on"));
    CHECK(set.text("mode") == "b");
    CHECK(set.text("t") == "5 ns");
    // Asking for an undeclared parameter or the wrong type is a bug in the simulator.
    CHECK_THROWS_AS(set.integer("nope"), aimc::InternalError);
    CHECK_THROWS_AS(set.integer("t"), aimc::InternalError);
    CHECK_THROWS_AS(set.boolean("bits"), aimc::InternalError);
    CHECK_THROWS_AS(set.real("on"), aimc::InternalError);
    CHECK_THROWS_WITH(set.value("nope"),
                      Catch::Matchers::Contains("internal error: parameter 'nope' was not declared by its component"));
}
