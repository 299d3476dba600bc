// Tests for the .npy reader/writer. Files are assembled byte by byte here so every header and
// payload variant (and every kind of damage) is explicit; no Python needed.
#include "sim/errors.hpp"
#include "sim/npy.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

using aimc::NpyArray;
using aimc::parse_npy;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// Error message for file "t.npy" that mentions `what` (a macro: Catch matchers combined with &&
// hold pointers to their parts, so they must not outlive the full expression).
#define NPY_ERROR(what) (StartsWith("t.npy: ") && Contains(what))

std::string le(std::uint64_t v, std::size_t width) {
    std::string out;
    for (std::size_t i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

// Payloads: integers as two's complement, floats by bit pattern, all little-endian.
std::string ints(std::initializer_list<std::int64_t> values, std::size_t width) {
    std::string out;
    for (std::int64_t v : values) out += le(static_cast<std::uint64_t>(v), width);
    return out;
}
std::string uints(std::initializer_list<std::uint64_t> values, std::size_t width) {
    std::string out;
    for (std::uint64_t v : values) out += le(v, width);
    return out;
}
std::string f32s(std::initializer_list<float> values) {
    std::string out;
    for (float v : values) {
        std::uint32_t u;
        std::memcpy(&u, &v, 4);
        out += le(u, 4);
    }
    return out;
}
std::string f64s(std::initializer_list<double> values) {
    std::string out;
    for (double v : values) {
        std::uint64_t u;
        std::memcpy(&u, &v, 8);
        out += le(u, 8);
    }
    return out;
}

// magic + version + header length + header (padded with spaces and '\n' to a 64-byte
// boundary, as numpy does) + payload.
std::string npy_file(const std::string& dict, const std::string& payload, int major = 1,
                     int minor = 0) {
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    header.append((64 - (8 + len_bytes + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += static_cast<char>(minor);
    return out + le(header.size(), len_bytes) + header + payload;
}

std::string npy(const std::string& descr, const std::string& shape, const std::string& payload,
                int major = 1) {
    return npy_file("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }",
                    payload, major);
}

std::vector<double> values(const std::string& descr, const std::string& shape,
                           const std::string& payload) {
    return parse_npy(npy(descr, shape, payload), "t.npy").data;
}

using V = std::vector<double>;

}  // namespace

TEST_CASE("npy: float dtypes round-trip exact values") {
    const float fmax = std::numeric_limits<float>::max();
    const float fden = std::numeric_limits<float>::denorm_min();
    CHECK(values("<f4", "(5,)", f32s({1.5f, -2.25f, 0.1f, fmax, fden})) ==
          V{1.5, -2.25, static_cast<double>(0.1f), static_cast<double>(fmax), static_cast<double>(fden)});
    const double dmax = std::numeric_limits<double>::max();
    const V d = values("<f8", "(4,)", f64s({0.1, -1e-300, dmax, -0.0}));
    CHECK(d == V{0.1, -1e-300, dmax, 0.0});
    CHECK(std::signbit(d[3]));
    CHECK(values("=f8", "(1,)", f64s({-7.125})) == V{-7.125});
    CHECK(values("=f4", "(1,)", f32s({3.0f})) == V{3.0});
}

TEST_CASE("npy: signed integer dtypes round-trip exact values") {
    CHECK(values("<i1", "(4,)", ints({-128, -1, 0, 127}, 1)) == V{-128, -1, 0, 127});
    CHECK(values("|i1", "(2,)", ints({-5, 5}, 1)) == V{-5, 5});
    CHECK(values("<i2", "(3,)", ints({-32768, -300, 32767}, 2)) == V{-32768, -300, 32767});
    CHECK(values("<i4", "(3,)", ints({-2147483648LL, -1, 2147483647}, 4)) ==
          V{-2147483648.0, -1, 2147483647.0});
    const std::int64_t i64min = std::numeric_limits<std::int64_t>::min();
    CHECK(values("<i8", "(4,)", ints({i64min, -9007199254740992LL, -1, 9007199254740992LL}, 8)) ==
          V{-9223372036854775808.0, -9007199254740992.0, -1, 9007199254740992.0});
    CHECK(values("=i4", "(1,)", ints({-42}, 4)) == V{-42});
}

TEST_CASE("npy: unsigned and bool dtypes round-trip exact values") {
    CHECK(values("<u1", "(3,)", uints({0, 128, 255}, 1)) == V{0, 128, 255});
    CHECK(values("|u1", "(1,)", uints({255}, 1)) == V{255});
    CHECK(values("<u2", "(2,)", uints({1, 65535}, 2)) == V{1, 65535});
    CHECK(values("<u4", "(2,)", uints({2147483648ULL, 4294967295ULL}, 4)) ==
          V{2147483648.0, 4294967295.0});
    CHECK(values("<u8", "(2,)", uints({9007199254740992ULL, 18446744073709551615ULL}, 8)) ==
          V{9007199254740992.0, 18446744073709551616.0});
    CHECK(values("|b1", "(3,)", uints({1, 0, 1}, 1)) == V{1, 0, 1});
    // One-byte types have no byte order, so '>' is harmless there.
    CHECK(values(">u1", "(1,)", uints({200}, 1)) == V{200});
}

TEST_CASE("npy: shapes") {
    SECTION("scalar ()") {
        const NpyArray a = parse_npy(npy("<f8", "()", f64s({3.25})), "t.npy");
        CHECK(a.shape.empty());
        CHECK(a.size() == 1);
        CHECK(a.data == V{3.25});
        CHECK(a.dtype == "<f8");
    }
    SECTION("1-D (5,)") {
        const NpyArray a = parse_npy(npy("<i2", "(5,)", ints({1, 2, 3, 4, 5}, 2)), "t.npy");
        CHECK(a.shape == std::vector<std::size_t>{5});
        CHECK(a.size() == 5);
        CHECK(a.dtype == "<i2");
        CHECK_THROWS_AS(a.rows(), aimc::InternalError);
    }
    SECTION("2-D (3, 4) in C order") {
        std::string payload;
        for (int i = 0; i < 12; ++i) payload += f32s({static_cast<float>(i)});
        const NpyArray a = parse_npy(npy("<f4", "(3, 4)", payload), "t.npy");
        CHECK(a.rows() == 3);
        CHECK(a.cols() == 4);
        CHECK(a.size() == 12);
        CHECK(a.data[1 * 4 + 2] == 6.0);  // row 1, column 2
    }
    SECTION("3-D (2, 3, 4)") {
        std::string payload;
        for (int i = 0; i < 24; ++i) payload += ints({-i}, 8);
        const NpyArray a = parse_npy(npy("<i8", "(2, 3, 4)", payload), "t.npy");
        CHECK(a.shape == std::vector<std::size_t>{2, 3, 4});
        CHECK(a.data.size() == 24);
        CHECK(a.data[(1 * 3 + 2) * 4 + 3] == -23.0);
    }
    SECTION("empty (0,) and (3, 0)") {
        CHECK(parse_npy(npy("<f8", "(0,)", ""), "t.npy").data.empty());
        const NpyArray a = parse_npy(npy("<f4", "(3, 0)", ""), "t.npy");
        CHECK(a.size() == 0);
        CHECK(a.rows() == 3);
    }
}

TEST_CASE("npy: header parsing tolerates spacing, key order and quoting") {
    const std::string two = f64s({1, 2});
    for (const char* dict : {
             "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}",
             "{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(2,)}",
             "{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 2 , ) , }",
             "{'descr': '<f8', 'fortran_order': False, 'shape': (2)}",
             "{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }",
             "{'descr':\t'<f8',\r\n'fortran_order': False, 'shape': (2,),}",
         }) {
        INFO(dict);
        CHECK(parse_npy(npy_file(dict, two), "t.npy").data == V{1, 2});
    }
    const std::string twelve = f64s({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK(parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4,), }", twelve),
                    "t.npy").shape == std::vector<std::size_t>{3, 4});
    // Fortran order is meaningless for 1-D data, so it is accepted there.
    CHECK(parse_npy(npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", two),
                    "t.npy").data == V{1, 2});
}

TEST_CASE("npy: version 2.0 and 3.0 headers") {
    CHECK(parse_npy(npy("<i2", "(3,)", ints({1, -2, 3}, 2), 2), "t.npy").data == V{1, -2, 3});
    CHECK(parse_npy(npy("<u4", "(2, 1)", uints({7, 8}, 4), 3), "t.npy").data == V{7, 8});
}

TEST_CASE("npy: reads the exact bytes numpy wrote") {
    // np.save(f, np.array([[1.5, -2.25, 3.0], [0.1, 1e30, -0.0]], dtype=np.float32)), numpy 1.24
    const char raw[] =
        "\223NUMPY\001\000v\000"
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        "                                                          \012"
        "\000\000\300?\000\000\020\300\000\000@@\315\314\314=\312\362Iq\000\000\000\200";
    const NpyArray a = parse_npy(std::string(raw, sizeof raw - 1), "t.npy");
    CHECK(a.dtype == "<f4");
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.data == V{1.5, -2.25, 3.0, static_cast<double>(0.1f), static_cast<double>(1e30f), -0.0});
    CHECK(std::signbit(a.data[5]));
}

TEST_CASE("npy: write_npy then read_npy round trip") {
    namespace fs = std::filesystem;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    const fs::path path = fs::temp_directory_path() / ("aimc_test_npy_" + std::to_string(stamp) + ".npy");
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove(p, ec);
        }
    } cleanup{path};

    const V data{0.1, -1e-300, 1e300, -0.0, 42, -7.5};
    aimc::write_npy(path.string(), {2, 3}, data);
    CHECK(fs::file_size(path) == 128 + 6 * 8);  // data starts on a 64-byte boundary
    NpyArray a = aimc::read_npy(path.string());
    CHECK(a.dtype == "<f8");
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.data == data);

    aimc::write_npy(path.string(), {}, {2.5});
    a = aimc::read_npy(path.string());
    CHECK(a.shape.empty());
    CHECK(a.data == V{2.5});

    aimc::write_npy(path.string(), {4}, {1, 2, 3, 4});
    CHECK(aimc::read_npy(path.string()).data == V{1, 2, 3, 4});

    CHECK_THROWS_AS(aimc::write_npy(path.string(), {2, 2}, {1, 2, 3}), aimc::InternalError);
    const std::string bad_dir = (path.parent_path() / "aimc_no_such_dir_xyz" / "w.npy").string();
    REQUIRE_THROWS_WITH(aimc::write_npy(bad_dir, {1}, {1}),
                        StartsWith(bad_dir + ": cannot open file for writing ("));
}

TEST_CASE("npy: missing file") {
    REQUIRE_THROWS_AS(aimc::read_npy("no/such/dir/w.npy"), aimc::InputError);
    REQUIRE_THROWS_WITH(aimc::read_npy("no/such/dir/w.npy"),
                        "no/such/dir/w.npy: cannot open file (No such file or directory)");
}

TEST_CASE("npy: rejects bad magic, versions and truncated preambles") {
    const std::string good = npy("<f8", "(1,)", f64s({1}));
    REQUIRE_THROWS_WITH(parse_npy("", "t.npy"), NPY_ERROR("not a .npy file"));
    REQUIRE_THROWS_WITH(parse_npy("\x93NUMPZ" + good.substr(6), "t.npy"), NPY_ERROR("not a .npy file"));
    REQUIRE_THROWS_WITH(parse_npy("a,b\n1,2\n", "t.npy"), NPY_ERROR("not a .npy file"));
    REQUIRE_THROWS_WITH(parse_npy(std::string("PK\x03\x04", 4) + good, "t.npy"), NPY_ERROR(".npz zip archive"));
    REQUIRE_THROWS_WITH(parse_npy(good.substr(0, 7), "t.npy"), NPY_ERROR("truncated"));
    REQUIRE_THROWS_WITH(parse_npy(good.substr(0, 9), "t.npy"), NPY_ERROR("truncated"));

    std::string v4 = good;
    v4[6] = 4;
    REQUIRE_THROWS_WITH(parse_npy(v4, "t.npy"),
                        "t.npy: unsupported .npy format version 4.0; expected 1.0, 2.0 or 3.0");
    std::string v11 = good;
    v11[7] = 1;
    REQUIRE_THROWS_WITH(parse_npy(v11, "t.npy"), NPY_ERROR("unsupported .npy format version 1.1"));
}

TEST_CASE("npy: rejects header length beyond the file") {
    std::string v1 = npy("<f8", "(1,)", f64s({1}));
    v1[8] = '\xff';
    v1[9] = '\xff';
    REQUIRE_THROWS_WITH(parse_npy(v1, "t.npy"),
                        "t.npy: header length 65535 goes beyond the end of the file (136 bytes)");
    std::string v2 = npy("<f8", "(1,)", f64s({1}), 2);
    v2.replace(8, 4, "\xff\xff\xff\xff");
    REQUIRE_THROWS_WITH(parse_npy(v2, "t.npy"), NPY_ERROR("header length 4294967295 goes beyond"));
}

TEST_CASE("npy: rejects unsupported dtypes, naming them") {
    REQUIRE_THROWS_WITH(parse_npy(npy(">f8", "(1,)", f64s({1})), "t.npy"),
                        StartsWith("t.npy: unsupported dtype '>f8' (big-endian); expected little-endian"));
    REQUIRE_THROWS_WITH(parse_npy(npy(">i4", "(1,)", ints({1}, 4)), "t.npy"), NPY_ERROR("'>i4' (big-endian)"));
    for (const char* descr : {"<c16", "<c8", "<U5", "|S3", "|O", "<f2", "<f16", "<i16", "|V8", "", "<M8[ns]"}) {
        INFO(descr);
        REQUIRE_THROWS_WITH(parse_npy(npy(descr, "(1,)", std::string(16, '\0')), "t.npy"),
                            NPY_ERROR(std::string("unsupported dtype '") + descr + "'"));
    }
    REQUIRE_THROWS_WITH(
        parse_npy(npy_file("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                           std::string(8, '\0')),
                  "t.npy"),
        NPY_ERROR("structured dtypes are not supported"));
}

TEST_CASE("npy: rejects Fortran order") {
    const std::string dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }";
    REQUIRE_THROWS_WITH(parse_npy(npy_file(dict, f64s({1, 2, 3, 4})), "t.npy"),
                        "t.npy: Fortran order not supported; save with np.ascontiguousarray");
}

TEST_CASE("npy: rejects truncated data and trailing bytes") {
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(2, 3)", f64s({1, 2, 3, 4, 5})), "t.npy"),
                        "t.npy: truncated: expected 48 bytes of data, found 40");
    REQUIRE_THROWS_WITH(parse_npy(npy("<i4", "(3,)", ints({1, 2}, 4) + "\x01\x02"), "t.npy"),
                        "t.npy: truncated: expected 12 bytes of data, found 10");
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "()", ""), "t.npy"), NPY_ERROR("expected 8 bytes of data, found 0"));
    REQUIRE_THROWS_WITH(parse_npy(npy("<u2", "(2,)", uints({1, 2, 3}, 2)), "t.npy"),
                        "t.npy: unexpected trailing bytes: expected 4 bytes of data, found 6");
}

TEST_CASE("npy: rejects huge shapes without allocating") {
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(1000000000000, 1000000000000)", ""), "t.npy"),
                        "t.npy: shape (1000000000000, 1000000000000) is too large");
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(1000000000000, 1000000000000, 0)", ""), "t.npy"),
                        NPY_ERROR("is too large"));
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(4611686018427387904,)", ""), "t.npy"),
                        NPY_ERROR("is too large"));  // 2^62 elements * 8 bytes overflows
    // Fits in size_t, but the file holds none of it: the size check comes before any allocation.
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(1000000, 1000000)", f64s({1})), "t.npy"),
                        "t.npy: truncated: expected 8000000000000 bytes of data, found 8");
}

TEST_CASE("npy: rejects malformed headers, saying what was expected") {
    const std::string one = f64s({1});
    struct Case {
        const char* dict;
        const char* message;
    };
    for (const Case& c : {
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (1, x), }",
                  "malformed header: expected 'shape' as a tuple of non-negative integers like (3, 4), found 'x), }"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", "non-negative integers"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': [1], }", "non-negative integers"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (1 1), }", "non-negative integers"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (,), }", "non-negative integers"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,", "non-negative integers"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
                  "dimension too large"},
             Case{"{'descr': '<f8', 'fortran_order': False, }", "missing key 'shape'"},
             Case{"{'fortran_order': False, 'shape': (1,), }", "missing key 'descr'"},
             Case{"{'descr': '<f8', 'shape': (1,), }", "missing key 'fortran_order'"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", "unexpected key 'x'"},
             Case{"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "duplicate key 'descr'"},
             Case{"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", "expected True or False"},
             Case{"{'descr': <f8, 'fortran_order': False, 'shape': (1,), }", "expected a quoted dtype string"},
             Case{"{'descr: '<f8'", "expected ':' after key"},
             Case{"{'descr': '<f8", "expected a closing quote"},
             Case{"{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}' after the value of 'descr'"},
             Case{"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", "only padding after the closing '}'"},
             Case{"{descr: '<f8'}", "expected a quoted key or '}'"},
             Case{"('<f8', False, (1,))", "expected '{' opening the header dict, found '('<f8', False, ...'"},
             Case{"", "expected '{' opening the header dict, found end of header"},
         }) {
        INFO(c.dict);
        REQUIRE_THROWS_WITH(parse_npy(npy_file(c.dict, one), "t.npy"), NPY_ERROR(c.message));
    }
    // Control bytes in a header are escaped in the message rather than printed raw.
    REQUIRE_THROWS_WITH(parse_npy(npy_file(std::string("\x01\x02", 2), one), "t.npy"), NPY_ERROR("\\x01\\x02"));
}

TEST_CASE("npy: rejects NaN and Inf, naming the flat index") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::string payload;
    for (int i = 0; i < 24; ++i) payload += f64s({i == 17 ? nan : 1.0});
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(2, 3, 4)", payload), "t.npy"), NPY_ERROR("element 17 is NaN"));
    REQUIRE_THROWS_WITH(parse_npy(npy("<f8", "(2,)", f64s({1, -inf})), "t.npy"), NPY_ERROR("element 1 is -Inf"));
    REQUIRE_THROWS_WITH(parse_npy(npy("<f4", "(2,)", f32s({std::numeric_limits<float>::infinity(), 1})), "t.npy"),
                        NPY_ERROR("element 0 is +Inf"));
    REQUIRE_THROWS_WITH(parse_npy(npy("<f4", "()", f32s({std::numeric_limits<float>::quiet_NaN()})), "t.npy"),
                        NPY_ERROR("element 0 is NaN"));
}

TEST_CASE("npy: every truncation and single-byte corruption fails cleanly") {
    const std::string good = npy("<i4", "(2, 3)", ints({1, -2, 3, -4, 5, -6}, 4));
    for (std::size_t n = 0; n < good.size(); ++n) {
        INFO("prefix of " << n << " bytes");
        CHECK_THROWS_AS(parse_npy(good.substr(0, n), "t.npy"), aimc::InputError);
    }
    // A changed byte may still give a valid file; anything else must be an InputError.
    std::size_t rejected = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (const char b : {'\0', '\xff', '(', ')', ',', '9', '\'', '}', '\x80'}) {
            std::string bad = good;
            bad[i] = b;
            try {
                parse_npy(bad, "t.npy");
            } catch (const aimc::InputError&) {
                ++rejected;
            }
        }
    }
    CHECK(rejected > 0);
}
