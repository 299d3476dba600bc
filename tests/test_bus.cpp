// The shared bus (interconnect kind `bus`): zero-load latency, serialization and round-robin
// grants, statistics and energy, a network run, a bad parameter (one simulation per test case).
#include <catch2/catch.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

#include "models/chip/chip.hpp"
#include "models/interconnect/interconnect.hpp"
#include "sim/config.hpp"
#include "sim/simulation.hpp"
#include "sim/workload.hpp"
#include "support/run_helpers.hpp"
#include "support/sim_helpers.hpp"

using namespace aimc;
using aimc_test::temp_dir;
using aimc_test::write_file;

namespace {

// The bus of these tests, set here so that the assumed values of configs/tiny-bus.yaml can change:
// 48-bit flits (6 elements of tiny's 8-bit words), so that sizes round up.
constexpr std::uint64_t kWidth = 48, kArbitration = 3, kNi = 2;
const std::vector<std::string> kBus = {"interconnect.width_bits=48", "interconnect.arbitration_latency=3",
                                       "interconnect.ni_latency=2", "interconnect.energy_per_flit=\"2 pJ\"",
                                       "interconnect.static_power=\"1 mW\""};

std::uint64_t flits(std::uint64_t elements) { return std::max<std::uint64_t>(1, (elements * 8 + kWidth - 1) / kWidth); }
// Cycles a message of `elements` holds the bus.
std::uint64_t occupancy(std::uint64_t elements) { return kArbitration + flits(elements); }
std::uint64_t zero_load(std::uint64_t elements) { return kNi + occupancy(elements) + kNi; }

std::string make_workload(const std::string& trace, int samples = 1) { return aimc_test::make_workload(trace, samples); }

nlohmann::ordered_json run(const std::string& workload, const std::string& chip = "configs/tiny-bus.yaml",
                           std::vector<std::string> sets = kBus) {
    return aimc_test::run(chip, workload, {}, std::move(sets));
}

std::string fill(const std::string& buf, std::uint64_t elements) {
    return "fill buf=" + buf + " len=" + std::to_string(elements) + " value=1\n";
}

}  // namespace

TEST_CASE("bus: zero_load_latency is ni + arbitration + flits + ni wherever the endpoints sit") {
    ChipConfig cfg = load_chip_config("configs/tiny-bus.yaml", kBus);
    auto bus = InterconnectFactory::create(cfg.at("interconnect"), "interconnect", chip_geometry(cfg));
    for (std::uint64_t elements : {1, 6, 7, 12, 13, 100, 1000}) {
        INFO(elements << " elements");
        CHECK(bus->flits(elements * 8) == flits(elements));
        CHECK(bus->zero_load_latency(0, 0, 1, 1, elements * 8) == zero_load(elements));
        CHECK(bus->zero_load_latency(1, 0, 0, 1, elements * 8) == zero_load(elements));
        CHECK(bus->zero_load_latency(1, 1, 1, 1, elements * 8) == zero_load(elements));
    }
    CHECK(bus->flits(0) == 1);
    CHECK(bus->zero_load_latency(0, 0, 1, 1, 0) == kNi + kArbitration + 1 + kNi);
}

TEST_CASE("bus: messages of several sizes each take the zero-load latency on an idle bus") {
    // A chain: each message is sent once the previous one has arrived, so the bus is idle for each.
    // 1, 7, 100 and 6 elements: 1, 2, 17 and 1 flits of 48 bits.
    auto w = make_workload("aimcsim-trace 1\nstream host\n" + fill("a", 1) + fill("c", 100) +
                           "sample\nsend to=3 buf=a\nrecv from=3 buf=b\nsend to=1 buf=c\nrecv from=1 buf=d\n"
                           "stream core 3\n" + fill("b", 7) + "sample\nrecv from=host buf=a\nsend to=host buf=b\n"
                           "stream core 1\n" + fill("d", 6) + "sample\nrecv from=host buf=c\nsend to=host buf=d\n");
    auto r = run(w);
    CHECK(r["latency"]["total_cycles"] == zero_load(1) + zero_load(7) + zero_load(100) + zero_load(6));
    CHECK(zero_load(100) == 2 + 3 + 17 + 2);
    const auto& net = r["interconnect"];
    CHECK(net["kind"] == "bus");
    CHECK(net["messages"] == 4);
    CHECK(net["flits"] == 1 + 2 + 17 + 1);
    CHECK(net["packet_latency_cycles"]["max"] == zero_load(100));
    CHECK(net["mean_arbitration_wait_cycles"] == 0.0);
}

TEST_CASE("bus: two messages ready in the same cycle are serialized") {
    // Cores 0 and 2 send 16 elements (3 flits) to the host at cycle 0: core 0 is granted first,
    // core 2 when the bus frees, arbitration + 3 flits later.
    auto w = make_workload("aimcsim-trace 1\nstream host\nsample\nrecv from=0 buf=x\nrecv from=2 buf=x\n"
                           "stream core 0\n" + fill("x", 16) + "sample\nsend to=host buf=x\n"
                           "stream core 2\n" + fill("x", 16) + "sample\nsend to=host buf=x\n");
    auto r = run(w);
    const auto& lat = r["interconnect"]["packet_latency_cycles"];
    CHECK(lat["p50"] == zero_load(16));
    CHECK(lat["max"] == zero_load(16) + occupancy(16));
    CHECK(r["latency"]["total_cycles"] == zero_load(16) + occupancy(16));
    CHECK(r["interconnect"]["mean_arbitration_wait_cycles"] == occupancy(16) / 2.0);
}

TEST_CASE("bus: round-robin grants the endpoints after the last granted one first") {
    // Core 1 sends alone; once its message is in, a barrier lets cores 0, 2 and 3 send in the same
    // cycle. Round-robin after core 1 grants 2, 3, then 0 (the host port, 4, has nothing queued);
    // a fixed priority would grant 0, 2, 3. Their sizes differ (1, 2 and 4 flits), so the order
    // shows in the mean latency and the mean arbitration wait.
    auto w = make_workload("aimcsim-trace 1\nstream host\nsample\nrecv from=1 buf=x\nbarrier name=go\n"
                           "recv from=0 buf=x\nrecv from=2 buf=x\nrecv from=3 buf=x\n"
                           "stream core 1\n" + fill("x", 6) + "sample\nsend to=host buf=x\nbarrier name=go\n"
                           "stream core 0\n" + fill("x", 24) + "sample\nbarrier name=go\nsend to=host buf=x\n"
                           "stream core 2\n" + fill("x", 6) + "sample\nbarrier name=go\nsend to=host buf=x\n"
                           "stream core 3\n" + fill("x", 12) + "sample\nbarrier name=go\nsend to=host buf=x\n");
    auto r = run(w);
    const std::uint64_t released = zero_load(6);  // core 1's message arrives at the host
    const std::uint64_t wait3 = occupancy(6), wait0 = occupancy(6) + occupancy(12);
    const std::uint64_t lat1 = zero_load(6), lat2 = zero_load(6), lat3 = wait3 + zero_load(12),
                        lat0 = wait0 + zero_load(24);
    CHECK(r["latency"]["total_cycles"] == released + lat0);
    const auto& net = r["interconnect"];
    CHECK(net["grants"] == 4);
    CHECK(net["packet_latency_cycles"]["max"] == lat0);
    CHECK(net["packet_latency_cycles"]["mean"] == static_cast<double>(lat1 + lat2 + lat3 + lat0) / 4);
    CHECK(net["mean_arbitration_wait_cycles"] == static_cast<double>(wait3 + wait0) / 4);
}

TEST_CASE("bus: statistics and energy and flit conservation") {
    // The host sends 10 elements (2 flits) to every core and each core returns 30 (5 flits).
    std::string t = "aimcsim-trace 1\nstream host\n" + fill("v", 10) + "sample\n";
    for (int c = 0; c < 4; ++c) t += "send to=" + std::to_string(c) + " buf=v\n";
    for (int c = 0; c < 4; ++c) t += "recv from=" + std::to_string(c) + " buf=w\n";
    for (int c = 0; c < 4; ++c)
        t += "stream core " + std::to_string(c) + "\n" + fill("w", 30) + "sample\nrecv from=host buf=v\nsend to=host buf=w\n";
    auto r = run(make_workload(t, 3));
    const std::uint64_t messages = 3 * 8, flits_sent = 3 * 4 * (2 + 5);
    const std::uint64_t busy = 3 * 4 * (occupancy(10) + occupancy(30));
    const auto& net = r["interconnect"];
    const std::uint64_t total = r["latency"]["total_cycles"];
    // simulate() checks conservation at the end: every flit injected was ejected, once.
    CHECK(net["messages"] == messages);
    CHECK(net["flits"] == flits_sent);
    CHECK(net["flits_transferred"] == flits_sent);
    CHECK(net["grants"] == messages);
    CHECK(net["busy_cycles"] == busy);
    CHECK(net["utilisation"] == static_cast<double>(busy) / static_cast<double>(total));
    CHECK(net["utilisation"].get<double>() <= 1.0);
    // Dynamic energy is flits x energy_per_flit, computed as the model does; static power is the
    // whole bus's (1 mW) with the cores' (tiny: 4 x 20 mW).
    CHECK(r["energy"]["breakdown_pj"]["interconnect"].get<double>() ==
          static_cast<double>(flits_sent) * (2 * 1e-12) * 1e12);
    CHECK(r["energy"]["breakdown_pj"]["interconnect"].get<double>() == Approx(2.0 * flits_sent));
    CHECK(r["energy"]["breakdown_pj"]["static"].get<double>() ==
          Approx((4 * 20e-3 + 1e-3) * static_cast<double>(total) * 1e-9 * 1e12));
}

TEST_CASE("bus: a long transfer counts as progress for the watchdog") {
    // Core 0's 1000-flit message holds the bus from cycle 2 to 1005, far beyond a 50-cycle
    // watchdog, while cores 1 and 2 queue messages behind it (after one and two MVMs).
    auto sets = kBus;
    sets.insert(sets.end(), {"interconnect.width_bits=8", "interconnect.watchdog_cycles=50"});
    const std::string mvm_core = "program matrix=random rows=0:64 cols=0:64 seed=1\n" + fill("x", 64) + "sample\nmvm in=x out=y\n";
    auto w = make_workload("aimcsim-trace 1\nstream host\nsample\nrecv from=0 buf=a\nrecv from=1 buf=y\nrecv from=2 buf=z\n"
                           "stream core 0\n" + fill("a", 1000) + "sample\nsend to=host buf=a\n"
                           "stream core 1\n" + mvm_core + "send to=host buf=y\n"
                           "stream core 2\n" + mvm_core + "mvm in=y out=z\nsend to=host buf=z\n");
    auto r = run(w, "configs/tiny-bus.yaml", sets);
    // Back to back from cycle 2: 1000, 64 and 64 flits, each after 3 cycles of arbitration.
    CHECK(r["latency"]["total_cycles"] == kNi + (kArbitration + 1000) + (kArbitration + 64) + (kArbitration + 64) + kNi);
}

TEST_CASE("bus: tiny network on tiny-bus keeps its accuracy") {
    auto r = run("workloads/tiny-mlp", "configs/tiny-bus.yaml", {});
    CHECK(r["accuracy"]["samples"] == 64);
    // Accuracy does not depend on the interconnect: as on tiny's mesh (tests/test_run.cpp).
    CHECK(std::fabs(r["accuracy"]["top1"].get<double>() - r["accuracy"]["reference_top1"].get<double>()) <= 2.0 / 64);
    const auto& net = r["interconnect"];
    CHECK(net["kind"] == "bus");
    CHECK(net["grants"] == net["messages"]);
    CHECK(net["flits_transferred"] == net["flits"]);
    CHECK(net["utilisation"].get<double>() > 0.0);
    CHECK(net["utilisation"].get<double>() <= 1.0);
    CHECK(r["energy"]["breakdown_pj"]["interconnect"].get<double>() == Approx(2.0 * net["flits"].get<double>()));
}

TEST_CASE("bus: width_bits 0 is an error that names the file and line and key and the CLI exits 1") {
    auto dir = temp_dir("aimc-bus");
    const std::string path = (dir / "bad-bus.yaml").string();
    write_file(path, "base: " AIMC_SOURCE_DIR "/configs/tiny-bus.yaml\nname: bad-bus\ninterconnect:\n  width_bits: 0\n");
    auto r = aimc_test::run_command(aimc_test::cli() + " validate --chip '" + path + "'");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("error: " + path + ":4:15: interconnect.width_bits: expected an integer in 1..65536"));
    CHECK_THAT(r.output, Catch::EndsWith("1 error(s)\n"));
}

TEST_CASE("bus: the config-derived peak power counts the bus's static power once instead of a router per core") {
    const PeakFigures mesh = peak_figures(load_chip_config("configs/tiny.yaml"));
    const PeakFigures bus = peak_figures(load_chip_config("configs/tiny-bus.yaml"));
    // tiny: 4 routers at 1.6 mW; tiny-bus: one bus at 1 mW; the cores are the same.
    CHECK(bus.power_w == Approx(mesh.power_w - 4 * 1.6e-3 + 1e-3).epsilon(1e-12));
}
