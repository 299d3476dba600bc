// Simulated cycles per second of the 8 x 8 mesh (MeshNetwork, as the `mesh` kind runs it) under
// uniform random traffic: at zero load (a message every 1 000 cycles in the whole mesh), and at 50 % and
// 100 % of the mesh's measured saturation throughput (0.35 flits per node per cycle,
// docs/interconnect.md; the XY bound is 0.492). Messages of 4 flits; HERMES router parameters
// (2 virtual channels x 4 flits, router 2 cycles, link 1 cycle), with the host's interface on router
// (0, 0) as `aimcsim run` attaches it.
#include <benchmark/benchmark.h>

#include <optional>
#include <random>
#include <vector>

#include "models/interconnect/mesh_network.hpp"

namespace {

using aimc::MeshNetwork;

void mesh_uniform(benchmark::State& state, double rate) {
    constexpr int k = 8, nodes = k * k;
    constexpr std::uint32_t flits = 4;
    const std::uint64_t cycles = 20000;
    // Bernoulli message generation per node and cycle, drawn before the run (not timed); the
    // messages are handed to the network in the cycle they are made, as a run does.
    struct Message {
        std::uint64_t cycle;
        int src, dst;
    };
    std::vector<Message> messages;
    std::mt19937_64 rng(1);
    std::bernoulli_distribution fire(rate / flits);
    std::uniform_int_distribution<int> other(0, nodes - 2);
    for (std::uint64_t c = 0; c < cycles; ++c)
        for (int src = 0; src < nodes; ++src)
            if (fire(rng)) {
                int dst = other(rng);
                if (dst >= src) ++dst;
                messages.push_back({c, src, dst});
            }
    std::uint64_t simulated = 0;
    for (auto _ : state) {
        MeshNetwork net(aimc::MeshParams{k, k, 2, 4, 2, 1});
        for (int r = 0; r < nodes; ++r) net.attach(r, r % k, r / k);
        net.attach(nodes, 0, 0);  // the host's interface, as on HERMES (it sends nothing here)
        std::vector<MeshNetwork::Ejection> ejected;
        std::uint64_t last = 0;
        std::size_t next = 0;  // the next message to hand over
        for (std::optional<std::uint64_t> c = 0; c;) {
            for (; next < messages.size() && messages[next].cycle == *c; ++next)
                net.enqueue(static_cast<std::uint32_t>(next), messages[next].src, messages[next].dst, flits, *c);
            ejected.clear();
            net.step(*c, ejected);
            last = *c;
            c = net.next_busy_cycle(*c);
            if (next < messages.size() && (!c || messages[next].cycle < *c)) c = messages[next].cycle;
        }
        simulated += last;
        benchmark::DoNotOptimize(net.flits_ejected());
    }
    state.counters["sim_cycles_per_s"] = benchmark::Counter(static_cast<double>(simulated), benchmark::Counter::kIsRate);
}

void BM_MeshZeroLoad(benchmark::State& s) { mesh_uniform(s, 4.0 / 1000 / 64); }
void BM_MeshHalfSaturation(benchmark::State& s) { mesh_uniform(s, 0.5 * 0.35); }
void BM_MeshSaturation(benchmark::State& s) { mesh_uniform(s, 0.35); }

}  // namespace

BENCHMARK(BM_MeshZeroLoad)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MeshHalfSaturation)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MeshSaturation)->Unit(benchmark::kMillisecond);
