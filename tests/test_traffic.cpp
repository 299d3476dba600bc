// Synthetic interconnect traffic (sim/traffic.*): the destination patterns exactly, the Bernoulli
// sources statistically (tolerances from the binomial standard deviation), the traffic: section
// of workload.yaml and its errors, one timed run, and the command line (--set traffic.*).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/simulation.hpp"
#include "sim/traffic.hpp"
#include "sim/workload.hpp"
#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aimc;
using aimc_test::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kRoot = AIMC_SOURCE_DIR;

ChipConfig chip(const std::string& file, std::vector<std::string> sets = {}) {
    return load_chip_config(kRoot + "/configs/" + file, sets);
}

// Every message a generator produces until it is done.
std::vector<TrafficMessage> all_messages(TrafficGenerator& g) {
    std::vector<TrafficMessage> out;
    while (!g.done()) out.push_back(g.pop());
    return out;
}

// |observed - expected| within `sigmas` standard deviations of a binomial(n, q).
void check_binomial(double observed, double n, double q, double sigmas = 5) {
    const double sd = std::sqrt(n * q * (1 - q));
    INFO("observed " << observed << ", expected " << n * q << " +- " << sd);
    CHECK(std::fabs(observed - n * q) <= sigmas * sd);
}

// Destinations over a fine sweep of both uniforms.
std::set<int> destinations(const TrafficPattern& p, int src, int steps = 64) {
    std::set<int> d;
    for (int i = 0; i < steps; ++i)
        for (int j = 0; j < steps; ++j) d.insert(p.destination(src, (i + 0.5) / steps, (j + 0.5) / steps));
    return d;
}

// The errors of loading a workload folder with `yaml` as its workload.yaml for `cfg`.
std::vector<std::string> load_errors(const TempDir& d, const std::string& yaml, const ChipConfig& cfg,
                                     const std::vector<std::string>& overrides = {}) {
    d.write("workload.yaml", yaml);
    try {
        load_workload(d.path.string(), cfg, overrides);
    } catch (const InputErrors& e) {
        return e.messages();
    } catch (const InputError& e) {
        return {e.what()};
    }
    return {"(no error)"};
}

struct CliResult {
    int code;
    std::string output;
};

CliResult cli(const std::string& args) {
    auto r = aimc_test::run_command(aimc_test::cli() + " " + args);
    return {r.exit_code, r.output};
}

const std::string kLowRate =
    "name: low\ngenerator: traffic\ntraffic:\n  pattern: uniform\n  rate: 0.05\n  warmup: 200\n  duration: 4000\n";

}  // namespace

// ---- patterns ---------------------------------------------------------------------------------

TEST_CASE("traffic: transpose sends (x, y) to (y, x); the diagonal sends nothing") {
    TrafficPattern p("transpose", 4, 4);
    for (int i = 0; i < 16; ++i) {
        const int x = i % 4, y = i / 4;
        INFO("core " << i);
        CHECK(p.sends(i) == (x != y));
        if (p.sends(i)) CHECK(destinations(p, i, 8) == std::set<int>{x * 4 + y});
    }
    CHECK_THROWS_WITH(TrafficPattern("transpose", 4, 2), Contains("transpose needs a square grid") && Contains("4 x 2"));
}

TEST_CASE("traffic: bit-complement mirrors through the centre; an odd grid's centre sends nothing") {
    TrafficPattern p16("bit-complement", 4, 4);
    for (int i = 0; i < 16; ++i) {
        CHECK(p16.sends(i));
        CHECK(destinations(p16, i, 8) == std::set<int>{~i & 15});  // the bitwise complement
    }
    TrafficPattern p9("bit-complement", 3, 3);
    for (int i = 0; i < 9; ++i) {
        const int x = i % 3, y = i / 3;
        INFO("core " << i);
        CHECK(p9.sends(i) == (i != 4));
        if (i != 4) CHECK(destinations(p9, i, 8) == std::set<int>{(2 - y) * 3 + (2 - x)});
    }
    TrafficPattern p42("bit-complement", 4, 2);  // any grid: (W-1-x, H-1-y)
    CHECK(destinations(p42, 1, 8) == std::set<int>{1 * 4 + 2});
}

TEST_CASE("traffic: neighbour reaches exactly the cores at distance 1") {
    for (auto [cols, rows] : {std::pair{4, 3}, std::pair{2, 2}, std::pair{5, 1}}) {
        TrafficPattern p("neighbour", cols, rows);
        for (int i = 0; i < cols * rows; ++i) {
            std::set<int> expected;
            for (int j = 0; j < cols * rows; ++j)
                if (std::abs(i % cols - j % cols) + std::abs(i / cols - j / cols) == 1) expected.insert(j);
            INFO(cols << "x" << rows << " core " << i);
            CHECK(destinations(p, i) == expected);
            if (cols > 1 && rows > 1) CHECK((expected.size() >= 2 && expected.size() <= 4));
        }
    }
    CHECK_FALSE(TrafficPattern("neighbour", 1, 1).sends(0));
}

TEST_CASE("traffic: uniform never sends to itself and spreads evenly over the others") {
    const int n = 16;
    TrafficGenerator g(TrafficPattern("uniform", 4, 4), 0.5, 20000, 7);
    std::map<std::pair<int, int>, double> pairs;
    std::vector<double> sent(n, 0);
    for (const auto& m : all_messages(g)) {
        REQUIRE(m.src != m.dst);
        REQUIRE((m.dst >= 0 && m.dst < n));
        pairs[{m.src, m.dst}] += 1;
        sent[static_cast<std::size_t>(m.src)] += 1;
    }
    CHECK(g.sending_nodes() == n);
    for (int s = 0; s < n; ++s)
        for (int d = 0; d < n; ++d)
            if (s != d) {
                INFO(s << " -> " << d);
                check_binomial(pairs[{s, d}], sent[static_cast<std::size_t>(s)], 1.0 / (n - 1));
            }
}

TEST_CASE("traffic: hotspot sends hotspot_fraction of the messages to the hotspot core") {
    const int n = 16, hot = 2 * 4 + 2;  // the centre of 4x4: (2, 2)
    const double f = 0.3;
    TrafficPattern p("hotspot", 4, 4, -1, f);
    CHECK(p.hotspot() == hot);
    CHECK(TrafficPattern("hotspot", 8, 8).hotspot() == 4 * 8 + 4);
    CHECK(TrafficPattern("hotspot", 3, 5).hotspot() == 2 * 3 + 1);
    CHECK(TrafficPattern("hotspot", 4, 4, 5).hotspot() == 5);
    TrafficGenerator g(p, 0.5, 20000, 3);
    double others = 0, to_hot = 0, from_hot = 0;
    for (const auto& m : all_messages(g)) {
        REQUIRE(m.src != m.dst);
        if (m.src == hot) {
            from_hot += 1;
            continue;
        }
        others += 1;
        to_hot += m.dst == hot;
    }
    // The hotspot directly, or by the uniform choice among the n - 1 others.
    check_binomial(to_hot, others, f + (1 - f) / (n - 1));
    CHECK(from_hot > 0);
}

// ---- generation ---------------------------------------------------------------------------------

TEST_CASE("traffic: each source generates rate / flits messages per cycle, Bernoulli") {
    // rate 0.2 flits per cycle in 4-flit messages: p = 0.05 messages per cycle.
    const double p = message_probability(0.2, 4, "here");
    CHECK(p == 0.05);
    const std::uint64_t cycles = 100000;
    TrafficGenerator g(TrafficPattern("uniform", 4, 4), p, cycles, 11);
    std::vector<double> count(16, 0);
    std::vector<std::int64_t> last(16, -1);
    std::uint64_t previous = 0;
    for (const auto& m : all_messages(g)) {
        REQUIRE(m.cycle >= previous);  // in order of cycle
        REQUIRE(m.cycle < cycles);
        REQUIRE(static_cast<std::int64_t>(m.cycle) > last[static_cast<std::size_t>(m.src)]);  // one per cycle at most
        previous = m.cycle;
        last[static_cast<std::size_t>(m.src)] = static_cast<std::int64_t>(m.cycle);
        count[static_cast<std::size_t>(m.src)] += 1;
    }
    double total = 0;
    for (int c = 0; c < 16; ++c) {
        INFO("core " << c);
        check_binomial(count[static_cast<std::size_t>(c)], cycles, p);
        total += count[static_cast<std::size_t>(c)];
    }
    CHECK(g.generated() == static_cast<std::uint64_t>(total));
    // In flits per node per cycle.
    const double sd = 4 * std::sqrt(16.0 * cycles * p * (1 - p)) / (16.0 * cycles);
    CHECK(std::fabs(4 * total / (16.0 * cycles) - 0.2) <= 5 * sd);

    // The extremes: a message every cycle, and none.
    TrafficGenerator every(TrafficPattern("neighbour", 2, 2), 1.0, 100, 1);
    CHECK(all_messages(every).size() == 4 * 100);
    TrafficGenerator none(TrafficPattern("neighbour", 2, 2), 0.0, 100, 1);
    CHECK(none.done());
    CHECK(none.sending_nodes() == 4);
}

TEST_CASE("traffic: the same seed gives the same messages, another seed others") {
    auto messages = [](std::uint64_t seed) {
        TrafficGenerator g(TrafficPattern("hotspot", 4, 4), 0.1, 5000, seed);
        std::vector<std::tuple<std::uint64_t, int, int>> out;
        for (const auto& m : all_messages(g)) out.emplace_back(m.cycle, m.src, m.dst);
        return out;
    };
    const auto a = messages(42);
    CHECK(a.size() > 1000);
    CHECK(messages(42) == a);
    CHECK(messages(43) != a);
}

TEST_CASE("traffic: more than one message per core per cycle is an error naming traffic.rate") {
    // rate <= 1 (its declared range) and flits >= 1 keep p <= 1 from the YAML; the guard still names the key.
    CHECK_THROWS_WITH(message_probability(2.0, 1, "w.yaml:7:9"),
                      Catch::StartsWith("w.yaml:7:9: traffic.rate: ") && Contains("at most 1"));
    CHECK(message_probability(1.0, 1, "w.yaml:7:9") == 1.0);
    CHECK(message_probability(0.5, 4, "w.yaml:7:9") == 0.125);
}

TEST_CASE("traffic: the XY saturation bound of uniform traffic") {
    CHECK(*xy_saturation_bound(8, 8) == Approx(63.0 / 128));  // 4 * 4 * 8 pairs over the middle links
    CHECK(*xy_saturation_bound(4, 4) == Approx(15.0 / 16));
    CHECK(*xy_saturation_bound(4, 2) == Approx(7.0 / 8));     // the X middle: 2 * 2 * 2 = 8
    CHECK(*xy_saturation_bound(2, 2) == 1.0);                 // 3 / 2, capped by injection
    CHECK(*xy_saturation_bound(5, 3) == Approx(14.0 / 18));  // 2 * 3 * 3 = 18 > 1 * 2 * 5
    CHECK_FALSE(xy_saturation_bound(1, 1));
}

// ---- workload.yaml ------------------------------------------------------------------------------

TEST_CASE("traffic: the shipped synthetic traffic workloads load on hermes") {
    const ChipConfig hermes = chip("hermes.yaml");
    for (auto [dir, pattern] : {std::pair{"uniform-random", "uniform"}, std::pair{"transpose", "transpose"},
                                std::pair{"bit-complement", "bit-complement"}, std::pair{"hotspot", "hotspot"},
                                std::pair{"neighbour", "neighbour"}}) {
        INFO(dir);
        Workload w = load_workload(kRoot + "/workloads/synthetic/" + dir, hermes);
        CHECK(w.generator == "traffic");
        REQUIRE(w.traffic);
        CHECK(w.traffic->pattern == pattern);
        CHECK(w.trace.streams.empty());
        CHECK(w.default_samples == 0);
        CHECK(w.traffic->message_bits == 256);
    }
    Workload h = load_workload(kRoot + "/workloads/synthetic/hotspot", hermes);
    CHECK(h.traffic->hotspot_node == 4 * 8 + 4);
}

TEST_CASE("traffic: defaults, and --set traffic.* overrides the section") {
    TempDir d("traffic-defaults");
    d.write("workload.yaml", "name: t\ngenerator: traffic\ntraffic:\n  pattern: neighbour\n");
    const ChipConfig tiny = chip("tiny.yaml");
    Workload w = load_workload(d.path.string(), tiny);
    REQUIRE(w.traffic);
    CHECK(w.traffic->rate == 0.1);
    CHECK(w.traffic->message_bits == 256);
    CHECK(w.traffic->warmup == 1000);
    CHECK(w.traffic->duration == 10000);
    CHECK(w.traffic->end_cycle() == 11000);
    CHECK(w.traffic->hotspot_node == 1 * 2 + 1);
    CHECK(w.traffic->hotspot_fraction == 0.2);
    CHECK(w.traffic->rate_where == "(default)");
    Workload o = load_workload(d.path.string(), tiny, {"traffic.rate=0.25", "traffic.pattern=hotspot"});
    CHECK(o.traffic->rate == 0.25);
    CHECK(o.traffic->pattern == "hotspot");
    CHECK(o.traffic->rate_where == "--set traffic.rate=0.25");
    std::vector<std::string> chip_sets, traffic_sets;
    split_traffic_overrides({"core.adc.bits=4", "traffic.rate=0.2", "traffic=1", "trafficx.a=1"}, chip_sets,
                            traffic_sets);
    CHECK(chip_sets == std::vector<std::string>{"core.adc.bits=4", "trafficx.a=1"});
    CHECK(traffic_sets == std::vector<std::string>{"traffic.rate=0.2", "traffic=1"});
}

TEST_CASE("traffic: errors in the traffic section name file:line:col and the key") {
    TempDir d("traffic-errors");
    const std::string f = d.file("workload.yaml");
    const ChipConfig tiny = chip("tiny.yaml");
    // Lines: 1 name, 2 generator, 3 traffic:, 4 pattern, 5 rate / other keys.
    const std::string head = "name: t\ngenerator: traffic\ntraffic:\n  pattern: uniform\n";
    CHECK(load_errors(d, head + "  rate: fast\n", tiny) ==
          std::vector<std::string>{f + ":5:9: traffic.rate: expected a number in 0 to 1, got \"fast\""});
    CHECK(load_errors(d, head + "  rate: 1.5\n", tiny) ==
          std::vector<std::string>{f + ":5:9: traffic.rate: expected a number in 0 to 1, got \"1.5\""});
    CHECK(load_errors(d, head + "  rat: 0.2\n", tiny) ==
          std::vector<std::string>{f + ":5:3: traffic.rat: unknown key for the traffic generator (did you mean 'rate'?)"});
    CHECK(load_errors(d, head + "  message_bits: 0\n", tiny) ==
          std::vector<std::string>{f + ":5:17: traffic.message_bits: expected an integer in 1..1000000000, got \"0\""});
    CHECK(load_errors(d, head + "  hotspot_node: 4\n", tiny) ==
          std::vector<std::string>{f + ":5:17: traffic.hotspot_node: core 4 does not exist: chip 'tiny' has 4 cores (0..3)"});
    CHECK_THAT(load_errors(d, "name: t\ngenerator: traffic\ntraffic:\n  pattern: zigzag\n", tiny).at(0),
               Catch::StartsWith(f + ":4:12: traffic.pattern: expected one of {uniform, transpose, bit-complement, "
                                     "hotspot, neighbour}, got \"zigzag\""));
    CHECK_THAT(load_errors(d, "name: t\ngenerator: traffic\ntraffic:\n  rate: 0.1\n", tiny).at(0),
               Catch::StartsWith(f + ":4:3: traffic.pattern: missing required key"));
    CHECK_THAT(load_errors(d, "name: t\ngenerator: traffic\n", tiny).at(0),
               Catch::StartsWith(f + ":1:1: traffic.pattern: missing required key"));
    CHECK(load_errors(d, "name: t\ngenerator: traffic\ntraffic: uniform\n", tiny) ==
          std::vector<std::string>{f + ":3:10: traffic: expected a mapping of traffic parameters, got a scalar"});
    CHECK(load_errors(d, head + "samples: 3\n", tiny) ==
          std::vector<std::string>{f + ":5:1: samples: not used by 'generator: traffic' (its length is traffic.warmup + "
                                       "traffic.duration)"});
    CHECK(load_errors(d, "name: t\ngenerator: peak\ntraffic:\n  pattern: uniform\n", tiny) ==
          std::vector<std::string>{f + ":3:1: traffic: only a 'generator: traffic' workload has a traffic section"});
    // --set names the flag.
    CHECK(load_errors(d, head, tiny, {"traffic.rate=fast"}) ==
          std::vector<std::string>{"--set traffic.rate=fast: traffic.rate: expected a number in 0 to 1, got \"fast\""});
    CHECK(load_errors(d, "name: t\ngenerator: peak\n", tiny, {"traffic.rate=0.2"}) ==
          std::vector<std::string>{"--set traffic.rate=0.2: workload " + f +
                                   " has no traffic section (only a 'generator: traffic' workload takes --set "
                                   "traffic.KEY=VALUE)"});
}

TEST_CASE("traffic: transpose on a non-square grid is an error at the pattern") {
    TempDir d("traffic-transpose");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d, "name: t\ngenerator: traffic\ntraffic:\n  pattern: transpose\n",
                      chip("tiny.yaml", {"chip.grid_cols=4"})) ==
          std::vector<std::string>{f + ":4:12: traffic.pattern: transpose needs a square grid of cores, the chip has "
                                       "4 x 2 (grid_cols x grid_rows)"});
}

// ---- a timed run --------------------------------------------------------------------------------

TEST_CASE("traffic: a low-rate uniform run on tiny delivers every message at the offered rate") {
    TempDir d("traffic-run");
    d.write("workload.yaml", kLowRate);
    const ChipConfig tiny = chip("tiny.yaml");
    const Workload w = load_workload(d.path.string(), tiny);
    const auto r = simulate(tiny, w, RunOptions{});
    INFO(r["interconnect"].dump(2) << "\n" << r["traffic"].dump(2));
    const auto& t = r["traffic"];
    const auto& net = r["interconnect"];
    CHECK(t["pattern"] == "uniform");
    CHECK(t["rate"] == 0.05);
    CHECK(t["message_bits"] == 256);
    CHECK(t["flits_per_message"] == 4);  // 64-bit links
    CHECK(t["warmup"] == 200);
    CHECK(t["duration"] == 4000);
    CHECK(t["sending_nodes"] == 4);
    CHECK(t["xy_saturation_bound_flits_per_node_cycle"] == 1.0);  // 2x2: min(1, 3 / 2)
    const auto generated = t["messages_generated"].get<std::uint64_t>();
    CHECK(generated > 0);
    // Every message delivered (the run checks conservation too).
    CHECK(net["messages"] == generated);
    CHECK(net["flits"] == 4 * generated);
    CHECK(r["latency"]["total_cycles"].get<std::uint64_t>() >= 4200);
    CHECK(r["workload"]["samples"] == 0);
    CHECK(r["ops"]["mvms"] == 0);
    // Offered load in the window: rate on all 4 sending nodes, within the binomial spread.
    const auto& tp = net["throughput_flits_per_node_cycle"];
    CHECK(tp["window_cycles"][0] == 200);
    CHECK(tp["window_cycles"][1] == 4200);
    const double offered = tp["offered"].get<double>(), accepted = tp["accepted"].get<double>();
    const double p = 0.05 / 4, node_cycles = 4.0 * 4000;
    CHECK(std::fabs(offered - 0.05) <= 5 * 4 * std::sqrt(node_cycles * p * (1 - p)) / node_cycles);
    // Far below saturation the network accepts what is offered, up to the messages in flight at
    // the window's edges.
    CHECK(accepted == Approx(offered).epsilon(0.05));
    CHECK(net["packet_latency_cycles"]["measured"].get<std::uint64_t>() > 0);
}

// ---- the command line ---------------------------------------------------------------------------

TEST_CASE("traffic: --set traffic.rate on aimcsim run overrides the workload; same seed, same report") {
    TempDir d("traffic-cli");
    d.write("w/workload.yaml", kLowRate);
    const std::string base = "run --chip configs/tiny.yaml --workload " + d.file("w") +
                             " --set traffic.rate=0.2 --set traffic.duration=2000 --set run.seed=5 -q --out ";
    auto a = cli(base + d.file("a.json"));
    INFO(a.output);
    REQUIRE(a.code == 0);
    auto ra = nlohmann::json::parse(aimc_test::read_file(d.file("a.json")));
    CHECK(ra["traffic"]["rate"] == 0.2);
    CHECK(ra["traffic"]["duration"] == 2000);
    CHECK(ra["seed"] == 5);  // the other --set keys still go to the chip
    CHECK(ra["interconnect"]["messages"] == ra["traffic"]["messages_generated"]);
    auto b = cli(base + d.file("b.json"));
    REQUIRE(b.code == 0);
    auto rb = nlohmann::json::parse(aimc_test::read_file(d.file("b.json")));
    ra["sim"].erase("wall_s");
    rb["sim"].erase("wall_s");
    CHECK(ra == rb);
    // The summary has a traffic line.
    auto s = cli("run --chip configs/tiny.yaml --workload " + d.file("w") + " --set traffic.duration=500");
    CHECK(s.code == 0);
    CHECK_THAT(s.output, Contains("  traffic      uniform at 0.05 flits/node/cycle: "));
}

TEST_CASE("traffic: bad --set traffic.* values and keys exit 1 naming the flag or the file") {
    TempDir d("traffic-cli-errors");
    d.write("w/workload.yaml", kLowRate);
    const std::string run = "run --chip configs/tiny.yaml --workload " + d.file("w") + " ";
    auto bad = cli(run + "--set traffic.rate=fast");
    CHECK(bad.code == 1);
    CHECK_THAT(bad.output, Contains("error: --set traffic.rate=fast: traffic.rate: expected a number in 0 to 1, got \"fast\""));
    auto key = cli(run + "--set traffic.rat=0.2");
    CHECK(key.code == 1);
    CHECK_THAT(key.output, Contains("error: --set traffic.rat=0.2: traffic.rat: unknown key for the traffic generator "
                                    "(did you mean 'rate'?)"));
    auto none = cli("run --chip configs/tiny.yaml --workload workloads/tiny-mlp --set traffic.rate=0.2");
    CHECK(none.code == 1);
    CHECK_THAT(none.output, Contains("error: --set traffic.rate=0.2: workload workloads/tiny-mlp/workload.yaml has no "
                                     "traffic section"));
    d.write("bad/workload.yaml", "name: t\ngenerator: traffic\ntraffic:\n  pattern: uniform\n  rate: fast\n");
    auto file = cli("run --chip configs/tiny.yaml --workload " + d.file("bad"));
    CHECK(file.code == 1);
    CHECK_THAT(file.output, Contains(d.file("bad/workload.yaml") + ":5:9: traffic.rate: expected a number in 0 to 1"));
    auto samples = cli(run + "--samples 3");
    CHECK(samples.code == 2);
    CHECK_THAT(samples.output, Contains("--samples: a traffic workload has no samples"));
    auto trace = cli("trace --chip configs/tiny.yaml --workload " + d.file("w"));
    CHECK(trace.code == 1);
    CHECK_THAT(trace.output, Contains("a traffic workload has no trace"));
}

TEST_CASE("traffic: describe lists the traffic parameters") {
    auto all = cli("describe");
    CHECK(all.code == 0);
    CHECK_THAT(all.output, Contains("\ntraffic (kind of workload generator): "));
    auto one = cli("describe traffic");
    CHECK(one.code == 0);
    for (const char* p : {"pattern", "rate", "message_bits", "warmup", "duration", "hotspot_node", "hotspot_fraction"})
        CHECK_THAT(one.output, Contains(std::string("\n  ") + p + " "));
    auto md = cli("describe --markdown");
    CHECK_THAT(md.output, Contains("| `hotspot_fraction` | real |"));
}
