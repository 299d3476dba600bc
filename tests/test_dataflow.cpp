// The dataflow: the values of a run, in batches, without timing; and the functional mode.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "sim/config.hpp"
#include "sim/dataflow.hpp"
#include "sim/errors.hpp"
#include "sim/npy.hpp"
#include "sim/workload.hpp"
#include "support/run_helpers.hpp"

using namespace aimc;
using aimc_test::cli;
using aimc_test::read_file;
using aimc_test::run_command;
using aimc_test::temp_dir;
using aimc_test::write_file;

namespace {

// The programmed numerics of every core a workload's trace uses, at t_inference = t.
struct ProgrammedChip {
    ChipConfig cfg;
    Workload w;
    FileTable files;
    std::vector<std::unique_ptr<CoreNumerics>> cores;
    std::vector<const CoreNumerics*> view;

    ProgrammedChip(const std::string& chip, const std::string& workload, std::uint64_t seed, double t)
        : cfg(load_chip_config(chip)), w(load_workload(workload, cfg)), files(load_trace_files(w.trace, w)) {
        const int n = static_cast<int>(cfg.at("chip").integer("grid_cols") * cfg.at("chip").integer("grid_rows"));
        for (int c = 0; c < n; ++c) {
            cores.push_back(std::make_unique<CoreNumerics>(cfg.at("core"), NumericsContext{seed, c, t}));
            view.push_back(cores.back().get());
        }
        program_cores(w.trace, files, seed, n, 2, [&](int c) -> CoreNumerics& { return *cores[static_cast<std::size_t>(c)]; });
    }
    Dataflow dataflow(std::uint64_t seed) const { return Dataflow(w.trace, w, files, view, seed); }
};

// A workload folder with a trace and an (N, features) input set.
std::string workload_with_inputs(const std::string& trace, const std::vector<std::size_t>& shape,
                                 const std::vector<double>& inputs) {
    auto dir = temp_dir("aimc-dataflow");
    write_file(dir / "trace.txt", trace);
    write_npy((dir / "inputs.npy").string(), shape, inputs);
    write_npy((dir / "labels.npy").string(), {shape[0]}, std::vector<double>(shape[0], 0.0));
    write_file(dir / "workload.yaml", "name: t\ntrace: trace.txt\nsamples: " + std::to_string(shape[0]) +
                                          "\ndata:\n  inputs: inputs.npy\n  labels: labels.npy\n");
    return dir.string();
}

}  // namespace

TEST_CASE("dataflow: a sample gives the same bits alone or in any batch") {
    // tiny: PCM noise, 8-bit converters; noise keyed by (seed, core, MVM event), not by batch.
    const ProgrammedChip chip("configs/tiny.yaml", "workloads/tiny-mlp", 7, 86400.0);
    const Dataflow d = chip.dataflow(7);
    const auto whole = d.run(0, 64);
    REQUIRE(whole.size() == 64);
    for (std::size_t k = 0; k < 64; ++k) {
        const auto alone = d.run(k, 1);
        REQUIRE(alone[0].size() == 10);
        CHECK(alone[0] == whole[k]);
    }
    const auto middle = d.run(5, 7);
    for (std::size_t k = 0; k < 7; ++k) CHECK(middle[k] == whole[5 + k]);
    // Threads and batching do not change anything either.
    CHECK(d.run_all(64, 1) == whole);
    CHECK(d.run_all(64, 3) == whole);
    // A different seed does: the noise is real.
    const ProgrammedChip other("configs/tiny.yaml", "workloads/tiny-mlp", 8, 86400.0);
    CHECK(other.dataflow(8).run(0, 64) != whole);
}

TEST_CASE("dataflow: convolution patches with split rows and 2-D max pooling equal a direct convolution") {
    // A 6x6x2 map, 3x3 kernel, stride 1, padding 1, 3 output channels; the 18 patch rows split
    // over cores 0 (rows 0:10) and 1 (rows 10:18), core 1's partial sums added on core 0, then
    // a per-channel bias, relu and 2x2 max pooling: output 3x3x3.
    const std::size_t H = 6, W = 6, C = 2, K = 3, CO = 3, N = 4;
    std::vector<double> w(K * K * C * CO), x(N * H * W * C);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.7 * static_cast<double>(i) + 0.3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(1.3 * static_cast<double>(i));
    const std::string trace = R"(aimcsim-trace 1
stream host feed
sample
input buf=x
send to=0 buf=x
send to=1 buf=x
stream host collect
sample
recv from=0 buf=y
output buf=y
stream core 0
program matrix=w.npy rows=0:10
sample
recv from=host buf=x
mvm in=x out=a patches=6,6,2,3,3,1,1 patch_rows=0:10
recv from=1 buf=p
nmpu in=a add=p out=y bias=b.npy relu pool=max:2 map=6,6,3
send to=host buf=y
stream core 1
program matrix=w.npy rows=10:18
sample
recv from=host buf=x
mvm in=x out=p patches=6,6,2,3,3,1,1 patch_rows=10:18
send to=0 buf=p
)";
    const std::string dir = workload_with_inputs(trace, {N, H * W * C}, x);
    write_npy(dir + "/w.npy", {K * K * C, CO}, w);
    const std::vector<double> bias = {0.25, -0.5, 0.125};  // one per channel, repeated over positions
    write_npy(dir + "/b.npy", {CO}, bias);
    const ProgrammedChip chip("configs/tiny-ideal.yaml", dir, 1, 0.0);
    const auto out = chip.dataflow(1).run(0, N);
    for (std::size_t n = 0; n < N; ++n) {
        REQUIRE(out[n].size() == 3 * 3 * CO);
        for (std::size_t oy = 0; oy < 3; ++oy)
            for (std::size_t ox = 0; ox < 3; ++ox)
                for (std::size_t co = 0; co < CO; ++co) {
                    double best = -1e30;
                    for (std::size_t py = 0; py < 2; ++py)
                        for (std::size_t px = 0; px < 2; ++px) {
                            const long y0 = static_cast<long>(oy * 2 + py), x0 = static_cast<long>(ox * 2 + px);
                            double acc = 0;
                            for (long ky = 0; ky < 3; ++ky)
                                for (long kx = 0; kx < 3; ++kx)
                                    for (std::size_t c = 0; c < C; ++c) {
                                        const long iy = y0 + ky - 1, ix = x0 + kx - 1;
                                        if (iy < 0 || ix < 0 || iy >= 6 || ix >= 6) continue;
                                        acc += x[n * H * W * C + (static_cast<std::size_t>(iy) * W + static_cast<std::size_t>(ix)) * C + c] *
                                               w[((static_cast<std::size_t>(ky) * K + static_cast<std::size_t>(kx)) * C + c) * CO + co];
                                    }
                            best = std::max(best, std::max(acc + bias[co], 0.0));
                        }
                    CHECK(out[n][(oy * 3 + ox) * CO + co] == Approx(best).margin(1e-5));
                }
    }
}

TEST_CASE("dataflow: concat joins buffers in the order given") {
    const std::string dir = workload_with_inputs(
        "aimcsim-trace 1\nstream host\nsample\ninput buf=a cols=0:3\ninput buf=b cols=3:5\nconcat in=b,a,b out=c\n"
        "output buf=c\n",
        {2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    const ProgrammedChip chip("configs/tiny.yaml", dir, 1, 0.0);
    const auto out = chip.dataflow(1).run(0, 2);
    CHECK(out[0] == std::vector<float>{4, 5, 1, 2, 3, 4, 5});
    CHECK(out[1] == std::vector<float>{9, 10, 6, 7, 8, 9, 10});
}

TEST_CASE("dataflow: a tile that does not match its patches is an error naming the line") {
    const std::string dir = workload_with_inputs(
        "aimcsim-trace 1\nstream host\nsample\ninput buf=x\nsend to=0 buf=x\nstream core 0\nprogram matrix=w.npy\n"
        "sample\nrecv from=host buf=x\nmvm in=x out=y patches=4,4,1,3,3,1,0 patch_rows=0:8\n",
        {1, 16}, std::vector<double>(16, 0.5));
    write_npy(dir + "/w.npy", {9, 2}, std::vector<double>(18, 0.1));
    const ProgrammedChip chip("configs/tiny.yaml", dir, 1, 0.0);
    CHECK_THROWS_WITH(chip.dataflow(1).run(0, 1),
                      Catch::EndsWith("trace.txt:10: mvm: the patch rows 0:8 are 8 but the programmed tile has 9 rows"));
}

TEST_CASE("functional: timed and functional modes give bit-identical logits for the same seed") {
    auto dir = temp_dir("aimc-logits");
    const std::string common = " --chip configs/tiny.yaml --workload workloads/tiny-mlp --seed 11 --t-inference 1d";
    auto timed = run_command(cli() + " run" + common + " -q --logits " + (dir / "timed.npy").string());
    REQUIRE(timed.exit_code == 0);
    auto functional = run_command(cli() + " run" + common + " -q --mode functional --logits " + (dir / "f.npy").string());
    REQUIRE(functional.exit_code == 0);
    const std::string a = read_file(dir / "timed.npy"), b = read_file(dir / "f.npy");
    REQUIRE(a.size() > 64 * 10 * 8);
    CHECK(a == b);
    // And a different seed gives different logits.
    auto other = run_command(cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp --seed 12 "
                                     "--t-inference 1d -q --mode functional --logits " + (dir / "g.npy").string());
    REQUIRE(other.exit_code == 0);
    CHECK(read_file(dir / "g.npy") != b);
}

TEST_CASE("functional: the report has mean and std over seeds at every drift time") {
    auto dir = temp_dir("aimc-functional");
    auto r = run_command(cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp --mode functional "
                                 "--t-inference 0,1h,1y --seeds 3 --out " + (dir / "r.json").string());
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("seeds 1..3") && Catch::Contains("1y"));
    const auto j = nlohmann::json::parse(read_file(dir / "r.json"));
    CHECK(j["mode"] == "functional");
    CHECK(j["seeds"] == 3);
    const auto& points = j["accuracy"]["points"];
    REQUIRE(points.size() == 3);
    CHECK(points[2]["t_inference"] == "1y");
    CHECK(points[2]["t_inference_s"].get<double>() == Approx(365.25 * 86400).epsilon(0.01));
    for (const auto& p : points)
        for (const char* c : {"compensated", "uncompensated"}) {
            const auto v = p[c]["top1_per_seed"].get<std::vector<double>>();
            REQUIRE(v.size() == 3);
            const double mean = (v[0] + v[1] + v[2]) / 3;
            double ss = 0;
            for (double x : v) ss += (x - mean) * (x - mean);
            CHECK(p[c]["top1_mean"].get<double>() == Approx(mean));
            CHECK(p[c]["top1_std"].get<double>() == Approx(std::sqrt(ss / 2)).margin(1e-12));
            for (double x : v) CHECK((x * 64 == std::round(x * 64)));  // counts out of 64 samples
        }
}

TEST_CASE("functional: without drift compensation and drift, both columns are equal") {
    // The ideal device does not drift: alpha is exactly 1, so switching compensation changes nothing.
    auto dir = temp_dir("aimc-functional");
    auto r = run_command(cli() + " run --chip configs/tiny-ideal.yaml --workload workloads/tiny-mlp --mode functional "
                                 "--t-inference 0,1y --out " + (dir / "r.json").string() + " -q");
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(read_file(dir / "r.json"));
    for (const auto& p : j["accuracy"]["points"])
        CHECK(p["compensated"]["top1_mean"] == p["uncompensated"]["top1_mean"]);
}

TEST_CASE("functional: command-line errors") {
    const std::string base = cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp";
    auto r = run_command(base + " --t-inference 1h,1d");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("--t-inference: a list of times needs --mode functional"));
    r = run_command(base + " --seeds 3");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("--seeds needs --mode functional"));
    r = run_command(base + " --mode fast");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("--mode: expected timed or functional, got 'fast'"));
    r = run_command(base + " --mode functional --t-inference 1h,,1d");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("--t-inference: empty time in the list '1h,,1d'"));
    r = run_command(base + " --mode functional --t-inference 1h,2parsecs");
    CHECK(r.exit_code == 2);
    r = run_command(cli() + " run --chip configs/hermes.yaml --workload workloads/synthetic/uniform-random --mode functional");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("a traffic workload has no values"));
}

TEST_CASE("timeline: one event per MVM digital operation message and transfer with simulated times") {
    auto dir = temp_dir("aimc-timeline");
    auto r = run_command(cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp --samples 3 -q --timeline " +
                         (dir / "t.json").string());
    REQUIRE(r.exit_code == 0);
    const auto t = nlohmann::json::parse(read_file(dir / "t.json"));
    std::map<std::string, int> count;
    std::map<int, std::string> process;
    for (const auto& e : t["traceEvents"]) {
        if (e["ph"] == "M" && e["name"] == "process_name") process[e["pid"].get<int>()] = e["args"]["name"];
        if (e["ph"] != "X") continue;
        const std::string name = e["name"];
        ++count[name.substr(0, name.find(' '))];
        if (name == "mvm") {
            // tiny at 1 GHz, 64-bit buses, 8-bit words: load rows/8 + window 128 + conversion 5 +
            // readout ceil(cols/8) cycles: core 0 (64x48) 147, core 1 (32x48) 143, core 3 (48x10) 141.
            const std::map<int, double> latency_us = {{0, 0.147}, {1, 0.143}, {3, 0.141}};
            CHECK(e["dur"].get<double>() == Approx(latency_us.at(e["pid"].get<int>())).margin(1e-9));
            CHECK(e["tid"] == 0);
        }
        CHECK(e["args"]["sample"].get<int>() < 3);
    }
    CHECK(process[0] == "core 0");
    CHECK(process[4] == "host port");
    // tiny-mlp per sample: 3 MVMs (cores 0, 1, 3), 2 digital passes (cores 0, 3), 2 inputs and 1
    // output on the host, 4 core receives + 1 host receive.
    CHECK(count["mvm"] == 3 * 3);
    CHECK(count["nmpu"] == 3 * 2);
    CHECK(count["input"] == 3 * 2);
    CHECK(count["output"] == 3);
    CHECK(count["from"] == 3 * 5);
    r = run_command(cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp --mode functional --timeline x.json");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("--timeline: the functional mode has no timing"));
}
