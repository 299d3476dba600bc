// The network of a workload (docs/workload-format.md): a list of layers read from workload.yaml
// and its .npy weights, shapes inferred through the graph, batch normalisation folded into the
// dense/conv layer before it, and the float reference forward pass (the numerics' matmul; convolutions
// by im2col). Feature maps are channels last: (H, W, C) is stored at (h·W + w)·C + c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/npy.hpp"

namespace aimc {

struct YamlNode;

enum class LayerType { Dense, Conv2d, BatchNorm, Relu, MaxPool, AvgPool, Flatten, Add, Argmax };
const char* layer_type_name(LayerType t);  // as written in workload.yaml: "dense", "conv2d", ...

using Shape = std::vector<std::size_t>;  // (n,) for a vector, (H, W, C) for a map
std::size_t shape_size(const Shape& s);
std::string shape_text(const Shape& s);  // "(28, 28, 1)", "(10,)"

struct Layer {
    std::string name;  // unique; default TYPE_INDEX, e.g. dense_0
    LayerType type = LayerType::Dense;
    int line = 0;      // of the layer in workload.yaml
    Shape in_shape, out_shape;

    // dense / conv2d. `weight` is (in, out) for dense and (KH, KW, Cin, Cout) for conv2d, after
    // folding a following batchnorm; `bias` is (out,), zeros when the layer has none.
    std::string weight_file, bias_file;  // as written in workload.yaml (relative to its folder)
    NpyArray weight, bias;
    bool has_bias = false;
    bool folded = false;  // a batchnorm was folded in: weight and bias differ from the files
    bool relu = false;    // `activation: relu`
    std::size_t stride = 1, padding = 0;  // conv2d; stride also for pooling

    std::size_t kernel = 0;  // maxpool / avgpool
    std::string from;        // add: the layer whose output is added
    std::size_t from_index = 0;
    std::size_t folded_into = 0;  // batchnorm: the index of the dense/conv it was folded into

    bool is_weight_layer() const { return type == LayerType::Dense || type == LayerType::Conv2d; }
    // The weight as a 2-D matrix: (in, out) for dense, (KH·KW·Cin, Cout) for conv2d.
    std::size_t matrix_rows() const;
    std::size_t matrix_cols() const;
    std::uint64_t macs() const;  // per sample

    std::vector<float> wf, bf;  // float copies of weight and bias for the forward pass
};

struct Network {
    std::string file;  // workload.yaml, for messages
    std::string dir;   // the folder weight files are relative to
    Shape input_shape;
    std::vector<Layer> layers;

    bool empty() const { return layers.empty(); }
    std::size_t size() const { return layers.size(); }
    const Layer& operator[](std::size_t i) const { return layers[i]; }
    std::size_t input_size() const { return shape_size(input_shape); }
    std::size_t output_size() const;  // classes: the size of the last layer's output
    std::uint64_t macs_per_sample() const;
    // Index of the layer called `name`, or size() when there is none.
    std::size_t find(const std::string& name) const;

    // The float reference: `batch` samples of input_size() floats each (row-major) through the
    // network; returns batch × output_size() logits.
    std::vector<float> forward(const float* x, std::size_t batch) const;
};

// Reads the `network:` list (with `input_shape:` when given, else nullptr) of a workload.yaml.
// `features` is the number of features per sample of the data set (0 when unknown). Weight files
// are relative to `dir`. Every mistake is appended to `errors` as "FILE:LINE:COL: key: message";
// the returned network is only meaningful when no error was added.
Network read_network(const YamlNode& network, const YamlNode* input_shape, std::size_t features,
                     const std::string& dir, const std::string& file, std::vector<std::string>& errors);

}  // namespace aimc
