// libFuzzer harness: the `--set KEY=VALUE` overrides (sim/yaml_tree.hpp apply_override, then the
// validation of load_chip_config) applied to configs/tiny.yaml. The input is a list of
// assignments, one per line (the last newline optional), as if each were given with --set; those for `traffic.*` go to the
// uniform-random traffic workload, as the command line splits them (split_traffic_overrides).
// A malformed assignment is a UsageError (exit code 2), a normal outcome here.
#include "fuzz/fuzz_common.hpp"
#include "sim/config.hpp"
#include "sim/simulation.hpp"
#include "sim/workload.hpp"
#include "sim/yaml_tree.hpp"

namespace {

const std::string& tiny_path() {
    static const std::string p = aimc_fuzz::source_dir() + "/configs/tiny.yaml";
    return p;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    aimc_fuzz::quiet();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const aimc::YamlNode tiny = aimc::load_with_base(tiny_path());
    static const std::string traffic_workload = aimc_fuzz::source_dir() + "/workloads/synthetic/uniform-random";
    const std::string text = aimc_fuzz::text(data, size);
    std::vector<std::string> sets;
    for (std::size_t start = 0; start < text.size() && sets.size() < 16;) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        sets.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    std::vector<std::string> chip_sets, traffic_sets;
    aimc::split_traffic_overrides(sets, chip_sets, traffic_sets);
    aimc_fuzz::run(
        [&] {
            // load_chip_config(tiny.yaml, chip_sets) without reading the files again.
            aimc::YamlNode root = tiny;
            for (const auto& s : chip_sets) aimc::apply_override(root, s);
            const aimc::ChipConfig cfg = aimc::build_chip_config(root, tiny_path());
            (void)aimc::peak_figures(cfg);
            if (!traffic_sets.empty()) (void)aimc::load_workload(traffic_workload, cfg, traffic_sets, false);
        },
        /*usage_is_input=*/true);
    return 0;
}
