// Tests for workload.yaml loading, the peak trace generator and the float reference: the shipped
// tiny-mlp and peak workloads, and one generated fixture folder per kind of mistake, each checked
// for its exact "file:line:col: key: message".
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/npy.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using aimc::Workload;

namespace {

const std::string kRoot = AIMC_SOURCE_DIR;

const aimc::ChipConfig& tiny_chip() {
    static const aimc::ChipConfig cfg = aimc::load_chip_config(kRoot + "/configs/tiny.yaml");
    return cfg;
}

// A fresh folder under the system temp dir, removed again at the end of the test.
using aimc_test::TempDir;

std::vector<double> iota(std::size_t n, double scale) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * (static_cast<double>(i) - static_cast<double>(n) / 2);
    return v;
}

// A small consistent data set and network: 4 samples of 3 features, 3-2-2.
// Extra, inconsistent arrays for the error cases: b1_bad (3 values for 2 outputs), w2_bad (3x2).
void write_fixture_npys(const TempDir& d) {
    aimc::write_npy(d.file("in.npy"), {4, 3}, iota(12, 0.1));
    aimc::write_npy(d.file("lab.npy"), {4}, {0, 1, 1, 0});
    aimc::write_npy(d.file("lab3.npy"), {3}, {0, 1, 1});
    aimc::write_npy(d.file("w1.npy"), {3, 2}, iota(6, 0.25));
    aimc::write_npy(d.file("b1.npy"), {2}, {0.5, -0.5});
    aimc::write_npy(d.file("w2.npy"), {2, 2}, {1, -1, 2, 0.5});
    aimc::write_npy(d.file("b2.npy"), {2}, {0, 0.125});
    aimc::write_npy(d.file("b1_bad.npy"), {3}, {1, 2, 3});
    aimc::write_npy(d.file("w2_bad.npy"), {3, 2}, iota(6, 1));
}

// The messages of the InputErrors thrown by load_workload (a plain InputError gives one).
std::vector<std::string> load_errors(const std::string& path) {
    try {
        aimc::load_workload(path, tiny_chip());
    } catch (const aimc::InputErrors& e) {
        return e.messages();
    } catch (const aimc::InputError& e) {
        return {std::string(e.what())};
    }
    return {"(no error)"};
}

const std::string kKnownKeys = "name, description, trace, generator, samples, data, input_shape, network, traffic";

// Valid workload.yaml (block style, so that line:col are easy to read off). Lines:
//  1 name          2 generator       3 samples       4 data:      5 inputs   6 labels
//  7 network:      8 - type          9 weight       10 bias      11 activation
// 12 - type       13 weight         14 bias
std::string fixture_yaml(const std::string& labels = "lab.npy", const std::string& b1 = "b1.npy",
                         const std::string& w2 = "w2.npy", const std::string& type1 = "dense") {
    return "name: fixture\n"
           "generator: peak\n"
           "samples: 3\n"
           "data:\n"
           "  inputs: in.npy\n"
           "  labels: " + labels + "\n"
           "network:\n"
           "  - type: " + type1 + "\n"
           "    weight: w1.npy\n"
           "    bias: " + b1 + "\n"
           "    activation: relu\n"
           "  - type: dense\n"
           "    weight: " + w2 + "\n"
           "    bias: b2.npy\n";
}

}  // namespace

// ---- the shipped workloads ---------------------------------------------------------------------

TEST_CASE("workload: tiny-mlp loads") {
    Workload w = aimc::load_workload(kRoot + "/workloads/tiny-mlp", tiny_chip());
    CHECK(w.name == "tiny-mlp");
    CHECK_FALSE(w.description.empty());
    CHECK(w.generator.empty());
    CHECK(w.default_samples == 64);
    CHECK(w.file == kRoot + "/workloads/tiny-mlp/workload.yaml");
    CHECK(w.dir == kRoot + "/workloads/tiny-mlp");
    REQUIRE(w.inputs);
    CHECK(w.inputs->shape == std::vector<std::size_t>{64, 96});
    CHECK(w.input_features() == 96);
    CHECK(w.labels.size() == 64);
    for (long long l : w.labels) {
        CHECK(l >= 0);
        CHECK(l <= 9);
    }
    REQUIRE(w.network.size() == 2);
    CHECK(w.has_network());
    CHECK(w.network[0].weight.shape == std::vector<std::size_t>{96, 48});
    CHECK(w.network[0].bias.shape == std::vector<std::size_t>{48});
    CHECK(w.network[0].relu);
    CHECK(w.network[1].weight.shape == std::vector<std::size_t>{48, 10});
    CHECK(w.network[1].bias.shape == std::vector<std::size_t>{10});
    CHECK_FALSE(w.network[1].relu);
    CHECK(w.network_macs_per_sample() == 96 * 48 + 48 * 10);
    // The trace: two host streams and cores 0, 1, 3.
    REQUIRE(w.trace.streams.size() == 5);
    CHECK(w.trace.file == kRoot + "/workloads/tiny-mlp/trace.txt");
}

TEST_CASE("workload: tiny-mlp reference logits match an independent forward pass") {
    Workload w = aimc::load_workload(kRoot + "/workloads/tiny-mlp", tiny_chip());
    const std::string d = kRoot + "/workloads/tiny-mlp/";
    aimc::NpyArray x = aimc::read_npy(d + "inputs.npy");
    aimc::NpyArray lab = aimc::read_npy(d + "labels.npy");
    aimc::NpyArray w1 = aimc::read_npy(d + "fc1_w.npy"), b1 = aimc::read_npy(d + "fc1_b.npy");
    aimc::NpyArray w2 = aimc::read_npy(d + "fc2_w.npy"), b2 = aimc::read_npy(d + "fc2_b.npy");
    REQUIRE(x.shape == std::vector<std::size_t>{64, 96});
    REQUIRE(lab.shape == std::vector<std::size_t>{64});
    REQUIRE(w1.shape == std::vector<std::size_t>{96, 48});
    REQUIRE(w2.shape == std::vector<std::size_t>{48, 10});

    int correct = 0;
    for (std::size_t s = 0; s < 64; ++s) {
        // h = relu(x W1 + b1), y = h W2 + b2, W stored (inputs, outputs).
        std::vector<double> h(48);
        for (std::size_t o = 0; o < 48; ++o) {
            double acc = b1.data[o];
            for (std::size_t i = 0; i < 96; ++i) acc += x.data[s * 96 + i] * w1.data[i * 48 + o];
            h[o] = acc > 0 ? acc : 0;
        }
        std::vector<double> y(10);
        for (std::size_t o = 0; o < 10; ++o) {
            double acc = b2.data[o];
            for (std::size_t i = 0; i < 48; ++i) acc += h[i] * w2.data[i * 10 + o];
            y[o] = acc;
        }
        std::vector<double> ref = w.reference_logits(s);
        REQUIRE(ref.size() == 10);
        // The reference computes in float (OpenBLAS sgemm): agreement to float rounding.
        for (std::size_t o = 0; o < 10; ++o) CHECK(std::abs(ref[o] - y[o]) <= 1e-5 * (1 + std::abs(y[o])));
        CHECK(w.labels[s] == static_cast<long long>(lab.data[s]));
        std::size_t pred = aimc::argmax(ref);
        if (static_cast<long long>(pred) == w.labels[s]) ++correct;
    }
    CHECK(correct == 61);  // workloads/tiny-mlp/README.md: 61/64
}

TEST_CASE("workload: argmax takes the first maximum") {
    CHECK(aimc::argmax({1, 3, 2}) == 1);
    CHECK(aimc::argmax({5, 5, 1}) == 0);
    CHECK(aimc::argmax({-2, -1, -1}) == 1);
}

TEST_CASE("workload: the peak generator for the tiny chip") {
    const std::string text = aimc::peak_trace_text(tiny_chip());
    aimc::Trace t = aimc::parse_trace(text, "peak.txt", "");
    REQUIRE(t.streams.size() == 4);
    for (int c = 0; c < 4; ++c) {
        const aimc::StreamTrace& s = t.streams[static_cast<std::size_t>(c)];
        INFO("core " << c);
        CHECK(s.endpoint == c);
        REQUIRE(s.setup.size() == 2);
        const aimc::Op& prog = s.setup[0];
        CHECK(prog.code == aimc::OpCode::Program);
        CHECK(prog.file == "random");
        CHECK(prog.rows.begin == 0);
        CHECK(prog.rows.end == 64);
        CHECK(prog.cols.begin == 0);
        CHECK(prog.cols.end == 64);
        CHECK(prog.has_seed);
        CHECK(prog.seed == static_cast<std::uint64_t>(c));
        const aimc::Op& fill = s.setup[1];
        CHECK(fill.code == aimc::OpCode::Fill);
        CHECK(fill.len == 64);  // one input per crossbar row
        CHECK(fill.has_seed);
        REQUIRE(s.per_sample.size() == 2);
        CHECK(s.per_sample[0].code == aimc::OpCode::Mvm);
        CHECK(s.per_sample[0].in == fill.buf);
        CHECK(s.per_sample[1].code == aimc::OpCode::Nmpu);
        CHECK(s.per_sample[1].in == s.per_sample[0].out);
        CHECK(s.per_sample[1].activation.empty());
        CHECK(s.per_sample[1].file.empty());
    }
    CHECK(t.tags.empty());
    CHECK(t.barriers.empty());
    CHECK(text.find("Generated for chip 'tiny'") != std::string::npos);
}

TEST_CASE("workload: synthetic peak loads with a generated trace") {
    Workload w = aimc::load_workload(kRoot + "/workloads/synthetic/peak", tiny_chip());
    CHECK(w.name == "peak");
    CHECK(w.generator == "peak");
    CHECK(w.default_samples == 200);
    CHECK_FALSE(w.inputs);
    CHECK(w.labels.empty());
    CHECK_FALSE(w.has_network());
    CHECK(w.network_macs_per_sample() == 0);
    CHECK(w.trace.file == "(peak trace for tiny)");
    CHECK(w.trace.streams.size() == 4);
}

TEST_CASE("workload: the YAML file itself may be named") {
    Workload w = aimc::load_workload(kRoot + "/workloads/synthetic/peak/workload.yaml", tiny_chip());
    CHECK(w.name == "peak");
    CHECK(w.dir == kRoot + "/workloads/synthetic/peak");
}

// ---- a generated fixture: valid, then one mistake at a time -----------------------------------

TEST_CASE("workload: a valid fixture loads with its network") {
    TempDir d("valid");
    write_fixture_npys(d);
    d.write("workload.yaml", fixture_yaml());
    Workload w = aimc::load_workload(d.path.string(), tiny_chip());
    CHECK(w.name == "fixture");
    CHECK(w.default_samples == 3);
    CHECK(w.input_features() == 3);
    CHECK(w.labels == std::vector<long long>{0, 1, 1, 0});
    REQUIRE(w.network.size() == 2);
    CHECK(w.network_macs_per_sample() == 3 * 2 + 2 * 2);
    // Sample 1: x = (-0.3, -0.2, -0.1)... computed by hand from the fixture values.
    // x_i = 0.1*(3 + i - 6), W1 = 0.25*(k - 3) for k = r*2 + c, b1 = (0.5, -0.5).
    std::vector<double> x = {-0.3, -0.2, -0.1};
    double h0 = 0.5 + x[0] * -0.75 + x[1] * -0.25 + x[2] * 0.25;   // 0.5 + 0.225 + 0.05 - 0.025
    double h1 = -0.5 + x[0] * -0.5 + x[1] * 0.0 + x[2] * 0.5;      // -0.5 + 0.15 - 0.05 -> relu 0
    h0 = std::max(h0, 0.0);
    h1 = std::max(h1, 0.0);
    std::vector<double> ref = w.reference_logits(1);
    REQUIRE(ref.size() == 2);
    CHECK(ref[0] == Approx(h0 * 1 + h1 * 2 + 0).margin(1e-12));
    CHECK(ref[1] == Approx(h0 * -1 + h1 * 0.5 + 0.125).margin(1e-12));
}

TEST_CASE("workload: a trace file is loaded relative to the workload") {
    TempDir d("tracefile");
    d.write("workload.yaml", "name: t\ntrace: my.trace\n");
    d.write("my.trace", "aimcsim-trace 1\nstream core 1\nprogram matrix=w.npy\n");
    Workload w = aimc::load_workload(d.path.string(), tiny_chip());
    CHECK(w.default_samples == 1);  // no samples: key
    REQUIRE(w.trace.streams.size() == 1);
    CHECK(w.trace.file == d.file("my.trace"));
    CHECK(w.trace.streams[0].setup[0].file == d.file("w.npy"));
}

TEST_CASE("workload: errors in the trace file name the trace") {
    TempDir d("badtrace");
    d.write("workload.yaml", "name: t\ntrace: my.trace\n");
    d.write("my.trace", "aimcsim-trace 1\nstream core 1\nmvm in=a out=b\n");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{d.file("my.trace") +
                                   ":3: buffer 'a' is read before any operation of this stream writes it"});
    d.write("workload.yaml", "name: t\ntrace: missing.trace\n");
    CHECK(load_errors(d.path.string()) == std::vector<std::string>{d.file("missing.trace") + ": cannot open trace file"});
}

TEST_CASE("workload: unknown key") {
    TempDir d("unknownkey");
    d.write("workload.yaml", "name: x\ngenerator: peak\ncolour: blue\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":3:1: colour: unknown key; expected one of " + kKnownKeys});
}

TEST_CASE("workload: unknown key in data") {
    TempDir d("unknowndatakey");
    write_fixture_npys(d);
    d.write("workload.yaml", "name: x\ngenerator: peak\ndata:\n  inputs: in.npy\n  label: lab.npy\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":5:3: data.label: unknown key; expected one of format, inputs, labels, scale, offset",
                                   f + ":4:3: data.labels: missing required key"});
}

TEST_CASE("workload: both trace and generator") {
    TempDir d("both");
    d.write("workload.yaml", "name: x\ntrace: t.txt\ngenerator: peak\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":3:1: generator: give either 'trace: FILE' or 'generator:', not both"});
}

TEST_CASE("workload: neither trace nor generator") {
    TempDir d("neither");
    d.write("workload.yaml", "# no trace\nname: x\nsamples: 2\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":2:1: trace: missing: give 'trace: FILE', 'generator: peak' or a network: to map"});
}

TEST_CASE("workload: unknown generator") {
    TempDir d("unknowngen");
    d.write("workload.yaml", "name: x\ngenerator: turbo\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":2:12: generator: unknown generator \"turbo\"; known: peak, traffic"});
}

TEST_CASE("workload: missing name") {
    TempDir d("noname");
    d.write("workload.yaml", "generator: peak\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) == std::vector<std::string>{f + ":1:1: name: missing required key"});
}

TEST_CASE("workload: empty name") {
    TempDir d("emptyname");
    d.write("workload.yaml", "name: \"\"\ngenerator: peak\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) == std::vector<std::string>{f + ":1:7: name: must not be empty"});
    d.write("workload.yaml", "name:\ngenerator: peak\n");
    CHECK(load_errors(d.path.string()) == std::vector<std::string>{f + ":1:1: name: expected text, got nothing"});
}

TEST_CASE("workload: samples 0") {
    TempDir d("samples0");
    d.write("workload.yaml", "name: x\ngenerator: peak\nsamples: 0\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":3:10: samples: expected an integer in 1..100000000, got \"0\""});
}

TEST_CASE("workload: samples not an integer") {
    TempDir d("samplesx");
    d.write("workload.yaml", "name: x\ngenerator: peak\nsamples: many\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":3:10: samples: expected an integer in 1..100000000, got \"many\""});
}

TEST_CASE("workload: labels count does not match the inputs") {
    TempDir d("labels");
    write_fixture_npys(d);
    d.write("workload.yaml", fixture_yaml("lab3.npy"));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) == std::vector<std::string>{f + ":6:11: data.labels: 3 labels for 4 input samples"});
}

TEST_CASE("workload: bias of the wrong length") {
    TempDir d("bias");
    write_fixture_npys(d);
    d.write("workload.yaml", fixture_yaml("lab.npy", "b1_bad.npy"));
    const std::string f = d.file("workload.yaml");
    // Layer 1 is still checked against layer 0's outputs, so there is no follow-on error.
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":10:11: network[0].bias: has 3 values, expected 2 (one per output)"});
}

TEST_CASE("workload: weight inputs do not match the previous layer") {
    TempDir d("weight");
    write_fixture_npys(d);
    d.write("workload.yaml", fixture_yaml("lab.npy", "b1.npy", "w2_bad.npy"));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":13:13: network[1].weight: dense 'dense_1': has 3 inputs, expected 2 (the output of "
                                       "'dense_0', shape (2,))"});
}

TEST_CASE("workload: first layer inputs do not match the input features") {
    TempDir d("firstlayer");
    write_fixture_npys(d);
    // w2 (2x2) as the first layer: the inputs have 3 features.
    d.write("workload.yaml",
            "name: x\ngenerator: peak\ndata:\n  inputs: in.npy\n  labels: lab.npy\n"
            "network:\n  - {type: dense, weight: w2.npy, bias: b2.npy}\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":7:27: network[0].weight: dense 'dense_0': has 2 inputs, expected 3 (the input, shape (3,))"});
}

TEST_CASE("workload: unknown layer type") {
    TempDir d("layertype");
    write_fixture_npys(d);
    d.write("workload.yaml", fixture_yaml("lab.npy", "b1.npy", "w2.npy", "conv"));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":8:11: network[0].type: unknown layer type \"conv\"; known: dense, conv2d, batchnorm, "
                                       "relu, maxpool, avgpool, flatten, add, argmax"});
}

TEST_CASE("workload: bad activation") {
    TempDir d("activation");
    write_fixture_npys(d);
    std::string y = fixture_yaml();
    y.replace(y.find("activation: relu"), 16, "activation: tanh");
    d.write("workload.yaml", y);
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":11:17: network[0].activation: expected relu or none, got \"tanh\""});
}

TEST_CASE("workload: missing npy file") {
    TempDir d("missingnpy");
    write_fixture_npys(d);
    std::string y = fixture_yaml();
    y.replace(y.find("weight: w1.npy"), 14, "weight: nope.npy");
    d.write("workload.yaml", y);
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":9:13: network[0].weight: " + d.file("nope.npy") +
                                       ": cannot open file (No such file or directory)"});
}

TEST_CASE("workload: missing data file") {
    TempDir d("missingdata");
    write_fixture_npys(d);
    d.write("workload.yaml", "name: x\ngenerator: peak\ndata:\n  inputs: gone.npy\n  labels: lab.npy\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":4:11: data.inputs: " + d.file("gone.npy") +
                                   ": cannot open file (No such file or directory)"});
}

TEST_CASE("workload: a network without data") {
    TempDir d("nodata");
    write_fixture_npys(d);
    d.write("workload.yaml", "name: x\ngenerator: peak\nnetwork:\n  - {type: dense, weight: w1.npy, bias: b1.npy}\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":4:3: network: a network needs data.inputs and data.labels to compute accuracy"});
}

TEST_CASE("workload: several mistakes are reported together") {
    TempDir d("several");
    d.write("workload.yaml", "name: x\ngenerator: turbo\nsamples: 0\nextra: 1\n");
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":4:1: extra: unknown key; expected one of " + kKnownKeys,
                                   f + ":2:12: generator: unknown generator \"turbo\"; known: peak, traffic",
                                   f + ":3:10: samples: expected an integer in 1..100000000, got \"0\""});
}

TEST_CASE("workload: a folder without workload.yaml") {
    TempDir d("empty");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{d.path.string() +
                                   ": no workload here (expected a folder with workload.yaml, or a YAML file)"});
}

TEST_CASE("workload: a path that does not exist") {
    CHECK(load_errors("no/such/workload") ==
          std::vector<std::string>{"no/such/workload: no workload here (expected a folder with workload.yaml, or a YAML file)"});
}

TEST_CASE("workload: a workload.yaml that is not a mapping") {
    TempDir d("notmap");
    d.write("workload.yaml", "- a\n- b\n");
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{d.file("workload.yaml") + ":1:1: expected a mapping at the top level, got a list"});
}

TEST_CASE("workload: labels must be class indices of the network") {
    TempDir d("labels");
    write_fixture_npys(d);
    aimc::write_npy(d.file("lab_frac.npy"), {4}, {0, 1.5, 0, 1});
    aimc::write_npy(d.file("lab_big.npy"), {4}, {0, 1, 7, 1});
    const std::string f = d.file("workload.yaml");
    d.write("workload.yaml", fixture_yaml("lab_frac.npy"));
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":6:11: data.labels: element 1 is not a class index (a whole number >= 0)"});
    d.write("workload.yaml", fixture_yaml("lab_big.npy"));
    CHECK(load_errors(d.path.string()) ==
          std::vector<std::string>{f + ":6:11: data.labels: element 2 is class 7 but the network has 2 outputs"});
}
