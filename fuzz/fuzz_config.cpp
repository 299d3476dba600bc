// libFuzzer harness: the chip configuration loader (sim/config.hpp, load_chip_config_text) on the
// fuzzer's text, as `aimcsim validate` uses it: YAML parsing, `base:` merging (the text stands for
// configs/fuzz-input.yaml, so `base: hermes.yaml` and `base: tiny.yaml` resolve to the shipped
// configs), validation against every component kind's declarations, the resolved configuration
// of the report, the peak figures (which build one core's numerics and check what only the
// components check) and the `peak` generator's trace for the chip.
// Elaborating the SystemC chip is left out (SystemC elaborates once per process).
#include "fuzz/fuzz_common.hpp"
#include "sim/config.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    aimc_fuzz::quiet();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string name = aimc_fuzz::source_dir() + "/configs/fuzz-input.yaml";
    const std::string text = aimc_fuzz::text(data, size);
    aimc_fuzz::run([&] {
        const aimc::ChipConfig cfg = aimc::load_chip_config_text(text, name);
        // As the report writer dumps it (sim/cli.cpp): names may hold any bytes.
        (void)cfg.resolved_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        const aimc::PeakFigures p = aimc::peak_figures(cfg);
        aimc_fuzz::check(p.cores >= 1 && p.mvm_interval_cycles >= 1, "peak figures of an empty chip");
        // The peak trace of a large chip is large: only for small ones.
        if (p.cores <= 16) (void)aimc::parse_trace(aimc::peak_trace_text(cfg), "(peak trace)", ".");
    });
    return 0;
}
