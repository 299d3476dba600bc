// .npy layout: "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/v3),
// an ASCII Python dict literal padded with spaces and '\n', then the raw data.
// Every size is checked against the bytes actually present before anything is allocated.
#include "sim/npy.hpp"

#include "sim/errors.hpp"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

namespace aimc {

namespace {

const char kMagic[] = "\x93NUMPY";
const std::size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
    throw InputError(name + ": " + what);
}

std::string errno_text(int err) { return std::generic_category().message(err); }

bool host_little_endian() {
    const std::uint16_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

// Assembles an unsigned little-endian integer of w bytes; independent of host byte order.
std::uint64_t load_le(const unsigned char* p, std::size_t w) {
    std::uint64_t v = 0;
    for (std::size_t i = w; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

void store_le(std::string& out, std::uint64_t v, std::size_t w) {
    for (std::size_t i = 0; i < w; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Two's complement reinterpretation without relying on implementation-defined narrowing.
double signed_value(std::uint64_t u, std::size_t w) {
    if (w == 8) {
        std::int64_t v;
        std::memcpy(&v, &u, sizeof v);
        return static_cast<double>(v);
    }
    const std::uint64_t sign = std::uint64_t{1} << (8 * w - 1);
    return (u & sign) ? static_cast<double>(static_cast<std::int64_t>(u) -
                                            static_cast<std::int64_t>(sign << 1))
                      : static_cast<double>(u);
}

// Header text for messages: control and non-ASCII bytes escaped, long text cut short.
std::string printable(const std::string& s, std::size_t max_len = 80) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max_len; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (s.size() > max_len) out += "...";
    return out;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + (shape.size() == 1 ? ",)" : ")");
}

// Element count of a shape; false if it does not fit in size_t. A zero dimension does not
// excuse an overflowing product of the others (callers multiply dimensions too).
bool element_count(const std::vector<std::size_t>& shape, std::size_t& count) {
    std::size_t nonzero = 1;
    bool any_zero = false;
    for (std::size_t d : shape) {
        if (d == 0) {
            any_zero = true;
        } else if (nonzero > std::numeric_limits<std::size_t>::max() / d) {
            return false;
        } else {
            nonzero *= d;
        }
    }
    count = any_zero ? 0 : nonzero;
    return true;
}

struct Dtype {
    char kind;          // 'f', 'i', 'u' or 'b'
    std::size_t width;  // bytes per element
};

Dtype parse_dtype(const std::string& descr, const std::string& name) {
    const bool well_formed = descr.size() == 3 && std::strchr("<>=|!", descr[0]) && descr[0] != '\0';
    const char kind = well_formed ? descr[1] : '?';
    const std::size_t width = well_formed ? static_cast<std::size_t>(descr[2] - '0') : 0;
    const bool known = (kind == 'f' && (width == 4 || width == 8)) ||
                       ((kind == 'i' || kind == 'u') &&
                        (width == 1 || width == 2 || width == 4 || width == 8)) ||
                       (kind == 'b' && width == 1);
    if (!known)
        fail(name, "unsupported dtype '" + printable(descr) +
                       "'; expected one of '<f4', '<f8', '<i1', '<i2', '<i4', '<i8', '<u1', "
                       "'<u2', '<u4', '<u8', '|b1' (convert with arr.astype(np.float64))");
    // '=' and '|' mean native order; byte order is irrelevant for one-byte types.
    const bool native = descr[0] == '=' || descr[0] == '|';
    const bool big = descr[0] == '>' || descr[0] == '!' || (native && !host_little_endian());
    if (big && width > 1)
        fail(name, "unsupported dtype '" + descr + "' (big-endian); expected little-endian, " +
                       "save with arr.astype('<" + descr.substr(1) + "')");
    return {kind, width};
}

struct Header {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

// Hand parser for the dict literal numpy writes, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }". Any key order, any spacing,
// trailing commas, quotes of either kind.
class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

    Header parse() {
        Header h;
        bool seen_descr = false, seen_fortran = false, seen_shape = false;
        expect('{', "'{' opening the header dict");
        while (!eat('}')) {
            const std::string key = quoted("a quoted key or '}'");
            expect(':', "':' after key '" + printable(key) + "'");
            if (key == "descr") {
                check_once(seen_descr, key);
                skip_ws();
                if (i_ < s_.size() && s_[i_] == '[')  // a list of fields
                    fail(name_, "unsupported dtype " + printable(s_.substr(i_), 60) +
                                    " (structured dtypes are not supported)");
                h.descr = quoted("a quoted dtype string for 'descr'");
            } else if (key == "fortran_order") {
                check_once(seen_fortran, key);
                h.fortran_order = boolean();
            } else if (key == "shape") {
                check_once(seen_shape, key);
                h.shape = shape();
            } else {
                fail(name_, "malformed header: unexpected key '" + printable(key) +
                                "'; expected 'descr', 'fortran_order' and 'shape'");
            }
            if (eat(',')) continue;
            expect('}', "',' or '}' after the value of '" + key + "'");
            break;
        }
        skip_ws();
        if (i_ != s_.size()) bad("only padding after the closing '}'");
        if (!seen_descr) fail(name_, "malformed header: missing key 'descr'");
        if (!seen_fortran) fail(name_, "malformed header: missing key 'fortran_order'");
        if (!seen_shape) fail(name_, "malformed header: missing key 'shape'");
        return h;
    }

private:
    [[noreturn]] void bad(const std::string& expected) const {
        const std::string found =
            i_ < s_.size() ? "'" + printable(s_.substr(i_, 16), 15) + "'" : "end of header";
        fail(name_, "malformed header: expected " + expected + ", found " + found +
                        " at offset " + std::to_string(i_) + " in " + printable(s_));
    }

    void skip_ws() {
        while (i_ < s_.size() && std::strchr(" \t\r\n", s_[i_]) && s_[i_] != '\0') ++i_;
    }

    bool eat(char c) {
        skip_ws();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }

    void expect(char c, const std::string& what) {
        if (!eat(c)) bad(what);
    }

    void check_once(bool& seen, const std::string& key) const {
        if (seen) fail(name_, "malformed header: duplicate key '" + key + "'");
        seen = true;
    }

    // Keys and dtype strings never contain escapes, so a plain scan to the closing quote does.
    std::string quoted(const std::string& what) {
        skip_ws();
        if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad(what);
        const char q = s_[i_];
        const std::size_t end = s_.find(q, i_ + 1);
        if (end == std::string::npos) bad("a closing quote");
        std::string out = s_.substr(i_ + 1, end - i_ - 1);
        i_ = end + 1;
        return out;
    }

    bool boolean() {
        skip_ws();
        for (const bool value : {true, false}) {
            const std::string word = value ? "True" : "False";
            if (s_.compare(i_, word.size(), word) == 0) {
                i_ += word.size();
                return value;
            }
        }
        bad("True or False for 'fortran_order'");
    }

    // "()", "(5,)", "(3, 4)", "(3, 4,)"; "(5)" is accepted too, as it is unambiguous.
    std::vector<std::size_t> shape() {
        const char* what = "'shape' as a tuple of non-negative integers like (3, 4)";
        std::vector<std::size_t> dims;
        expect('(', what);
        while (!eat(')')) {
            skip_ws();
            if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') bad(what);
            std::size_t v = 0;
            for (; i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; ++i_) {
                const auto digit = static_cast<std::size_t>(s_[i_] - '0');
                if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10)
                    fail(name_, "malformed header: dimension too large in 'shape'");
                v = v * 10 + digit;
            }
            if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long literal
            dims.push_back(v);
            if (eat(',')) continue;
            expect(')', what);
            break;
        }
        return dims;
    }

    const std::string& s_;
    const std::string& name_;
    std::size_t i_ = 0;
};

}  // namespace

std::size_t NpyArray::size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;  // checked for overflow when read
    return n;
}

std::size_t NpyArray::rows() const {
    AIMC_ASSERT(shape.size() == 2, "NpyArray::rows() on a " + std::to_string(shape.size()) + "-D array");
    return shape[0];
}

std::size_t NpyArray::cols() const {
    AIMC_ASSERT(shape.size() == 2, "NpyArray::cols() on a " + std::to_string(shape.size()) + "-D array");
    return shape[1];
}

NpyArray parse_npy(const std::string& bytes, const std::string& name) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    if (bytes.compare(0, 4, "PK\x03\x04") == 0)  // np.savez output is a zip of .npy files
        fail(name, "not a .npy file (looks like a .npz zip archive; save a single array with np.save)");
    if (n < kMagicLen || bytes.compare(0, kMagicLen, kMagic) != 0)
        fail(name, "not a .npy file (missing the \\x93NUMPY magic at the start)");
    if (n < kMagicLen + 2) fail(name, "truncated: file ends inside the .npy preamble");
    const unsigned major = p[6], minor = p[7];
    if (major < 1 || major > 3 || minor != 0)
        fail(name, "unsupported .npy format version " + std::to_string(major) + "." +
                       std::to_string(minor) + "; expected 1.0, 2.0 or 3.0");
    const std::size_t len_bytes = major == 1 ? 2 : 4;
    const std::size_t header_start = kMagicLen + 2 + len_bytes;
    if (n < header_start) fail(name, "truncated: file ends inside the .npy preamble");
    const std::uint64_t header_len = load_le(p + kMagicLen + 2, len_bytes);
    if (header_len > n - header_start)
        fail(name, "header length " + std::to_string(header_len) +
                       " goes beyond the end of the file (" + std::to_string(n) + " bytes)");

    // v3.0 only differs from v2.0 by allowing UTF-8 in field names, which we reject anyway.
    const Header h =
        HeaderParser(bytes.substr(header_start, static_cast<std::size_t>(header_len)), name)
            .parse();
    const Dtype dt = parse_dtype(h.descr, name);
    if (h.fortran_order && h.shape.size() >= 2)  // for 0-D and 1-D both orders are identical
        fail(name, "Fortran order not supported; save with np.ascontiguousarray");

    std::size_t count = 0;
    if (!element_count(h.shape, count) || count > std::numeric_limits<std::size_t>::max() / dt.width)
        fail(name, "shape " + shape_text(h.shape) + " is too large");
    const std::size_t need = count * dt.width;
    const std::size_t data_start = header_start + static_cast<std::size_t>(header_len);
    const std::size_t have = n - data_start;
    if (have < need)
        fail(name, "truncated: expected " + std::to_string(need) + " bytes of data, found " +
                       std::to_string(have));
    if (have > need)
        fail(name, "unexpected trailing bytes: expected " + std::to_string(need) +
                       " bytes of data, found " + std::to_string(have));

    // Only now is the allocation known to be bounded by the input size.
    NpyArray out;
    out.shape = h.shape;
    out.dtype = h.descr;
    out.data.resize(count);
    const unsigned char* d = p + data_start;
    for (std::size_t i = 0; i < count; ++i, d += dt.width) {
        const std::uint64_t u = load_le(d, dt.width);
        double v;
        switch (dt.kind) {
            case 'f':
                if (dt.width == 4) {
                    const auto u32 = static_cast<std::uint32_t>(u);
                    float f;
                    std::memcpy(&f, &u32, sizeof f);
                    v = f;
                } else {
                    std::memcpy(&v, &u, sizeof v);
                }
                if (!std::isfinite(v))
                    fail(name, "element " + std::to_string(i) + " is " +
                                   (std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf") +
                                   " (only finite values are accepted)");
                break;
            case 'i': v = signed_value(u, dt.width); break;
            case 'b': v = u != 0 ? 1.0 : 0.0; break;
            default: v = static_cast<double>(u); break;
        }
        out.data[i] = v;
    }
    return out;
}

NpyArray read_npy(const std::string& path) {
    // A device or a pipe could stream forever; a data file is a regular file.
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec) &&
        !std::filesystem::is_regular_file(path, ec))
        fail(path, "not a regular file");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) fail(path, "cannot open file (" + errno_text(errno) + ")");
    std::string bytes;
    char buf[1 << 16];
    std::size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.append(buf, got);
    if (std::ferror(f.get())) fail(path, "cannot read file (" + errno_text(errno) + ")");
    return parse_npy(bytes, path);
}

void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data) {
    std::size_t count = 0;
    AIMC_ASSERT(element_count(shape, count) && count == data.size(),
                "write_npy: shape " + shape_text(shape) + " does not match " +
                    std::to_string(data.size()) + " values");
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
    // Pad with spaces so the data starts on a 64-byte boundary, as numpy does.
    const std::size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
    const unsigned major = unpadded + 63 > 0xffff ? 2 : 1;
    const std::size_t preamble = kMagicLen + 2 + (major == 1 ? 2 : 4);
    header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
    header += '\n';

    std::string bytes(kMagic, kMagicLen);
    bytes += static_cast<char>(major);
    bytes += '\0';
    store_le(bytes, header.size(), major == 1 ? 2 : 4);
    bytes += header;
    bytes.reserve(bytes.size() + 8 * data.size());
    for (double v : data) {
        std::uint64_t u;
        std::memcpy(&u, &v, sizeof u);
        store_le(bytes, u, 8);
    }

    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!f) fail(path, "cannot open file for writing (" + errno_text(errno) + ")");
    if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size() ||
        std::fclose(f.release()) != 0)
        fail(path, "write failed (" + errno_text(errno) + ")");
}

}  // namespace aimc
