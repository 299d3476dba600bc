// Tests for the IDX reader (sim/idx.*): round trips through files written here (plain and gzip),
// every malformed-file error with its exact message, and the Fashion-MNIST test set when the Debian
// package dataset-fashion-mnist is installed.
#include "sim/errors.hpp"
#include "sim/idx.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using aimc_test::TempDir;

namespace {

// IDX bytes: magic 00 00 TYPE NDIMS, big-endian sizes, then the data.
std::string idx_bytes(const std::vector<std::size_t>& shape, const std::vector<std::uint8_t>& data, unsigned type = 0x08) {
    std::string b = {0, 0, static_cast<char>(type), static_cast<char>(shape.size())};
    for (std::size_t d : shape)
        for (int k = 3; k >= 0; --k) b += static_cast<char>((d >> (8 * k)) & 0xff);
    b.append(data.begin(), data.end());
    return b;
}

std::vector<std::uint8_t> ramp(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 7) % 256);
    return v;
}

// Writes `bytes` gzip-compressed (one member) with zlib's gz* interface.
void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

std::string idx_error(const std::string& path) {
    try {
        aimc::read_idx(path);
    } catch (const aimc::InputError& e) {
        return e.what();
    }
    return "(no error)";
}

const std::string kFmnist = "/usr/share/datasets/fashion-mnist/";

}  // namespace

TEST_CASE("idx: images round trip through a plain file") {
    TempDir d("idx");
    const auto data = ramp(2 * 3 * 4);
    const std::string p = d.write("images-idx3-ubyte", idx_bytes({2, 3, 4}, data));
    aimc::IdxArray a = aimc::read_idx(p);
    CHECK(a.shape == std::vector<std::size_t>{2, 3, 4});
    CHECK(a.size() == 24);
    CHECK(a.data == data);
}

TEST_CASE("idx: labels round trip through a plain file") {
    TempDir d("idx");
    const std::vector<std::uint8_t> labels = {3, 0, 9, 9, 1};
    aimc::IdxArray a = aimc::read_idx(d.write("labels-idx1-ubyte", idx_bytes({5}, labels)));
    CHECK(a.shape == std::vector<std::size_t>{5});
    CHECK(a.data == labels);
}

TEST_CASE("idx: sizes above 255 are read big-endian") {
    TempDir d("idx");
    const auto data = ramp(300 * 2);
    aimc::IdxArray a = aimc::read_idx(d.write("big", idx_bytes({300, 2, 1}, data)));
    CHECK(a.shape == std::vector<std::size_t>{300, 2, 1});
    CHECK(a.data == data);
}

TEST_CASE("idx: a gzip file ending in .gz round trips") {
    TempDir d("idx");
    const auto data = ramp(7 * 5 * 3);
    write_gz(d.file("images.gz"), idx_bytes({7, 5, 3}, data));
    aimc::IdxArray a = aimc::read_idx(d.file("images.gz"));
    CHECK(a.shape == std::vector<std::size_t>{7, 5, 3});
    CHECK(a.data == data);
}

TEST_CASE("idx: a large gzip file inflates whole") {
    // Larger than zlib's and the reader's buffers, and more than the trailer's first guess needs.
    TempDir d("idx");
    const auto data = ramp(1000 * 28 * 28);
    write_gz(d.file("big.gz"), idx_bytes({1000, 28, 28}, data));
    aimc::IdxArray a = aimc::read_idx(d.file("big.gz"));
    CHECK(a.shape == std::vector<std::size_t>{1000, 28, 28});
    CHECK(a.data == data);
}

TEST_CASE("idx: concatenated gzip members are one stream") {
    TempDir d("idx");
    const std::string whole = idx_bytes({4}, {1, 2, 3, 4});
    write_gz(d.file("a.gz"), whole.substr(0, 6));
    write_gz(d.file("b.gz"), whole.substr(6));
    d.write("ab.gz", aimc_test::read_file(d.file("a.gz")) + aimc_test::read_file(d.file("b.gz")));
    aimc::IdxArray a = aimc::read_idx(d.file("ab.gz"));
    CHECK(a.shape == std::vector<std::size_t>{4});
    CHECK(a.data == std::vector<std::uint8_t>{1, 2, 3, 4});
}

TEST_CASE("idx: gunzip inflates in memory") {
    TempDir d("idx");
    write_gz(d.file("t.gz"), "hello, world");
    CHECK(aimc::gunzip(aimc_test::read_file(d.file("t.gz")), "t") == "hello, world");
}

TEST_CASE("idx: a missing file") {
    TempDir d("idx");
    CHECK(idx_error(d.file("nope-idx3-ubyte")) == d.file("nope-idx3-ubyte") + ": cannot open file (No such file or directory)");
    CHECK(idx_error(d.file("nope.gz")) == d.file("nope.gz") + ": cannot open file (No such file or directory)");
}

TEST_CASE("idx: bad magic number") {
    TempDir d("idx");
    const std::string p = d.write("x", "\x93NUMPY-not-idx");
    CHECK(idx_error(p) == p + ": not an IDX file: bad magic number 0x934E554D (expected 0x000008NN)");
    const std::string q = d.write("short", std::string("\x00\x00", 2));
    CHECK(idx_error(q) == q + ": not an IDX file: 2 bytes, shorter than the 4-byte magic number");
}

TEST_CASE("idx: wrong data type") {
    TempDir d("idx");
    const std::string p = d.write("floats", idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
    CHECK(idx_error(p) == p + ": unsupported IDX data type 0x0D (32-bit floats); only unsigned bytes (0x08) are supported");
    const std::string q = d.write("odd", idx_bytes({1}, {0}, 0x42));
    CHECK(idx_error(q) == q + ": unsupported IDX data type 0x42; only unsigned bytes (0x08) are supported");
}

TEST_CASE("idx: zero or too many dimensions") {
    TempDir d("idx");
    const std::string p = d.write("d0", std::string("\x00\x00\x08\x00", 4));
    CHECK(idx_error(p) == p + ": IDX file with 0 dimensions; expected 1 (labels) to 4");
    const std::string q = d.write("d5", idx_bytes({1, 1, 1, 1, 1}, {7}));
    CHECK(idx_error(q) == q + ": IDX file with 5 dimensions; expected 1 (labels) to 4");
}

TEST_CASE("idx: truncated data") {
    TempDir d("idx");
    std::string b = idx_bytes({2, 3, 4}, ramp(24));
    const std::string p = d.write("cut-idx3-ubyte", b.substr(0, b.size() - 4));
    CHECK(idx_error(p) == p + ": truncated: the header promises 24 bytes of data, the file has 20");
    const std::string q = d.write("cut-header", b.substr(0, 9));
    CHECK(idx_error(q) == q + ": truncated: the header needs 16 bytes, the file has 9");
}

TEST_CASE("idx: truncated data inside a gzip file") {
    TempDir d("idx");
    std::string b = idx_bytes({10}, ramp(10));
    write_gz(d.file("cut.gz"), b.substr(0, 12));
    CHECK(idx_error(d.file("cut.gz")) == d.file("cut.gz") + ": truncated: the header promises 10 bytes of data, the file has 4");
}

TEST_CASE("idx: trailing bytes") {
    TempDir d("idx");
    const std::string p = d.write("long", idx_bytes({2}, {1, 2, 3}));
    CHECK(idx_error(p) == p + ": unexpected trailing bytes: the header promises 2 bytes of data, the file has 3");
}

TEST_CASE("idx: corrupt gzip data") {
    TempDir d("idx");
    // A gzip header, then a deflate block of the reserved type 3.
    const std::string p = d.write("bad.gz", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x07\x00", 12));
    CHECK(idx_error(p) == p + ": corrupt gzip data (zlib: invalid block type)");
}

TEST_CASE("idx: a gzip file cut short") {
    TempDir d("idx");
    write_gz(d.file("whole.gz"), idx_bytes({1000}, ramp(1000)));
    const std::string gz = aimc_test::read_file(d.file("whole.gz"));
    const std::string p = d.write("cut.gz", gz.substr(0, gz.size() / 2));
    CHECK(idx_error(p) == p + ": corrupt gzip data: the compressed stream ends early (truncated file)");
}

TEST_CASE("idx: a plain file named .gz") {
    TempDir d("idx");
    const std::string p = d.write("plain.gz", idx_bytes({2}, {1, 2}));
    CHECK(idx_error(p) == p + ": corrupt gzip data: not a gzip file (missing the 1F 8B magic)");
}

TEST_CASE("idx: the Fashion-MNIST test set") {
    if (!std::filesystem::exists(kFmnist + "t10k-images-idx3-ubyte.gz")) {
        WARN("dataset-fashion-mnist is not installed: skipped");
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    aimc::IdxArray images = aimc::read_idx(kFmnist + "t10k-images-idx3-ubyte.gz");
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    aimc::IdxArray labels = aimc::read_idx(kFmnist + "t10k-labels-idx1-ubyte.gz");
    CHECK(images.shape == std::vector<std::size_t>{10000, 28, 28});
    CHECK(images.data.size() == 10000u * 28 * 28);
    REQUIRE(labels.shape == std::vector<std::size_t>{10000});
    std::array<int, 10> count{};
    for (std::uint8_t l : labels.data) {
        REQUIRE(l <= 9);
        ++count[l];
    }
    for (int c : count) CHECK(c == 1000);  // the test set is balanced
    // A few tens of ms on a laptop core; generous here so that a loaded machine does not fail it.
    INFO("read in " << ms << " ms");
    CHECK(ms < 1000);
}
