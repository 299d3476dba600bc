// Reader (and a minimal writer) for NumPy .npy files, format versions 1.0, 2.0 and 3.0.
// Weights and data sets come from Python as .npy; everything is converted to double on load.
// Malformed files are user errors (aimc::InputError), reported with the file name first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace aimc {

struct NpyArray {
    std::vector<std::size_t> shape;  // empty shape = scalar (one element)
    std::vector<double> data;        // values in C (row-major) order, converted to double
    std::string dtype;               // the descr string from the header, e.g. "<f4"
    std::size_t size() const;        // product of shape (1 for a scalar)
    std::size_t rows() const;        // 2-D only: shape[0] (InternalError otherwise)
    std::size_t cols() const;        // 2-D only: shape[1]
};

// Reads a whole file. Supported dtypes: little-endian f4, f8, i1..i8, u1..u8 and b1; C order;
// float data must be finite. Throws InputError("PATH: what is wrong") on anything else.
// (i8/u8 values beyond 2^53 lose precision in the conversion to double.)
NpyArray read_npy(const std::string& path);

// Same, from bytes already in memory; `name` is used in error messages in place of the path.
NpyArray parse_npy(const std::string& bytes, const std::string& name);

// Writes a C-order little-endian float64 ('<f8') .npy file (v1.0; v2.0 only if the header
// needs it). data.size() must equal the product of shape.
void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<double>& data);

}  // namespace aimc
