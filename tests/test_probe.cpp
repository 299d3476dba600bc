// `aimcsim probe weights` (sim/probe.cpp): the effective weights of one core after programming,
// drift and read noise, in process (aimc::probe_weights) and through the CLI binary.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "models/core/core_numerics.hpp"
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/npy.hpp"
#include "sim/probe.hpp"
#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aimc;
using aimc_test::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kPcm = "configs/aihwkit-pcm.yaml";
constexpr double kDay = 86400.0;

std::vector<double> uniform(std::size_t n, unsigned seed) {
    std::mt19937_64 gen(seed);
    std::vector<double> v(n);
    for (double& x : v) x = 2.0 * (static_cast<double>(gen() >> 11) / 9007199254740992.0) - 1.0;
    return v;
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// The InputError message of probe_weights, or "" when it does not throw.
std::string probe_error(const std::string& file, const std::string& chip = kPcm) {
    ProbeOptions opt;
    opt.weights_file = file;
    try {
        probe_weights(load_chip_config(chip), opt);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("probe: weights on aihwkit-pcm gives the matrix shape and the drift compensation alpha") {
    TempDir dir("probe");
    const std::size_t rows = 64, cols = 32;
    const std::vector<double> w = uniform(rows * cols, 1);
    const std::string file = dir.file("W.npy");
    write_npy(file, {rows, cols}, w);
    const ChipConfig chip = load_chip_config(kPcm);
    ProbeOptions opt;
    opt.weights_file = file;
    opt.t_inference_s = kDay;
    opt.seed = 3;
    const ProbeWeightsResult r = probe_weights(chip, opt);
    CHECK(r.rows == rows);
    CHECK(r.cols == cols);
    REQUIRE(r.effective.size() == rows * cols);
    CHECK(r.alpha > 1.3);
    // The same core numerics, programmed directly: alpha and read-back agree exactly.
    WeightTile t;
    t.rows = rows;
    t.cols = cols;
    t.w.assign(w.begin(), w.end());
    CoreNumerics n(chip.at("core"), NumericsContext{3, 0, kDay});
    n.program(t);
    CHECK(r.alpha == n.alpha());
    const std::vector<float> raw = n.crossbar().effective_weights(WeightState::AtInference);
    double sq = 0, w_max = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        REQUIRE(r.effective[i] == static_cast<double>(raw[i]) * r.alpha);
        sq += (r.effective[i] - t.w[i]) * (r.effective[i] - t.w[i]);
        w_max = std::max(w_max, std::fabs(static_cast<double>(t.w[i])));
    }
    CHECK(r.rms_error == Approx(std::sqrt(sq / raw.size()) / w_max).epsilon(1e-12));
    // Compensated, the weights come back close to W: the noise left is a few percent of max|W|.
    CHECK(r.rms_error < 0.1);
    // Another seed gives other noise; t = 0 gives alpha about 1.
    opt.seed = 4;
    CHECK(probe_weights(chip, opt).effective != r.effective);
    opt.t_inference_s = 0;
    CHECK(std::fabs(probe_weights(chip, opt).alpha - 1) < 0.01);
}

TEST_CASE("probe: without compensation alpha is 1 and the read-back is left drifted") {
    TempDir dir("probe");
    const std::string file = dir.file("W.npy");
    write_npy(file, {128, 128}, uniform(128 * 128, 2));
    const ChipConfig chip = load_chip_config(kPcm);
    ProbeOptions opt;
    opt.weights_file = file;
    opt.t_inference_s = kDay;
    const ProbeWeightsResult on = probe_weights(chip, opt);
    opt.compensation = false;
    const ProbeWeightsResult off = probe_weights(chip, opt);
    CHECK(off.alpha == 1.0);
    REQUIRE(off.effective.size() == on.effective.size());
    for (std::size_t i = 0; i < on.effective.size(); ++i) REQUIRE(on.effective[i] == off.effective[i] * on.alpha);
    // Drifted weights are about 1/alpha of the targets: the error without compensation is much
    // larger (about (1 − 1/alpha)·rms|W| = 0.19 of max|W| at alpha 1.5).
    CHECK(off.rms_error > 2 * on.rms_error);
    CHECK(off.rms_error > 0.1);
}

TEST_CASE("probe: weight files of the wrong rank or size or with NaN are input errors naming the file") {
    TempDir dir("probe");
    const std::string one = dir.file("one.npy"), three = dir.file("three.npy"), tall = dir.file("tall.npy"),
                      wide = dir.file("wide.npy"), empty = dir.file("empty.npy"), nan = dir.file("nan.npy"),
                      inf = dir.file("inf.npy"), missing = dir.file("missing.npy");
    write_npy(one, {10}, std::vector<double>(10, 0.5));
    write_npy(three, {2, 3, 4}, std::vector<double>(24, 0.5));
    write_npy(tall, {257, 10}, std::vector<double>(2570, 0.5));
    write_npy(wide, {10, 257}, std::vector<double>(2570, 0.5));
    write_npy(empty, {0, 5}, {});
    std::vector<double> v(12, 0.25);
    v[7] = std::numeric_limits<double>::quiet_NaN();
    write_npy(nan, {3, 4}, v);
    v[7] = -std::numeric_limits<double>::infinity();
    write_npy(inf, {3, 4}, v);
    CHECK(probe_error(one) == one + ": expected a 2-D weight matrix (rows, cols), got 1 dimension(s)");
    CHECK(probe_error(three) == three + ": expected a 2-D weight matrix (rows, cols), got 3 dimension(s)");
    CHECK(probe_error(tall) == tall + ": a 257x10 matrix does not fit the 256x256 crossbar of " + kPcm);
    CHECK(probe_error(wide) == wide + ": a 10x257 matrix does not fit the 256x256 crossbar of " + kPcm);
    CHECK(probe_error(empty) == empty + ": a 0x5 matrix does not fit the 256x256 crossbar of " + kPcm);
    CHECK(probe_error(nan) == nan + ": element 7 is NaN (only finite values are accepted)");
    CHECK(probe_error(inf) == inf + ": element 7 is -Inf (only finite values are accepted)");
    CHECK(probe_error(missing) == missing + ": cannot open file (No such file or directory)");
    // The crossbar size is the config's: 256 rows fit aihwkit-pcm, and not tiny (64x64).
    const std::string full = dir.file("full.npy");
    write_npy(full, {256, 8}, std::vector<double>(256 * 8, -0.5));
    CHECK(probe_error(full) == "");
    CHECK(probe_error(full, "configs/tiny.yaml") ==
          full + ": a 256x8 matrix does not fit the 64x64 crossbar of configs/tiny.yaml");
    // probe mvm reads the file the same way.
    ProbeOptions opt;
    opt.weights_file = tall;
    CHECK_THROWS_WITH(probe_mvm(load_chip_config(kPcm), opt),
                      tall + ": a 257x10 matrix does not fit the 256x256 crossbar of " + kPcm);
}

TEST_CASE("probe: the CLI writes the effective weights and exits 0") {
    TempDir dir("probe");
    const std::string w = dir.file("W.npy"), e = dir.file("E.npy");
    const std::vector<double> weights = uniform(48 * 16, 5);
    write_npy(w, {48, 16}, weights);
    auto r = aimc_test::run_command(aimc_test::cli() + " probe weights --chip " + kPcm + " --weights " + quote(w) +
                                    " --t-inference 1d --seed 9 --out " + quote(e));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.output, Contains("probe weights: 48x16 on 'aihwkit-pcm'"));
    CHECK_THAT(r.output, Contains("seed 9: alpha 1."));
    CHECK_THAT(r.output, Contains("written to " + e));
    const NpyArray a = read_npy(e);
    REQUIRE(a.shape == std::vector<std::size_t>{48, 16});
    // The same as in process, bit for bit.
    ProbeOptions opt;
    opt.weights_file = w;
    opt.t_inference_s = kDay;
    opt.seed = 9;
    const ProbeWeightsResult p = probe_weights(load_chip_config(kPcm), opt);
    CHECK(a.data == p.effective);
    // --no-compensation says so.
    auto nc = aimc_test::run_command(aimc_test::cli() + " probe weights --chip " + kPcm + " --weights " + quote(w) +
                                     " --t-inference 1d --no-compensation");
    INFO(nc.output);
    CHECK(nc.exit_code == 0);
    CHECK_THAT(nc.output, Contains("alpha 1.000000 (not applied)"));
}

TEST_CASE("probe: the CLI exits 2 on a negative inference time and 1 on bad inputs") {
    TempDir dir("probe");
    const std::string w = dir.file("W.npy"), v = dir.file("v.npy");
    write_npy(w, {4, 4}, uniform(16, 6));
    write_npy(v, {16}, uniform(16, 6));
    const std::string base = aimc_test::cli() + " probe weights --chip " + kPcm + " --weights ";
    auto neg = aimc_test::run_command(base + quote(w) + " --t-inference \"-1 h\"");
    INFO(neg.output);
    CHECK(neg.exit_code == 2);
    CHECK_THAT(neg.output, Contains("--t-inference:"));
    auto gmin = aimc_test::run_command(base + quote(w) + " --set core.crossbar.g_min=30uS");
    INFO(gmin.output);
    CHECK(gmin.exit_code == 1);
    CHECK_THAT(gmin.output,
               Contains("error: --set core.crossbar.g_min=30uS: core.crossbar.g_min: must be below the device's g_max "
                        "(25 uS)"));
    auto rank = aimc_test::run_command(base + quote(v));
    INFO(rank.output);
    CHECK(rank.exit_code == 1);
    CHECK_THAT(rank.output, Contains("error: " + v + ": expected a 2-D weight matrix (rows, cols), got 1 dimension(s)"));
}
