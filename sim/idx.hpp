// Reader for IDX files, the format of MNIST-like data sets (http://yann.lecun.com/exdb/mnist/):
// a big-endian header (two zero bytes, a data-type byte, the number of dimensions, then one
// 32-bit size per dimension) followed by the raw data. Only unsigned bytes (type 0x08) are
// supported: images (N, H, W) and labels (N,). A file whose name ends in ".gz" is gzip-compressed
// and inflated in memory (zlib). Malformed files are user errors (InputError "PATH: what").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aimc {

struct IdxArray {
    std::vector<std::size_t> shape;  // e.g. (10000, 28, 28) or (10000,)
    std::vector<std::uint8_t> data;  // C order
    std::size_t size() const;        // product of shape
};

// Reads a whole file, gunzipping it first when `path` ends in ".gz".
IdxArray read_idx(const std::string& path);

// Parses IDX bytes already in memory; `name` is used in error messages in place of a path.
IdxArray parse_idx(const std::string& bytes, const std::string& name);

// Inflates gzip data (one or more members) into one buffer. Throws InputError "NAME: ...".
std::string gunzip(const std::string& bytes, const std::string& name);

}  // namespace aimc
