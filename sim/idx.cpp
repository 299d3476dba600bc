#include "sim/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

#include "sim/errors.hpp"

namespace aimc {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw InputError(name + ": " + what); }

std::string hex2(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", v & 0xffu);
    return buf;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string read_bytes(const std::string& path) {
    // A device or a pipe could stream forever; a data file is a regular file.
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec) &&
        !std::filesystem::is_regular_file(path, ec))
        fail(path, "not a regular file");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) fail(path, "cannot open file (" + std::generic_category().message(errno) + ")");
    std::string bytes;
    if (std::fseek(f.get(), 0, SEEK_END) == 0) {
        const long n = std::ftell(f.get());
        if (n > 0) bytes.reserve(static_cast<std::size_t>(n));
        std::rewind(f.get());
    }
    char buf[1 << 16];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.append(buf, got);
    if (std::ferror(f.get())) fail(path, "cannot read file (" + std::generic_category().message(errno) + ")");
    return bytes;
}

}  // namespace

std::size_t IdxArray::size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
}

std::string gunzip(const std::string& bytes, const std::string& name) {
    if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
        fail(name, "corrupt gzip data: not a gzip file (missing the 1F 8B magic)");
    std::string out;
    // The last member's trailer holds its uncompressed size modulo 2^32: a good first guess, so
    // that a single-member file inflates into one buffer without copying.
    if (bytes.size() >= 18) {
        std::uint32_t isize = 0;
        for (int i = 0; i < 4; ++i) isize |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[bytes.size() - 4 + static_cast<std::size_t>(i)])) << (8 * i);
        // deflate compresses at most about 1032:1: a corrupt trailer cannot ask for more.
        const std::size_t bound = bytes.size() * 1032 + 1024;
        out.resize(isize > 0 && isize <= bound ? isize : 1024);
    } else {
        out.resize(1024);
    }
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) fail(name, "cannot initialise zlib");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, &inflateEnd);
    std::size_t in_pos = 0, out_pos = 0;
    const std::size_t chunk = std::numeric_limits<uInt>::max();
    for (;;) {
        if (out_pos == out.size()) out.resize(out.size() * 2);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + in_pos));
        z.avail_in = static_cast<uInt>(std::min(chunk, bytes.size() - in_pos));
        z.next_out = reinterpret_cast<Bytef*>(&out[out_pos]);
        z.avail_out = static_cast<uInt>(std::min(chunk, out.size() - out_pos));
        const uInt avail_in = z.avail_in, avail_out = z.avail_out;
        const int rc = inflate(&z, Z_NO_FLUSH);
        in_pos += avail_in - z.avail_in;
        out_pos += avail_out - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (in_pos == bytes.size()) break;
            // Another gzip member follows (files may be concatenated).
            if (inflateReset(&z) != Z_OK) fail(name, "corrupt gzip data (cannot reset zlib)");
            continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_out > 0) fail(name, "corrupt gzip data: the compressed stream ends early (truncated file)");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            fail(name, std::string("corrupt gzip data (zlib: ") + (z.msg ? z.msg : zError(rc)) + ")");
        if (in_pos == bytes.size() && z.avail_out > 0)
            fail(name, "corrupt gzip data: the compressed stream ends early (truncated file)");
    }
    out.resize(out_pos);
    return out;
}

IdxArray parse_idx(const std::string& bytes, const std::string& name) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    if (n < 4) fail(name, "not an IDX file: " + std::to_string(n) + " bytes, shorter than the 4-byte magic number");
    if (p[0] != 0 || p[1] != 0)
        fail(name, "not an IDX file: bad magic number " + hex2(p[0]) + hex2(p[1]).substr(2) + hex2(p[2]).substr(2) +
                       hex2(p[3]).substr(2) + " (expected 0x000008NN)");
    const unsigned type = p[2], dims = p[3];
    if (type != 0x08) {
        const char* known = type == 0x09 ? " (signed bytes)" : type == 0x0B ? " (16-bit integers)" : type == 0x0C ? " (32-bit integers)"
                            : type == 0x0D ? " (32-bit floats)" : type == 0x0E ? " (64-bit floats)" : "";
        fail(name, "unsupported IDX data type " + hex2(type) + known + "; only unsigned bytes (0x08) are supported");
    }
    if (dims < 1 || dims > 4)
        fail(name, "IDX file with " + std::to_string(dims) + " dimensions; expected 1 (labels) to 4");
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(dims);
    if (n < header)
        fail(name, "truncated: the header needs " + std::to_string(header) + " bytes, the file has " + std::to_string(n));
    IdxArray a;
    std::size_t count = 1;
    for (unsigned d = 0; d < dims; ++d) {
        const unsigned char* q = p + 4 + 4 * d;
        const std::size_t v = (static_cast<std::size_t>(q[0]) << 24) | (static_cast<std::size_t>(q[1]) << 16) |
                              (static_cast<std::size_t>(q[2]) << 8) | q[3];
        a.shape.push_back(v);
        count = v == 0 || count <= std::numeric_limits<std::size_t>::max() / v ? count * v : std::numeric_limits<std::size_t>::max();
    }
    const std::size_t have = n - header;
    if (have < count)
        fail(name, "truncated: the header promises " + std::to_string(count) + " bytes of data, the file has " +
                       std::to_string(have));
    if (have > count)
        fail(name, "unexpected trailing bytes: the header promises " + std::to_string(count) + " bytes of data, the file has " +
                       std::to_string(have));
    a.data.assign(p + header, p + n);
    return a;
}

IdxArray read_idx(const std::string& path) {
    std::string bytes = read_bytes(path);
    if (ends_with(path, ".gz")) bytes = gunzip(bytes, path);
    return parse_idx(bytes, path);
}

}  // namespace aimc
