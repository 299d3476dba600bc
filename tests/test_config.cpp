// Tests for the chip configuration loader (sim/config.*, sim/yaml_tree.*) and the component
// catalog (sim/registry.*): resolved values of the shipped configs, `base:` inheritance, `--set`
// overrides and the exact text of every kind of config error.
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"
#include "sim/yaml_tree.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using aimc::ChipConfig;
using aimc::load_chip_config;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kHermes = kSource + "/configs/hermes.yaml";
const std::string kTiny = kSource + "/configs/tiny.yaml";
const std::string kTinyIdeal = kSource + "/configs/tiny-ideal.yaml";
const std::string kTopLevel = "name, description, chip, core, interconnect, host, run";

using aimc_test::TempDir;

// A complete chip description without `base:` that states only what is required.
const char* kMinimal =
    "name: minimal\n"           // 1
    "chip:\n"                   // 2
    "  clock: 1 GHz\n"          // 3
    "  grid_cols: 2\n"          // 4
    "  grid_rows: 3\n"          // 5
    "core:\n"                   // 6
    "  crossbar:\n"             // 7
    "    kind: pcm-crossbar\n"  // 8
    "    rows: 4\n"             // 9
    "    cols: 5\n"             // 10
    "  dac:\n"                  // 11
    "    kind: pwm-dac\n"       // 12
    "  adc:\n"                  // 13
    "    kind: cco-adc\n"       // 14
    "  digital:\n"              // 15
    "    kind: float\n"         // 16
    "interconnect:\n"           // 17
    "  kind: mesh\n";           // 18

// The first line of a derived file that inherits hermes.yaml (absolute path).
std::string hermes_base() { return "base: " + kHermes + "\nname: derived\n"; }

// Loads a config that must fail with InputErrors; returns every message.
std::vector<std::string> errors_of(const std::string& path, const std::vector<std::string>& overrides = {}) {
    try {
        load_chip_config(path, overrides);
    } catch (const aimc::InputErrors& e) {
        // The exception's text is the messages joined by newlines.
        std::string joined;
        for (const auto& m : e.messages()) joined += (joined.empty() ? "" : "\n") + m;
        CHECK(std::string(e.what()) == joined);
        return e.messages();
    } catch (const aimc::InputError& e) {
        FAIL("expected InputErrors (a validation error), got a single InputError: " << e.what());
    }
    FAIL("the config loaded without errors: " << path);
    return {};
}

// Loads a config that must fail with one InputError that is not a validation list.
std::string single_error_of(const std::string& path, const std::vector<std::string>& overrides = {}) {
    try {
        load_chip_config(path, overrides);
    } catch (const aimc::InputErrors& e) {
        FAIL("expected a single InputError, got InputErrors: " << e.what());
    } catch (const aimc::InputError& e) {
        return e.what();
    }
    FAIL("the config loaded without errors: " << path);
    return {};
}

std::string usage_error_of(const std::string& path, const std::vector<std::string>& overrides) {
    try {
        load_chip_config(path, overrides);
    } catch (const aimc::UsageError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected a UsageError, got: " << e.what());
    }
    FAIL("the config loaded without errors: " << path);
    return {};
}

// The only message of a failing config.
std::string only_error_of(const std::string& path, const std::vector<std::string>& overrides = {}) {
    auto errors = errors_of(path, overrides);
    INFO("errors:\n" << [&] {
        std::string s;
        for (const auto& e : errors) s += e + "\n";
        return s;
    }());
    REQUIRE(errors.size() == 1);
    return errors[0];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shipped configs

TEST_CASE("config: hermes resolves every value") {
    ChipConfig c = load_chip_config(kHermes);
    CHECK(c.file == kHermes);
    CHECK(c.name == "hermes");
    CHECK(c.description == "IBM HERMES 64-core PCM AIMC chip (14 nm), one-phase 8-bit mode");

    const auto& chip = c.at("chip");
    CHECK(chip.kind == "aimc-chip");
    CHECK(chip.integer("grid_cols") == 8);
    CHECK(chip.integer("grid_rows") == 8);
    CHECK(chip.integer("grid_cols") * chip.integer("grid_rows") == 64);
    CHECK(chip.real("clock") == 1e9);
    CHECK(chip.integer("word_bits") == 8);
    CHECK(chip.real("static_power") == 0.0);

    const auto& core = c.at("core");
    CHECK(core.kind == "aimc-core");
    CHECK(core.integer("input_bus_bits") == 256);
    CHECK(core.integer("output_bus_bits") == 256);
    CHECK(core.boolean("input_double_buffered"));
    CHECK(core.real("static_power") == Approx(20e-3).epsilon(1e-12));

    const auto& xb = c.at("core.crossbar");
    CHECK(xb.kind == "pcm-crossbar");
    CHECK(xb.integer("rows") == 256);
    CHECK(xb.integer("cols") == 256);
    CHECK(xb.integer("devices_per_polarity") == 2);
    CHECK(xb.child("device").real("g_max") == Approx(10.35e-6).epsilon(1e-12));
    CHECK(xb.real("energy_per_mac") == Approx(0.04e-12).epsilon(1e-12));

    const auto& dac = c.at("core.dac");
    CHECK(dac.kind == "pwm-dac");
    CHECK(dac.integer("bits") == 8);
    CHECK(dac.real("lsb_time") == Approx(1e-9).epsilon(1e-12));
    CHECK(dac.real("energy_per_conversion") == Approx(4e-12).epsilon(1e-12));
    CHECK(dac.text("input_scaling") == "abs-max");
    CHECK(dac.real("input_range") == 1.0);  // default
    CHECK(dac.params.value("input_range").where == "(default)");

    const auto& adc = c.at("core.adc");
    CHECK(adc.kind == "cco-adc");
    CHECK(adc.integer("bits") == 8);
    CHECK(adc.real("time_per_lsb") == Approx(300e-12).epsilon(1e-12));
    CHECK(adc.real("conversion_time") == Approx(5e-9).epsilon(1e-12));
    CHECK(adc.real("output_bound") == 10.0);
    CHECK(adc.real("energy_per_conversion") == Approx(26.2e-12).epsilon(1e-12));

    const auto& dig = c.at("core.digital");
    CHECK(dig.kind == "float");
    CHECK(dig.integer("lanes") == 16);
    CHECK(dig.integer("cycles_per_op") == 1);
    CHECK(dig.integer("pipeline_depth") == 2);
    CHECK(dig.real("energy_per_lane_op") == Approx(0.7e-12).epsilon(1e-12));

    const auto& net = c.at("interconnect");
    CHECK(net.kind == "mesh");
    CHECK(net.integer("link_width_bits") == 64);
    CHECK(net.integer("router_latency") == 2);
    CHECK(net.integer("link_latency") == 1);
    CHECK(net.integer("ni_latency") == 2);
    CHECK(net.real("energy_per_flit_router") == Approx(1e-12).epsilon(1e-12));
    CHECK(net.real("energy_per_flit_link") == Approx(0.5e-12).epsilon(1e-12));
    CHECK(net.real("router_static_power") == Approx(1.6e-3).epsilon(1e-12));

    const auto& host = c.at("host");
    CHECK(host.kind == "host-port");  // default kind, not written in the file
    CHECK(host.integer("attach_x") == 0);
    CHECK(host.integer("attach_y") == 0);
    CHECK(host.integer("bytes_per_cycle") == 32);
    CHECK(host.integer("latency") == 20);
    CHECK(host.integer("samples_in_flight") == 8);
    CHECK(host.real("energy_per_byte") == Approx(10e-12).epsilon(1e-12));

    const auto& run = c.at("run");
    CHECK(run.kind == "run");
    CHECK(run.integer("seed") == 1);
    CHECK(run.real("t_inference") == 0.0);
}

TEST_CASE("config: at() and child() reject unknown paths as internal errors") {
    ChipConfig c = load_chip_config(kHermes);
    CHECK(&c.at("core.adc") == &c.at("core").child("adc"));
    CHECK_THROWS_AS(c.at("core.nosuch"), aimc::InternalError);
    CHECK_THROWS_AS(c.at("nosuch"), aimc::InternalError);
    CHECK_THROWS_AS(c.at("core.adc").integer("nosuch"), aimc::InternalError);
}

TEST_CASE("config: tiny inherits from hermes and changes the size only") {
    ChipConfig c = load_chip_config(kTiny);
    CHECK(c.name == "tiny");
    CHECK(c.description == "4-core test chip (2x2 mesh, 64x64 crossbars), HERMES-like peripherals");
    CHECK(c.at("chip").integer("grid_cols") == 2);
    CHECK(c.at("chip").integer("grid_rows") == 2);
    CHECK(c.at("core.crossbar").integer("rows") == 64);
    CHECK(c.at("core.crossbar").integer("cols") == 64);
    CHECK(c.at("core").integer("input_bus_bits") == 64);
    CHECK(c.at("core").integer("output_bus_bits") == 64);
    // Inherited from hermes.yaml.
    CHECK(c.at("chip").real("clock") == 1e9);
    CHECK(c.at("core.crossbar").kind == "pcm-crossbar");
    CHECK(c.at("core.crossbar").integer("devices_per_polarity") == 2);
    CHECK(c.at("core.adc").kind == "cco-adc");
    CHECK(c.at("core.adc").real("energy_per_conversion") == Approx(26.2e-12).epsilon(1e-12));
    CHECK(c.at("core.adc").real("conversion_time") == Approx(5e-9).epsilon(1e-12));
    CHECK(c.at("core.dac").kind == "pwm-dac");
    CHECK(c.at("core.dac").integer("bits") == 8);
    CHECK(c.at("interconnect").integer("router_latency") == 2);
    CHECK(c.at("host").integer("latency") == 20);
    CHECK(c.at("core").real("static_power") == Approx(20e-3).epsilon(1e-12));
    // Values remember which file they came from.
    CHECK_THAT(c.at("core.crossbar").params.value("rows").where, StartsWith(kTiny + ":"));
    CHECK_THAT(c.at("core.adc").params.value("energy_per_conversion").where, StartsWith(kHermes + ":"));
}

TEST_CASE("config: tiny-ideal replaces the converters of tiny") {
    ChipConfig c = load_chip_config(kTinyIdeal);
    CHECK(c.name == "tiny-ideal");
    CHECK(c.at("chip").integer("grid_cols") == 2);          // from tiny
    CHECK(c.at("core.crossbar").integer("rows") == 64);     // from tiny
    CHECK(c.at("core.crossbar").real("energy_per_mac") == Approx(0.04e-12).epsilon(1e-12));  // from hermes
    const auto& dac = c.at("core.dac");
    CHECK(dac.kind == "ideal-dac");
    CHECK(dac.real("window") == Approx(128e-9).epsilon(1e-12));
    CHECK(dac.real("energy_per_conversion") == Approx(4e-12).epsilon(1e-12));
    CHECK_FALSE(dac.params.has("lsb_time"));
    const auto& adc = c.at("core.adc");
    CHECK(adc.kind == "ideal-adc");
    CHECK(adc.real("conversion_time") == Approx(5e-9).epsilon(1e-12));
    CHECK(adc.real("energy_per_conversion") == Approx(26.2e-12).epsilon(1e-12));
    CHECK(adc.integer("bits") == 8);
    CHECK_FALSE(adc.params.has("time_per_lsb"));
    CHECK_FALSE(adc.params.has("output_bound"));
}

TEST_CASE("config: a minimal file gets every default") {
    TempDir dir;
    std::string path = dir.write("minimal.yaml", kMinimal);
    ChipConfig c = load_chip_config(path);
    CHECK(c.name == "minimal");
    CHECK(c.description == "");
    CHECK(c.at("chip").integer("grid_rows") == 3);
    CHECK(c.at("chip").integer("word_bits") == 8);
    CHECK(c.at("core").integer("input_bus_bits") == 256);
    CHECK(c.at("core").boolean("input_double_buffered"));
    CHECK(c.at("core.crossbar").integer("devices_per_polarity") == 1);
    CHECK(c.at("core.crossbar.device").real("g_max") == Approx(25e-6).epsilon(1e-12));
    CHECK(c.at("core.dac").real("lsb_time") == Approx(1e-9).epsilon(1e-12));
    CHECK(c.at("core.adc").real("output_bound") == 10.0);
    CHECK(c.at("core.adc").real("time_per_lsb") == Approx(300e-12).epsilon(1e-12));
    CHECK(c.at("core.adc").real("energy_per_conversion") == 0.0);
    CHECK(c.at("interconnect").integer("router_latency") == 1);
    CHECK(c.at("host").kind == "host-port");
    CHECK(c.at("host").integer("latency") == 10);
    CHECK(c.at("host").integer("samples_in_flight") == 4);
    CHECK(c.at("run").integer("seed") == 1);
    // Where each value came from.
    CHECK(c.at("chip").params.value("grid_rows").where == path + ":5:14");
    CHECK(c.at("core.crossbar").params.value("cols").where == path + ":10:11");
    CHECK(c.at("core.adc").params.value("bits").where == "(default)");
}

// ---------------------------------------------------------------------------------------------
// base: merging

TEST_CASE("config: a derived file overrides single values and keeps the rest") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() +
                                               "core:\n"           // 3
                                               "  adc:\n"          // 4
                                               "    bits: 6\n");   // 5
    ChipConfig c = load_chip_config(path);
    CHECK(c.name == "derived");
    CHECK(c.description == "IBM HERMES 64-core PCM AIMC chip (14 nm), one-phase 8-bit mode");
    CHECK(c.at("core.adc").kind == "cco-adc");
    CHECK(c.at("core.adc").integer("bits") == 6);
    CHECK(c.at("core.adc").params.value("bits").where == path + ":5:11");
    CHECK(c.at("core.adc").real("energy_per_conversion") == Approx(26.2e-12).epsilon(1e-12));
    CHECK(c.at("core.adc").real("time_per_lsb") == Approx(300e-12).epsilon(1e-12));
    CHECK(c.at("core.dac").integer("bits") == 8);
}

TEST_CASE("config: the same kind in a derived file merges with the base section") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    kind: cco-adc\n    bits: 4\n");
    ChipConfig c = load_chip_config(path);
    CHECK(c.at("core.adc").integer("bits") == 4);
    CHECK(c.at("core.adc").real("energy_per_conversion") == Approx(26.2e-12).epsilon(1e-12));
    CHECK(c.at("core.adc").real("output_bound") == 10.0);
}

TEST_CASE("config: changing kind in a derived file replaces the base section whole") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    kind: ideal-adc\n");
    ChipConfig c = load_chip_config(path);  // hermes' time_per_lsb and output_bound do not leak in
    const auto& adc = c.at("core.adc");
    CHECK(adc.kind == "ideal-adc");
    CHECK_FALSE(adc.params.has("time_per_lsb"));
    CHECK_FALSE(adc.params.has("output_bound"));
    // Not even keys the new kind shares with the old one: these are ideal-adc's defaults, not
    // hermes' 5 ns and 24 pJ.
    CHECK(adc.real("conversion_time") == 0.0);
    CHECK(adc.real("energy_per_conversion") == 0.0);
    CHECK(adc.params.value("conversion_time").where == "(default)");
    auto j = c.resolved_json();
    CHECK(j["core"]["adc"]["kind"] == "ideal-adc");
    CHECK_FALSE(j["core"]["adc"].contains("output_bound"));
    CHECK_FALSE(j["core"]["adc"].contains("time_per_lsb"));
    // Other sections still merge.
    CHECK(c.at("core.dac").kind == "pwm-dac");
    CHECK(c.at("core.crossbar").integer("rows") == 256);
}

TEST_CASE("config: a base chain of three files resolves in order") {
    TempDir dir;
    dir.write("sub/grand.yaml", kMinimal);
    dir.write("sub/parent.yaml", "base: grand.yaml\nname: parent\ncore:\n  adc:\n    bits: 6\n    output_bound: 4\n");
    std::string child = dir.write("child.yaml", "base: sub/parent.yaml\ncore:\n  adc:\n    bits: 5\n");
    ChipConfig c = load_chip_config(child);
    CHECK(c.name == "parent");                              // inherited through the chain
    CHECK(c.at("core.adc").integer("bits") == 5);           // child wins
    CHECK(c.at("core.adc").real("output_bound") == 4.0);    // from parent
    CHECK(c.at("core.crossbar").integer("cols") == 5);      // from grand
    // base: paths are relative to the file naming them.
    CHECK_THAT(c.at("core.crossbar").params.value("cols").where, StartsWith((fs::path(dir.path.string()) / "sub" / "grand.yaml").string() + ":10:"));
}

// ---------------------------------------------------------------------------------------------
// Config errors, one kind at a time

TEST_CASE("config: unknown key with a did-you-mean suggestion") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    bitz: 8\n");
    CHECK(only_error_of(path) == path + ":5:5: core.adc.bitz: unknown key for adc kind \"cco-adc\" (did you mean 'bits'?)");
}

TEST_CASE("config: unknown key far from every known key has no suggestion") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    frobnicate: 8\n");
    CHECK(only_error_of(path) == path + ":5:5: core.adc.frobnicate: unknown key for adc kind \"cco-adc\"");
}

TEST_CASE("config: unknown key in a section with child sections suggests the child") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  dacs:\n    kind: pwm-dac\n");
    CHECK(only_error_of(path) == path + ":4:3: core.dacs: unknown key for core kind \"aimc-core\" (did you mean 'dac'?)");
}

TEST_CASE("config: wrong type for an integer") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    bits: eight\n");
    CHECK(only_error_of(path) == path + ":5:11: core.adc.bits: expected an integer in 2..16, got \"eight\"");
}

TEST_CASE("config: out of range integer") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    bits: 17\n");
    CHECK(only_error_of(path) == path + ":5:11: core.adc.bits: expected an integer in 2..16, got \"17\"");
}

TEST_CASE("config: out of range quantity and wrong unit") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() +
                                               "chip:\n"                      // 3
                                               "  clock: \"5 ns\"\n"          // 4
                                               "run:\n"                       // 5
                                               "  t_inference: \"-1 s\"\n");  // 6
    auto errors = errors_of(path);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == path + ":4:10: chip.clock: unknown unit \"ns\" for a frequency; expected one of Hz kHz MHz GHz");
    CHECK(errors[1] == path + ":6:16: run.t_inference: expected a time in 0 s to 100 y, got \"-1 s\"");
}

TEST_CASE("config: wrong value for a choice and a bool") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() +
                                               "core:\n"                           // 3
                                               "  input_double_buffered: maybe\n"  // 4
                                               "  dac:\n"                          // 5
                                               "    input_scaling: foo\n");        // 6
    auto errors = errors_of(path);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == path + ":6:20: core.dac.input_scaling: expected one of {abs-max, fixed}, got \"foo\"");
    CHECK(errors[1] == path + ":4:26: core.input_double_buffered: expected true or false, got \"maybe\"");
}

TEST_CASE("config: a parameter given a list") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "chip:\n  clock: [1, 2]\n");
    CHECK(only_error_of(path) == path + ":4:10: chip.clock: expected a frequency value, got a list");
}

TEST_CASE("config: a parameter without a value names its type with the right article") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n    bits:\n");
    CHECK(only_error_of(path) == path + ":5:5: core.adc.bits: expected an integer value, got nothing");
}

TEST_CASE("config: missing required key") {
    TempDir dir;
    std::string text = kMinimal;
    text.replace(text.find("  grid_rows: 3\n"), 15, "");
    std::string path = dir.write("m.yaml", text);
    CHECK(only_error_of(path) == path + ":3:3: chip.grid_rows: missing required key (cores along y)");
}

TEST_CASE("config: missing required kind in a section") {
    TempDir dir;
    std::string text = kMinimal;
    text.replace(text.find("    kind: cco-adc\n"), 18, "    bits: 6\n");
    std::string path = dir.write("m.yaml", text);
    CHECK(only_error_of(path) == path + ":14:5: core.adc: missing required key 'kind'; adc kinds: cco-adc, ideal-adc");
}

TEST_CASE("config: missing required section") {
    TempDir dir;
    std::string text = kMinimal;
    text.erase(text.find("interconnect:\n"));
    std::string path = dir.write("m.yaml", text);
    CHECK(only_error_of(path) == path + ":1:1: interconnect: missing required section; interconnect kinds: bus, mesh");
}

TEST_CASE("config: missing name") {
    TempDir dir;
    std::string text = kMinimal;
    text.replace(0, text.find('\n') + 1, "description: no name\n");
    std::string path = dir.write("m.yaml", text);
    CHECK(only_error_of(path) == path + ":1:1: name: missing required key (the chip's name)");
}

TEST_CASE("config: unknown kind with and without a suggestion") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() +
                                               "core:\n"                  // 3
                                               "  adc:\n"                 // 4
                                               "    kind: cco-adcc\n"     // 5
                                               "  dac:\n"                 // 6
                                               "    kind: laser-dac\n");  // 7
    auto errors = errors_of(path);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == path + ":7:11: core.dac.kind: unknown dac kind \"laser-dac\"; known kinds: bit-serial-dac, ideal-dac, pwm-dac");
    CHECK(errors[1] == path +
                           ":5:11: core.adc.kind: unknown adc kind \"cco-adcc\"; known kinds: cco-adc, ideal-adc (did "
                           "you mean 'cco-adc'?)");
}

TEST_CASE("config: a section that is a scalar") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc: 5\n");
    CHECK(only_error_of(path) == path + ":4:8: core.adc: expected a mapping (a section with keys), got a scalar");
}

TEST_CASE("config: a top-level section that is a scalar hides its children") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core: big\n");
    CHECK(only_error_of(path) == path + ":3:7: core: expected a mapping (a section with keys), got a scalar");
}

TEST_CASE("config: a section that is empty") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "core:\n  adc:\n");
    CHECK(only_error_of(path) == path + ":4:3: core.adc: expected a mapping (a section with keys), got nothing");
}

TEST_CASE("config: unknown top-level key") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "chipp:\n  clock: 1 GHz\nwidgets: 3\n");
    auto errors = errors_of(path);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == path + ":3:1: chipp: unknown top-level key; expected one of " + kTopLevel + " (did you mean 'chip'?)");
    CHECK(errors[1] == path + ":5:1: widgets: unknown top-level key; expected one of " + kTopLevel);
}

TEST_CASE("config: name and description must be text") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "description: [a, b]\n");
    CHECK(only_error_of(path) == path + ":3:14: description: expected text, got a list");
}

TEST_CASE("config: YAML syntax error") {
    TempDir dir;
    std::string path = dir.write("bad.yaml", "name: x\ncore:\n  adc: [1,\n");
    CHECK(single_error_of(path) == path + ":4:1: YAML syntax error: end of sequence flow not found");
    std::string path2 = dir.write("bad2.yaml", "name: x\n  bad: 1\n");
    CHECK(single_error_of(path2) == path2 + ":2:6: YAML syntax error: illegal map value");
}

TEST_CASE("config: YAML syntax error in a base file names the base file") {
    TempDir dir;
    std::string base = dir.write("base.yaml", "name: x\ncore:\n  adc: [1,\n");
    std::string path = dir.write("d.yaml", "base: base.yaml\nname: y\n");
    CHECK(single_error_of(path) == base + ":4:1: YAML syntax error: end of sequence flow not found");
}

TEST_CASE("config: duplicate keys") {
    TempDir dir;
    std::string path = dir.write("dup.yaml", std::string(kMinimal) + "chip:\n  clock: 2 GHz\n");
    CHECK(single_error_of(path) == path + ":19:1: duplicate key 'chip'");
}

TEST_CASE("config: files that are not a mapping") {
    TempDir dir;
    std::string list = dir.write("list.yaml", "- a\n- b\n");
    CHECK(single_error_of(list) == list + ":1:1: expected a mapping at the top level, got a list");
    std::string empty = dir.write("empty.yaml", "");
    CHECK(single_error_of(empty) == empty + ": file is empty");
    std::string comment = dir.write("comment.yaml", "# nothing here\n");
    CHECK(single_error_of(comment) == comment + ": file is empty");
}

TEST_CASE("config: chip file not found or a directory") {
    TempDir dir;
    std::string missing = (fs::path(dir.path.string()) / "nosuch.yaml").string();
    CHECK(single_error_of(missing) == missing + ": cannot open file");
    CHECK(single_error_of(dir.path.string()) == dir.path.string() + ": is a directory, expected a YAML file");
}

TEST_CASE("config: base file not found") {
    TempDir dir;
    std::string path = dir.write("d.yaml", "name: x\nbase: nosuch.yaml\n");
    std::string expected_base = (fs::path(dir.path.string()) / "nosuch.yaml").string();
    CHECK(single_error_of(path) == path + ":2:7: base: file not found: " + expected_base);
}

TEST_CASE("config: base that is not a file name") {
    TempDir dir;
    std::string path = dir.write("d.yaml", "name: x\nbase: [a.yaml]\n");
    CHECK(single_error_of(path) == path + ":2:7: base: expected a file name, got a list");
}

TEST_CASE("config: base cycle is detected") {
    TempDir dir;
    std::string a = dir.write("a.yaml", "base: b.yaml\nname: a\n");
    std::string b = dir.write("b.yaml", "base: a.yaml\nname: b\n");
    std::string ca = fs::weakly_canonical(a).string(), cb = fs::weakly_canonical(b).string();
    CHECK_THAT(single_error_of(a), Contains("cycle in base chain: " + ca + " -> " + cb + " -> " + ca));
    std::string self = dir.write("self.yaml", "name: s\nbase: self.yaml\n");
    std::string cs = fs::weakly_canonical(self).string();
    CHECK_THAT(single_error_of(self), Contains("cycle in base chain: " + cs + " -> " + cs));
}

TEST_CASE("config: base cycle error names the base key that closes the cycle") {
    TempDir dir;
    std::string a = dir.write("a.yaml", "base: b.yaml\nname: a\n");
    std::string b = dir.write("b.yaml", "name: b\nbase: a.yaml\n");
    std::string ca = fs::weakly_canonical(a).string(), cb = fs::weakly_canonical(b).string();
    CHECK(single_error_of(a) == b + ":2:7: base: cycle in base chain: " + ca + " -> " + cb + " -> " + ca);
}

TEST_CASE("config: several errors in one file are all reported together") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() +
                                               "core:\n"                 // 3
                                               "  crossbar:\n"           // 4
                                               "    rows: 0\n"           // 5
                                               "  adc:\n"                // 6
                                               "    bitz: 8\n"           // 7
                                               "  dac:\n"                // 8
                                               "    kind: nosuch\n"      // 9
                                               "chipp:\n"                // 10
                                               "  x: 1\n"                // 11
                                               "host:\n"                 // 12
                                               "  latency: soon\n");     // 13
    std::vector<std::string> expected = {
        path + ":10:1: chipp: unknown top-level key; expected one of " + kTopLevel + " (did you mean 'chip'?)",
        path + ":5:11: core.crossbar.rows: expected an integer in 1..4096, got \"0\"",
        path + ":9:11: core.dac.kind: unknown dac kind \"nosuch\"; known kinds: bit-serial-dac, ideal-dac, pwm-dac",
        path + ":7:5: core.adc.bitz: unknown key for adc kind \"cco-adc\" (did you mean 'bits'?)",
    };
    auto errors = errors_of(path);
    // The host error is checked apart: its range text is the subject of another test.
    REQUIRE(errors.size() == 5);
    CHECK(std::vector<std::string>(errors.begin(), errors.begin() + 4) == expected);
    CHECK_THAT(errors[4], StartsWith(path + ":13:12: host.latency: expected an integer in 0..") &&
                              Contains("got \"soon\""));
}

TEST_CASE("config: integer range in a message shows the exact bound") {
    TempDir dir;
    std::string path = dir.write("d.yaml", hermes_base() + "host:\n  latency: 2000000\n");
    CHECK(only_error_of(path) == path + ":4:12: host.latency: expected an integer in 0..1048576, got \"2000000\"");
}

TEST_CASE("config: build_chip_config validates a tree from text") {
    auto root = aimc::parse_yaml_text(std::string(kMinimal) + "run:\n  seed: -1\n", "mem.yaml");
    try {
        aimc::build_chip_config(root, "mem.yaml");
        FAIL("accepted a negative seed");
    } catch (const aimc::InputErrors& e) {
        REQUIRE(e.messages().size() == 1);
        CHECK_THAT(e.messages()[0], StartsWith("mem.yaml:20:9: run.seed: expected an integer in 0..") &&
                                        Contains(", got \"-1\""));
    }
    auto ok = aimc::build_chip_config(aimc::parse_yaml_text(kMinimal, "mem.yaml"), "mem.yaml");
    CHECK(ok.file == "mem.yaml");
    CHECK(ok.at("core.crossbar").integer("rows") == 4);
}

TEST_CASE("config: load_chip_config_text resolves base relative to the name and applies overrides") {
    const std::string name = kSource + "/configs/derived.yaml";  // need not exist
    ChipConfig c = aimc::load_chip_config_text("base: tiny.yaml\nname: derived\n", name, {"core.adc.bits=4"});
    ChipConfig tiny = load_chip_config(kTiny, {"core.adc.bits=4"});
    CHECK(c.file == name);
    CHECK(c.name == "derived");
    CHECK(c.resolved_json().dump() != tiny.resolved_json().dump());  // the name differs
    auto j = c.resolved_json(), t = tiny.resolved_json();
    j.erase("name");
    t.erase("name");
    CHECK(j == t);
    CHECK(c.at("core.adc").params.value("bits").where == "--set core.adc.bits=4");
}

TEST_CASE("config: load_chip_config_text errors name the text and its base files") {
    const std::string name = kSource + "/configs/mem.yaml";
    try {
        aimc::load_chip_config_text("name: m\nbase: nope.yaml\n", name);
        FAIL("accepted a missing base");
    } catch (const aimc::InputError& e) {
        CHECK(std::string(e.what()) == name + ":2:7: base: file not found: " + kSource + "/configs/nope.yaml");
    }
    try {
        aimc::load_chip_config_text("base: tiny.yaml\nname: m\nchip: {grid_cols: 0}\n", name);
        FAIL("accepted grid_cols 0");
    } catch (const aimc::InputErrors& e) {
        REQUIRE(e.messages().size() == 1);
        CHECK_THAT(e.messages()[0], StartsWith(name + ":3:19: chip.grid_cols: expected an integer in 1..64"));
    }
    CHECK_THROWS_AS(aimc::load_chip_config_text("", name), aimc::InputError);
    CHECK_THROWS_WITH(aimc::load_chip_config_text("- a\n", name), StartsWith(name + ":1:1: expected a mapping"));
    // A base naming the text itself (here standing for tiny.yaml) is a cycle.
    CHECK_THROWS_WITH(aimc::load_chip_config_text("base: tiny.yaml\nname: m\n", kTiny), Contains("cycle in base chain"));
}

// ---------------------------------------------------------------------------------------------
// --set overrides

TEST_CASE("config: --set changes a value and records where it came from") {
    ChipConfig c = load_chip_config(kHermes, {"core.adc.bits=6"});
    CHECK(c.at("core.adc").integer("bits") == 6);
    CHECK(c.at("core.adc").params.value("bits").where == "--set core.adc.bits=6");
    CHECK(c.at("core.dac").integer("bits") == 8);  // untouched
    CHECK(c.resolved_json()["core"]["adc"]["bits"] == 6);
}

TEST_CASE("config: --set applies in order and the last one wins") {
    ChipConfig c = load_chip_config(kHermes, {"core.adc.bits=6", "chip.grid_cols=4", "core.adc.bits=4"});
    CHECK(c.at("core.adc").integer("bits") == 4);
    CHECK(c.at("chip").integer("grid_cols") == 4);
    CHECK(c.at("chip").integer("grid_rows") == 8);
}

TEST_CASE("config: --set takes quantities and quoted values and new keys") {
    ChipConfig c = load_chip_config(kTiny, {"chip.clock=2 GHz", "core.adc.conversion_time=\"10 ns\"",
                                            "core.dac.input_range=2.5", "name=renamed"});
    CHECK(c.at("chip").real("clock") == 2e9);
    CHECK(c.at("core.adc").real("conversion_time") == Approx(10e-9).epsilon(1e-12));
    CHECK(c.at("core.dac").real("input_range") == 2.5);
    CHECK(c.name == "renamed");
    CHECK(c.at("core.crossbar").integer("rows") == 64);  // tiny's value is kept
}

TEST_CASE("config: --set an unknown key names the key") {
    CHECK(only_error_of(kHermes, {"no.such.key=1"}) ==
          "--set no.such.key=1: no: unknown top-level key; expected one of " + kTopLevel);
    CHECK(only_error_of(kHermes, {"core.adc.bitz=6"}) ==
          "--set core.adc.bitz=6: core.adc.bitz: unknown key for adc kind \"cco-adc\" (did you mean 'bits'?)");
}

TEST_CASE("config: --set an invalid value names the override") {
    CHECK(only_error_of(kHermes, {"core.adc.bits=99"}) ==
          "--set core.adc.bits=99: core.adc.bits: expected an integer in 2..16, got \"99\"");
    CHECK(only_error_of(kHermes, {"chip.clock=fast"}) ==
          "--set chip.clock=fast: chip.clock: expected a frequency such as \"1 GHz\", got \"fast\"");
}

TEST_CASE("config: --set into a section or a scalar is an input error") {
    CHECK(single_error_of(kHermes, {"core=1"}) == "--set core=1: core: is a section; set one of its keys");
    CHECK(single_error_of(kHermes, {"name.x=1"}) == "--set name.x=1: name.x: cannot set a key inside a scalar");
    CHECK(single_error_of(kHermes, {"core.adc.bits.x=1"}) ==
          "--set core.adc.bits.x=1: core.adc.bits.x: cannot set a key inside a scalar");
}

TEST_CASE("config: malformed --set is a usage error") {
    CHECK(usage_error_of(kHermes, {"core.adc.bits"}) == "--set core.adc.bits: expected key.path=value");
    CHECK(usage_error_of(kHermes, {"=6"}) == "--set =6: expected key.path=value");
    CHECK(usage_error_of(kHermes, {"core.adc.bits="}) == "--set core.adc.bits=: missing value after '='");
    CHECK(usage_error_of(kHermes, {"core..bits=1"}) == "--set core..bits=1: empty component in key 'core..bits'");
    CHECK(usage_error_of(kHermes, {".core=1"}) == "--set .core=1: empty component in key '.core'");
    CHECK(usage_error_of(kHermes, {"core.adc.bits=[1, 2]"}) == "--set core.adc.bits=[1, 2]: value must be a single scalar");
    CHECK(usage_error_of(kHermes, {"core.adc.bits=a: b"}) == "--set core.adc.bits=a: b: value must be a single scalar");
    CHECK(usage_error_of(kHermes, {"core.adc.bits=[1"}) ==
          "--set core.adc.bits=[1: cannot parse value: end of sequence flow not found");
}

TEST_CASE("config: --set kind replaces the section like a derived file does") {
    ChipConfig c = load_chip_config(kHermes, {"core.adc.kind=ideal-adc"});
    CHECK(c.at("core.adc").kind == "ideal-adc");
    CHECK_FALSE(c.at("core.adc").params.has("output_bound"));
}

// ---------------------------------------------------------------------------------------------
// resolved_json

namespace {

// Checks that `j` holds `kind` and every declared parameter of `c`, in declaration order, and
// recurses into the children.
void check_component_json(const aimc::ComponentConfig& c, const nlohmann::ordered_json& j) {
    INFO("component " << c.path);
    REQUIRE(c.decl != nullptr);
    REQUIRE(j.is_object());
    CHECK(j.at("kind") == c.kind);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    std::vector<std::string> expected = {"kind"};
    for (const auto& p : c.decl->params) expected.push_back(p.name);
    for (const auto& [name, child] : c.children) expected.push_back(name);
    CHECK(keys == expected);
    for (const auto& [name, child] : c.children) check_component_json(child, j.at(name));
}

}  // namespace

TEST_CASE("config: resolved_json holds every declared parameter with defaults filled in") {
    TempDir dir;
    ChipConfig c = load_chip_config(dir.write("minimal.yaml", kMinimal));
    auto j = c.resolved_json();
    CHECK(j.at("name") == "minimal");
    std::vector<std::string> top;
    for (auto it = j.begin(); it != j.end(); ++it) top.push_back(it.key());
    CHECK(top == std::vector<std::string>{"name", "chip", "core", "interconnect", "host", "run"});
    for (const char* slot : {"chip", "core", "interconnect", "host", "run"}) check_component_json(c.at(slot), j.at(slot));
    // Values: integers and reals and bools as JSON numbers and booleans, quantities as written.
    CHECK(j["chip"]["grid_cols"] == 2);
    CHECK(j["chip"]["word_bits"] == 8);
    CHECK(j["chip"]["clock"] == "1 GHz");
    CHECK(j["chip"]["static_power"] == "0 W");
    CHECK(j["core"]["input_double_buffered"] == true);
    CHECK(j["core"]["adc"]["output_bound"] == 10.0);
    CHECK(j["core"]["adc"]["conversion_time"] == "5 ns");
    CHECK(j["core"]["dac"]["input_scaling"] == "abs-max");
    CHECK(j["core"]["crossbar"]["device"]["g_max"] == "25 uS");
    CHECK(j["host"]["kind"] == "host-port");
    CHECK(j["host"]["samples_in_flight"] == 4);
    CHECK(j["run"]["seed"] == 1);
    CHECK(j["run"]["t_inference"] == "0 s");
}

TEST_CASE("config: resolved_json of hermes covers every slot") {
    ChipConfig c = load_chip_config(kHermes);
    auto j = c.resolved_json();
    CHECK(j.at("name") == "hermes");
    for (const char* slot : {"chip", "core", "interconnect", "host", "run"}) check_component_json(c.at(slot), j.at(slot));
    CHECK(j["core"]["crossbar"]["devices_per_polarity"] == 2);
    CHECK(j["core"]["adc"]["energy_per_conversion"] == "26.2 pJ");
    CHECK(j["core"]["dac"]["input_range"] == 1.0);
}

// ---------------------------------------------------------------------------------------------
// Catalog

TEST_CASE("config: the catalog knows every kind under its interface") {
    const auto& cat = aimc::Catalog::instance();
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"crossbar", "pcm-crossbar"}, {"dac", "pwm-dac"},       {"dac", "ideal-dac"},
        {"adc", "cco-adc"},           {"adc", "ideal-adc"},     {"digital-unit", "float"},
        {"interconnect", "mesh"},     {"core", "aimc-core"},    {"chip", "aimc-chip"},
        {"host-port", "host-port"},   {"run", "run"},
    };
    for (const auto& [iface, kind] : kinds) {
        INFO(iface << " / " << kind);
        const aimc::KindDecl* d = cat.find(iface, kind);
        REQUIRE(d != nullptr);
        CHECK(d->interface == iface);
        CHECK(d->kind == kind);
        CHECK_FALSE(d->summary.empty());
    }
    CHECK(cat.find("adc", "pwm-dac") == nullptr);  // kinds belong to one interface
    CHECK(cat.find("nosuch", "cco-adc") == nullptr);
    CHECK(cat.kinds_of("nosuch").empty());
    std::vector<std::string> adcs;
    for (const auto* d : cat.kinds_of("adc")) adcs.push_back(d->kind);
    CHECK(adcs == std::vector<std::string>{"cco-adc", "ideal-adc"});
}

TEST_CASE("config: every chip slot has a registered interface and default kind") {
    const auto& cat = aimc::Catalog::instance();
    for (const auto& s : aimc::chip_slots()) {
        INFO("slot " << s.path);
        CHECK_FALSE(s.meaning.empty());
        CHECK_FALSE(cat.kinds_of(s.interface).empty());
        if (!s.default_kind.empty()) CHECK(cat.find(s.interface, s.default_kind) != nullptr);
    }
}

TEST_CASE("config: every parameter has a meaning and a parsable default or is required") {
    const auto& cat = aimc::Catalog::instance();
    int checked = 0;
    for (const auto& slot : aimc::chip_slots()) {
        for (const auto* k : cat.kinds_of(slot.interface)) {
            std::set<std::string> names;
            for (const auto& p : k->params) {
                INFO(k->kind << "." << p.name);
                ++checked;
                CHECK_FALSE(p.meaning.empty());
                CHECK(names.insert(p.name).second);  // declared once
                CHECK(p.name != "kind");
                CHECK(p.name != "base");
                CHECK(k->param(p.name) == &p);
                if (p.type == aimc::ParamType::Choice) CHECK_FALSE(p.choices.empty());
                if (!p.required()) {
                    std::string why;
                    auto v = aimc::parse_param(p, *p.default_text, &why);
                    CHECK(v.has_value());
                    CHECK(why.empty());
                }
            }
            CHECK(k->param("nosuch") == nullptr);
        }
    }
    CHECK(checked >= 40);
    // The required ones, as documented by describe.
    CHECK(cat.find("chip", "aimc-chip")->param("clock")->required());
    CHECK(cat.find("chip", "aimc-chip")->param("grid_cols")->required());
    CHECK(cat.find("crossbar", "pcm-crossbar")->param("rows")->required());
    CHECK_FALSE(cat.find("adc", "cco-adc")->param("bits")->required());
}

TEST_CASE("config: parameter names do not collide with child section names") {
    const auto& cat = aimc::Catalog::instance();
    for (const auto& s : aimc::chip_slots()) {
        for (const auto& child : aimc::chip_slots()) {
            auto dot = child.path.rfind('.');
            if (dot == std::string::npos || child.path.substr(0, dot) != s.path) continue;
            std::string leaf = child.path.substr(dot + 1);
            for (const auto* k : cat.kinds_of(s.interface)) {
                INFO(k->kind << " vs section " << child.path);
                CHECK(k->param(leaf) == nullptr);
            }
        }
    }
}
