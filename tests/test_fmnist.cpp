// The trained Fashion-MNIST workloads on hermes.yaml (needs Debian's dataset-fashion-mnist, which
// scripts/setup.sh installs).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/run_helpers.hpp"

using aimc_test::cli;
using aimc_test::read_file;
using aimc_test::run_command;
using aimc_test::temp_dir;

namespace {

nlohmann::json run_json(const std::string& args) {
    auto dir = temp_dir("aimc-fmnist");
    const auto out = (dir / "r.json").string();
    auto r = run_command(cli() + " run --chip configs/hermes.yaml " + args + " -q --out " + out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(read_file(out));
}

}  // namespace

TEST_CASE("fmnist: the hardware-aware MLP keeps its accuracy under drift with compensation") {
    // The whole test set, one seed: within 1 point of the float software accuracy after an
    // hour, within 2 after a day, and clearly worse after a day without compensation.
    const auto j = run_json("--workload workloads/fmnist-mlp --mode functional --t-inference 1h,1d");
    const double reference = j["accuracy"]["reference_top1"];
    CHECK(j["accuracy"]["samples"] == 10000);
    CHECK(reference == Approx(0.8882));  // the README's figure for these weights
    const auto& hour = j["accuracy"]["points"][0];
    const auto& day = j["accuracy"]["points"][1];
    CHECK(hour["compensated"]["top1_mean"].get<double>() >= reference - 0.01);
    CHECK(day["compensated"]["top1_mean"].get<double>() >= reference - 0.02);
    CHECK(day["uncompensated"]["top1_mean"].get<double>() < day["compensated"]["top1_mean"].get<double>() - 0.005);
}

TEST_CASE("fmnist: timed and functional logits of the mapped MLP on hermes are identical") {
    auto dir = temp_dir("aimc-fmnist");
    const std::string common =
        " run --chip configs/hermes.yaml --workload workloads/fmnist-mlp --samples 300 --seed 5 --t-inference 1d -q";
    auto a = run_command(cli() + common + " --logits " + (dir / "t.npy").string());
    auto b = run_command(cli() + common + " --mode functional --logits " + (dir / "f.npy").string());
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    const std::string t = read_file(dir / "t.npy");
    REQUIRE(t.size() > 300 * 10 * 8);
    CHECK(t == read_file(dir / "f.npy"));
}

TEST_CASE("fmnist: the CNN is mapped onto 10 hermes cores and reports accuracy and energy") {
    const auto timed = run_json("--workload workloads/fmnist-cnn --samples 40 --t-inference 1h");
    int used = 0;
    for (const auto& c : timed["cores"]) used += c["mvms"].get<int>() > 0;
    CHECK(used == 10);
    // Per sample: 28·28 conv1 positions + 14·14 conv2 positions + 7 fc1 tiles + 1 fc2 tile.
    CHECK(timed["ops"]["mvms"] == 40 * (784 + 196 + 7 + 1));
    CHECK(timed["energy"]["per_sample_pj"].get<double>() > 0);
    CHECK(timed["accuracy"]["top1"].is_number());
    const auto f = run_json("--workload workloads/fmnist-cnn --samples 2000 --mode functional --t-inference 1h "
                            "--compensation on");
    const double reference = f["accuracy"]["reference_top1"];
    CHECK(f["accuracy"]["points"][0]["compensated"]["top1_mean"].get<double>() >= reference - 0.02);
}
