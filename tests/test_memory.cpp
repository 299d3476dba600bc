// The memory estimate and --memory-limit (sim/memory.hpp, docs/robustness.md): a run that would
// need more than the limit is refused before it allocates, and the estimate stays close to what a
// run really takes (its peak resident set, measured by the kernel).
#include <catch2/catch.hpp>

// Before <sys/wait.h>: glibc's signal.h defines si_value, a parameter name in sim/units.hpp.
#include "sim/memory.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/run_helpers.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using aimc_test::kSanitized;

struct Measured {
    int exit_code = -1;
    std::uint64_t peak_rss = 0;  // bytes
};

// Runs aimcsim with `args` from the repository root, output discarded; the kernel's account of
// its peak resident set (wait4's ru_maxrss).
Measured run_measured(const std::vector<std::string>& args) {
    std::vector<std::string> argv_text = {aimc_test::cli()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int null = open("/dev/null", O_RDWR);
        if (chdir(AIMC_SOURCE_DIR) != 0 || null < 0) _exit(126);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    struct rusage usage {};
    REQUIRE(wait4(pid, &status, 0, &usage) == pid);
    Measured m;
    m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    m.peak_rss = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
    return m;
}

// The estimate of a run (from its report) against its measured peak RSS: within a factor of 2.
void check_estimate(const std::string& what, std::vector<std::string> args) {
    if (kSanitized) {
        WARN("skipped under AddressSanitizer: its shadow memory and quarantine inflate the resident set");
        return;
    }
    const fs::path out = aimc_test::temp_dir("aimc-memory") / "report.json";
    args.insert(args.end(), {"-q", "--threads", "2", "--out", out.string()});
    const Measured m = run_measured(args);
    REQUIRE(m.exit_code == 0);
    const auto report = nlohmann::json::parse(aimc_test::read_file(out));
    const auto estimate = report["sim"]["memory_estimate_bytes"].get<std::uint64_t>();
    const double ratio = static_cast<double>(estimate) / static_cast<double>(m.peak_rss);
    INFO(what << ": estimate " << aimc::format_bytes(estimate) << ", measured peak RSS "
              << aimc::format_bytes(m.peak_rss) << ", ratio " << ratio);
    CHECK(ratio >= 0.5);
    CHECK(ratio <= 2.0);
}

bool have_fashion_mnist() { return fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); }

}  // namespace

TEST_CASE("memory: sizes parse with binary and decimal units and print in binary ones") {
    using aimc::parse_memory_size;
    CHECK(parse_memory_size("4GiB") == 4ull << 30);
    CHECK(parse_memory_size("4G") == 4ull << 30);
    CHECK(parse_memory_size("512 MiB") == 512ull << 20);
    CHECK(parse_memory_size("1.5GB") == 1500000000ull);
    CHECK(parse_memory_size("1000000") == 1000000ull);
    CHECK(parse_memory_size("64k") == 65536ull);
    for (const char* bad : {"", "lots", "-1GiB", "1.2.3G", "0", "1e9", "GiB", "4 gib", "1e400"}) {
        INFO(bad);
        CHECK_FALSE(parse_memory_size(bad).has_value());
    }
    CHECK(aimc::format_bytes(512) == "512 B");
    CHECK(aimc::format_bytes(1536) == "1.5 KiB");
    CHECK(aimc::format_bytes(3ull << 30) == "3 GiB");
    CHECK(aimc::default_memory_limit() > (64ull << 20));
}

TEST_CASE("memory: a run whose estimate exceeds --memory-limit is refused before it starts") {
    const auto r = aimc_test::run_command(aimc_test::cli() +
                                          " run --chip configs/hermes.yaml --workload workloads/synthetic/peak -q"
                                          " --threads 2 --memory-limit 100MiB");
    CHECK(r.exit_code == 1);
    CHECK(r.output ==
          "error: the run needs an estimated 236 MiB of memory (base 10.2 MiB, workload 120 KiB, crossbars 192 MiB, "
          "programming 9 MiB, dataflow 24.3 MiB, results 8.59 KiB, report 768 KiB), more than the limit of 100 MiB "
          "(--memory-limit); lower the sizes, samples or threads, or raise the limit with --memory-limit SIZE "
          "(docs/robustness.md)\n");
}

TEST_CASE("memory: the functional mode is refused too, and -v prints the estimate") {
    auto r = aimc_test::run_command(aimc_test::cli() +
                                    " run --chip configs/tiny.yaml --workload workloads/tiny-mlp --mode functional -q"
                                    " --memory-limit 1MiB");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Contains("error: the run needs an estimated ") &&
                             Contains("more than the limit of 1 MiB (--memory-limit)"));
    r = aimc_test::run_command(aimc_test::cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp -q -v");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("debug: memory estimate: ") && Contains("(base "));
}

TEST_CASE("memory: the report gives the estimate, and more samples or threads raise it") {
    const fs::path dir = aimc_test::temp_dir("aimc-memory-report");
    auto estimate = [&](const std::string& args) {
        const auto out = dir / "r.json";
        const auto r = aimc_test::run_command(aimc_test::cli() + " run --chip configs/tiny.yaml --workload "
                                              "workloads/tiny-mlp -q --out " + out.string() + " " + args);
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(aimc_test::read_file(out))["sim"]["memory_estimate_bytes"].get<std::uint64_t>();
    };
    const auto base = estimate("--threads 1 --samples 64");
    CHECK(base > (10ull << 20));
    CHECK(estimate("--threads 1 --samples 6400") > base);
    CHECK(estimate("--threads 2 --samples 128") > estimate("--threads 1 --samples 128"));
}

TEST_CASE("memory: the estimate for hermes at peak load is within a factor of 2 of the measured peak RSS") {
    check_estimate("hermes peak", {"run", "--chip", "configs/hermes.yaml", "--workload", "workloads/synthetic/peak"});
}

TEST_CASE("memory: the estimate for the MLP and the CNN is within a factor of 2 of the measured peak RSS") {
    if (!have_fashion_mnist()) {
        WARN("Fashion-MNIST is not installed (dataset-fashion-mnist): skipped");
        return;
    }
    check_estimate("fmnist-mlp timed", {"run", "--chip", "configs/hermes.yaml", "--workload", "workloads/fmnist-mlp"});
    check_estimate("fmnist-mlp functional", {"run", "--chip", "configs/hermes.yaml", "--workload", "workloads/fmnist-mlp",
                                             "--mode", "functional", "--compensation", "on"});
    check_estimate("fmnist-cnn timed, 500 samples",
                   {"run", "--chip", "configs/hermes.yaml", "--workload", "workloads/fmnist-cnn", "--samples", "500"});
}
