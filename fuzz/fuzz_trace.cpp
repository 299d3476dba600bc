// libFuzzer harness: the trace format v1 parser (sim/trace.hpp, parse_trace) on the fuzzer's text.
// Properties: an error message names the trace ("fuzz.trace:LINE: ..." or "fuzz.trace: ...");
// an accepted trace's operations refer to buffers, tags and barriers that exist.
#include "fuzz/fuzz_common.hpp"
#include "sim/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = aimc_fuzz::text(data, size);
    aimc::Trace t;
    const auto o = aimc_fuzz::run([&] { t = aimc::parse_trace(text, "fuzz.trace", "/nonexistent/dir"); });
    if (!o.accepted) {
        aimc_fuzz::check(o.error.rfind("fuzz.trace:", 0) == 0, "error message does not start with the file name: " + o.error);
        return 0;
    }
    for (const auto& s : t.streams) {
        const int nbuf = static_cast<int>(s.buffers.size());
        for (const auto* ops : {&s.setup, &s.per_sample})
            for (const auto& op : *ops) {
                for (int b : {op.buf, op.in, op.out, op.add, op.residual}) aimc_fuzz::check(b >= -1 && b < nbuf, "buffer id out of range");
                for (int b : op.ins) aimc_fuzz::check(b >= 0 && b < nbuf, "concat buffer id out of range");
                aimc_fuzz::check(op.tag >= -1 && op.tag < static_cast<int>(t.tags.size()), "tag id out of range");
                aimc_fuzz::check(op.barrier >= -1 && op.barrier < static_cast<int>(t.barriers.size()), "barrier id out of range");
                aimc_fuzz::check(op.line >= 1, "operation without a line number");
            }
    }
    return 0;
}
