// End-to-end timed runs: chip + workload -> report (one simulation per test case).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/simulation.hpp"
#include "sim/workload.hpp"
#include "support/run_helpers.hpp"
#include "support/sim_helpers.hpp"

using namespace aimc;
using aimc_test::temp_dir;
using aimc_test::write_file;
using aimc_test::make_workload;
using aimc_test::run;

namespace {

// The run stops with a deadlock naming core 0 waiting at `where` ("trace.txt:4 (recv)") in sample 0.
void check_deadlock(const std::string& workload, const std::string& where, std::vector<std::string> sets = {}) {
    CHECK_THROWS_WITH(run("configs/tiny.yaml", workload, {}, std::move(sets)),
                      Catch::Contains("deadlock") && Catch::Contains("core 0 at ") &&
                          Catch::Contains(where + ", sample 0"));
}

void check_design_keys(const nlohmann::ordered_json& r) {
    for (const char* path : {"/latency/total_ns", "/latency/per_sample_ns", "/throughput/samples_per_s",
                             "/energy/total_pj", "/energy/breakdown_pj/dac", "/energy/breakdown_pj/crossbar",
                             "/energy/breakdown_pj/adc", "/energy/breakdown_pj/nmpu",
                             "/energy/breakdown_pj/interconnect", "/energy/breakdown_pj/memory",
                             "/energy/breakdown_pj/static", "/ops/mvms", "/ops/macs", "/ops/network_macs",
                             "/ops/tops", "/ops/tops_per_w", "/accuracy/top1", "/accuracy/reference_top1",
                             "/accuracy/samples", "/accuracy/t_inference_s", "/sim/wall_s", "/sim/events", "/cores",
                             "/interconnect", "/config", "/seed", "/tool/version"}) {
        INFO(path);
        CHECK(r.contains(nlohmann::ordered_json::json_pointer(path)));
    }
    // The breakdown adds up to the total exactly, summed in the order printed.
    double sum = 0;
    for (const auto& [k, v] : r["energy"]["breakdown_pj"].items()) sum += v.get<double>();
    CHECK(sum == r["energy"]["total_pj"].get<double>());
}

}  // namespace

TEST_CASE("run: one MVM on tiny takes exactly the phase formula") {
    // tiny: 64 rows x 8 bits over a 64-bit bus = 8, 128 ns window, 5 ns conversion, readout 8.
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 2\nprogram matrix=random rows=0:64 cols=0:64 seed=3\n"
        "fill buf=x len=64 value=0.5\nsample\nmvm in=x out=y\n",
        1);
    auto r = run("configs/tiny.yaml", w);
    CHECK(r["latency"]["total_cycles"] == 8 + 128 + 5 + 8);
    CHECK(r["ops"]["mvms"] == 1);
    CHECK(r["ops"]["macs"] == 64 * 64);
    CHECK(r["cores"][2]["mvms"] == 1);
    CHECK(r["cores"][0]["mvms"] == 0);
    check_design_keys(r);
}

TEST_CASE("run: MVM then digital pass, repeated, pipelines at one MVM per analog phase") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:64 cols=0:32 seed=3\n"
        "fill buf=x len=64 seed=9\nsample\nmvm in=x out=y\nnmpu in=y out=z relu\n",
        10);
    auto r = run("configs/tiny.yaml", w);
    // Last MVM done at 149 + 9 * 133 (readout of 32 columns: 4 cycles => 145 for the first);
    const std::uint64_t first_mvm = 8 + 128 + 5 + 4;
    const std::uint64_t last_mvm = first_mvm + 9 * 133;
    // digital: ceil(32/16) * 1 cycle * 2 steps + depth 2
    CHECK(r["latency"]["total_cycles"] == last_mvm + 2 * 2 + 2);
    CHECK(r["latency"]["first_sample_ns"] == Approx(static_cast<double>(first_mvm + 6)));
    CHECK(r["cores"][0]["lane_ops"] == 10 * 32 * 2);
}

TEST_CASE("run: a message takes the mesh's zero-load latency each way") {
    // host at (0,0), core 3 at (1,1): 2 hops. 16 elements x 8 bits = 128 bits = 2 flits of 64.
    auto w = make_workload(
        "aimcsim-trace 1\nstream host\nfill buf=v len=16 value=1\nsample\nsend to=3 buf=v\nrecv from=3 buf=w tag=v\n"
        "stream core 3\nsample\nrecv from=host buf=v\nsend to=host buf=v\n",
        1);
    auto r = run("configs/tiny.yaml", w);
    // ni 2 + 3 routers x (router 2 + link 1) + (2 flits - 1) + ni 2
    const std::uint64_t one_way = 2 + 3 * (2 + 1) + 1 + 2;
    CHECK(r["latency"]["total_cycles"] == 2 * one_way);
    CHECK(r["interconnect"]["messages"] == 2);
    CHECK(r["interconnect"]["flits"] == 4);
    CHECK(r["interconnect"]["link_traversals"] == 2 * 2 * 2);
    CHECK(r["interconnect"]["router_traversals"] == 2 * 2 * 3);
    // 8 router traversals x 1 pJ... per flit: (3 routers x 1 pJ + 2 links x 0.5 pJ) x 4 flits
    CHECK(r["energy"]["breakdown_pj"]["interconnect"].get<double>() == Approx(4 * (3 * 1.0 + 2 * 0.5)));
}

TEST_CASE("run: tiny network on the ideal chip matches the float reference") {
    auto r = run("configs/tiny-ideal.yaml", "workloads/tiny-mlp");
    CHECK(r["accuracy"]["samples"] == 64);
    CHECK(r["accuracy"]["top1"].get<double>() == r["accuracy"]["reference_top1"].get<double>());
    CHECK(r["accuracy"]["reference_agreement"].get<double>() == 1.0);
    CHECK(r["accuracy"]["reference_top1"].get<double>() == Approx(61.0 / 64));
    CHECK(r["ops"]["network_macs"] == 64 * (96 * 48 + 48 * 10));
    CHECK(r["ops"]["macs"] == 64 * (64 * 48 + 32 * 48 + 48 * 10));
    CHECK(r["ops"]["mvms"] == 64 * 3);
    check_design_keys(r);
}

TEST_CASE("run: tiny network on the 8-bit chip keeps its accuracy and pipelines samples") {
    auto r = run("configs/tiny.yaml", "workloads/tiny-mlp");
    const double top1 = r["accuracy"]["top1"].get<double>();
    const double ref = r["accuracy"]["reference_top1"].get<double>();
    CHECK(std::fabs(top1 - ref) <= 2.0 / 64);
    check_design_keys(r);
    // Samples overlap: the whole run is shorter than samples x the latency of one sample.
    CHECK(r["latency"]["total_ns"].get<double>() < 64 * r["latency"]["first_sample_ns"].get<double>() / 2);
    // Host transfers (96 inputs + 10 outputs of one byte at 10 pJ) and core buffers (each MVM reads
    // its rows and writes its columns, one byte each, at 0.05 pJ): 64x48 + 32x48 + 48x10 tiles.
    CHECK(r["energy"]["breakdown_pj"]["memory"].get<double>() ==
          Approx(64 * ((96 + 10) * 10.0 + ((64 + 48) + (32 + 48) + (48 + 10)) * 0.05)));
}

TEST_CASE("run: HERMES peak reaches 63.1 TOPS and 9.76 TOPS/W") {
    auto r = run("configs/hermes.yaml", "workloads/synthetic/peak", RunOptions{std::nullopt, 100, std::nullopt});
    CHECK(r["ops"]["tops"].get<double>() == Approx(63.1).epsilon(0.03));
    CHECK(r["ops"]["tops_per_w"].get<double>() == Approx(9.76).epsilon(0.10));
    CHECK(r["ops"]["mvms"] == 64 * 100);
    // 100 MVMs per core: the first done after 149 cycles, then one every 133, plus the last
    // digital pass (256 columns / 16 lanes + depth 2 = 18).
    CHECK(r["latency"]["total_cycles"] == 149 + 99 * 133 + 18);
    check_design_keys(r);
}

TEST_CASE("run: --seed and --t-inference are recorded in the report") {
    auto r = run("configs/tiny.yaml", "workloads/tiny-mlp", RunOptions{42, 4, 3600.0});
    CHECK(r["seed"] == 42);
    CHECK(r["workload"]["samples"] == 4);
    CHECK(r["accuracy"]["t_inference_s"] == 3600.0);
    CHECK(r["config"]["core"]["adc"]["bits"] == 8);
    CHECK(r["config"]["chip"]["clock"] == "1 GHz");
}

TEST_CASE("run: a malformed trace line stops the run before elaboration") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nsample\nrecv from=1 buf=x\nstream core 1\nsample\nfill_never_sent\n", 1);
    CHECK_THROWS_WITH(run("configs/tiny.yaml", w), Catch::Contains("trace.txt:7: unknown operation 'fill_never_sent'"));
}

TEST_CASE("run: deadlock names the waiting streams and their trace lines") {
    auto w = make_workload("aimcsim-trace 1\nstream core 0\nsample\nrecv from=1 buf=x\n", 2);
    check_deadlock(w, "trace.txt:4 (recv)");
}

TEST_CASE("run: an MVM whose input length differs from the tile is an error at its line") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:32 cols=0:8\nfill buf=x len=20 value=1\n"
        "sample\nmvm in=x out=y\n",
        1);
    CHECK_THROWS_WITH(run("configs/tiny.yaml", w),
                      Catch::Contains("trace.txt:6: mvm: in=x has 20 elements but the programmed tile has 32 rows"));
}

TEST_CASE("run: a tile larger than the crossbar is an error at its line") {
    auto w = make_workload("aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:65 cols=0:8\n", 1);
    CHECK_THROWS_WITH(run("configs/tiny.yaml", w),
                      Catch::Contains("trace.txt:3: program: a 65x8 tile does not fit the 64x64 crossbar"));
}

TEST_CASE("run: a stream for a core the chip does not have is an error") {
    auto w = make_workload("aimcsim-trace 1\nstream core 4\nsample\n", 1);
    CHECK_THROWS_WITH(run("configs/tiny.yaml", w),
                      Catch::Contains("trace.txt:2: core 4 does not exist: the chip has 4 cores (0..3)"));
}

TEST_CASE("run: barriers release all participants at the last arrival") {
    auto w = make_workload(
        "aimcsim-trace 1\n"
        "stream core 0\nprogram matrix=random rows=0:64 cols=0:64\nfill buf=x len=64 value=1\nsample\n"
        "mvm in=x out=y\nsend to=1 buf=y\nbarrier name=b\n"
        "stream core 1\nsample\nrecv from=0 buf=y\nbarrier name=b\n",
        3);
    auto r = run("configs/tiny.yaml", w);
    // Each sample: MVM (149 cycles), then a 512-bit message (8 flits) over one hop; core 0 issues
    // the next sample's MVM only after the barrier, which opens when core 1 has the message.
    const std::uint64_t msg = 2 + 2 * (2 + 1) + 7 + 2;
    CHECK(r["latency"]["total_cycles"] == 3 * (149 + msg));
}

TEST_CASE("run: same inputs and seed give byte-identical reports apart from wall time at 1 and 2 threads") {
    auto out = aimc_test::temp_dir("aimc-det");
    std::string cmd = aimc_test::cli() + " run --chip configs/tiny.yaml --workload workloads/tiny-mlp -q --seed 7 --t-inference 1d --out ";
    auto a = aimc_test::run_command(cmd + (out / "a.json").string() + " --threads 1");
    auto b = aimc_test::run_command(cmd + (out / "b.json").string() + " --threads 2");
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    auto ja = nlohmann::ordered_json::parse(aimc_test::read_file(out / "a.json"));
    auto jb = nlohmann::ordered_json::parse(aimc_test::read_file(out / "b.json"));
    ja["sim"].erase("wall_s");
    jb["sim"].erase("wall_s");
    // The memory estimate counts one batch buffer per thread (docs/report.md).
    ja["sim"].erase("memory_estimate_bytes");
    jb["sim"].erase("memory_estimate_bytes");
    CHECK(ja.dump() == jb.dump());
    CHECK(ja["seed"] == 7);
}

TEST_CASE("run: HERMES four-phase peak reaches 16.1 TOPS and 2.48 TOPS/W") {
    auto r = run("configs/hermes.yaml", "workloads/synthetic/peak", RunOptions{std::nullopt, 50, std::nullopt},
                 {"core.mvm_mode=four-phase"});
    CHECK(r["ops"]["tops"].get<double>() == Approx(16.1).epsilon(0.03));
    CHECK(r["ops"]["tops_per_w"].get<double>() == Approx(2.48).epsilon(0.05));
    // 50 MVMs per core: the first done after 536 cycles, then one every 520, plus the last
    // digital pass (18 cycles).
    CHECK(r["latency"]["total_cycles"] == 536 + 49 * 520 + 18);
    check_design_keys(r);
}

TEST_CASE("run: more unread MVM results than output-buffer slots is a deadlock at the MVM") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:64 cols=0:8\nfill buf=x len=64 value=1\n"
        "sample\nmvm in=x out=a\nmvm in=x out=b\nmvm in=x out=c\nnmpu in=a out=z\n",
        1);
    check_deadlock(w, "trace.txt:8 (mvm)", {"core.output_buffer_vectors=2"});
}

TEST_CASE("run: one output-buffer slot still lets a reader free it for the next MVM") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:64 cols=0:8\nfill buf=x len=64 value=1\n"
        "sample\nmvm in=x out=a\nnmpu in=a out=z\n",
        5);
    auto r = run("configs/tiny.yaml", w, {}, {"core.output_buffer_vectors=1"});
    // 8 columns: readout 1 cycle; MVMs one every 133 cycles, the digital pass (1 cycle + depth 2) after each.
    CHECK(r["latency"]["total_cycles"] == (8 + 128 + 5 + 1) + 4 * 133 + 3);
    CHECK(r["cores"][0]["output_stall_cycles"] == 0);
}

TEST_CASE("run: weight programming is reported apart from inference") {
    auto r = run("configs/tiny.yaml", "workloads/tiny-mlp", RunOptions{std::nullopt, 2, std::nullopt});
    // Tiles 64x48, 32x48 and 48x10; 2 devices per polarity, both polarities: 4 devices per cell.
    const std::uint64_t devices = 4 * (64 * 48 + 32 * 48 + 48 * 10);
    CHECK(r["programming"]["devices"] == devices);
    // Rows programmed in turn on each core, cores in parallel: the 64-row tile sets the time.
    CHECK(r["programming"]["time_ns"].get<double>() == Approx(64 * 10 * 1000.0));
    CHECK(r["programming"]["energy_pj"].get<double>() == Approx(devices * 10 * 10.0));
}

TEST_CASE("run: a send to the core count is an error not the host") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nfill buf=x len=4 value=1\nsample\nsend to=4 buf=x\n"
        "stream host\nsample\nrecv from=0 buf=x\n",
        1);
    CHECK_THROWS_WITH(run("configs/tiny.yaml", w), Catch::Contains("trace.txt:5: send: core 4 does not exist"));
}

TEST_CASE("run: an MVM that overwrites the only held result frees its slot itself") {
    auto w = make_workload(
        "aimcsim-trace 1\nstream core 0\nprogram matrix=random rows=0:8 cols=0:8\nfill buf=x len=8 value=1\n"
        "sample\nmvm in=x out=y\nmvm in=x out=y\nmvm in=y out=z\nnmpu in=z out=w\n",
        2);
    // Would deadlock if the full-buffer check ignored that the MVM reads or overwrites the held result.
    auto r = run("configs/tiny.yaml", w, {}, {"core.output_buffer_vectors=1"});
    CHECK(r["ops"]["mvms"] == 6);
}

TEST_CASE("run: a failed run leaves an earlier report in place") {
    auto dir = aimc_test::temp_dir("aimc-keep");
    aimc_test::write_file(dir / "r.json", "{\"earlier\": true}\n");
    aimc_test::write_file(dir / "workload.yaml", "name: x\ntrace: t.txt\n");
    aimc_test::write_file(dir / "t.txt", "aimcsim-trace 1\nstream core 0\nsample\nrecv from=1 buf=x\n");
    auto res = aimc_test::run_command(aimc_test::cli() + " run --chip configs/tiny.yaml --workload " + dir.string() +
                                      " -q --out " + (dir / "r.json").string());
    CHECK(res.exit_code == 1);
    CHECK(aimc_test::read_file(dir / "r.json") == "{\"earlier\": true}\n");
    CHECK_FALSE(std::filesystem::exists(dir / "r.json.partial"));
}
