// Tests of the `aimcsim` command line: the built binary (AIMC_CLI) is run from the repository root
// with its stdout and stderr captured, and its exit code and messages are checked.
#include <catch2/catch.hpp>

#include "support/run_helpers.hpp"

#include "support/temp_dir.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

const std::string kSource = AIMC_SOURCE_DIR;
const std::string kCli = AIMC_CLI;

struct Result {
    int code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

using aimc_test::TempDir;

// Runs aimcsim with `args` in the repository root; stdout and stderr are captured apart.
Result run_cli(const std::vector<std::string>& args) {
    TempDir capture;
    fs::path out = capture.path / "stdout", err = capture.path / "stderr";
    std::string cmd = "cd " + aimc_test::shell_quote(kSource) + " && " + aimc_test::shell_quote(kCli);
    for (const auto& a : args) cmd += " " + aimc_test::shell_quote(a);
    cmd += " >" + aimc_test::shell_quote(out.string()) + " 2>" + aimc_test::shell_quote(err.string()) + " </dev/null";
    int status = std::system(cmd.c_str());
    Result r;
    REQUIRE(status != -1);
    REQUIRE(WIFEXITED(status));
    r.code = WEXITSTATUS(status);
    r.out = aimc_test::read_file(out);
    r.err = aimc_test::read_file(err);
    return r;
}

#define SHOW(r) INFO("exit " << (r).code << "\n--- stdout\n" << (r).out << "--- stderr\n" << (r).err)

const std::string kSeeHelp = "(see 'aimcsim --help')\n";

}  // namespace

TEST_CASE("cli: validate hermes prints the assembled chip") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml"});
    SHOW(r);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, StartsWith("chip 'hermes' (configs/hermes.yaml): valid\n"));
    CHECK_THAT(r.out, Contains("  cores          64 on a 8x8 grid, clock 1 GHz\n"));
    CHECK_THAT(r.out, Contains("  crossbar       256 x 256 pcm-crossbar (2 device(s) per polarity)\n"));
    CHECK_THAT(r.out, Contains("  converters     pwm-dac 8-bit in, cco-adc 8-bit out\n"));
    CHECK_THAT(r.out, Contains("  digital unit   float\n"));
    // ni 2 + (hops + 1) x (router 2 + link 1) + ni 2, one flit
    CHECK_THAT(r.out, Contains("  interconnect   mesh; a one-word message takes 10 cycles to a neighbour, 49 corner to "
                               "corner (zero load)\n"));
}

TEST_CASE("cli: validate tiny and --set change what is printed") {
    Result tiny = run_cli({"validate", "--chip", "configs/tiny.yaml"});
    SHOW(tiny);
    CHECK(tiny.code == 0);
    CHECK_THAT(tiny.out, Contains("  cores          4 on a 2x2 grid, clock 1 GHz\n"));
    CHECK_THAT(tiny.out, Contains("  crossbar       64 x 64 pcm-crossbar"));

    Result set = run_cli({"validate", "--chip", "configs/hermes.yaml", "--set", "core.adc.bits=6", "--set=chip.grid_cols=4"});
    SHOW(set);
    CHECK(set.code == 0);
    CHECK_THAT(set.out, Contains("  cores          32 on a 4x8 grid"));
    CHECK_THAT(set.out, Contains("cco-adc 6-bit out"));
}

TEST_CASE("cli: a misspelt key in a copy of hermes names the file and line and key path") {
    TempDir dir;
    std::string text = aimc_test::read_file(fs::path(kSource) / "configs" / "hermes.yaml");
    // Find the `bits:` line of the `adc:` section and misspell it.
    std::istringstream in(text);
    std::string line, out;
    int n = 0, bad_line = 0;
    bool in_adc = false;
    while (std::getline(in, line)) {
        ++n;
        if (line.rfind("  adc:", 0) == 0) in_adc = true;
        else if (in_adc && line.rfind("    bits:", 0) == 0 && !bad_line) {
            line.replace(4, 4, "bitz");
            bad_line = n;
        } else if (!line.empty() && line.rfind("    ", 0) != 0) {
            in_adc = false;
        }
        out += line + "\n";
    }
    REQUIRE(bad_line > 0);
    std::string path = dir.write("hermes.yaml", out);

    Result r = run_cli({"validate", "--chip", path});
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "error: " + path + ":" + std::to_string(bad_line) +
                       ":5: core.adc.bitz: unknown key for adc kind \"cco-adc\" (did you mean 'bits'?)\n1 error(s)\n");
}

TEST_CASE("cli: several config errors are all printed with a count") {
    TempDir dir;
    std::string path = dir.write("bad.yaml", "base: " + kSource +
                                                 "/configs/hermes.yaml\n"
                                                 "name: bad\n"
                                                 "core:\n"
                                                 "  adc:\n"
                                                 "    bits: eight\n"
                                                 "    bitz: 8\n");
    Result r = run_cli({"validate", "--chip", path});
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.err == "error: " + path + ":5:11: core.adc.bits: expected an integer in 2..16, got \"eight\"\n" +
                       "error: " + path + ":6:5: core.adc.bitz: unknown key for adc kind \"cco-adc\" (did you mean 'bits'?)\n" +
                       "2 error(s)\n");
}

TEST_CASE("cli: --set of an unknown key exits 1 and names the key") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "--set", "no.such.key=1"});
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, StartsWith("error: --set no.such.key=1: no: unknown top-level key"));
    CHECK_THAT(r.err, EndsWith("1 error(s)\n"));
}

TEST_CASE("cli: malformed --set exits 2") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "--set", "core.adc.bits"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.err == "aimcsim: --set core.adc.bits: expected key.path=value\n" + kSeeHelp);
    Result missing = run_cli({"validate", "--chip", "configs/hermes.yaml", "--set"});
    SHOW(missing);
    CHECK(missing.code == 2);
    CHECK(missing.err == "aimcsim: --set needs KEY=VALUE\n" + kSeeHelp);
}

TEST_CASE("cli: missing chip file exits 1 naming the path") {
    Result r = run_cli({"validate", "--chip", "configs/nosuch.yaml"});
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.err == "error: configs/nosuch.yaml: cannot open file\n");
}

TEST_CASE("cli: unknown option exits 2") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "--bogus"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "aimcsim: unknown option '--bogus'\n" + kSeeHelp);
}

TEST_CASE("cli: an option of another command exits 2") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "--seed", "3"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.err == "aimcsim: 'validate' does not take --seed\n" + kSeeHelp);
    Result d = run_cli({"describe", "--set", "a=1"});
    SHOW(d);
    CHECK(d.code == 2);
    CHECK(d.err == "aimcsim: 'describe' does not take --set\n" + kSeeHelp);
}

TEST_CASE("cli: an option given twice exits 2") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "--chip", "configs/tiny.yaml"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.err == "aimcsim: --chip given twice\n" + kSeeHelp);
}

TEST_CASE("cli: unknown command exits 2") {
    Result r = run_cli({"simulate", "--chip", "configs/hermes.yaml"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "aimcsim: unknown command 'simulate'\n" + kSeeHelp);
}

TEST_CASE("cli: missing --chip exits 2") {
    Result r = run_cli({"validate"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.err == "aimcsim: 'validate' needs --chip\n" + kSeeHelp);
    Result no_value = run_cli({"validate", "--chip"});
    SHOW(no_value);
    CHECK(no_value.code == 2);
    CHECK(no_value.err == "aimcsim: --chip needs a value\n" + kSeeHelp);
    Result run = run_cli({"run", "--workload", "workloads/tiny-mlp"});
    SHOW(run);
    CHECK(run.code == 2);
    CHECK(run.err == "aimcsim: 'run' needs --chip\n" + kSeeHelp);
}

TEST_CASE("cli: unexpected positional argument exits 2") {
    Result r = run_cli({"validate", "--chip", "configs/hermes.yaml", "extra"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.err == "aimcsim: unexpected argument 'extra'\n" + kSeeHelp);
}

TEST_CASE("cli: help exits 0 and mentions every command") {
    for (const char* flag : {"--help", "-h", "help"}) {
        Result r = run_cli({flag});
        SHOW(r);
        CHECK(r.code == 0);
        CHECK(r.err.empty());
        CHECK_THAT(r.out, StartsWith("aimcsim - "));
        for (const char* cmd : {"aimcsim run ", "aimcsim validate ", "aimcsim describe ", "aimcsim trace "})
            CHECK_THAT(r.out, Contains(cmd));
        CHECK_THAT(r.out, Contains("--set KEY=VALUE"));
        CHECK_THAT(r.out, Contains("Exit codes: 0 success, 1 bad input"));
    }
    // --help after a command still prints the help.
    Result after = run_cli({"validate", "--help"});
    CHECK(after.code == 0);
    CHECK_THAT(after.out, Contains("aimcsim validate --chip FILE"));
}

TEST_CASE("cli: no arguments prints the help and exits 2") {
    Result r = run_cli({});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, StartsWith("aimcsim - "));
}

TEST_CASE("cli: describe lists every kind") {
    Result r = run_cli({"describe"});
    SHOW(r);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    for (const char* kind : {"pcm-crossbar", "pwm-dac", "ideal-dac", "cco-adc", "ideal-adc", "float", "mesh",
                             "aimc-core", "aimc-chip", "host-port", "run"})
        CHECK_THAT(r.out, Contains(std::string("\n") + kind + " (kind of "));
    CHECK_THAT(r.out, Contains("[core.adc] adc: the output converters, one per crossbar column\n"));
    CHECK_THAT(r.out, Contains("[host] host-port: the I/O port that feeds inputs and collects outputs (default kind: host-port)\n"));
}

TEST_CASE("cli: describe cco-adc lists its parameters") {
    Result r = run_cli({"describe", "cco-adc"});
    SHOW(r);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, StartsWith("cco-adc (kind of adc): "));
    std::istringstream lines(r.out);
    std::string line;
    std::vector<std::string> names;
    std::getline(lines, line);  // the title
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string name;
        words >> name;
        names.push_back(name);
    }
    CHECK(names == std::vector<std::string>{"bits", "output_bound", "output_noise", "nonlinearity", "gain_mismatch",
                                            "offset_mismatch", "calibrated", "conversion", "time_per_lsb",
                                            "conversion_time", "energy_per_conversion"});
    CHECK_THAT(r.out, Contains("[2..16]"));
    CHECK_THAT(r.out, Contains("[0 s to 1 ms]"));
    CHECK_THAT(r.out, Contains("default 8 "));
    CHECK_THAT(r.out, Contains("default 5 ns "));
    CHECK_THAT(r.out, !Contains("ideal-adc"));
}

TEST_CASE("cli: describe of an unknown kind exits 2") {
    Result r = run_cli({"describe", "nosuch"});
    SHOW(r);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "aimcsim: unknown kind 'nosuch'; 'aimcsim describe' lists them\n" + kSeeHelp);
    Result two = run_cli({"describe", "cco-adc", "pwm-dac"});
    SHOW(two);
    CHECK(two.code == 2);
    CHECK(two.err == "aimcsim: unexpected argument 'pwm-dac'\n" + kSeeHelp);
}

TEST_CASE("cli: run with a missing workload folder exits 1 naming the path") {
    TempDir dir;
    std::string missing = (dir.path / "no-such-workload").string();
    Result r = run_cli({"run", "--chip", "configs/tiny.yaml", "--workload", missing});
    SHOW(r);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "error: " + missing +
                       ": no workload here (expected a folder with workload.yaml, or a YAML file)\n");
}

TEST_CASE("cli: run rejects bad numbers on the command line with exit 2") {
    Result seed = run_cli({"run", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "--seed", "x"});
    SHOW(seed);
    CHECK(seed.code == 2);
    CHECK(seed.err == "aimcsim: --seed: expected an integer in 0..9223372036854775807, got 'x'\n" + kSeeHelp);
    Result samples = run_cli({"run", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "--samples=0"});
    SHOW(samples);
    CHECK(samples.code == 2);
    CHECK(samples.err == "aimcsim: --samples: expected an integer in 1..100000000, got '0'\n" + kSeeHelp);
    Result t = run_cli({"run", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "--t-inference", "5 pJ"});
    SHOW(t);
    CHECK(t.code == 2);
    CHECK(t.err == "aimcsim: --t-inference: unknown unit \"pJ\" for a time; expected one of fs ps ns us ms s min h d y\n" +
                       kSeeHelp);
    Result neg = run_cli({"run", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "--t-inference", "-1 s"});
    SHOW(neg);
    CHECK(neg.code == 2);
    CHECK(neg.err == "aimcsim: --t-inference: expected a time in 0 s to 100 y, got \"-1 s\"\n" + kSeeHelp);
}

TEST_CASE("cli: version prints the tool name") {
    Result r = run_cli({"--version"});
    SHOW(r);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, StartsWith("aimcsim "));
}

TEST_CASE("cli: an output name the file system refuses (too long) is an input error for every writer") {
    TempDir dir;
    const std::string name = (dir.path / std::string(300, 'x')).string();
    const std::vector<std::string> tiny = {"run", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "-q"};
    const auto with = [&](std::vector<std::string> args, std::vector<std::string> more) {
        args.insert(args.end(), more.begin(), more.end());
        return run_cli(args);
    };
    const Result report = with(tiny, {"--out", name + ".json"});
    SHOW(report);
    CHECK(report.code == 1);
    CHECK(report.err == "error: " + name + ".json: cannot write the report here\n");
    const Result logits = with(tiny, {"--logits", name + ".npy"});
    SHOW(logits);
    CHECK(logits.code == 1);
    CHECK(logits.err == "error: " + name + ".npy: cannot open file for writing (File name too long)\n");
    const Result timeline = with(tiny, {"--timeline", name + ".json"});
    SHOW(timeline);
    CHECK(timeline.code == 1);
    CHECK(timeline.err == "error: " + name + ".json: cannot write the timeline here\n");
    // Found by fuzzing the file names: `map --trace-out` ended as an internal error (exit 3).
    const Result trace = run_cli({"map", "--chip", "configs/tiny.yaml", "--workload", "workloads/tiny-mlp", "--trace-out", name + ".trace"});
    SHOW(trace);
    CHECK(trace.code == 1);
    CHECK(trace.err == "error: " + name + ".trace: cannot write the trace here (File name too long)\n");
}
