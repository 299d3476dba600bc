// Micro-benchmarks of the hot paths (Google Benchmark; built when libbenchmark-dev is present):
//   build/aimc_bench
#include <benchmark/benchmark.h>

#include <systemc>

#include "models/core/core_numerics.hpp"
#include "models/core/mvm_pipeline.hpp"
#include "sim/config.hpp"

int sc_main(int, char**) { return 0; }

namespace {

std::string source(const char* rel) { return std::string(AIMC_SOURCE_DIR) + "/" + rel; }

// One 256x256 MVM through the HERMES peripherals (8-bit PWM DAC, crossbar, 8-bit CCO ADC).
void BM_HermesMvmNumerics(benchmark::State& state) {
    aimc::ChipConfig cfg = aimc::load_chip_config(source("configs/hermes.yaml"));
    aimc::CoreNumerics n(cfg.at("core"), aimc::NumericsContext{});
    aimc::WeightTile t;
    t.rows = t.cols = 256;
    for (std::size_t i = 0; i < 256 * 256; ++i) t.w.push_back(static_cast<float>((i * 7919) % 255) / 127.f - 1.f);
    n.program(t);
    std::vector<float> x(256), y(256);
    for (std::size_t i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 17) / 8.f - 1.f;
    std::uint64_t event = 0;
    for (auto _ : state) {
        n.mvm(x.data(), y.data(), event++);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * 256 * 256);  // MACs
}
BENCHMARK(BM_HermesMvmNumerics);

void BM_MvmPipelineIssue(benchmark::State& state) {
    aimc::MvmPhases p{8, 128, 5, 8};
    aimc::MvmPipeline pipe(true);
    std::uint64_t ready = 0;
    for (auto _ : state) {
        auto s = pipe.issue(ready, p);
        ready = s.analog_start;
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_MvmPipelineIssue);

}  // namespace

BENCHMARK_MAIN();
