// Tests for the mapper (sim/mapper.*): tiles and core assignment of the 784-256-256-10 MLP on
// HERMES with its whole trace, the serpentine walk, networks too big for the chip, the trace of a
// convolutional network (patches=, patch_rows=, pool= map=), concatenation of column blocks,
// residual adds, a network mapped at load time and run on the ideal chip (with its derived files
// kept in memory), and `aimcsim map`.
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/mapper.hpp"
#include "sim/network.hpp"
#include "sim/npy.hpp"
#include "sim/simulation.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using aimc::Mapping;
using aimc::Workload;
using aimc_test::TempDir;

namespace {

const std::string kRoot = AIMC_SOURCE_DIR;

aimc::ChipConfig chip(const std::string& name, std::vector<std::string> sets = {}) {
    return aimc::load_chip_config(kRoot + "/configs/" + name + ".yaml", std::move(sets));
}

std::vector<double> random_values(std::size_t n, unsigned seed, double scale = 0.1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-scale, scale);
    std::vector<double> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

// A dense layer's weight and bias files: NAME_w.npy (in, out), NAME_b.npy (out,).
void dense_files(const TempDir& d, const std::string& name, std::size_t in, std::size_t out, unsigned seed) {
    aimc::write_npy(d.file(name + "_w.npy"), {in, out}, random_values(in * out, seed));
    aimc::write_npy(d.file(name + "_b.npy"), {out}, random_values(out, seed + 100));
}

// Data of `n` random samples with `features` features and labels 0..classes-1.
void data_files(const TempDir& d, std::size_t n, std::size_t features, std::size_t classes) {
    aimc::write_npy(d.file("in.npy"), {n, features}, random_values(n * features, 99, 1.0));
    std::vector<double> lab(n);
    for (std::size_t i = 0; i < n; ++i) lab[i] = static_cast<double>(i % classes);
    aimc::write_npy(d.file("lab.npy"), {n}, lab);
}

// workload.yaml with the network `layers`; `head` goes after the name (e.g. "generator: peak\n").
std::string workload_yaml(const std::string& head, const std::string& input_shape, const std::vector<std::string>& layers) {
    std::string y = "name: m\n" + head + "data: {inputs: in.npy, labels: lab.npy}\ninput_shape: " + input_shape + "\nnetwork:\n";
    for (const auto& l : layers) y += "  - " + l + "\n";
    return y;
}

std::string dense(const std::string& name, const std::string& extra = "") {
    return "{name: " + name + ", type: dense, weight: " + name + "_w.npy, bias: " + name + "_b.npy" + extra + "}";
}

// The MLP fixture: 784-256-256-10 with ReLU, mapped by hand-checkable rules.
void write_mlp(const TempDir& d, const std::string& head) {
    data_files(d, 2, 784, 10);
    dense_files(d, "fc1", 784, 256, 1);
    dense_files(d, "fc2", 256, 256, 2);
    dense_files(d, "fc3", 256, 10, 3);
    d.write("workload.yaml", workload_yaml(head, "[28, 28, 1]",
                                           {"{type: flatten}", dense("fc1"), "{type: relu}", dense("fc2", ", activation: relu"),
                                            dense("fc3"), "{type: argmax}"}));
}

// The lines of a trace's stream `header` ("stream core 4") up to the next blank line.
std::string stream_text(const std::string& trace, const std::string& header) {
    const auto at = trace.find(header + "\n");
    if (at == std::string::npos) return "(no " + header + ")";
    const auto end = trace.find("\n\n", at);
    return trace.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at);
}

}  // namespace

TEST_CASE("mapper: the serpentine walk") {
    const std::vector<std::pair<int, int>> want = {{0, 0}, {1, 0}, {2, 0}, {2, 1}, {1, 1}, {0, 1}, {0, 2}, {1, 2}};
    for (int step = 0; step < 8; ++step) {
        int x = -1, y = -1;
        aimc::serpentine_position(step, 3, x, y);
        INFO("step " << step);
        CHECK(std::make_pair(x, y) == want[static_cast<std::size_t>(step)]);
    }
}

TEST_CASE("mapper: the 784-256-256-10 MLP on hermes") {
    TempDir d("map");
    write_mlp(d, "generator: peak\n");
    const aimc::ChipConfig hermes = chip("hermes");
    Workload w = aimc::load_workload(d.path.string(), hermes);
    const Mapping m = aimc::map_network(w.network, hermes);
    CHECK(m.chip == "hermes");
    CHECK(m.grid_cols == 8);
    CHECK(m.crossbar_rows == 256);
    REQUIRE(m.layers.size() == 3);
    CHECK(m.cores_used == 6);
    CHECK(m.cores_available == 64);
    CHECK(m.macs_per_sample == 784 * 256 + 256 * 256 + 256 * 10);
    CHECK(m.files.empty());  // dense weights without batchnorm: the workload's own files

    const auto& fc1 = m.layers[0];
    CHECK(fc1.name == "fc1");
    CHECK(fc1.layer_index == 1);
    CHECK(fc1.row_blocks == 4);
    CHECK(fc1.col_blocks == 1);
    REQUIRE(fc1.tiles.size() == 4);
    const std::vector<std::size_t> begins = {0, 256, 512, 768}, ends = {256, 512, 768, 784};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto& t = fc1.tiles[i];
        INFO("fc1 tile " << i);
        CHECK(t.row_block == i);
        CHECK(t.col_block == 0);
        CHECK(t.row_begin == begins[i]);
        CHECK(t.row_end == ends[i]);
        CHECK(t.col_begin == 0);
        CHECK(t.col_end == 256);
        CHECK(t.core == static_cast<int>(i));
        CHECK(t.x == static_cast<int>(i));
        CHECK(t.y == 0);
        CHECK(t.reduces == (i == 0));
        CHECK(t.utilisation == (i < 3 ? 1.0 : 16.0 / 256));
    }
    REQUIRE(m.layers[1].tiles.size() == 1);
    CHECK(m.layers[1].tiles[0].core == 4);
    CHECK(m.layers[1].tiles[0].utilisation == 1.0);
    REQUIRE(m.layers[2].tiles.size() == 1);
    CHECK(m.layers[2].tiles[0].core == 5);
    CHECK(m.layers[2].tiles[0].x == 5);
    CHECK(m.layers[2].tiles[0].utilisation == 10.0 / 256);
    CHECK(m.mean_utilisation == Approx((3 + 16.0 / 256 + 1 + 10.0 / 256) / 6));

    const std::string want =
        "# Generated by the aimcsim mapper (docs/mapping.md) for chip 'hermes' (8x8 cores, 256x256 crossbars) from " +
        d.file("workload.yaml") +
        ".\n"
        "# 6 of 64 cores; tiles (layer, row block, column block: rows, cols -> core (x, y)):\n"
        "#   fc1 r0c0: rows 0:256, cols 0:256 -> core 0 (0, 0), reduces\n"
        "#   fc1 r1c0: rows 256:512, cols 0:256 -> core 1 (1, 0)\n"
        "#   fc1 r2c0: rows 512:768, cols 0:256 -> core 2 (2, 0)\n"
        "#   fc1 r3c0: rows 768:784, cols 0:256 -> core 3 (3, 0)\n"
        "#   fc2 r0c0: rows 0:256, cols 0:256 -> core 4 (4, 0)\n"
        "#   fc3 r0c0: rows 0:256, cols 0:10 -> core 5 (5, 0)\n"
        "aimcsim-trace 1\n"
        "\n"
        "stream host feed\nsample\n"
        "input buf=x0 cols=0:256\ninput buf=x1 cols=256:512\ninput buf=x2 cols=512:768\ninput buf=x3 cols=768:784\n"
        "send to=0 buf=x0\nsend to=1 buf=x1\nsend to=2 buf=x2\nsend to=3 buf=x3\n"
        "\n"
        "stream host collect\nsample\nrecv from=5 buf=fc3.y0\noutput buf=fc3.y0\n"
        "\n"
        "# fc1 r0c0\nstream core 0\nprogram matrix=fc1_w.npy rows=0:256 cols=0:256\nsample\n"
        "recv from=host buf=x0\nmvm in=x0 out=acc\n"
        "recv from=1 buf=fc1.p1\nnmpu in=acc add=fc1.p1 out=fc1.s1\n"
        "recv from=2 buf=fc1.p2\nnmpu in=fc1.s1 add=fc1.p2 out=fc1.s2\n"
        "recv from=3 buf=fc1.p3\nnmpu in=fc1.s2 add=fc1.p3 out=fc1.y0 bias=fc1_b.npy cols=0:256 relu\n"
        "send to=4 buf=fc1.y0\n"
        "\n"
        "# fc1 r1c0\nstream core 1\nprogram matrix=fc1_w.npy rows=256:512 cols=0:256\nsample\n"
        "recv from=host buf=x1\nmvm in=x1 out=fc1.p1\nsend to=0 buf=fc1.p1\n"
        "\n"
        "# fc1 r2c0\nstream core 2\nprogram matrix=fc1_w.npy rows=512:768 cols=0:256\nsample\n"
        "recv from=host buf=x2\nmvm in=x2 out=fc1.p2\nsend to=0 buf=fc1.p2\n"
        "\n"
        "# fc1 r3c0\nstream core 3\nprogram matrix=fc1_w.npy rows=768:784 cols=0:256\nsample\n"
        "recv from=host buf=x3\nmvm in=x3 out=fc1.p3\nsend to=0 buf=fc1.p3\n"
        "\n"
        "# fc2 r0c0\nstream core 4\nprogram matrix=fc2_w.npy rows=0:256 cols=0:256\nsample\n"
        "recv from=0 buf=fc1.y0\nmvm in=fc1.y0 out=acc\nnmpu in=acc out=fc2.y0 bias=fc2_b.npy cols=0:256 relu\n"
        "send to=5 buf=fc2.y0\n"
        "\n"
        "# fc3 r0c0\nstream core 5\nprogram matrix=fc3_w.npy rows=0:256 cols=0:10\nsample\n"
        "recv from=4 buf=fc2.y0\nmvm in=fc2.y0 out=acc\nnmpu in=acc out=fc3.y0 bias=fc3_b.npy cols=0:10\n"
        "send to=host buf=fc3.y0\n";
    CHECK(m.trace_text == want);
}

TEST_CASE("mapper: a workload with a network and no trace is mapped at load") {
    TempDir d("map");
    write_mlp(d, "");
    Workload w = aimc::load_workload(d.path.string(), chip("hermes"));
    CHECK(w.trace.file == "(mapped trace of m for hermes)");
    CHECK(w.trace.streams.size() == 8);  // feed, collect and 6 cores
    CHECK(w.trace.streams[2].endpoint == 0);
    CHECK(w.trace.streams[2].setup[0].file == d.file("fc1_w.npy"));
    CHECK(w.generated_trace == aimc::map_network(w.network, chip("hermes")).trace_text);
    CHECK(w.generated_files.empty());
    // Not mapped when asked not to: no streams.
    Workload u = aimc::load_workload(d.path.string(), chip("hermes"), {}, false);
    CHECK(u.trace.streams.empty());
    CHECK(u.generated_trace.empty());
}

TEST_CASE("mapper: a network too big for the chip") {
    TempDir d("map");
    data_files(d, 2, 96, 10);
    dense_files(d, "fc1", 96, 48, 1);
    dense_files(d, "fc2", 48, 100, 2);
    dense_files(d, "fc3", 100, 10, 3);
    d.write("workload.yaml", workload_yaml("", "[96]", {dense("fc1"), dense("fc2"), dense("fc3")}));
    const std::string want = d.file("workload.yaml") +
                             ": network needs 6 cores (fc1: 2x1 tiles, fc2: 1x2 tiles, fc3: 2x1 tiles), chip 'tiny' has 4";
    CHECK_THROWS_WITH(aimc::load_workload(d.path.string(), chip("tiny")), want);
    auto r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml --workload '" + d.path.string() + "'");
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: " + want + "\n");
    // Six cores are enough.
    Workload w = aimc::load_workload(d.path.string(), chip("tiny", {"chip.grid_cols=3"}));
    CHECK(w.trace.streams.size() == 8);
}

TEST_CASE("mapper: a convolutional network's trace") {
    TempDir d("map");
    data_files(d, 2, 784, 10);
    aimc::write_npy(d.file("c1_w.npy"), {3, 3, 1, 64}, random_values(576, 1));
    aimc::write_npy(d.file("c1_b.npy"), {64}, random_values(64, 2));
    aimc::write_npy(d.file("c2_w.npy"), {3, 3, 64, 32}, random_values(18432, 3));
    aimc::write_npy(d.file("c2_b.npy"), {32}, random_values(32, 4));
    dense_files(d, "fc1", 1568, 300, 5);
    dense_files(d, "fc2", 300, 10, 6);
    d.write("workload.yaml",
            workload_yaml("generator: peak\n", "[28, 28, 1]",
                          {"{name: c1, type: conv2d, weight: c1_w.npy, bias: c1_b.npy, padding: 1, activation: relu}",
                           "{type: maxpool, kernel: 2}",
                           "{name: c2, type: conv2d, weight: c2_w.npy, bias: c2_b.npy, padding: 1, activation: relu}",
                           "{type: maxpool, kernel: 2}", "{type: flatten}", dense("fc1", ", activation: relu"), dense("fc2")}));
    const aimc::ChipConfig hermes = chip("hermes");
    Workload w = aimc::load_workload(d.path.string(), hermes);
    const Mapping m = aimc::map_network(w.network, hermes);
    REQUIRE(m.layers.size() == 4);
    CHECK(m.layers[0].rows == 9);
    CHECK(m.layers[1].row_blocks == 3);  // 3·3·64 = 576 rows
    CHECK(m.layers[2].row_blocks == 7);  // 7·7·32 = 1568 rows
    CHECK(m.layers[2].col_blocks == 2);  // 300 columns
    CHECK(m.cores_used == 1 + 3 + 14 + 2);
    CHECK(m.macs_per_sample == 28 * 28 * 9 * 64 + 14 * 14 * 576 * 32 + 1568 * 300 + 300 * 10);
    // Conv weights as 2-D (KH·KW·Cin, Cout) copies, in memory.
    REQUIRE(m.files.size() == 2);
    CHECK(m.files.at("c1.w2d.npy").shape == std::vector<std::size_t>{9, 64});
    CHECK(m.files.at("c1.w2d.npy").data == w.network[0].weight.data);
    CHECK(m.files.at("c2.w2d.npy").shape == std::vector<std::size_t>{576, 32});

    const std::string& t = m.trace_text;
    CHECK(stream_text(t, "stream host feed") == "stream host feed\nsample\ninput buf=x\nsend to=0 buf=x\n");
    CHECK(stream_text(t, "stream core 0") ==
          "stream core 0\nprogram matrix=c1.w2d.npy rows=0:9 cols=0:64\nsample\nrecv from=host buf=x\n"
          "mvm in=x out=acc patches=28,28,1,3,3,1,1\n"
          "nmpu in=acc out=c1.y0 bias=c1_b.npy cols=0:64 relu pool=max:2 map=28,28,64\n"
          "send to=1 buf=c1.y0\nsend to=2 buf=c1.y0\nsend to=3 buf=c1.y0\n");
    CHECK(stream_text(t, "stream core 1") ==
          "stream core 1\nprogram matrix=c2.w2d.npy rows=0:256 cols=0:32\nsample\nrecv from=0 buf=c1.y0\n"
          "mvm in=c1.y0 out=acc patches=14,14,64,3,3,1,1 patch_rows=0:256\n"
          "recv from=2 buf=c2.p1\nnmpu in=acc add=c2.p1 out=c2.s1\n"
          "recv from=3 buf=c2.p2\nnmpu in=c2.s1 add=c2.p2 out=c2.y0 bias=c2_b.npy cols=0:32 relu pool=max:2 map=14,14,32\n"
          "send to=4 buf=c2.y0\nsend to=5 buf=c2.y0\nsend to=6 buf=c2.y0\nsend to=7 buf=c2.y0\nsend to=15 buf=c2.y0\n"
          "send to=14 buf=c2.y0\nsend to=13 buf=c2.y0\nsend to=12 buf=c2.y0\nsend to=11 buf=c2.y0\nsend to=10 buf=c2.y0\n"
          "send to=9 buf=c2.y0\nsend to=8 buf=c2.y0\nsend to=16 buf=c2.y0\nsend to=17 buf=c2.y0\n");
    CHECK(stream_text(t, "stream core 3") ==
          "stream core 3\nprogram matrix=c2.w2d.npy rows=512:576 cols=0:32\nsample\nrecv from=0 buf=c1.y0\n"
          "mvm in=c1.y0 out=c2.p2 patches=14,14,64,3,3,1,1 patch_rows=512:576\nsend to=1 buf=c2.p2\n");
    // fc1 takes the flattened 7x7x32 map whole and picks its rows (a 1x1 "convolution").
    CHECK(stream_text(t, "stream core 13") ==
          "stream core 13\nprogram matrix=fc1_w.npy rows=1536:1568 cols=0:256\nsample\nrecv from=1 buf=c2.y0\n"
          "mvm in=c2.y0 out=fc1.p6 patches=1,1,1568,1,1,1,0 patch_rows=1536:1568\nsend to=4 buf=fc1.p6\n");
    // fc2 concatenates fc1's two column blocks: rows 0:256 and 256:300.
    CHECK(stream_text(t, "stream core 18") ==
          "stream core 18\nprogram matrix=fc2_w.npy rows=0:256 cols=0:10\nsample\nrecv from=4 buf=fc1.y0\n"
          "mvm in=fc1.y0 out=acc\nrecv from=19 buf=fc2.p1\nnmpu in=acc add=fc2.p1 out=fc2.y0 bias=fc2_b.npy cols=0:10\n"
          "send to=host buf=fc2.y0\n");
    CHECK(stream_text(t, "stream core 19") ==
          "stream core 19\nprogram matrix=fc2_w.npy rows=256:300 cols=0:10\nsample\nrecv from=12 buf=fc1.y1\n"
          "mvm in=fc1.y1 out=fc2.p1\nsend to=18 buf=fc2.p1\n");
}

TEST_CASE("mapper: column blocks that do not align with the next layer's rows are concatenated") {
    // 48x32 crossbars on a 4x2 grid: fc1 (96 -> 80) is 2x3 tiles with column blocks 0:32, 32:64,
    // 64:80; fc2 (80 -> 10) has row blocks 0:48 and 48:80, each spanning two of them.
    TempDir d("map");
    data_files(d, 2, 96, 10);
    dense_files(d, "fc1", 96, 80, 1);
    dense_files(d, "fc2", 80, 10, 2);
    d.write("workload.yaml", workload_yaml("generator: peak\n", "[96]", {dense("fc1"), dense("fc2")}));
    const aimc::ChipConfig c = chip("tiny", {"core.crossbar.rows=48", "core.crossbar.cols=32", "chip.grid_cols=4"});
    const Mapping m = aimc::map_network(aimc::load_workload(d.path.string(), c).network, c);
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[0].row_blocks == 2);
    CHECK(m.layers[0].col_blocks == 3);
    // Walk: 0 1 2 3 | 7 6 5 4. fc1 r0c0 0, r1c0 1, r0c1 2, r1c1 3, r0c2 7, r1c2 6; fc2 5, 4.
    std::vector<int> cores;
    for (const auto& l : m.layers)
        for (const auto& t : l.tiles) cores.push_back(t.core);
    CHECK(cores == std::vector<int>{0, 1, 2, 3, 7, 6, 5, 4});
    CHECK(stream_text(m.trace_text, "stream core 5") ==
          "stream core 5\nprogram matrix=fc2_w.npy rows=0:48 cols=0:10\nsample\n"
          "recv from=0 buf=fc1.y0\nrecv from=2 buf=fc1.y1\nconcat in=fc1.y0,fc1.y1 out=fc2.x\n"
          "mvm in=fc2.x out=acc patches=1,1,64,1,1,1,0 patch_rows=0:48\n"
          "recv from=4 buf=fc2.p1\nnmpu in=acc add=fc2.p1 out=fc2.y0 bias=fc2_b.npy cols=0:10\nsend to=host buf=fc2.y0\n");
    CHECK(stream_text(m.trace_text, "stream core 4") ==
          "stream core 4\nprogram matrix=fc2_w.npy rows=48:80 cols=0:10\nsample\n"
          "recv from=2 buf=fc1.y1\nrecv from=7 buf=fc1.y2\nconcat in=fc1.y1,fc1.y2 out=fc2.x\n"
          "mvm in=fc2.x out=fc2.p1 patches=1,1,48,1,1,1,0 patch_rows=16:48\nsend to=5 buf=fc2.p1\n");
    // fc1's middle column block goes to both of fc2's tiles.
    CHECK(stream_text(m.trace_text, "stream core 2") ==
          "stream core 2\nprogram matrix=fc1_w.npy rows=0:48 cols=32:64\nsample\nrecv from=host buf=x0\nmvm in=x0 out=acc\n"
          "recv from=3 buf=fc1.p1\nnmpu in=acc add=fc1.p1 out=fc1.y1 bias=fc1_b.npy cols=32:64\n"
          "send to=5 buf=fc1.y1\nsend to=4 buf=fc1.y1\n");
}

TEST_CASE("mapper: residual adds") {
    // fc1, relu r1, fc2, add r1, relu, fc3, add fc1 (before r1): the adjacent residual travels with
    // fc2's input; the one two layers back is its own buffer, sent from fc1's core.
    TempDir d("map");
    data_files(d, 64, 4, 4);
    for (const char* n : {"fc1", "fc2", "fc3"}) aimc::write_npy(d.file(std::string(n) + "_w.npy"), {4, 4}, random_values(16, n[2], 1.0));
    d.write("workload.yaml", workload_yaml("", "[4]",
                                           {"{name: fc1, type: dense, weight: fc1_w.npy}", "{name: r1, type: relu}",
                                            "{name: fc2, type: dense, weight: fc2_w.npy}", "{type: add, from: r1}",
                                            "{type: relu}", "{name: fc3, type: dense, weight: fc3_w.npy}",
                                            "{type: add, from: fc1}", "{type: argmax}"}));
    const aimc::ChipConfig ideal = chip("tiny-ideal");
    Workload w = aimc::load_workload(d.path.string(), ideal);
    const std::string& t = w.generated_trace;
    CHECK(stream_text(t, "stream core 0") ==
          "stream core 0\nprogram matrix=fc1_w.npy rows=0:4 cols=0:4\nsample\nrecv from=host buf=x\nmvm in=x out=acc\n"
          "nmpu in=acc out=fc1.r0\nnmpu in=fc1.r0 out=fc1.y0 relu\nsend to=1 buf=fc1.y0\nsend to=3 buf=fc1.r0\n");
    CHECK(stream_text(t, "stream core 1") ==
          "stream core 1\nprogram matrix=fc2_w.npy rows=0:4 cols=0:4\nsample\nrecv from=0 buf=fc1.y0\nmvm in=fc1.y0 out=acc\n"
          "nmpu in=acc out=fc2.t1 residual=fc1.y0\nnmpu in=fc2.t1 out=fc2.y0 relu\nsend to=3 buf=fc2.y0\n");
    CHECK(stream_text(t, "stream core 3") ==
          "stream core 3\nprogram matrix=fc3_w.npy rows=0:4 cols=0:4\nsample\nrecv from=1 buf=fc2.y0\nmvm in=fc2.y0 out=acc\n"
          "recv from=0 buf=fc1.r0\nnmpu in=acc out=fc3.y0 residual=fc1.r0\nsend to=host buf=fc3.y0\n");
    // The ideal chip computes what the float reference does.
    aimc::RunOptions opt;
    opt.samples = 64;
    const auto r = aimc::simulate(ideal, w, opt);
    CHECK(r["accuracy"]["reference_agreement"].get<double>() == 1.0);
    CHECK(r["accuracy"]["top1"].get<double>() == r["accuracy"]["reference_top1"].get<double>());
}

TEST_CASE("mapper: folded batchnorm files stay in memory and the run matches the reference") {
    // tiny-mlp's weights with a batchnorm after fc1: its folded weights and bias are derived files.
    TempDir d("map");
    const std::string src = kRoot + "/workloads/tiny-mlp/";
    aimc::write_npy(d.file("g.npy"), {48}, random_values(48, 1, 0.5));
    aimc::write_npy(d.file("be.npy"), {48}, random_values(48, 2));
    aimc::write_npy(d.file("mu.npy"), {48}, random_values(48, 3));
    std::vector<double> var = random_values(48, 4);
    for (auto& v : var) v = 0.5 + v;
    aimc::write_npy(d.file("var.npy"), {48}, var);
    d.write("workload.yaml", "name: bn\nsamples: 64\ndata: {inputs: " + src + "inputs.npy, labels: " + src +
                                 "labels.npy}\nnetwork:\n"
                                 "  - {name: fc1, type: dense, weight: " + src + "fc1_w.npy, bias: " + src + "fc1_b.npy}\n"
                                 "  - {type: batchnorm, gamma: g.npy, beta: be.npy, mean: mu.npy, var: var.npy}\n"
                                 "  - {type: relu}\n"
                                 "  - {name: fc2, type: dense, weight: " + src + "fc2_w.npy, bias: " + src + "fc2_b.npy}\n");
    const aimc::ChipConfig ideal = chip("tiny-ideal");
    Workload w = aimc::load_workload(d.path.string(), ideal);
    REQUIRE(w.generated_files.size() == 2);
    const aimc::NpyArray& fw = w.generated_files.at(d.file("fc1.w.npy"));
    CHECK(fw.shape == std::vector<std::size_t>{96, 48});
    CHECK(fw.data == w.network[0].weight.data);
    CHECK(w.generated_files.at(d.file("fc1.b.npy")).data == w.network[0].bias.data);
    CHECK(stream_text(w.generated_trace, "stream core 0") ==
          "stream core 0\nprogram matrix=fc1.w.npy rows=0:64 cols=0:48\nsample\nrecv from=host buf=x0\nmvm in=x0 out=acc\n"
          "recv from=1 buf=fc1.p1\nnmpu in=acc add=fc1.p1 out=fc1.y0 bias=fc1.b.npy cols=0:48 relu\nsend to=3 buf=fc1.y0\n");
    const auto r = aimc::simulate(ideal, w, {});
    CHECK(r["accuracy"]["samples"] == 64);
    CHECK(r["accuracy"]["reference_agreement"].get<double>() == 1.0);
    CHECK(r["accuracy"]["top1"].get<double>() == r["accuracy"]["reference_top1"].get<double>());
    // Nothing was written to the disk.
    CHECK_FALSE(std::filesystem::exists(d.file("fc1.w.npy")));
    CHECK_FALSE(std::filesystem::exists(d.file("fc1.b.npy")));
}

TEST_CASE("mapper: limits of the mapper are input errors") {
    TempDir d("map");
    aimc::write_npy(d.file("k.npy"), {1, 1, 1, 300}, random_values(300, 1));
    aimc::write_npy(d.file("w.npy"), {16, 2}, random_values(32, 2));
    const std::string f = d.file("workload.yaml");
    auto error = [&](const std::vector<std::string>& layers, const std::string& shape, std::size_t features = 16) {
        data_files(d, 2, features, 2);
        d.write("workload.yaml", workload_yaml("generator: peak\n", shape, layers));
        Workload w = aimc::load_workload(d.path.string(), chip("hermes"));
        try {
            aimc::map_network(w.network, chip("hermes"));
        } catch (const aimc::InputError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(error({"{type: relu}", "{type: dense, weight: w.npy}"}, "[16]") ==
          f + ": mapper: relu 'relu_0' comes before the first dense or conv2d layer: no core computes it");
    CHECK(error({"{type: maxpool, kernel: 2}"}, "[4, 4, 1]") ==
          f + ": mapper: maxpool 'maxpool_0' comes before the first dense or conv2d layer: no core computes it");
    CHECK(error({"{name: c, type: conv2d, weight: k.npy}", "{type: maxpool, kernel: 2, stride: 1}"}, "[4, 4, 1]") ==
          f + ": mapper: maxpool 'maxpool_1' has stride 1 and kernel 2: the digital unit pools with stride = kernel only");
    CHECK(error({"{name: c, type: conv2d, weight: k.npy}"}, "[4, 4, 1]") ==
          f + ": mapper: conv2d 'c': its 300 output channels span 2 crossbars of 256 columns and its output map has 16 "
              "positions: channel-split feature maps are not supported (at most 256 output channels per conv2d on this chip)");
    CHECK(error({"{type: flatten}"}, "[16]") == f + ": mapper: the network has no dense or conv2d layer to map");
    // A 1x1 map may be channel-split: its blocks are in channel order.
    CHECK(error({"{name: c, type: conv2d, weight: k.npy}"}, "[1, 1, 1]", 1) == "(no error)");
}

TEST_CASE("mapper: aimcsim map prints the placement and writes the trace with its files") {
    TempDir d("mapcli");
    data_files(d, 8, 12, 3);
    aimc::write_npy(d.file("k.npy"), {2, 2, 3, 4}, random_values(48, 1));  // (2, 2, 3) -> (1, 1, 4)
    dense_files(d, "fc", 4, 3, 2);
    d.write("workload.yaml", workload_yaml("generator: peak\n", "[2, 2, 3]",
                                           {"{name: c, type: conv2d, weight: k.npy, activation: relu}", "{type: flatten}",
                                            dense("fc")}));
    auto r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml --workload '" + d.path.string() + "'");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "map: network of workload 'm' on chip 'tiny' (2x2 cores, 64x64 crossbars)\n"
                      "  layer tile rows cols core x y utilisation\n"
                      "  c     r0c0 0:12 0:4     0 0 0        1.2%\n"
                      "  fc    r0c0 0:4  0:3     1 1 0        0.3%\n"
                      "  cores used 2 / 4, mean crossbar utilisation 0.7%, 60 MACs per inference\n");
    // Into a subfolder: the trace names the workload's files from there; the derived file is beside it.
    const std::string out = d.file("out/trace.txt");
    r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml --workload '" + d.path.string() +
                               "' --trace-out '" + out + "'");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("  trace written to " + out + " (with 1 derived .npy files beside it)\n") != std::string::npos);
    const std::string trace = aimc_test::read_file(out);
    CHECK(trace.find("program matrix=c.w2d.npy rows=0:12 cols=0:4\n") != std::string::npos);
    CHECK(trace.find("mvm in=x out=acc patches=2,2,3,2,2,1,0\n") != std::string::npos);
    CHECK(trace.find("program matrix=../fc_w.npy rows=0:4 cols=0:3\n") != std::string::npos);
    CHECK(trace.find("nmpu in=acc out=fc.y0 bias=../fc_b.npy cols=0:3\n") != std::string::npos);
    const aimc::NpyArray w2d = aimc::read_npy(d.file("out/c.w2d.npy"));
    CHECK(w2d.shape == std::vector<std::size_t>{12, 4});
    CHECK(w2d.data == aimc::read_npy(d.file("k.npy")).data);
    // A workload without a network has nothing to map.
    r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml --workload workloads/synthetic/peak");
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: workloads/synthetic/peak/workload.yaml: the workload has no network: to map\n");
    r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml");
    CHECK(r.exit_code == 2);
}

TEST_CASE("mapper: a trace written by aimcsim map runs") {
    // tiny-mlp's network mapped into a folder of its own, then run from a workload that names it.
    TempDir d("maprun");
    const std::string src = kRoot + "/workloads/tiny-mlp";
    auto r = aimc_test::run_command(aimc_test::cli() + " map --chip configs/tiny.yaml --workload workloads/tiny-mlp --trace-out '" +
                                    d.file("trace.txt") + "'");
    REQUIRE(r.exit_code == 0);
    d.write("workload.yaml", "name: mapped\ntrace: trace.txt\nsamples: 64\ndata: {inputs: " + src + "/inputs.npy, labels: " + src +
                                 "/labels.npy}\nnetwork:\n  - {type: dense, weight: " + src + "/fc1_w.npy, bias: " + src +
                                 "/fc1_b.npy, activation: relu}\n  - {type: dense, weight: " + src + "/fc2_w.npy, bias: " + src +
                                 "/fc2_b.npy}\n");
    r = aimc_test::run_command(aimc_test::cli() + " run --chip configs/tiny-ideal.yaml --workload '" + d.path.string() + "'");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("top-1 95.31%   float reference 95.31%   agreement 100.00%") != std::string::npos);
}
