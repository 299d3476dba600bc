// Tests for the network of a workload (sim/network.*) and its data section: the float reference
// forward pass against hand-computed examples and an independent loop implementation, batchnorm
// folding, shape inference and every kind of mistake with its exact message, IDX data with
// scale/offset, and the exit code of the CLI for bad weight and data files.
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/network.hpp"
#include "sim/npy.hpp"
#include "sim/workload.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using aimc::LayerType;
using aimc::Workload;
using aimc_test::TempDir;

namespace {

const std::string kRoot = AIMC_SOURCE_DIR;

const aimc::ChipConfig& tiny_chip() {
    static const aimc::ChipConfig cfg = aimc::load_chip_config(kRoot + "/configs/tiny.yaml");
    return cfg;
}

// A workload folder with `generator: peak` (no mapping), npy data and the network `layers`
// (YAML list items, one per line, block style: layer k is on line 7 + k).
//   1 name  2 generator  3 data:  4 inputs  5 labels  6 input_shape  7 network:  8.. layers
std::string workload_yaml(const std::string& input_shape, const std::vector<std::string>& layers) {
    std::string y = "name: net\ngenerator: peak\ndata:\n  inputs: in.npy\n  labels: lab.npy\ninput_shape: " + input_shape +
                    "\nnetwork:\n";
    for (const auto& l : layers) y += "  - " + l + "\n";
    return y;
}

// Inputs (n, features) with the given values, labels all 0.
void write_data(const TempDir& d, std::size_t n, const std::vector<double>& x) {
    aimc::write_npy(d.file("in.npy"), {n, x.size() / n}, x);
    aimc::write_npy(d.file("lab.npy"), {n}, std::vector<double>(n, 0));
}

Workload load(const TempDir& d) { return aimc::load_workload(d.path.string(), tiny_chip()); }

std::vector<std::string> load_errors(const TempDir& d) {
    try {
        load(d);
    } catch (const aimc::InputErrors& e) {
        return e.messages();
    } catch (const aimc::InputError& e) {
        return {std::string(e.what())};
    }
    return {"(no error)"};
}

void check_logits(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-5) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("logit " << i);
        CHECK(got[i] == Approx(want[i]).margin(tol));
    }
}

std::vector<double> random_values(std::size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

}  // namespace

// ---- the forward pass ----------------------------------------------------------------------------

TEST_CASE("network: conv2d with padding 1 and stride 2 by hand") {
    TempDir d("net");
    // x (3, 3, 1) = 1..9; channel 0 sums the window's diagonal, channel 1 is top-right minus
    // bottom-left; zero padding 1, stride 2: Hout = (3 + 2 - 2) / 2 + 1 = 2.
    write_data(d, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    aimc::write_npy(d.file("w.npy"), {2, 2, 1, 2}, {1, 0, 0, 1, 0, -1, 1, 0});
    aimc::write_npy(d.file("b.npy"), {2}, {0.5, -1});
    d.write("workload.yaml", workload_yaml("[3, 3, 1]", {"{name: c, type: conv2d, weight: w.npy, bias: b.npy, stride: 2, padding: 1}",
                                                         "{type: flatten}"}));
    Workload w = load(d);
    REQUIRE(w.network.size() == 2);
    const aimc::Layer& c = w.network[0];
    CHECK(c.type == LayerType::Conv2d);
    CHECK(c.in_shape == aimc::Shape{3, 3, 1});
    CHECK(c.out_shape == aimc::Shape{2, 2, 2});
    CHECK(c.matrix_rows() == 4);
    CHECK(c.matrix_cols() == 2);
    CHECK(w.network[1].out_shape == aimc::Shape{8});
    CHECK(w.network_macs_per_sample() == 2 * 2 * 4 * 2);
    // Windows (padded): [0 0; 0 1], [0 0; 2 3], [0 4; 0 7], [5 6; 8 9], channels last.
    check_logits(w.reference_logits(0), {1 + 0.5, 0 - 1, 3 + 0.5, -2 - 1, 7 + 0.5, 4 - 1, 14 + 0.5, -2 - 1});
}

TEST_CASE("network: maxpool and avgpool by hand") {
    TempDir d("net");
    // (4, 4, 2): channel 0 = 0..15, channel 1 = its negative.
    std::vector<double> x;
    for (int i = 0; i < 16; ++i) x.insert(x.end(), {double(i), -double(i)});
    write_data(d, 1, x);
    d.write("workload.yaml", workload_yaml("[4, 4, 2]", {"{type: maxpool, kernel: 2}"}));
    check_logits(load(d).reference_logits(0), {5, 0, 7, -2, 13, -8, 15, -10});
    d.write("workload.yaml", workload_yaml("[4, 4, 2]", {"{type: avgpool, kernel: 2}"}));
    check_logits(load(d).reference_logits(0), {2.5, -2.5, 4.5, -4.5, 10.5, -10.5, 12.5, -12.5});
    // Stride 1: overlapping windows, (4 - 3) / 1 + 1 = 2.
    d.write("workload.yaml", workload_yaml("[4, 4, 2]", {"{type: maxpool, kernel: 3, stride: 1}"}));
    Workload w = load(d);
    CHECK(w.network[0].out_shape == aimc::Shape{2, 2, 2});
    check_logits(w.reference_logits(0), {10, 0, 11, -1, 14, -4, 15, -5});
}

TEST_CASE("network: a pool that does not divide the map drops the remainder") {
    TempDir d("net");
    write_data(d, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});  // (3, 5, 1)
    d.write("workload.yaml", workload_yaml("[3, 5, 1]", {"{type: maxpool, kernel: 2}"}));
    Workload w = load(d);
    CHECK(w.network[0].out_shape == aimc::Shape{1, 2, 1});
    check_logits(w.reference_logits(0), {7, 9});
}

TEST_CASE("network: batchnorm is folded into the dense layer before it") {
    TempDir d("net");
    write_data(d, 1, {1, 1});
    aimc::write_npy(d.file("w.npy"), {2, 2}, {1, 2, 3, 4});
    aimc::write_npy(d.file("b.npy"), {2}, {1, -1});
    aimc::write_npy(d.file("g.npy"), {2}, {4, 3});
    aimc::write_npy(d.file("be.npy"), {2}, {0.5, 0});
    aimc::write_npy(d.file("mu.npy"), {2}, {1, 0});
    aimc::write_npy(d.file("var.npy"), {2}, {3, 0});
    d.write("workload.yaml",
            workload_yaml("[2]", {"{name: fc, type: dense, weight: w.npy, bias: b.npy}",
                                  "{name: bn, type: batchnorm, gamma: g.npy, beta: be.npy, mean: mu.npy, var: var.npy, eps: 1}"}));
    Workload w = load(d);
    // f = gamma / sqrt(var + eps) = (2, 3); w' = w * f per column; b' = (b - mean) * f + beta.
    const aimc::Layer& fc = w.network[0];
    CHECK(fc.folded);
    CHECK(fc.has_bias);
    CHECK(fc.weight.data == std::vector<double>{2, 6, 6, 12});
    CHECK(fc.bias.data == std::vector<double>{0.5, -3});
    CHECK(w.network[1].type == LayerType::BatchNorm);
    CHECK(w.network[1].folded_into == 0);
    check_logits(w.reference_logits(0), {2 + 6 + 0.5, 6 + 12 - 3});
}

TEST_CASE("network: batchnorm folds into a conv2d without bias per output channel") {
    TempDir d("net");
    write_data(d, 1, {1, 2, 3, 4});  // (2, 2, 1)
    aimc::write_npy(d.file("w.npy"), {1, 1, 1, 2}, {1, -1});
    aimc::write_npy(d.file("g.npy"), {2}, {1, 2});
    aimc::write_npy(d.file("be.npy"), {2}, {0, 1});
    aimc::write_npy(d.file("mu.npy"), {2}, {1, 1});
    aimc::write_npy(d.file("var.npy"), {2}, {0.75, 0.75});
    d.write("workload.yaml",
            workload_yaml("[2, 2, 1]", {"{name: c, type: conv2d, weight: w.npy}",
                                        "{type: batchnorm, gamma: g.npy, beta: be.npy, mean: mu.npy, var: var.npy, eps: 0.25}"}));
    Workload w = load(d);
    // f = (1, 2): w' = (1, -2); b' = (0 - 1) * f + beta = (-1, -1).
    CHECK(w.network[0].weight.data == std::vector<double>{1, -2});
    CHECK(w.network[0].bias.data == std::vector<double>{-1, -1});
    check_logits(w.reference_logits(0), {0, -3, 1, -5, 2, -7, 3, -9});
}

TEST_CASE("network: residual add of an earlier layer's output") {
    TempDir d("net");
    write_data(d, 1, {1, -2});
    aimc::write_npy(d.file("i.npy"), {2, 2}, {1, 0, 0, 1});
    aimc::write_npy(d.file("w2.npy"), {2, 2}, {2, 1, 1, 2});
    aimc::write_npy(d.file("b2.npy"), {2}, {0, 1});
    d.write("workload.yaml", workload_yaml("[2]", {"{name: fc1, type: dense, weight: i.npy}", "{name: r1, type: relu}",
                                                   "{name: fc2, type: dense, weight: w2.npy, bias: b2.npy}",
                                                   "{type: add, from: r1}", "{type: argmax}"}));
    Workload w = load(d);
    CHECK(w.network[3].from_index == 1);
    // r1 = relu(1, -2) = (1, 0); fc2 = (2, 1 + 1) = (2, 2); + r1 = (3, 2).
    check_logits(w.reference_logits(0), {3, 2});
}

TEST_CASE("network: flatten takes a map in (h w c) order") {
    TempDir d("net");
    write_data(d, 1, {1, 2, 3, 4});  // (2, 2, 1)
    aimc::write_npy(d.file("c.npy"), {1, 1, 1, 2}, {1, 10});
    // Flattened conv output: 1, 10, 2, 20, 3, 30, 4, 40; column 0 picks index 1, column 1 index 6.
    std::vector<double> pick(8 * 2, 0);
    pick[1 * 2 + 0] = 1;
    pick[6 * 2 + 1] = 1;
    aimc::write_npy(d.file("p.npy"), {8, 2}, pick);
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{type: conv2d, weight: c.npy}", "{type: flatten}"}));
    check_logits(load(d).reference_logits(0), {1, 10, 2, 20, 3, 30, 4, 40});
    d.write("workload.yaml",
            workload_yaml("[2, 2, 1]", {"{type: conv2d, weight: c.npy}", "{type: flatten}", "{type: dense, weight: p.npy}"}));
    check_logits(load(d).reference_logits(0), {10, 4});
    // A dense layer takes a map without flatten, in the same order.
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{type: conv2d, weight: c.npy}", "{type: dense, weight: p.npy}"}));
    check_logits(load(d).reference_logits(0), {10, 4});
}

TEST_CASE("network: activation relu on a layer equals a relu layer after it") {
    TempDir d("net");
    write_data(d, 1, {1, 2});
    aimc::write_npy(d.file("w.npy"), {2, 3}, {1, -1, 0, 0, 0, -1});
    d.write("workload.yaml", workload_yaml("[2]", {"{type: dense, weight: w.npy, activation: relu}"}));
    Workload a = load(d);
    CHECK(a.network[0].relu);
    CHECK(a.network[0].bias.data == std::vector<double>{0, 0, 0});  // no bias: zeros
    check_logits(a.reference_logits(0), {1, 0, 0});
    d.write("workload.yaml", workload_yaml("[2]", {"{type: dense, weight: w.npy}", "{type: relu}"}));
    check_logits(load(d).reference_logits(0), {1, 0, 0});
}

TEST_CASE("network: conv2d matches a direct loop implementation") {
    // Cin 3, Cout 5, a 3x2 kernel, stride 2, padding 2 on a 7x6 map, four samples; then relu,
    // maxpool 2, flatten and a dense layer, against plain loops in double precision.
    TempDir d("net");
    std::mt19937 rng(7);
    const std::size_t N = 4, H = 7, W = 6, C = 3, KH = 3, KW = 2, Co = 5, S = 2, P = 2;
    const std::size_t Ho = (H + 2 * P - KH) / S + 1, Wo = (W + 2 * P - KW) / S + 1;  // 5, 5
    const auto x = random_values(N * H * W * C, rng), k = random_values(KH * KW * C * Co, rng), b = random_values(Co, rng);
    const std::size_t Hp = Ho / 2, Wp = Wo / 2, F = Hp * Wp * Co;
    const auto wd = random_values(F * 3, rng), bd = random_values(3, rng);
    write_data(d, N, x);
    aimc::write_npy(d.file("k.npy"), {KH, KW, C, Co}, k);
    aimc::write_npy(d.file("b.npy"), {Co}, b);
    aimc::write_npy(d.file("wd.npy"), {F, 3}, wd);
    aimc::write_npy(d.file("bd.npy"), {3}, bd);
    d.write("workload.yaml", workload_yaml("[7, 6, 3]", {"{type: conv2d, weight: k.npy, bias: b.npy, stride: 2, padding: 2, activation: relu}",
                                                         "{type: maxpool, kernel: 2}", "{type: flatten}",
                                                         "{type: dense, weight: wd.npy, bias: bd.npy}"}));
    Workload w = load(d);
    CHECK(w.network[0].out_shape == aimc::Shape{Ho, Wo, Co});
    CHECK(w.network_macs_per_sample() == Ho * Wo * KH * KW * C * Co + F * 3);
    const std::vector<float> batch = w.reference_logits_batch(0, N);
    REQUIRE(batch.size() == N * 3);
    for (std::size_t n = 0; n < N; ++n) {
        std::vector<double> y(Ho * Wo * Co);
        for (std::size_t oy = 0; oy < Ho; ++oy)
            for (std::size_t ox = 0; ox < Wo; ++ox)
                for (std::size_t co = 0; co < Co; ++co) {
                    double acc = b[co];
                    for (std::size_t ky = 0; ky < KH; ++ky)
                        for (std::size_t kx = 0; kx < KW; ++kx)
                            for (std::size_t c = 0; c < C; ++c) {
                                const long iy = long(oy * S + ky) - long(P), ix = long(ox * S + kx) - long(P);
                                if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) continue;
                                acc += x[n * H * W * C + (std::size_t(iy) * W + std::size_t(ix)) * C + c] *
                                       k[((ky * KW + kx) * C + c) * Co + co];
                            }
                    y[(oy * Wo + ox) * Co + co] = std::max(acc, 0.0);
                }
        std::vector<double> p(F);
        for (std::size_t py = 0; py < Hp; ++py)
            for (std::size_t px = 0; px < Wp; ++px)
                for (std::size_t co = 0; co < Co; ++co) {
                    double m = -1e300;
                    for (std::size_t dy = 0; dy < 2; ++dy)
                        for (std::size_t dx = 0; dx < 2; ++dx) m = std::max(m, y[((2 * py + dy) * Wo + 2 * px + dx) * Co + co]);
                    p[(py * Wp + px) * Co + co] = m;
                }
        std::vector<double> want(3);
        for (std::size_t o = 0; o < 3; ++o) {
            want[o] = bd[o];
            for (std::size_t i = 0; i < F; ++i) want[o] += p[i] * wd[i * 3 + o];
        }
        INFO("sample " << n);
        check_logits(w.reference_logits(n), want, 1e-4);
        for (std::size_t o = 0; o < 3; ++o) CHECK(batch[n * 3 + o] == Approx(want[o]).margin(1e-4));
    }
}

// ---- data --------------------------------------------------------------------------------------

namespace {

std::string idx_bytes(const std::vector<std::size_t>& shape, const std::vector<std::uint8_t>& data) {
    std::string b = {0, 0, 8, static_cast<char>(shape.size())};
    for (std::size_t dim : shape)
        for (int k = 3; k >= 0; --k) b += static_cast<char>((dim >> (8 * k)) & 0xff);
    b.append(data.begin(), data.end());
    return b;
}

void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

}  // namespace

TEST_CASE("network: idx data with scale and offset") {
    TempDir d("data");
    // Two 2x3 images and their labels, the images gzip-compressed.
    write_gz(d.file("img.gz"), idx_bytes({2, 2, 3}, {0, 51, 102, 153, 204, 255, 10, 20, 30, 40, 50, 60}));
    d.write("lab", idx_bytes({2}, {1, 0}));
    aimc::write_npy(d.file("w.npy"), {6, 2}, std::vector<double>(12, 1));
    d.write("workload.yaml", "name: i\ngenerator: peak\ndata:\n  format: idx\n  inputs: img.gz\n  labels: lab\n"
                             "  scale: 0.01\n  offset: -1\ninput_shape: [2, 3, 1]\nnetwork:\n  - {type: flatten}\n"
                             "  - {type: dense, weight: w.npy}\n");
    Workload w = load(d);
    REQUIRE(w.inputs);
    CHECK(w.inputs->shape == std::vector<std::size_t>{2, 6});
    const std::vector<float> want = {-1.0f, -0.49f, 0.02f, 0.53f, 1.04f, 1.55f, -0.9f, -0.8f, -0.7f, -0.6f, -0.5f, -0.4f};
    REQUIRE(w.inputs->data.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) CHECK(w.inputs->data[i] == Approx(want[i]).margin(1e-6));
    CHECK(w.labels == std::vector<long long>{1, 0});
    CHECK(w.network.input_shape == aimc::Shape{2, 3, 1});
    check_logits(w.reference_logits(1), {-3.9, -3.9});
}

TEST_CASE("network: npy inputs of shape (N H W C) are flattened per sample") {
    TempDir d("data");
    aimc::write_npy(d.file("in.npy"), {2, 2, 2, 1}, {1, 2, 3, 4, 5, 6, 7, 8});
    aimc::write_npy(d.file("lab.npy"), {2}, {0, 0});
    d.write("workload.yaml", "name: n\ngenerator: peak\ndata: {format: npy, inputs: in.npy, labels: lab.npy, scale: 2}\n"
                             "input_shape: [2, 2, 1]\nnetwork:\n  - {type: maxpool, kernel: 2}\n");
    Workload w = load(d);
    CHECK(w.inputs->shape == std::vector<std::size_t>{2, 4});
    CHECK(w.inputs->data == std::vector<float>{2, 4, 6, 8, 10, 12, 14, 16});
    check_logits(w.reference_logits(1), {16});
}

TEST_CASE("network: input_shape defaults to the features of the data") {
    TempDir d("data");
    write_data(d, 1, {1, 2, 3});
    aimc::write_npy(d.file("w.npy"), {3, 1}, {1, 1, 1});
    d.write("workload.yaml", "name: n\ngenerator: peak\ndata: {inputs: in.npy, labels: lab.npy}\nnetwork:\n"
                             "  - {type: dense, weight: w.npy}\n");
    Workload w = load(d);
    CHECK(w.network.input_shape == aimc::Shape{3});
    CHECK(w.network.output_size() == 1);
}

TEST_CASE("network: the Fashion-MNIST test set as idx data") {
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz")) {
        WARN("dataset-fashion-mnist is not installed: skipped");
        return;
    }
    TempDir d("fmnist");
    aimc::write_npy(d.file("w.npy"), {784, 10}, std::vector<double>(7840, 0.001));
    d.write("workload.yaml", "name: f\ngenerator: peak\ndata:\n  format: idx\n  inputs: " + dir +
                                 "t10k-images-idx3-ubyte.gz\n  labels: " + dir +
                                 "t10k-labels-idx1-ubyte.gz\n  scale: 0.00392156862745098\ninput_shape: [28, 28, 1]\n"
                                 "network:\n  - {type: flatten}\n  - {type: dense, weight: w.npy}\n");
    Workload w = load(d);
    CHECK(w.inputs->shape == std::vector<std::size_t>{10000, 784});
    CHECK(w.labels.size() == 10000);
    CHECK(*std::max_element(w.inputs->data.begin(), w.inputs->data.end()) == 1.0f);
    CHECK(*std::min_element(w.inputs->data.begin(), w.inputs->data.end()) == 0.0f);
    CHECK(w.reference_logits(9999).size() == 10);
}

// ---- mistakes ------------------------------------------------------------------------------------

namespace {

// A fixture folder: data of 2 samples with 4 features, dense weights 4x3 and 3x2, conv weights.
void write_fixture(const TempDir& d) {
    write_data(d, 2, {1, 2, 3, 4, 5, 6, 7, 8});
    aimc::write_npy(d.file("w1.npy"), {4, 3}, std::vector<double>(12, 0.5));
    aimc::write_npy(d.file("b1.npy"), {3}, {0, 0, 0});
    aimc::write_npy(d.file("w2.npy"), {3, 2}, std::vector<double>(6, 0.5));
    aimc::write_npy(d.file("k.npy"), {2, 2, 1, 2}, std::vector<double>(8, 1));
    aimc::write_npy(d.file("v2.npy"), {2}, {1, 1});
    aimc::write_npy(d.file("v3.npy"), {3}, {1, 1, 1});
}

}  // namespace

TEST_CASE("network: a missing weight file names the npy file") {
    TempDir d("err");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: gone.npy}"}));
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") + ":8:38: network[0].weight: " + d.file("gone.npy") +
                                                     ": cannot open file (No such file or directory)"});
}

TEST_CASE("network: NaN weights name the file and the element") {
    TempDir d("err");
    write_fixture(d);
    aimc::write_npy(d.file("nan.npy"), {4, 3}, {0, 1, 2, 3, 4, std::nan(""), 6, 7, 8, 9, 10, 11});
    aimc::write_npy(d.file("inf.npy"), {3}, {0, -INFINITY, 0});
    d.write("workload.yaml", workload_yaml("[4]", {"{type: dense, weight: nan.npy, bias: inf.npy}"}));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":8:27: network[0].weight: " + d.file("nan.npy") + ": element 5 is NaN (only finite values are accepted)",
                                f + ":8:42: network[0].bias: " + d.file("inf.npy") + ": element 1 is -Inf (only finite values are accepted)"});
}

TEST_CASE("network: dense inputs that do not match the layer before") {
    TempDir d("err");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: w1.npy}", "{name: fc2, type: dense, weight: w1.npy}"}));
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") +
                                                     ":9:38: network[1].weight: dense 'fc2': has 4 inputs, expected 3 (the output of "
                                                     "'fc1', shape (3,))"});
}

TEST_CASE("network: conv2d input channels that do not match the map") {
    TempDir d("err");
    write_fixture(d);
    aimc::write_npy(d.file("k3.npy"), {1, 1, 3, 2}, std::vector<double>(6, 1));
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{name: c, type: conv2d, weight: k3.npy}"}));
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") +
                                                     ":8:37: network[0].weight: conv2d 'c': has 3 input channels, expected 1 (the "
                                                     "input, shape (2, 2, 1))"});
}

TEST_CASE("network: conv2d on a vector asks for input_shape") {
    TempDir d("err");
    write_fixture(d);
    d.write("workload.yaml", "name: net\ngenerator: peak\ndata: {inputs: in.npy, labels: lab.npy}\nnetwork:\n"
                             "  - {type: conv2d, weight: k.npy}\n");
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") +
                                                     ":5:5: network[0]: conv2d 'conv2d_0': needs an (H, W, C) map as input, got the "
                                                     "input, shape (4,) (give input_shape: [H, W, C])"});
}

TEST_CASE("network: a kernel larger than the padded map") {
    TempDir d("err");
    write_fixture(d);
    aimc::write_npy(d.file("k5.npy"), {5, 1, 1, 1}, std::vector<double>(5, 1));
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{type: conv2d, weight: k5.npy, padding: 1}"}));
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") +
                                                     ":8:28: network[0].weight: conv2d 'conv2d_0': the 5x1 kernel is larger "
                                                     "than the padded input map (the input, shape (2, 2, 1), padding 1)"});
}

TEST_CASE("network: weights of the wrong rank") {
    TempDir d("err");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{type: conv2d, weight: w1.npy}", "{type: flatten}",
                                                         "{type: dense, weight: k.npy}"}));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":8:28: network[0].weight: expected a 4-D (KH, KW, Cin, Cout) array, got shape (4, 3)",
                                f + ":10:27: network[2].weight: expected a 2-D (inputs, outputs) matrix, got shape (2, 2, 1, 2)"});
}

TEST_CASE("network: bias and batchnorm vectors of the wrong length") {
    TempDir d("err");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[4]", {"{type: dense, weight: w1.npy, bias: v2.npy}",
                                                   "{type: batchnorm, gamma: v3.npy, beta: v3.npy, mean: v2.npy, var: v3.npy}"}));
    const std::string f = d.file("workload.yaml");
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":8:41: network[0].bias: has 2 values, expected 3 (one per output)",
                                f + ":9:58: network[1].mean: batchnorm 'batchnorm_1': has 2 values, expected 3 (one per channel of "
                                    "the output of 'dense_0', shape (3,))"});
}

TEST_CASE("network: batchnorm must follow a dense or conv2d layer") {
    TempDir d("err");
    write_fixture(d);
    const std::string bn = "{type: batchnorm, gamma: v3.npy, beta: v3.npy, mean: v3.npy, var: v3.npy}";
    const std::string f = d.file("workload.yaml");
    d.write("workload.yaml", workload_yaml("[4]", {"{type: dense, weight: w1.npy}", "{name: r, type: relu}", bn}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":10:12: network[2].type: batchnorm must directly follow a dense or "
                                                         "conv2d layer (it is folded into it), but follows relu 'r'"});
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc, type: dense, weight: w1.npy, activation: relu}", bn}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":9:12: network[1].type: batchnorm must directly follow a dense or "
                                                         "conv2d layer (it is folded into it), but dense 'fc' has activation: "
                                                         "relu, which would come before the normalisation"});
    d.write("workload.yaml", workload_yaml("[3]", {bn}));
    aimc::write_npy(d.file("in.npy"), {2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(load_errors(d) == std::vector<std::string>{f + ":8:12: network[0].type: batchnorm must directly follow a dense or "
                                                         "conv2d layer (it is folded into it), but it is the first layer"});
}

TEST_CASE("network: bad from of an add") {
    TempDir d("err");
    write_fixture(d);
    const std::string f = d.file("workload.yaml");
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: w1.npy}", "{type: add, from: nowhere}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":9:23: network[1].from: add 'add_1': no earlier layer is named 'nowhere'"});
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: w1.npy}", "{name: a, type: add, from: a}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":9:32: network[1].from: add 'a': no earlier layer is named 'a' (an add "
                                                         "adds the output of a layer before it)"});
    d.write("workload.yaml", workload_yaml("[4]", {"{name: r, type: relu}", "{name: fc1, type: dense, weight: w1.npy}",
                                                   "{type: add, from: r}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":10:23: network[2].from: add 'add_2': the output of 'r' has shape (4,), "
                                                         "the output of 'fc1', shape (3,) (an add needs the same shape)"});
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: w1.npy}",
                                                   "{name: bn, type: batchnorm, gamma: v3.npy, beta: v3.npy, mean: v3.npy, var: v3.npy}",
                                                   "{type: add, from: fc1}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":10:23: network[2].from: add 'add_2': the output of 'fc1' is normalised "
                                                         "by batchnorm 'bn', which is folded into it: name 'bn' instead"});
}

TEST_CASE("network: unknown keys and types") {
    TempDir d("err");
    write_fixture(d);
    const std::string f = d.file("workload.yaml");
    d.write("workload.yaml", workload_yaml("[4]", {"{type: dense, weight: w1.npy, stride: 2}", "{type: softmax}"}));
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":8:35: network[0].stride: unknown key for a dense layer; expected one of name, type, weight, "
                                    "bias, activation",
                                f + ":9:12: network[1].type: unknown layer type \"softmax\"; known: dense, conv2d, batchnorm, relu, "
                                    "maxpool, avgpool, flatten, add, argmax"});
}

TEST_CASE("network: name and argmax and input_shape mistakes") {
    TempDir d("err");
    write_fixture(d);
    const std::string f = d.file("workload.yaml");
    d.write("workload.yaml", workload_yaml("[4]", {"{name: a, type: relu}", "{name: a, type: relu}", "{name: 'x y', type: relu}"}));
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":9:12: network[1].name: duplicate layer name 'a' (also network[0])",
                                f + ":10:12: network[2].name: \"x y\": a layer name may only have letters, digits, '_', '-' and '.'"});
    d.write("workload.yaml", workload_yaml("[4]", {"{type: argmax}", "{type: relu}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":8:12: network[0].type: argmax must be the last layer"});
    d.write("workload.yaml", workload_yaml("[3, 1, 1]", {"{type: relu}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":6:14: input_shape: (3, 1, 1) has 3 values per sample, the data set "
                                                         "has 4 features"});
    d.write("workload.yaml", workload_yaml("[2, 2]", {"{type: relu}"}));
    CHECK(load_errors(d) == std::vector<std::string>{f + ":6:14: input_shape: expected [n] or [H, W, C] with positive integers"});
    d.write("workload.yaml", workload_yaml("[2, 2, 1]", {"{type: maxpool, kernel: 3}", "{type: avgpool}"}));
    CHECK(load_errors(d) == std::vector<std::string>{
                                f + ":8:29: network[0].kernel: maxpool 'maxpool_0': a 3x3 window does not fit in the input, shape "
                                    "(2, 2, 1)",
                                f + ":9:5: network[1].kernel: missing required key"});
}

TEST_CASE("network: data mistakes") {
    TempDir d("err");
    write_fixture(d);
    const std::string f = d.file("workload.yaml");
    d.write("img", idx_bytes({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}));
    d.write("workload.yaml", "name: n\ngenerator: peak\ndata: {format: csv, inputs: in.npy, labels: lab.npy, scale: big}\n");
    CHECK(load_errors(d) == std::vector<std::string>{f + ":3:16: data.format: expected idx or npy, got \"csv\"",
                                                     f + ":3:61: data.scale: expected a number, got \"big\""});
    d.write("workload.yaml", "name: n\ngenerator: peak\ndata: {format: idx, inputs: img, labels: img}\n");
    CHECK(load_errors(d) == std::vector<std::string>{f + ":3:29: data.inputs: expected IDX images (samples, H, W), got 2 dimensions",
                                                     f + ":3:42: data.labels: expected a 1-D array of class indices"});
    d.write("workload.yaml", "name: n\ngenerator: peak\ninput_shape: [4]\n");
    CHECK(load_errors(d) == std::vector<std::string>{f + ":3:1: input_shape: only used with a network:"});
}

TEST_CASE("network: a truncated idx file names the file") {
    TempDir d("err");
    const std::string img = idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    d.write("img", img.substr(0, img.size() - 3));
    d.write("lab", idx_bytes({2}, {0, 1}));
    d.write("workload.yaml", "name: n\ngenerator: peak\ndata:\n  format: idx\n  inputs: img\n  labels: lab\n");
    CHECK(load_errors(d) == std::vector<std::string>{d.file("workload.yaml") + ":5:11: data.inputs: " + d.file("img") +
                                                     ": truncated: the header promises 8 bytes of data, the file has 5"});
}

// ---- through the command line: exit code 1, the file named ----------------------------------------

namespace {

aimc_test::CommandResult map_cli(const TempDir& d) {
    return aimc_test::run_command(aimc_test::cli() + " map --chip configs/hermes.yaml --workload '" + d.path.string() + "'");
}

}  // namespace

TEST_CASE("network: cli exit code 1 for a missing weight file") {
    TempDir d("cli");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: gone.npy}"}));
    auto r = map_cli(d);
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: " + d.file("workload.yaml") + ":8:38: network[0].weight: " + d.file("gone.npy") +
                          ": cannot open file (No such file or directory)\n1 error(s)\n");
}

TEST_CASE("network: cli exit code 1 for a shape mismatch") {
    TempDir d("cli");
    write_fixture(d);
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: w2.npy}"}));
    auto r = map_cli(d);
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: " + d.file("workload.yaml") +
                          ":8:38: network[0].weight: dense 'fc1': has 3 inputs, expected 4 (the input, shape (4,))\n1 error(s)\n");
}

TEST_CASE("network: cli exit code 1 for NaN weights") {
    TempDir d("cli");
    write_fixture(d);
    aimc::write_npy(d.file("nan.npy"), {4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, std::nan("")});
    d.write("workload.yaml", workload_yaml("[4]", {"{name: fc1, type: dense, weight: nan.npy}"}));
    auto r = map_cli(d);
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: " + d.file("workload.yaml") + ":8:38: network[0].weight: " + d.file("nan.npy") +
                          ": element 11 is NaN (only finite values are accepted)\n1 error(s)\n");
}

TEST_CASE("network: cli exit code 1 for a truncated idx file") {
    TempDir d("cli");
    aimc::write_npy(d.file("w.npy"), {8, 2}, std::vector<double>(16, 1));
    const std::string img = idx_bytes({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    write_gz(d.file("img.gz"), img.substr(0, img.size() - 1));
    d.write("lab", idx_bytes({2}, {0, 1}));
    d.write("workload.yaml", "name: n\ndata:\n  format: idx\n  inputs: img.gz\n  labels: lab\nnetwork:\n"
                             "  - {type: dense, weight: w.npy}\n");
    auto r = aimc_test::run_command(aimc_test::cli() + " run --chip configs/tiny.yaml --workload '" + d.path.string() + "'");
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: " + d.file("workload.yaml") + ":4:11: data.inputs: " + d.file("img.gz") +
                          ": truncated: the header promises 8 bytes of data, the file has 7\n1 error(s)\n");
}
