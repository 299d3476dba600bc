// Tests for the trace parser (docs/trace-format.md): what a valid trace parses into, and the
// exact "FILE:LINE: message" of every kind of malformed input.
#include "sim/errors.hpp"
#include "sim/trace.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using aimc::kHostEndpoint;
using aimc::Op;
using aimc::OpCode;
using aimc::parse_trace;
using aimc::StreamTrace;
using aimc::Trace;

namespace {

const std::string H = "aimcsim-trace 1\n";  // the header, line 1

// The message of the InputError that parsing `text` throws, or "(no error)".
std::string parse_error(const std::string& text) {
    try {
        parse_trace(text, "t.txt", "d");
    } catch (const aimc::InputError& e) {
        return e.what();
    }
    return "(no error)";
}

int tag_id(const Trace& t, const std::string& name) {
    auto it = std::find(t.tags.begin(), t.tags.end(), name);
    REQUIRE(it != t.tags.end());
    return static_cast<int>(it - t.tags.begin());
}

int buf_id(const StreamTrace& s, const std::string& name) {
    auto it = std::find(s.buffers.begin(), s.buffers.end(), name);
    REQUIRE(it != s.buffers.end());
    return static_cast<int>(it - s.buffers.begin());
}

// Line numbers are given in the comments on the right; the parser must report them.
const std::string kValid =
    "# a comment before the header\n"                              // 1
    "aimcsim-trace 1\n"                                            // 2
    "\n"                                                           // 3
    "stream host feed\n"                                           // 4
    "fill buf=c len=4 value=0.5\n"                                 // 5
    "sample\n"                                                     // 6
    "input buf=x cols=0:64\n"                                      // 7
    "send to=0 buf=x\n"                                            // 8
    "barrier name=b1\n"                                            // 9
    "\n"                                                           // 10
    "stream host collect\n"                                        // 11
    "sample\n"                                                     // 12
    "recv from=1 buf=y tag=res\n"                                  // 13
    "output buf=y\n"                                               // 14
    "barrier name=b1\n"                                            // 15
    "\n"                                                           // 16
    "stream core 0\n"                                              // 17
    "program matrix=w.npy rows=0:64 cols=16:32\n"                  // 18
    "fill buf=r len=64 seed=7\n"                                   // 19
    "sample\n"                                                     // 20
    "recv from=host buf=x\n"                                       // 21
    "mvm in=x out=acc\n"                                           // 22
    "nmpu relu out=h in=acc add=r bias=b.npy cols=16:32  # comment\n"  // 23
    "send to=1 buf=h\n"                                            // 24
    "barrier name=b2\n"                                            // 25
    "\n"                                                           // 26
    "stream core 1\n"                                              // 27
    "program matrix=random rows=0:16 cols=0:8 seed=3\n"            // 28
    "sample\n"                                                     // 29
    "recv from=0 buf=h\n"                                          // 30
    "mvm in=h out=y\n"                                             // 31
    "nmpu in=y out=z\n"                                            // 32
    "send to=host buf=z tag=res\n";                                // 33

}  // namespace

TEST_CASE("trace: a valid trace parses into streams and operations") {
    Trace t = parse_trace(kValid, "t.txt", "d");
    CHECK(t.file == "t.txt");
    CHECK(t.dir == "d");
    CHECK(t.where(5) == "t.txt:5");
    REQUIRE(t.streams.size() == 4);

    // Interned tables, in order of first appearance.
    CHECK(t.tags == std::vector<std::string>{"x", "res", "h"});
    CHECK(t.barriers == std::vector<std::string>{"b1", "b2"});

    SECTION("host stream 'feed'") {
        const StreamTrace& s = t.streams[0];
        CHECK(s.endpoint == kHostEndpoint);
        CHECK(s.name == "feed");
        CHECK(s.line == 4);
        CHECK(s.buffers == std::vector<std::string>{"c", "x"});
        REQUIRE(s.setup.size() == 1);
        REQUIRE(s.per_sample.size() == 3);

        const Op& fill = s.setup[0];
        CHECK(fill.code == OpCode::Fill);
        CHECK(fill.line == 5);
        CHECK(fill.buf == 0);
        CHECK(fill.len == 4);
        CHECK(fill.has_value);
        CHECK(fill.value == 0.5);
        CHECK_FALSE(fill.has_seed);

        const Op& input = s.per_sample[0];
        CHECK(input.code == OpCode::Input);
        CHECK(input.line == 7);
        CHECK(input.buf == 1);
        CHECK(input.cols.set);
        CHECK(input.cols.begin == 0);
        CHECK(input.cols.end == 64);
        CHECK(input.cols.size() == 64);
        CHECK_FALSE(input.rows.set);

        const Op& send = s.per_sample[1];
        CHECK(send.code == OpCode::Send);
        CHECK(send.peer == 0);
        CHECK(send.buf == 1);
        CHECK(send.tag == tag_id(t, "x"));  // tag defaults to the buffer name

        const Op& bar = s.per_sample[2];
        CHECK(bar.code == OpCode::Barrier);
        CHECK(bar.line == 9);
        CHECK(bar.barrier == 0);
    }

    SECTION("host stream 'collect'") {
        const StreamTrace& s = t.streams[1];
        CHECK(s.endpoint == kHostEndpoint);
        CHECK(s.name == "collect");
        CHECK(s.line == 11);
        CHECK(s.setup.empty());
        REQUIRE(s.per_sample.size() == 3);
        const Op& recv = s.per_sample[0];
        CHECK(recv.code == OpCode::Recv);
        CHECK(recv.peer == 1);
        CHECK(recv.buf == buf_id(s, "y"));
        CHECK(recv.tag == tag_id(t, "res"));  // explicit tag
        CHECK(s.per_sample[1].code == OpCode::Output);
        CHECK(s.per_sample[1].buf == recv.buf);
        // Same barrier name in two streams: the same interned id.
        CHECK(s.per_sample[2].barrier == t.streams[0].per_sample[2].barrier);
    }

    SECTION("core 0") {
        const StreamTrace& s = t.streams[2];
        CHECK(s.endpoint == 0);
        CHECK(s.name.empty());
        CHECK(s.line == 17);
        CHECK(s.buffers == std::vector<std::string>{"r", "x", "acc", "h"});
        REQUIRE(s.setup.size() == 2);
        REQUIRE(s.per_sample.size() == 5);

        const Op& prog = s.setup[0];
        CHECK(prog.code == OpCode::Program);
        CHECK(prog.line == 18);
        CHECK(prog.file == (std::filesystem::path("d") / "w.npy").string());  // relative to dir
        CHECK(prog.rows.set);
        CHECK(prog.rows.begin == 0);
        CHECK(prog.rows.end == 64);
        CHECK(prog.cols.set);
        CHECK(prog.cols.begin == 16);
        CHECK(prog.cols.end == 32);
        CHECK_FALSE(prog.has_seed);

        const Op& fill = s.setup[1];
        CHECK(fill.code == OpCode::Fill);
        CHECK(fill.buf == 0);
        CHECK(fill.len == 64);
        CHECK(fill.has_seed);
        CHECK(fill.seed == 7);
        CHECK_FALSE(fill.has_value);

        const Op& recv = s.per_sample[0];
        CHECK(recv.code == OpCode::Recv);
        CHECK(recv.line == 21);
        CHECK(recv.peer == kHostEndpoint);
        CHECK(recv.buf == 1);
        // Matches the host's `send to=0 buf=x`: both default to tag "x".
        CHECK(recv.tag == t.streams[0].per_sample[1].tag);

        const Op& mvm = s.per_sample[1];
        CHECK(mvm.code == OpCode::Mvm);
        CHECK(mvm.in == 1);
        CHECK(mvm.out == 2);
        CHECK(mvm.activation.empty());

        const Op& nmpu = s.per_sample[2];
        CHECK(nmpu.code == OpCode::Nmpu);
        CHECK(nmpu.line == 23);
        CHECK(nmpu.in == 2);
        CHECK(nmpu.add == 0);
        CHECK(nmpu.out == 3);
        CHECK(nmpu.file == (std::filesystem::path("d") / "b.npy").string());
        CHECK(nmpu.cols.begin == 16);
        CHECK(nmpu.cols.end == 32);
        CHECK(nmpu.activation == "relu");

        const Op& send = s.per_sample[3];
        CHECK(send.peer == 1);
        CHECK(send.buf == 3);
        CHECK(send.tag == tag_id(t, "h"));

        CHECK(s.per_sample[4].code == OpCode::Barrier);
        CHECK(s.per_sample[4].barrier == 1);
        CHECK(t.barriers[1] == "b2");
    }

    SECTION("core 1") {
        const StreamTrace& s = t.streams[3];
        CHECK(s.endpoint == 1);
        CHECK(s.line == 27);
        REQUIRE(s.setup.size() == 1);
        REQUIRE(s.per_sample.size() == 4);

        const Op& prog = s.setup[0];
        CHECK(prog.file == "random");  // not resolved against dir
        CHECK(prog.has_seed);
        CHECK(prog.seed == 3);
        CHECK(prog.rows.begin == 0);
        CHECK(prog.rows.end == 16);
        CHECK(prog.cols.begin == 0);
        CHECK(prog.cols.end == 8);

        // recv from=0 buf=h matches core 0's send to=1 buf=h.
        CHECK(s.per_sample[0].peer == 0);
        CHECK(s.per_sample[0].tag == t.streams[2].per_sample[3].tag);

        const Op& nmpu = s.per_sample[2];
        CHECK(nmpu.code == OpCode::Nmpu);
        CHECK(nmpu.add == -1);
        CHECK(nmpu.file.empty());
        CHECK_FALSE(nmpu.cols.set);
        CHECK(nmpu.activation.empty());

        const Op& send = s.per_sample[3];
        CHECK(send.code == OpCode::Send);
        CHECK(send.peer == kHostEndpoint);
        CHECK(send.tag == tag_id(t, "res"));
        CHECK(send.tag == t.streams[1].per_sample[0].tag);  // matches the collector's recv
        CHECK(send.line == 33);
    }
}

TEST_CASE("trace: a stream without a sample line has only a setup section") {
    Trace t = parse_trace(H + "stream core 2\nprogram matrix=random rows=0:4 cols=0:4\nfill buf=x len=4 value=-1.5e0\n"
                              "mvm in=x out=y\nstream core 3\nsample\nstream host\nsample\n",
                          "t.txt", "");
    REQUIRE(t.streams.size() == 3);
    CHECK(t.streams[0].endpoint == 2);
    CHECK(t.streams[0].setup.size() == 3);
    CHECK(t.streams[0].per_sample.empty());
    CHECK(t.streams[0].setup[0].seed == 0);  // random without seed=: seed 0
    CHECK_FALSE(t.streams[0].setup[0].has_seed);
    CHECK(t.streams[0].setup[1].value == -1.5);
    CHECK(t.streams[1].endpoint == 3);
    CHECK(t.streams[1].setup.empty());
    CHECK(t.streams[1].per_sample.empty());
    CHECK(t.streams[2].endpoint == kHostEndpoint);
    CHECK(t.streams[2].name.empty());
    CHECK(t.tags.empty());
    CHECK(t.barriers.empty());
}

TEST_CASE("trace: an empty dir leaves relative file names as written") {
    Trace t = parse_trace(H + "stream core 0\nprogram matrix=sub/w.npy\n", "t.txt", "");
    CHECK(t.streams[0].setup[0].file == "sub/w.npy");
}

TEST_CASE("trace: the tiny-mlp trace file loads") {
    Trace t = aimc::load_trace(std::string(AIMC_SOURCE_DIR) + "/workloads/tiny-mlp/trace.txt");
    REQUIRE(t.streams.size() == 5);
    CHECK(t.streams[0].name == "feed");
    CHECK(t.streams[1].name == "collect");
    CHECK(t.streams[2].endpoint == 0);
    CHECK(t.streams[3].endpoint == 1);
    CHECK(t.streams[4].endpoint == 3);
    CHECK(t.streams[2].setup[0].file == std::string(AIMC_SOURCE_DIR) + "/workloads/tiny-mlp/fc1_w.npy");
}

TEST_CASE("trace: load_trace of a missing file") {
    CHECK_THROWS_WITH(aimc::load_trace("no/such/trace.txt"), "no/such/trace.txt: cannot open trace file");
}

// ---- named and duplicate streams -------------------------------------------------------------

TEST_CASE("trace: named host streams are allowed") {
    Trace t = parse_trace(H + "stream host feed\nstream host collect\nstream host\n", "t.txt", "d");
    REQUIRE(t.streams.size() == 3);
    CHECK(t.streams[0].name == "feed");
    CHECK(t.streams[1].name == "collect");
    CHECK(t.streams[2].name.empty());
    for (const auto& s : t.streams) CHECK(s.endpoint == kHostEndpoint);
}

TEST_CASE("trace: two unnamed host streams") {
    CHECK(parse_error(H + "stream host\nsample\n\nstream host\n") == "t.txt:5: second stream for the host");
}

TEST_CASE("trace: two host streams with the same name") {
    CHECK(parse_error(H + "stream host feed\nstream host feed\n") == "t.txt:3: second stream for the host named feed");
}

TEST_CASE("trace: two streams for the same core") {
    CHECK(parse_error(H + "stream core 0\nstream core 1\nstream core 0\n") == "t.txt:4: second stream for core 0");
}

TEST_CASE("trace: malformed stream line") {
    CHECK(parse_error(H + "stream core\n") == "t.txt:2: expected 'stream host [NAME]' or 'stream core N'");
    CHECK(parse_error(H + "stream\n") == "t.txt:2: expected 'stream host [NAME]' or 'stream core N'");
    CHECK(parse_error(H + "stream host a b\n") == "t.txt:2: expected 'stream host [NAME]' or 'stream core N'");
    CHECK(parse_error(H + "stream cores 0\n") == "t.txt:2: expected 'stream host [NAME]' or 'stream core N'");
}

TEST_CASE("trace: negative core index") {
    CHECK(parse_error(H + "stream core -1\n") == "t.txt:2: core index: expected a non-negative integer, got '-1'");
}

TEST_CASE("trace: non-numeric core index") {
    CHECK(parse_error(H + "stream core one\n") == "t.txt:2: core index: expected a non-negative integer, got 'one'");
    CHECK(parse_error(H + "stream core 1.0\n") == "t.txt:2: core index: expected a non-negative integer, got '1.0'");
}

TEST_CASE("trace: negative or non-numeric peer index") {
    std::string core0 = H + "stream core 0\nfill buf=x len=4 value=1\n";
    CHECK(parse_error(core0 + "send to=-2 buf=x\n") ==
          "t.txt:4: to (a core index or 'host'): expected a non-negative integer, got '-2'");
    CHECK(parse_error(core0 + "recv from=core1 buf=y\n") ==
          "t.txt:4: from (a core index or 'host'): expected a non-negative integer, got 'core1'");
}

// ---- header ------------------------------------------------------------------------------------

TEST_CASE("trace: missing header") {
    CHECK(parse_error("stream host\nsample\n") == "t.txt:1: expected the header 'aimcsim-trace 1' before anything else");
    // After comments and blank lines, the first real line is still where it is reported.
    CHECK(parse_error("# c\n\n   \nstream host\n") == "t.txt:4: expected the header 'aimcsim-trace 1' before anything else");
    CHECK(parse_error("aimcsim-trace\n") == "t.txt:1: expected the header 'aimcsim-trace 1' before anything else");
    CHECK(parse_error("aimcsim-trace 1 extra\n") == "t.txt:1: expected the header 'aimcsim-trace 1' before anything else");
}

TEST_CASE("trace: empty trace") {
    // An empty or comment-only text has no line to blame: the message names the file only.
    CHECK(parse_error("") == "t.txt: empty trace: expected the header 'aimcsim-trace 1'");
    CHECK(parse_error("# only a comment\n\n") == "t.txt: empty trace: expected the header 'aimcsim-trace 1'");
}

TEST_CASE("trace: a header alone is a valid trace with no streams") {
    Trace t = parse_trace("aimcsim-trace 1  # version 1\n", "t.txt", "d");
    CHECK(t.streams.empty());
}

TEST_CASE("trace: wrong version") {
    CHECK(parse_error("aimcsim-trace 2\n") == "t.txt:1: unsupported trace version '2'; this build reads version 1");
    CHECK(parse_error("\naimcsim-trace 1.0\n") == "t.txt:2: unsupported trace version '1.0'; this build reads version 1");
}

// ---- structure ---------------------------------------------------------------------------------

TEST_CASE("trace: operation before any stream") {
    CHECK(parse_error(H + "mvm in=x out=y\n") == "t.txt:2: operation 'mvm' before any 'stream' line");
    CHECK(parse_error(H + "sample\n") == "t.txt:2: operation 'sample' before any 'stream' line");
}

TEST_CASE("trace: unknown operation") {
    CHECK(parse_error(H + "stream core 0\nfrobnicate x=1\n") ==
          "t.txt:3: unknown operation 'frobnicate'; expected one of: sample, program, fill, input, output, mvm, "
          "nmpu, send, recv, barrier, concat");
    // Opcodes are case-sensitive.
    CHECK(parse_error(H + "stream core 0\nMVM in=x out=y\n") ==
          "t.txt:3: unknown operation 'MVM'; expected one of: sample, program, fill, input, output, mvm, "
          "nmpu, send, recv, barrier, concat");
}

TEST_CASE("trace: core operation in the host stream") {
    CHECK(parse_error(H + "stream host\nsample\nmvm in=x out=y\n") ==
          "t.txt:4: 'mvm' is a core operation; the host stream cannot run it");
    CHECK(parse_error(H + "stream host feed\nprogram matrix=w.npy\n") ==
          "t.txt:3: 'program' is a core operation; the host stream cannot run it");
    CHECK(parse_error(H + "stream host\nnmpu in=x out=y\n") ==
          "t.txt:3: 'nmpu' is a core operation; the host stream cannot run it");
}

TEST_CASE("trace: host operation in a core stream") {
    CHECK(parse_error(H + "stream core 0\nsample\ninput buf=x\n") ==
          "t.txt:4: 'input' is a host operation; a core stream cannot run it");
    CHECK(parse_error(H + "stream core 1\noutput buf=x\n") ==
          "t.txt:3: 'output' is a host operation; a core stream cannot run it");
}

TEST_CASE("trace: program after sample") {
    CHECK(parse_error(H + "stream core 0\nsample\nprogram matrix=w.npy\n") ==
          "t.txt:4: 'program' belongs in the setup section, before 'sample'");
}

TEST_CASE("trace: fill after sample") {
    CHECK(parse_error(H + "stream host\nsample\nfill buf=x len=4 value=0\n") ==
          "t.txt:4: 'fill' belongs in the setup section, before 'sample'");
}

TEST_CASE("trace: the sample section ends with the stream") {
    // A new stream starts in its setup section again.
    Trace t = parse_trace(H + "stream core 0\nsample\nstream core 1\nprogram matrix=random rows=0:2 cols=0:2\n", "t.txt", "");
    CHECK(t.streams[1].setup.size() == 1);
}

TEST_CASE("trace: two sample lines") {
    CHECK(parse_error(H + "stream core 0\nsample\n\nsample\n") ==
          "t.txt:5: second 'sample' line in this stream (first at line 3)");
}

TEST_CASE("trace: sample with attributes") {
    CHECK(parse_error(H + "stream core 0\nsample n=2\n") == "t.txt:3: 'sample' takes no attributes");
}

// ---- attributes --------------------------------------------------------------------------------

TEST_CASE("trace: unknown attribute") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nsample\nmvm in=x out=y gain=2\n") ==
          "t.txt:5: unknown attribute 'gain' for 'mvm'");
    // An attribute of another opcode is unknown here too.
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy buf=x\n") ==
          "t.txt:3: unknown attribute 'buf' for 'program'");
    // NOTE: a token starting with '=' has an empty key.
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy =5\n") == "t.txt:3: '=5': expected key=value");
}

TEST_CASE("trace: a flag written with a value") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nnmpu in=x out=y relu=1\n") ==
          "t.txt:4: 'relu' is a flag; write it without a value");
}

TEST_CASE("trace: unknown flag") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in=x out=y relu\n") ==
          "t.txt:4: unknown flag 'relu' for 'mvm'");
}

TEST_CASE("trace: repeated flag") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nnmpu in=x out=y relu relu\n") ==
          "t.txt:4: flag 'relu' given twice");
}

TEST_CASE("trace: repeated attribute") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in=x in=x out=y\n") ==
          "t.txt:4: attribute 'in' given twice");
    // Even with different values.
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in=x out=y out=z\n") ==
          "t.txt:4: attribute 'out' given twice");
}

TEST_CASE("trace: missing required attribute") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in=x\n") == "t.txt:4: 'mvm' needs out=...");
    CHECK(parse_error(H + "stream core 0\nprogram\n") == "t.txt:3: 'program' needs matrix=...");
    CHECK(parse_error(H + "stream core 0\nfill len=4 value=1\n") == "t.txt:3: 'fill' needs buf=...");
    CHECK(parse_error(H + "stream host\nsend buf=x\n") == "t.txt:3: 'send' needs to=...");
    CHECK(parse_error(H + "stream host\nbarrier\n") == "t.txt:3: 'barrier' needs name=...");
}

TEST_CASE("trace: attribute without value") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in out=y\n") ==
          "t.txt:4: 'in' needs a value (in=...)");
}

TEST_CASE("trace: empty attribute value") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nmvm in= out=y\n") ==
          "t.txt:4: attribute 'in' has an empty value");
}

TEST_CASE("trace: empty range") {
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=5:5\n") ==
          "t.txt:3: rows=5:5: empty range (end must be greater than start)");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy cols=8:4\n") ==
          "t.txt:3: cols=8:4: empty range (end must be greater than start)");
}

TEST_CASE("trace: non-numeric range") {
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=a:b\n") ==
          "t.txt:3: rows start: expected a non-negative integer, got 'a'");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=0:b\n") ==
          "t.txt:3: rows end: expected a non-negative integer, got 'b'");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=-1:4\n") ==
          "t.txt:3: rows start: expected a non-negative integer, got '-1'");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=0:\n") ==
          "t.txt:3: rows end: expected a non-negative integer, got ''");
}

TEST_CASE("trace: range without colon") {
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy rows=64\n") == "t.txt:3: rows=64: expected a range A:B");
    CHECK(parse_error(H + "stream host\nsample\ninput buf=x cols=0-8\n") == "t.txt:4: cols=0-8: expected a range A:B");
}

TEST_CASE("trace: read of a buffer never written") {
    CHECK(parse_error(H + "stream core 0\nsample\nmvm in=x out=y\n") ==
          "t.txt:4: buffer 'x' is read before any operation of this stream writes it");
    CHECK(parse_error(H + "stream host\nsample\noutput buf=y\n") ==
          "t.txt:4: buffer 'y' is read before any operation of this stream writes it");
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nnmpu in=x add=p out=y\n") ==
          "t.txt:4: buffer 'p' is read before any operation of this stream writes it");
}

TEST_CASE("trace: buffers are local to their stream") {
    // x is written in core 0's stream, not in core 1's.
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nstream core 1\nsend to=0 buf=x\n") ==
          "t.txt:5: buffer 'x' is read before any operation of this stream writes it");
}

TEST_CASE("trace: an operation may read what it writes only if written before") {
    // mvm out=x does not make in=x readable on the same line.
    CHECK(parse_error(H + "stream core 0\nmvm in=x out=x\n") ==
          "t.txt:3: buffer 'x' is read before any operation of this stream writes it");
}

TEST_CASE("trace: fill with both value and seed") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1 seed=2\n") ==
          "t.txt:3: fill needs exactly one of value=V or seed=S");
}

TEST_CASE("trace: fill with neither value nor seed") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4\n") == "t.txt:3: fill needs exactly one of value=V or seed=S");
}

TEST_CASE("trace: fill with a bad length or value") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=0 value=1\n") == "t.txt:3: len: expected 1..1000000, got 0");
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=1000001 value=1\n") ==
          "t.txt:3: len: expected 1..1000000, got 1000001");
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=four value=1\n") ==
          "t.txt:3: len: expected a non-negative integer, got 'four'");
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=nan\n") == "t.txt:3: value: expected a number, got 'nan'");
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 seed=-3\n") ==
          "t.txt:3: seed: expected an integer in 0..4294967295, got '-3'");
}

TEST_CASE("trace: program matrix=random without rows and cols") {
    CHECK(parse_error(H + "stream core 0\nprogram matrix=random\n") ==
          "t.txt:3: program matrix=random needs rows=A:B and cols=C:D");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=random rows=0:4\n") ==
          "t.txt:3: program matrix=random needs rows=A:B and cols=C:D");
    CHECK(parse_error(H + "stream core 0\nprogram matrix=random cols=0:4 seed=1\n") ==
          "t.txt:3: program matrix=random needs rows=A:B and cols=C:D");
}

TEST_CASE("trace: program with a seed for a matrix file") {
    CHECK(parse_error(H + "stream core 0\nprogram matrix=w.npy seed=1\n") == "t.txt:3: seed= applies only to matrix=random");
}

TEST_CASE("trace: nmpu cols without bias") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nnmpu in=x out=y cols=0:4\n") ==
          "t.txt:4: cols= selects a slice of the per-column files; give bias=, scale= or offset= too");
}

TEST_CASE("trace: send to itself") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=4 value=1\nsend to=0 buf=x\n") == "t.txt:4: send to itself");
    // Every host stream is the host endpoint, so a host stream cannot send to=host.
    CHECK(parse_error(H + "stream host feed\nfill buf=x len=4 value=1\nsend to=host buf=x\n") ==
          "t.txt:4: a host stream cannot send to the host");
}

TEST_CASE("trace: receive from itself") {
    CHECK(parse_error(H + "stream core 2\nrecv from=2 buf=x\n") == "t.txt:3: receive from itself");
    CHECK(parse_error(H + "stream host\nrecv from=host buf=x\n") == "t.txt:3: a host stream cannot receive from the host");
}

// ---- comments, blank lines and line numbers ----------------------------------------------------

TEST_CASE("trace: comments and blank lines keep line numbers right") {
    const std::string text =
        "# header comment\n"                 // 1
        "\n"                                 // 2
        "aimcsim-trace 1   # the version\n"  // 3
        "   \t \n"                           // 4
        "stream core 0 # core zero\n"        // 5
        "# fill buf=x len=4 value=1\n"       // 6  (commented out: x is never written)
        "\n"                                 // 7
        "sample#no space needed\n"           // 8
        "   # indented comment\n"            // 9
        "mvm in=x out=y\n";                  // 10
    CHECK(parse_error(text) == "t.txt:10: buffer 'x' is read before any operation of this stream writes it");
}

TEST_CASE("trace: a comment cuts a token") {
    // '#' starts a comment even inside a value: `tag=a#b` is `tag=a`.
    Trace t = parse_trace(H + "stream core 0\nfill buf=x len=4 value=1\nsend to=1 buf=x tag=a#b c\n", "t.txt", "");
    CHECK(t.tags == std::vector<std::string>{"a"});
}

TEST_CASE("trace: CRLF line endings and tabs") {
    Trace t = parse_trace("aimcsim-trace 1\r\nstream core 0\r\n\r\nfill\tbuf=x  len=4\tvalue=2\r\nsample\r\n", "t.txt", "");
    REQUIRE(t.streams.size() == 1);
    REQUIRE(t.streams[0].setup.size() == 1);
    CHECK(t.streams[0].buffers == std::vector<std::string>{"x"});
    CHECK(t.streams[0].setup[0].value == 2);
    CHECK(t.streams[0].setup[0].line == 4);
    CHECK(parse_error("aimcsim-trace 1\r\nstream core 0\r\n\r\nmvm in=x out=y\r\n") ==
          "t.txt:4: buffer 'x' is read before any operation of this stream writes it");
}

TEST_CASE("trace: the first error is the one reported") {
    // Line 3 has an unknown attribute and line 4 an unknown operation: line 3 wins.
    CHECK(parse_error(H + "stream core 0\nmvm in=x out=y foo=1\nbar\n") == "t.txt:3: unknown attribute 'foo' for 'mvm'");
}

TEST_CASE("trace: opcode_name") {
    CHECK(std::string(aimc::opcode_name(OpCode::Program)) == "program");
    CHECK(std::string(aimc::opcode_name(OpCode::Nmpu)) == "nmpu");
    CHECK(std::string(aimc::opcode_name(OpCode::Barrier)) == "barrier");
}

TEST_CASE("trace: input and output belong in the per-sample section") {
    CHECK(parse_error(H + "stream host\ninput buf=x\n") ==
          "t.txt:3: 'input' belongs in the per-sample section, after 'sample'");
    CHECK(parse_error(H + "stream host\nfill buf=x len=2 value=0\noutput buf=x\n") ==
          "t.txt:4: 'output' belongs in the per-sample section, after 'sample'");
}

TEST_CASE("trace: a core stream programs one tile") {
    CHECK(parse_error(H + "stream core 1\nprogram matrix=random rows=0:4 cols=0:4\nprogram matrix=random rows=0:2 cols=0:2\n") ==
          "t.txt:4: core 1 is already programmed at line 3; a core holds one weight tile");
}

TEST_CASE("trace: seeds are 32-bit") {
    CHECK(parse_error(H + "stream core 0\nfill buf=x len=2 seed=4294967296\n") ==
          "t.txt:3: seed: expected an integer in 0..4294967295, got '4294967296'");
}

TEST_CASE("trace: convolution patches 2-D pooling and concat parse and are checked") {
    const Trace t = parse_trace(H + "stream core 0\nprogram matrix=w.npy\nfill buf=x len=4 value=1\nsample\n"
                                    "mvm in=x out=y patches=28,28,1,3,3,1,1 patch_rows=0:5\n"
                                    "nmpu in=y out=z pool=max:2 map=28,28,4\nconcat in=z,y out=c\n",
                                "t.txt", "");
    const auto& ops = t.streams[0].per_sample;
    REQUIRE(ops.size() == 3);
    CHECK(ops[0].patches.set);
    CHECK(ops[0].patches.positions() == 28 * 28);
    CHECK(ops[0].patches.patch_rows() == 9);
    CHECK(ops[0].patch_rows.begin == 0);
    CHECK(ops[0].patch_rows.end == 5);
    CHECK(ops[1].pool_map.h == 28);
    CHECK(ops[1].pool_map.c == 4);
    CHECK(ops[2].code == OpCode::Concat);
    CHECK(ops[2].ins.size() == 2);
    const std::string core = H + "stream core 0\nfill buf=x len=4 value=1\n";
    CHECK(parse_error(core + "mvm in=x out=y patches=28,28,1,3,3\n") ==
          "t.txt:4: patches=28,28,1,3,3: expected H,W,C,KH,KW,STRIDE,PAD (7 integers, each 0..1000000)");
    CHECK(parse_error(core + "mvm in=x out=y patches=4,4,1,7,7,1,1\n") ==
          "t.txt:4: patches=4,4,1,7,7,1,1: the kernel is larger than the padded map");
    CHECK(parse_error(core + "mvm in=x out=y patches=4,4,1,3,3,0,1\n") ==
          "t.txt:4: patches=4,4,1,3,3,0,1: H, W, C, KH, KW and STRIDE must be at least 1");
    CHECK(parse_error(core + "mvm in=x out=y patch_rows=0:3\n") ==
          "t.txt:4: patch_rows= selects rows of a convolution patch; give patches= too");
    CHECK(parse_error(core + "mvm in=x out=y patches=4,4,1,3,3,1,1 patch_rows=0:10\n") ==
          "t.txt:4: patch_rows=0:10 exceeds the 9 rows of a patch");
    CHECK(parse_error(core + "nmpu in=x out=y map=2,2,1\n") == "t.txt:4: map=H,W,C gives the shape for 2-D pooling; give pool= too");
    CHECK(parse_error(core + "nmpu in=x out=y pool=max:2 map=3,2,1\n") ==
          "t.txt:4: map=3,2,1: the pool window 2 does not divide the map's height and width");
    CHECK(parse_error(core + "concat in=x,,x out=y\n") == "t.txt:4: in=x,,x: empty buffer name in the list");
    CHECK(parse_error(core + "concat in=x,q out=y\n") == "t.txt:4: buffer 'q' is read before any operation of this stream writes it");
}
