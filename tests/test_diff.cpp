// aimcsim diff: reports compared key by key.
#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "sim/report_diff.hpp"
#include "support/run_helpers.hpp"

using namespace aimc;
using aimc_test::cli;
using aimc_test::run_command;
using aimc_test::temp_dir;
using aimc_test::write_file;

namespace {
const nlohmann::json kOld = nlohmann::json::parse(R"({
  "tool": {"version": "0.1.0", "git_commit": "aaa"},
  "energy": {"total_pj": 100.0, "breakdown_pj": {"adc": 40.0, "dac": 0.0}},
  "cores": [{"mvms": 10}, {"mvms": 20}],
  "accuracy": {"top1": null},
  "sim": {"wall_s": 1.5, "events": 7}
})");
}

TEST_CASE("diff: leaves are flattened with dotted keys and list indices") {
    const auto f = flatten(kOld);
    std::vector<std::string> keys;
    for (const auto& [k, v] : f) keys.push_back(k);
    // In the document's key order (nlohmann::json sorts object keys).
    CHECK(keys == std::vector<std::string>{"accuracy.top1", "cores[0].mvms", "cores[1].mvms", "energy.breakdown_pj.adc",
                                           "energy.breakdown_pj.dac", "energy.total_pj", "sim.events", "sim.wall_s",
                                           "tool.git_commit", "tool.version"});
}

TEST_CASE("diff: numbers within rtol or atol agree and others are reported with their relative change") {
    nlohmann::json b = kOld;
    b["energy"]["total_pj"] = 101.0;               // +1 %
    b["energy"]["breakdown_pj"]["dac"] = 1e-13;    // from zero
    b["sim"]["wall_s"] = 99.0;                      // wall clock: ignored by default
    b["tool"]["git_commit"] = "bbb";
    DiffOptions opt;
    DiffResult r = diff_reports(kOld, b, opt);
    REQUIRE(r.changed.size() == 3);
    CHECK(r.changed[0].key == "energy.breakdown_pj.dac");
    CHECK(std::isinf(r.changed[0].relative_change));
    CHECK(r.changed[1].key == "energy.total_pj");
    CHECK(r.changed[1].relative_change == Approx(0.01));
    CHECK(r.changed[2].key == "tool.git_commit");
    CHECK(r.compared == 9);  // sim.wall_s is not compared
    opt.rtol = 0.0101;       // the 1 % change passes; |1e-13 - 0| is not within rtol · 0
    CHECK(diff_reports(kOld, b, opt).changed.size() == 2);
    opt.atol = 1e-12;        // ... but within atol
    opt.ignore = {"tool.*"};
    CHECK(diff_reports(kOld, b, opt).changed.empty());
    opt = DiffOptions{};
    opt.include_wall_clock = true;
    opt.keys = {"sim.*"};
    const auto w = diff_reports(kOld, b, opt);
    REQUIRE(w.changed.size() == 1);
    CHECK(w.changed[0].key == "sim.wall_s");
    CHECK(w.compared == 2);
}

TEST_CASE("diff: absent keys and type changes are differences") {
    nlohmann::json b = kOld;
    b["cores"].push_back({{"mvms", 30}});
    b["accuracy"]["top1"] = 0.9;
    b["energy"].erase("breakdown_pj");
    const DiffResult r = diff_reports(kOld, b, DiffOptions{});
    std::vector<std::string> keys;
    for (const auto& e : r.changed) keys.push_back(e.key + ": " + e.old_value + " -> " + e.new_value);
    CHECK(keys == std::vector<std::string>{"accuracy.top1: null -> 0.9", "cores[2].mvms: (absent) -> 30",
                                           "energy.breakdown_pj.adc: 40.0 -> (absent)",
                                           "energy.breakdown_pj.dac: 0.0 -> (absent)"});
}

TEST_CASE("diff: the command exits 0 when reports agree and 1 with a table when they do not") {
    auto dir = temp_dir("aimc-diff");
    nlohmann::json b = kOld;
    b["energy"]["breakdown_pj"]["adc"] = 40.4;
    write_file(dir / "a.json", kOld.dump());
    write_file(dir / "b.json", b.dump());
    const std::string base = cli() + " diff " + (dir / "a.json").string() + " " + (dir / "b.json").string();
    auto r = run_command(base);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("energy.breakdown_pj.adc") && Catch::Contains("+1%") &&
                             Catch::Contains("1 of 9 keys differ beyond rtol 0, atol 0"));
    r = run_command(base + " --rtol 0.02");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("reports agree: 9 keys compared (rtol 0.02, atol 0)"));
    r = run_command(base + " --keys 'cores*' 'tool.*'");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("4 keys compared"));
    r = run_command(base + " --ignore 'energy.*' --rtol 0");
    CHECK(r.exit_code == 0);
    r = run_command(cli() + " diff " + (dir / "a.json").string());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("'diff' needs two reports"));
    r = run_command(base + " --rtol -1");
    CHECK(r.exit_code == 2);
    write_file(dir / "bad.json", "{\"a\": ");
    r = run_command(cli() + " diff " + (dir / "a.json").string() + " " + (dir / "bad.json").string());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("bad.json: not a JSON report"));
}
