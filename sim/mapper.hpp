// The mapper (docs/mapping.md): tiles a Network onto a chip, one crossbar-sized tile of a weight
// matrix per core, layer-pipelined along a serpentine walk of the core grid, and writes the trace
// (format v1, docs/trace-format.md) that runs it: host feed and collect streams, one stream per
// core (program, receive inputs, MVM, reduce partial sums, digital post-processing, send).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/network.hpp"
#include "sim/npy.hpp"

namespace aimc {

struct ChipConfig;

struct TilePlacement {
    std::string layer;
    std::size_t row_block = 0, col_block = 0;
    std::size_t row_begin = 0, row_end = 0;  // rows of the layer's 2-D weight matrix
    std::size_t col_begin = 0, col_end = 0;  // its columns (outputs)
    int core = 0, x = 0, y = 0;              // core index = y · grid_cols + x
    double utilisation = 0;                  // rows · cols / (crossbar rows · crossbar cols)
    bool reduces = false;                    // row block 0: adds the partial sums of its column block
};

struct LayerMapping {
    std::string name;
    LayerType type = LayerType::Dense;
    std::size_t layer_index = 0;            // in Network::layers
    std::size_t rows = 0, cols = 0;         // the 2-D weight matrix: (in, out) or (KH·KW·Cin, Cout)
    std::size_t row_blocks = 0, col_blocks = 0;
    std::vector<TilePlacement> tiles;       // column block major, row block minor
};

struct Mapping {
    std::string chip;
    int grid_cols = 0, grid_rows = 0;
    std::size_t crossbar_rows = 0, crossbar_cols = 0;
    std::vector<LayerMapping> layers;  // the dense and conv2d layers, in order
    std::size_t cores_used = 0, cores_available = 0;
    double mean_utilisation = 0;       // over the cores used
    std::uint64_t macs_per_sample = 0;
    std::string trace_text;
    // Files the trace names that the mapper derived (conv weights as 2-D matrices, weights and
    // biases with a batchnorm folded in), by the name the trace gives them (relative to its folder).
    std::map<std::string, NpyArray> files;
};

struct MapOptions {
    // How the trace names the folder of the network's own files (weight_file, bias_file), from
    // the trace's folder: "" when the trace sits in the workload folder.
    std::string source_dir;
};

// Throws InputError when the network does not fit the chip ("network needs N cores (...), chip
// 'NAME' has M") or uses what the mapper cannot place (docs/mapping.md, Limits).
Mapping map_network(const Network& net, const ChipConfig& chip, const MapOptions& opt = {});

// The core at step `step` of the serpentine walk: row 0 left to right, row 1 right to left, ...
void serpentine_position(int step, int grid_cols, int& x, int& y);

}  // namespace aimc
