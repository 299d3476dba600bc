// Determinism (docs/robustness.md): the same command gives the same report and the same logits,
// byte for byte, run after run and whatever --threads. Only the fields about the simulator
// process differ: sim.wall_s always, and sim.memory_estimate_bytes between thread counts (the
// estimate counts one batch buffer per thread).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/run_helpers.hpp"

namespace fs = std::filesystem;

namespace {

struct Output {
    std::string report;  // without sim.wall_s
    std::string report_without_memory;  // and without sim.memory_estimate_bytes
    std::string logits;  // the --logits file's bytes ("" without one)
};

// Runs aimcsim with `args` plus --threads, --out and (when `logits`) --logits into `dir`.
Output run(const std::string& args, unsigned threads, const fs::path& dir, const std::string& tag, bool logits) {
    const fs::path report = dir / (tag + ".json"), npy = dir / (tag + ".npy");
    std::string cmd = aimc_test::cli() + " " + args + " -q --threads " + std::to_string(threads) + " --out " + report.string();
    if (logits) cmd += " --logits " + npy.string();
    const auto r = aimc_test::run_command(cmd);
    INFO(cmd << "\n" << r.output);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::ordered_json::parse(aimc_test::read_file(report));
    REQUIRE(j["sim"].contains("wall_s"));
    REQUIRE(j["sim"].contains("memory_estimate_bytes"));
    Output out;
    j["sim"].erase("wall_s");
    out.report = j.dump(1);
    j["sim"].erase("memory_estimate_bytes");
    out.report_without_memory = j.dump(1);
    if (logits) {
        out.logits = aimc_test::read_file(npy);
        REQUIRE(out.logits.size() > 128);
    }
    return out;
}

// Runs `args` with --threads 1, with --threads 2 and with --threads 2 again, and compares.
void check_deterministic(const std::string& args, bool logits) {
    const fs::path dir = aimc_test::temp_dir("aimc-determinism");
    const Output one = run(args, 1, dir, "threads1", logits);
    const Output two = run(args, 2, dir, "threads2", logits);
    const Output again = run(args, 2, dir, "threads2-again", logits);
    INFO(args);
    CHECK(two.report == again.report);  // the same command: only sim.wall_s differs
    CHECK(one.report_without_memory == two.report_without_memory);
    CHECK(one.logits == two.logits);
    CHECK(two.logits == again.logits);
}

bool have_fashion_mnist() {
    return fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") &&
           fs::exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
}

// The flagship workload when its data set is installed, else the tiny MLP (its own data).
std::string network_run() {
    if (have_fashion_mnist()) return "--chip configs/hermes.yaml --workload workloads/fmnist-mlp";
    WARN("Fashion-MNIST is not installed (dataset-fashion-mnist): tiny-mlp on tiny instead");
    return "--chip configs/tiny.yaml --workload workloads/tiny-mlp";
}

}  // namespace

TEST_CASE("determinism: a timed run of the MLP gives the same report and logits at 1 and 2 threads") {
    check_deterministic("run " + network_run() + " --samples 500 --t-inference 1d --seed 3", true);
}

TEST_CASE("determinism: a synthetic traffic run gives the same report at 1 and 2 threads") {
    check_deterministic("run --chip configs/hermes.yaml --workload workloads/synthetic/uniform-random "
                        "--set traffic.rate=0.3 --set traffic.duration=4000 --seed 5",
                        false);
}

TEST_CASE("determinism: the functional mode gives the same report and logits at 1 and 2 threads") {
    check_deterministic("run " + network_run() + " --mode functional --t-inference 0,1d --seeds 2 --samples 2000", true);
}

TEST_CASE("determinism: the peak load gives the same report at 1 and 2 threads") {
    // 64 cores programmed on several threads, random weights and inputs.
    check_deterministic("run --chip configs/hermes.yaml --workload workloads/synthetic/peak --samples 20", false);
}
