// Trace format v1 (docs/trace-format.md): per-stream operation lists, parsed and checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aimc {

enum class OpCode { Program, Fill, Input, Output, Mvm, Nmpu, Send, Recv, Barrier, Concat };
const char* opcode_name(OpCode c);

struct Range {
    std::size_t begin = 0, end = 0;
    bool set = false;
    std::size_t size() const { return end - begin; }
};

constexpr int kHostEndpoint = -1;  // in a trace: the host port; cores are 0..N-1

// mvm patches=H,W,C,KH,KW,S,P: one MVM per output position of a convolution over an H×W×C
// channels-last map, on the zero-padded KH×KW×C patch in (ky, kx, c) order.
struct Patches {
    std::size_t h = 0, w = 0, c = 0, kh = 0, kw = 0, stride = 1, pad = 0;
    bool set = false;
    std::size_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
    std::size_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
    std::size_t positions() const { return set ? out_h() * out_w() : 1; }
    std::size_t patch_rows() const { return kh * kw * c; }
};

// nmpu map=H,W,C: pooling over K×K windows of an H×W×C channels-last map.
struct MapShape {
    std::size_t h = 0, w = 0, c = 0;
    bool set() const { return c != 0; }
};

struct Op {
    OpCode code = OpCode::Mvm;
    int line = 0;
    int buf = -1, in = -1, out = -1, add = -1;  // buffer ids, local to the stream
    std::string file;                           // program: matrix path or "random"; nmpu: bias path
    Range rows, cols;
    std::uint64_t seed = 0;
    bool has_seed = false;
    double value = 0;
    bool has_value = false;
    std::size_t len = 0;
    int peer = 0;      // send/recv: core index or kHostEndpoint
    int tag = -1;      // send/recv: interned tag (Trace::tags)
    int barrier = -1;  // interned barrier name (Trace::barriers)
    // nmpu: per-column files (bias in `file`), activation, residual buffer, pooling
    std::string scale_file, offset_file;
    std::string activation;  // "", "relu", "clip", "leaky"
    double activation_param = 0;
    int residual = -1;
    std::string pooling;     // "", "max", "avg"
    std::size_t pool_window = 1;
    MapShape pool_map;
    // mvm on a convolution's patches; patch_rows selects the rows of the patch this tile holds
    Patches patches;
    Range patch_rows;
    std::vector<int> ins;  // concat: the buffers joined, in order
};

struct StreamTrace {
    int endpoint = kHostEndpoint;  // core index or kHostEndpoint
    std::string name;              // host streams may be named (`stream host feed`)
    int line = 0;                  // of its `stream` line
    std::vector<Op> setup, per_sample;
    std::vector<std::string> buffers;  // buffer id -> name
};

struct Trace {
    std::string file;  // for messages
    std::string dir;   // relative file names resolve against it
    std::vector<StreamTrace> streams;
    std::vector<std::string> tags, barriers;

    std::string where(int line) const { return file + ":" + std::to_string(line); }
};

// Parses trace text. Throws InputError "name:line: message" at the first malformed line.
Trace parse_trace(const std::string& text, const std::string& name, const std::string& dir);
Trace load_trace(const std::string& path);

}  // namespace aimc
