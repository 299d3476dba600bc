// The flit-level mesh: exact zero-load latencies, wormhole blocking, conservation under load,
// statistics, the watchdog, and results identical to those recorded before the model was made faster.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "models/chip/chip.hpp"
#include "models/interconnect/mesh.hpp"
#include "models/interconnect/mesh_network.hpp"
#include "sim/errors.hpp"
#include "support/sim_helpers.hpp"

using namespace aimc;
using Catch::Contains;

namespace {

// Steps the network from cycle c until it is empty; returns each packet's tail cycle.
std::map<std::uint32_t, std::uint64_t> drain(MeshNetwork& net, std::uint64_t c) {
    std::map<std::uint32_t, std::uint64_t> tails;
    std::vector<MeshNetwork::Ejection> ejected;
    for (std::optional<std::uint64_t> at = c; at; at = net.next_busy_cycle(*at)) {
        ejected.clear();
        net.step(*at, ejected);
        for (const auto& e : ejected) REQUIRE(tails.emplace(e.packet, e.tail_cycle).second);  // once only
    }
    return tails;
}

// One endpoint per router, endpoint id = router index.
MeshNetwork mesh(int cols, int rows, int vcs, int depth, int router, int link) {
    MeshNetwork net(MeshParams{cols, rows, vcs, depth, router, link});
    for (int r = 0; r < cols * rows; ++r) net.attach(r, r % cols, r / cols);
    return net;
}

int hops(int a, int b, int cols) { return std::abs(a % cols - b % cols) + std::abs(a / cols - b / cols); }

}  // namespace

TEST_CASE("mesh: a lone message takes (hops + 1) x (router + link) + flits - 1, for every distance and size") {
    for (const auto& [router, link] : {std::pair{1, 1}, std::pair{2, 1}, std::pair{3, 2}}) {
        for (int vcs : {1, 2}) {
            MeshNetwork net = mesh(4, 4, vcs, router + 2 * link, router, link);
            std::uint64_t c = 5;
            std::uint32_t packet = 0;
            for (int src = 0; src < 16; ++src)
                for (int dst = 0; dst < 16; dst += 3)
                    for (std::uint32_t flits : {1u, 2u, 5u, 16u}) {
                        net.enqueue(packet, src, dst, flits, c);
                        const auto tails = drain(net, c);
                        REQUIRE(tails.size() == 1);
                        const std::uint64_t expected =
                                static_cast<std::uint64_t>((hops(src, dst, 4) + 1) * (router + link)) + flits - 1;
                        INFO("router " << router << " link " << link << " vcs " << vcs << ": " << src << " -> " << dst
                                       << ", " << flits << " flits");
                        REQUIRE(tails.at(packet) - c == expected);
                        c = tails.at(packet) + 7;
                        ++packet;
                    }
            CHECK(net.flits_in_network() == 0);
        }
    }
}

TEST_CASE("mesh: messages handed over out of the order of their ready cycles each leave at its own") {
    // Sources wait for their messages' ready cycles in order while messages come so, and in a
    // heap otherwise: here later messages are ready earlier, and a source's second message is
    // ready long after its first has gone. Each takes its zero-load latency from its ready cycle.
    MeshNetwork net = mesh(4, 4, 2, 4, 2, 1);
    struct Sent {
        std::uint32_t packet;
        int src, dst;
        std::uint64_t ready;
    };
    const Sent sent[] = {{0, 0, 15, 400}, {1, 5, 6, 300}, {2, 10, 3, 200}, {3, 15, 0, 100}, {4, 3, 12, 100},
                         {5, 0, 5, 900}, {6, 15, 10, 250}};
    for (const Sent& m : sent) net.enqueue(m.packet, m.src, m.dst, 3, m.ready);
    CHECK(net.next_busy_cycle(0) == 100u);
    const auto tails = drain(net, 100);
    for (const Sent& m : sent) {
        INFO("message " << m.packet);
        CHECK(tails.at(m.packet) - m.ready == static_cast<std::uint64_t>((hops(m.src, m.dst, 4) + 1) * 3 + 2));
    }
}

TEST_CASE("mesh: a shallow buffer streams a message at depth / (router + 2 link) flits per cycle") {
    // Depth 2, router 1, link 1: the credit round trip is 3 cycles, so a long message crosses
    // each link at 2 flits every 3 cycles once its head has gone.
    MeshNetwork net = mesh(3, 1, 1, 2, 1, 1);
    net.enqueue(0, 0, 2, 30, 0);
    const auto tails = drain(net, 0);
    const std::uint64_t zero_load = 3 * 2 + 29;
    CHECK(tails.at(0) > zero_load);
    // 30 flits at 2/3 flit per cycle: the tail leaves about 29 * 3 / 2 cycles after the head.
    CHECK(tails.at(0) == Approx(3 * 2 + 29.0 * 3 / 2).margin(3));
}

TEST_CASE("mesh: with one virtual channel a message waits exactly until the tail ahead of it has gone") {
    // 4 x 1, router 2, link 1, depth 4. B (router 1 -> 3) holds router 1's east channel while its
    // 8 flits leave in cycles 2..9; A (router 0 -> 3) reaches router 1 at cycle 3, may leave at 5,
    // and leaves at 10, the cycle after B's tail: 5 cycles late.
    MeshNetwork net = mesh(4, 1, 1, 4, 2, 1);
    net.enqueue(/*A*/ 0, 0, 3, 8, 0);
    net.enqueue(/*B*/ 1, 1, 3, 8, 0);
    const auto tails = drain(net, 0);
    CHECK(tails.at(1) == 3 * 3 + 7);      // B: zero-load, 2 hops
    CHECK(tails.at(0) == 4 * 3 + 7 + 5);  // A: zero-load, 3 hops, plus the wait
    CHECK(net.stall_cycles(1) == 5);      // router 1's west input held A's ready head for 5 cycles
}

TEST_CASE("mesh: with two virtual channels the blocked message interleaves with the one ahead") {
    MeshNetwork one = mesh(4, 1, 1, 4, 2, 1), two = mesh(4, 1, 2, 4, 2, 1);
    for (MeshNetwork* net : {&one, &two}) {
        net->enqueue(0, 0, 3, 8, 0);
        net->enqueue(1, 1, 3, 8, 0);
    }
    const auto t1 = drain(one, 0), t2 = drain(two, 0);
    CHECK(t2.at(1) > t1.at(1));   // B now shares router 1's east link with A
    CHECK(t2.at(0) <= t1.at(0));  // A no longer waits for B's tail
    // The link carries one flit per cycle either way: the last tail leaves in the same cycle.
    CHECK(std::max(t2.at(0), t2.at(1)) == std::max(t1.at(0), t1.at(1)));
}

TEST_CASE("mesh: under heavy random traffic every flit injected is ejected, each message once") {
    MeshNetwork net = mesh(8, 8, 2, 4, 2, 1);
    std::mt19937 rng(7);
    struct Sent {
        int src, dst;
        std::uint32_t flits;
        std::uint64_t ready;
    };
    std::vector<Sent> sent;
    std::uint64_t router_traversals = 0, link_traversals = 0;
    // 64 nodes x 1500 cycles at 0.8 flits per node per cycle: far beyond saturation.
    for (std::uint64_t c = 0; c < 1500; c += 5)
        for (int src = 0; src < 64; ++src) {
            const int dst = static_cast<int>(rng() % 64);
            const auto flits = static_cast<std::uint32_t>(1 + rng() % 8);
            net.enqueue(static_cast<std::uint32_t>(sent.size()), src, dst, flits, c);
            sent.push_back({src, dst, flits, c});
            router_traversals += flits * static_cast<std::uint64_t>(hops(src, dst, 8) + 1);
            link_traversals += flits * static_cast<std::uint64_t>(hops(src, dst, 8));
        }
    const auto tails = drain(net, 0);
    REQUIRE(tails.size() == sent.size());
    for (std::uint32_t p = 0; p < sent.size(); ++p) {
        const Sent& s = sent[p];
        REQUIRE(tails.at(p) - s.ready >= static_cast<std::uint64_t>((hops(s.src, s.dst, 8) + 1) * 3) + s.flits - 1);
    }
    CHECK(net.flits_in_network() == 0);
    CHECK(net.flits_ejected() == net.flits_enqueued());
    CHECK(net.router_traversals() == router_traversals);
    CHECK(net.link_traversals() == link_traversals);
    std::uint64_t stalls = 0;
    for (int r = 0; r < 64; ++r) stalls += net.stall_cycles(r);
    CHECK(stalls > 0);  // it was congested
}

TEST_CASE("mesh: messages of different sizes and distances arrive after their zero-load latencies, one after another") {
    // tiny: 2 x 2, host at router 0; router 2, link 1, ni 2, 64-bit flits, 8-bit words.
    // host -> core 3 (2 hops, 16 words = 2 flits), core 3 -> core 1 (1 hop, 40 words = 5 flits),
    // core 1 -> host (1 hop, 5 flits); each is sent when the previous one has arrived.
    auto w = aimc_test::make_workload(
            "aimcsim-trace 1\n"
            "stream host\nfill buf=v len=16 value=1\nsample\nsend to=3 buf=v\nrecv from=1 buf=u\n"
            "stream core 3\nfill buf=u len=40 value=2\nsample\nrecv from=host buf=v\nsend to=1 buf=u\n"
            "stream core 1\nsample\nrecv from=3 buf=u\nsend to=host buf=u\n",
            1);
    auto r = aimc_test::run("configs/tiny.yaml", w);
    const auto zero_load = [](int hops, int flits) { return 2 + (hops + 1) * (2 + 1) + (flits - 1) + 2; };
    CHECK(r["latency"]["total_cycles"] == zero_load(2, 2) + zero_load(1, 5) + zero_load(1, 5));
    const auto& net = r["interconnect"];
    CHECK(net["messages"] == 3);
    CHECK(net["flits"] == 2 + 5 + 5);
    CHECK(net["packet_latency_cycles"]["max"] == zero_load(2, 2));
    CHECK(net["packet_latency_cycles"]["p50"] == zero_load(1, 5));
    CHECK(net["stall_cycles"] == 0);
    // Per-router link grids: host -> 3 goes east from router 0 and south from router 1;
    // 3 -> 1 goes north from router 3; 1 -> host west from router 1.
    const double cycles = r["latency"]["total_cycles"].get<double>();
    const auto& links = net["per_router"]["link_utilisation"];
    CHECK(links["east"][0][0].get<double>() == Approx(2 / cycles));
    CHECK(links["south"][0][1].get<double>() == Approx(2 / cycles));
    CHECK(links["north"][1][1].get<double>() == Approx(5 / cycles));
    CHECK(links["west"][0][1].get<double>() == Approx(5 / cycles));
    CHECK(links["east"][1][0].get<double>() == 0.0);
    CHECK(links["west"][0][0].is_null());  // no link leaves the mesh
    CHECK(links["north"][0][1].is_null());
}

TEST_CASE("mesh: the watchdog stops a run in which no flit can move, naming the stuck router") {
    ChipConfig cfg = load_chip_config("configs/tiny.yaml", {"interconnect.watchdog_cycles=50"});
    const ChipGeometry g = chip_geometry(cfg);
    auto net = InterconnectFactory::create(cfg.at("interconnect"), "net", g);
    NetworkInterface a(0, 0, 0), b(1, 1, 0);
    net->attach(a);
    net->attach(b);
    dynamic_cast<Mesh&>(*net).network().fail_link(0, MeshNetwork::East);
    Message m;
    m.src = 0;
    m.dst = 1;
    m.bits = 64;
    net->inject(m, 0);
    sc_core::sc_start();
    CHECK_THROWS_AS(net->rethrow_failure(), InternalError);
    CHECK_THROWS_WITH(net->rethrow_failure(),
                      Contains("watchdog: no flit moved for 51 cycles") && Contains("router 0 at (0, 0): 1 flits buffered") &&
                              Contains("input local 0 vc 0: 1 flits, head of message 0 to output east: waits for a free "
                                       "virtual channel with a credit"));
    CHECK(sc_core::sc_time_stamp() < 100 * g.cycle);  // stopped, not hung
}

TEST_CASE("mesh: a watchdog shorter than the pipeline is a config error naming the key") {
    auto r = aimc_test::run_command(aimc_test::cli() +
                                    " validate --chip configs/tiny.yaml --set interconnect.watchdog_cycles=6");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Contains("interconnect.watchdog_cycles: 6 cycles is not longer than a flit can legitimately wait "
                                  "(ni_latency + router_latency + 2 x link_latency = 6)"));
}

namespace {

// Uniform random traffic on a k x k mesh with HERMES' router parameters, at `rate` flits per node
// per cycle (4-flit messages), measured over [500, 500 + duration).
nlohmann::ordered_json uniform_run(int k, double rate, int duration) {
    ChipConfig cfg = load_chip_config("configs/hermes.yaml", {"chip.grid_cols=" + std::to_string(k),
                                                              "chip.grid_rows=" + std::to_string(k)});
    Workload w = load_workload("workloads/synthetic/uniform-random", cfg,
                               {"traffic.rate=" + std::to_string(rate), "traffic.message_bits=256", "traffic.warmup=500",
                                "traffic.duration=" + std::to_string(duration)});
    return simulate(cfg, w, {});
}

void check_saturated(const nlohmann::ordered_json& r, double bound, int duration) {
    const auto& tp = r["interconnect"]["throughput_flits_per_node_cycle"];
    CHECK(r["traffic"]["xy_saturation_bound_flits_per_node_cycle"].get<double>() == Approx(bound));
    // Offered beyond the bound; accepted cannot exceed it, and a working network gets well past half.
    CHECK(tp["offered"].get<double>() > bound);
    CHECK(tp["accepted"].get<double>() <= bound);
    CHECK(tp["accepted"].get<double>() > 0.5 * bound);
    // After injection stops the backlog drains: every message is delivered (the run's
    // conservation check passed) in a finite time.
    CHECK(r["interconnect"]["messages"] == r["traffic"]["messages_generated"]);
    CHECK(r["latency"]["total_cycles"].get<std::uint64_t>() > static_cast<std::uint64_t>(500 + duration));
}

}  // namespace

TEST_CASE("mesh: uniform traffic beyond saturation on 4x4 is accepted below the XY bound of 15/16 and drains") {
    check_saturated(uniform_run(4, 1.0, 3000), 15.0 / 16, 3000);
}

TEST_CASE("mesh: uniform traffic beyond saturation on 8x8 is accepted below the XY bound of 63/128 and drains") {
    check_saturated(uniform_run(8, 0.7, 2000), 63.0 / 128, 2000);
}

TEST_CASE("mesh: at low load the mean latency of uniform traffic is the mean zero-load latency plus little") {
    auto r = uniform_run(8, 0.04, 4000);
    // Mean over all ordered pairs of distinct cores of ni + (H + 1)(router + link) + (F - 1) + ni.
    double sum = 0;
    for (int a = 0; a < 64; ++a)
        for (int b = 0; b < 64; ++b)
            if (a != b) sum += 2 + (hops(a, b, 8) + 1) * (2 + 1) + 3 + 2;
    const double zero_load = sum / (64 * 63);
    const auto& lat = r["interconnect"]["packet_latency_cycles"];
    CHECK(lat["mean"].get<double>() >= zero_load);
    CHECK(lat["mean"].get<double>() < 1.05 * zero_load);
    const auto& tp = r["interconnect"]["throughput_flits_per_node_cycle"];
    CHECK(tp["accepted"].get<double>() == Approx(tp["offered"].get<double>()).epsilon(0.02));
}

namespace {

// A run of random traffic on a MeshNetwork, stepped in every cycle, and an FNV-1a hash of
// everything it reports: the moved flag of every step, every ejection (packet, tail cycle), and
// the traversal, stall, occupancy and per-link counts.
struct GoldenCase {
    int cols, rows, vcs, depth, router, link;
    std::vector<int> extra;  // routers with a second endpoint
    int cycles, percent;     // cycles of injection; chance of a message per endpoint and cycle, in %
    std::uint32_t seed;
    std::uint64_t hash;      // recorded with the model of commit e0b5ba9, occupancy counted at the ends
                             // of cycles and each cycle's ejections in the order of their handles
};

std::uint64_t golden_hash(const GoldenCase& g) {
    MeshNetwork net(MeshParams{g.cols, g.rows, g.vcs, g.depth, g.router, g.link});
    const int n = g.cols * g.rows;
    int endpoints = 0;
    for (int r = 0; r < n; ++r) net.attach(endpoints++, r % g.cols, r / g.cols);
    for (int r : g.extra) net.attach(endpoints++, r % g.cols, r / g.cols);
    std::mt19937 rng(g.seed);  // raw draws only: the same with every standard library
    std::uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](std::uint64_t x) { h = (h ^ x) * 1099511628211ull; };
    std::vector<MeshNetwork::Ejection> ejected;
    std::uint32_t packet = 0;
    for (std::uint64_t c = 0; c < static_cast<std::uint64_t>(g.cycles) || net.next_busy_cycle(c); ++c) {
        if (c < static_cast<std::uint64_t>(g.cycles))
            for (int src = 0; src < endpoints; ++src)
                if (static_cast<int>(rng() % 100) < g.percent) {
                    const int dst = static_cast<int>(rng() % static_cast<std::uint32_t>(endpoints));
                    net.enqueue(packet++, src, dst, 1 + rng() % 8, c + 1);
                }
        ejected.clear();
        mix(net.step(c, ejected));
        for (const auto& e : ejected) mix(e.packet), mix(e.tail_cycle);
    }
    mix(net.flits_ejected()), mix(net.router_traversals()), mix(net.link_traversals());
    for (int r = 0; r < n; ++r) {
        mix(net.stall_cycles(r)), mix(net.occupancy_flit_cycles(r));
        for (int d = 0; d < 4; ++d) mix(net.link_flits(r, static_cast<MeshNetwork::Direction>(d)));
    }
    return h;
}

}  // namespace

TEST_CASE("mesh: every step, ejection and statistic is as recorded before the model was made faster") {
    // Configurations that take each specialised path of the model and the general one.
    const GoldenCase cases[] = {
            {8, 8, 2, 4, 2, 1, {}, 2000, 9, 1, 0xd8b1e389ba0a3f1eull},       // hermes, near saturation
            {4, 4, 1, 2, 1, 1, {0, 5}, 1500, 20, 2, 0x65c1f8af3d9c837eull},  // one VC, shallow, two endpoints
            {5, 3, 3, 5, 3, 2, {7, 7}, 1500, 6, 3, 0x484228eff30a702eull},   // three VCs, depth 5, three endpoints
            {3, 3, 4, 4, 1, 3, {4}, 1500, 12, 4, 0x27af0c33836114bbull},     // four VCs, long links
            {4, 2, 16, 16, 2, 1, {}, 1000, 15, 5, 0xae8446a55351b8e3ull},    // sixteen VCs
            {36, 30, 2, 4, 2, 1, {}, 60, 1, 6, 0xa893aeea4c732cf1ull},       // more routers than the route table
            {6, 6, 2, 8, 2, 1, {}, 2000, 25, 7, 0x1ad3d552ddc1dabbull},      // far beyond saturation, depth 8
    };
    for (const GoldenCase& g : cases) {
        INFO(g.cols << " x " << g.rows << ", " << g.vcs << " VCs of " << g.depth << " flits, router " << g.router
                    << ", link " << g.link);
        CHECK(golden_hash(g) == g.hash);
    }
}
