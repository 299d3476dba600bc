// Trace format v1 (docs/trace-format.md): per-stream operation lists, parsed and checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aimc {

enum class OpCode { Program, Fill, Input, Output, Mvm, Nmpu, Send, Recv, Barrier };
const char* opcode_name(OpCode c);

struct Range {
    std::size_t begin = 0, end = 0;
    bool set = false;
    std::size_t size() const { return end - begin; }
};

constexpr int kHostEndpoint = -1;  // in a trace: the host port; cores are 0..N-1

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
