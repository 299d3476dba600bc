// Micro-benchmarks of the hot paths (Google Benchmark; built when libbenchmark-dev is present):
//   build/aimc_bench
#include <benchmark/benchmark.h>

#include <systemc>

#include "models/common/matmul.hpp"
#include "models/core/core_numerics.hpp"
#include "models/core/mvm_pipeline.hpp"
#include "sim/config.hpp"

int sc_main(int, char**) { return 0; }

namespace {

std::string source(const char* rel) { return std::string(AIMC_SOURCE_DIR) + "/" + rel; }

std::vector<float> test_weights() {
    std::vector<float> w;
    for (std::size_t i = 0; i < 256 * 256; ++i) w.push_back(static_cast<float>((i * 7919) % 255) / 127.f - 1.f);
    return w;
}

std::vector<float> test_input() {
    std::vector<float> x(256);
    for (std::size_t i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 17) / 8.f - 1.f;
    return x;
}

// The baseline: a plain float32 256x256 matrix-vector product, y = x · W, row-major.
void BM_PlainFloatMvm(benchmark::State& state) {
    const std::vector<float> w = test_weights(), x = test_input();
    std::vector<float> y(256);
    // Row-major axpy sweeps on non-aliasing arrays: as fast as the compiler makes it.
    auto product = [](const float* __restrict xp, const float* __restrict wp, float* __restrict yp) {
        std::fill(yp, yp + 256, 0.f);
        for (std::size_t i = 0; i < 256; ++i)
            for (std::size_t j = 0; j < 256; ++j) yp[j] += xp[i] * wp[i * 256 + j];
    };
    for (auto _ : state) {
        product(x.data(), w.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * 256 * 256);  // MACs
}
BENCHMARK(BM_PlainFloatMvm);

// One 256x256 MVM through a HERMES core: PCM conductances (drawn once at programming, read at
// t_inference), 8-bit PWM DAC, 8-bit CCO ADC, digital rescale and drift compensation. The
// `noisy` variant adds the per-MVM noise of the hardware-aware preset [RA23]: short-term read
// noise 0.0175 and ADC output noise 0.04 (absolute, bound 10).
void hermes_mvm(benchmark::State& state, std::vector<std::string> overrides) {
    aimc::ChipConfig cfg = aimc::load_chip_config(source("configs/hermes.yaml"), overrides);
    aimc::CoreNumerics n(cfg.at("core"), aimc::NumericsContext{1, 0, 3600.0});
    aimc::WeightTile t;
    t.rows = t.cols = 256;
    t.w = test_weights();
    n.program(t);
    const std::vector<float> x = test_input();
    std::vector<float> y(256);
    std::uint64_t event = 0;
    for (auto _ : state) {
        n.mvm(x.data(), y.data(), event++);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * 256 * 256);  // MACs
}
void BM_HermesMvm(benchmark::State& state) { hermes_mvm(state, {}); }
void BM_HermesNoisyMvm(benchmark::State& state) {
    hermes_mvm(state, {"core.crossbar.read_noise=0.0175", "core.adc.output_noise=0.04"});
}
void BM_HermesReadNoiseMvm(benchmark::State& state) { hermes_mvm(state, {"core.crossbar.read_noise=0.0175"}); }
void BM_HermesAdcNoiseMvm(benchmark::State& state) { hermes_mvm(state, {"core.adc.output_noise=0.04"}); }
BENCHMARK(BM_HermesMvm);
BENCHMARK(BM_HermesNoisyMvm);
BENCHMARK(BM_HermesReadNoiseMvm);
BENCHMARK(BM_HermesAdcNoiseMvm);

// 64 vectors at once, as the dataflow runs them (one batch), against the same 64 products done
// by the numerics' matmul alone.
void BM_HermesMvmBatch64(benchmark::State& state) {
    aimc::ChipConfig cfg = aimc::load_chip_config(source("configs/hermes.yaml"));
    aimc::CoreNumerics n(cfg.at("core"), aimc::NumericsContext{1, 0, 3600.0});
    aimc::WeightTile t;
    t.rows = t.cols = 256;
    t.w = test_weights();
    n.program(t);
    std::vector<float> x, y(64 * 256);
    for (int b = 0; b < 64; ++b) {
        const auto v = test_input();
        x.insert(x.end(), v.begin(), v.end());
    }
    std::vector<std::uint64_t> events(64);
    std::uint64_t event = 0;
    for (auto _ : state) {
        for (auto& e : events) e = event++;
        n.mvm_batch(x.data(), y.data(), 64, events.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * 64 * 256 * 256);  // MACs
}
void BM_PlainMatmulBatch64(benchmark::State& state) {
    const std::vector<float> w = test_weights();
    std::vector<float> x, y(64 * 256);
    for (int b = 0; b < 64; ++b) {
        const auto v = test_input();
        x.insert(x.end(), v.begin(), v.end());
    }
    for (auto _ : state) {
        aimc::matmul(x.data(), w.data(), y.data(), 64, 256, 256);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * 64 * 256 * 256);  // MACs
}
BENCHMARK(BM_HermesMvmBatch64);
BENCHMARK(BM_PlainMatmulBatch64);

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
