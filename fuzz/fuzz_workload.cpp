// libFuzzer harness: the workload loader (sim/workload.hpp load_workload, with the network reader
// of sim/network.hpp and the mapper of sim/mapper.hpp) on the fuzzer's text as workload.yaml, for
// configs/tiny.yaml (4 cores, 64x64 crossbars). The folder also holds small data and weight files
// that the seeds name (written once at startup, see setup_files), so that the fuzzer gets past
// the file reads into shape inference, batchnorm folding, mapping, the traffic section and the
// trace. An accepted workload with a network and data then runs the float reference on its first
// samples (shapes that passed the checks must be safe to compute with).
#include <zlib.h>

#include <algorithm>
#include <fstream>

#include "fuzz/fuzz_common.hpp"
#include "sim/config.hpp"
#include "sim/npy.hpp"
#include "sim/workload.hpp"

namespace fs = std::filesystem;

namespace {

// Deterministic values in [-1, 1).
std::vector<double> values(std::size_t n, unsigned seed) {
    std::vector<double> v(n);
    std::uint32_t x = 2463534242u + seed * 7919u;
    for (auto& e : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        e = static_cast<double>(x % 2000) / 1000.0 - 1.0;
    }
    return v;
}

void npy(const fs::path& p, const std::vector<std::size_t>& shape, unsigned seed) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    fs::create_directories(p.parent_path());
    aimc::write_npy(p.string(), shape, values(n, seed));
}

void write(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

void write_gz(const fs::path& p, const std::string& bytes) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
}

std::string idx_header(const std::vector<std::uint32_t>& shape) {
    std::string h = {0, 0, 8, static_cast<char>(shape.size())};
    for (auto d : shape)
        for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((d >> s) & 0xff);
    return h;
}

// The files the seeds of fuzz/corpus/workload name:
//   tiny-mlp's own files (fc1_w.npy 96x48, fc1_b.npy, fc2_w.npy 48x10, fc2_b.npy, inputs.npy
//   64x96, labels.npy, trace.txt); images.idx(.gz) (8, 8, 8) bytes and labels.idx(.gz) (8,);
//   img.npy (8, 8, 8, 1); x16.npy (8, 16); y.npy (8,) class indices; w16.npy (16, 10); w64.npy
//   (64, 10); and a small CNN in cnn/:
//   conv1_w (3,3,1,4), conv1_b (4), bn1_{gamma,beta,mean,var} (4), conv2_w (3,3,4,4), conv2_b,
//   bn2_* (4), fc1_w (16, 8), fc1_b (8), fc2_w (8, 10), fc2_b (10).
void setup_files(const fs::path& dir) {
    const fs::path tiny = aimc_fuzz::source_dir() + "/workloads/tiny-mlp";
    for (const auto& e : fs::directory_iterator(tiny))
        if (e.path().extension() == ".npy" || e.path().extension() == ".txt") fs::copy_file(e.path(), dir / e.path().filename());
    std::string images = idx_header({8, 8, 8}), labels = idx_header({8});
    for (int i = 0; i < 8 * 8 * 8; ++i) images += static_cast<char>((i * 37) & 0xff);
    for (int i = 0; i < 8; ++i) labels += static_cast<char>(i % 10);
    write(dir / "images.idx", images);
    write(dir / "labels.idx", labels);
    write_gz(dir / "images.idx.gz", images);
    write_gz(dir / "labels.idx.gz", labels);
    npy(dir / "img.npy", {8, 8, 8, 1}, 1);
    npy(dir / "x16.npy", {8, 16}, 2);
    std::vector<double> classes(8);
    for (int i = 0; i < 8; ++i) classes[static_cast<std::size_t>(i)] = i % 10;
    aimc::write_npy((dir / "y.npy").string(), {8}, classes);
    npy(dir / "w16.npy", {16, 10}, 3);
    npy(dir / "w64.npy", {64, 10}, 4);
    const fs::path cnn = dir / "cnn";
    npy(cnn / "conv1_w.npy", {3, 3, 1, 4}, 10);
    npy(cnn / "conv1_b.npy", {4}, 11);
    npy(cnn / "conv2_w.npy", {3, 3, 4, 4}, 12);
    npy(cnn / "conv2_b.npy", {4}, 13);
    for (const char* bn : {"bn1", "bn2"}) {
        npy(cnn / (std::string(bn) + "_gamma.npy"), {4}, 14);
        npy(cnn / (std::string(bn) + "_beta.npy"), {4}, 15);
        npy(cnn / (std::string(bn) + "_mean.npy"), {4}, 16);
        aimc::write_npy((cnn / (std::string(bn) + "_var.npy")).string(), {4}, {0.5, 1.0, 1.5, 2.0});
    }
    npy(cnn / "fc1_w.npy", {16, 8}, 17);
    npy(cnn / "fc1_b.npy", {8}, 18);
    npy(cnn / "fc2_w.npy", {8, 10}, 19);
    npy(cnn / "fc2_b.npy", {10}, 20);
}

fs::path& dir() {
    static fs::path d;
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    aimc_fuzz::quiet();
    dir() = aimc_fuzz::make_temp_dir("workload");
    setup_files(dir());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const aimc::ChipConfig chip = aimc::load_chip_config(aimc_fuzz::source_dir() + "/configs/tiny.yaml");
    write(dir() / "workload.yaml", aimc_fuzz::text(data, size));
    aimc::Workload w;
    const auto o = aimc_fuzz::run([&] { w = aimc::load_workload(dir().string(), chip); });
    if (!o.accepted || !w.has_network() || !w.inputs) return 0;
    aimc_fuzz::run([&] {
        const std::size_t n = std::min<std::size_t>(2, w.inputs->shape[0]);
        const std::vector<float> y = w.reference_logits_batch(0, n);
        aimc_fuzz::check(y.size() == n * w.network.output_size(), "reference logits of the wrong size");
    });
    return 0;
}
