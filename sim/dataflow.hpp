// The values of a run: every stream's operations applied to whole batches of samples, without
// timing (plain C++, no SystemC). Timing never depends on values, so the timed run computes its
// values here ahead of the timing model, and the functional mode runs only this: both give the
// same bits, and the numerics run as batched matrix products.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/core/core_numerics.hpp"
#include "sim/npy.hpp"
#include "sim/trace.hpp"
#include "sim/workload.hpp"

namespace aimc {

using FileTable = std::map<std::string, NpyArray>;  // weight and bias files by path

// Loads every file the trace's operations name (once each), checking that programmed matrices
// are 2-D; the workload's generated files (mapper output) are taken from memory.
FileTable load_trace_files(const Trace& trace, const Workload& workload);

// The weight tile a `program` operation writes on `core`, whose crossbar is `xb`.
WeightTile program_tile(const Op& op, const Trace& trace, const FileTable& files, std::uint64_t seed, int core,
                        const Crossbar& xb);

// Runs every core's `program` operations, cores in parallel on up to `threads` threads; `numerics(c)`
// gives core c's numerics, `programmed(c)` is called after each tile (for the timing model's
// programming figures). The lowest core's error is rethrown whatever the thread count.
void program_cores(const Trace& trace, const FileTable& files, std::uint64_t seed, int cores, unsigned threads,
                   const std::function<CoreNumerics&(int)>& numerics,
                   const std::function<void(int)>& programmed = {});

// The digital operation an `nmpu` op describes, with operand pointers set only to mark which
// stages run (for its cost); the dataflow points them at the data.
DigitalOp digital_op_shape(const Op& op);

// Output elements an `mvm` op produces for a tile of `cols` columns.
inline std::size_t mvm_output_elements(const Op& op, std::size_t cols) { return op.patches.positions() * cols; }

class Dataflow {
public:
    // cores[c]: the programmed numerics of core c (null for cores without a stream). Runs the
    // setup sections once; throws InputError for an operation that cannot run (sizes, files).
    Dataflow(const Trace& trace, const Workload& workload, const FileTable& files,
             std::vector<const CoreNumerics*> cores, std::uint64_t seed);

    // The host outputs of samples [first, first + n): per sample, its `output` vectors joined.
    // Thread-safe: batches may run concurrently.
    std::vector<std::vector<float>> run(std::size_t first, std::size_t n) const;

    // All `samples` in batches of kBatch on up to `threads` threads; the result does not depend
    // on the thread count. `done(samples_finished)` is called after each batch (serialized).
    std::vector<std::vector<float>> run_all(std::size_t samples, unsigned threads,
                                            const std::function<void(std::size_t)>& done = {}) const;

    static constexpr std::size_t kBatch = 64;

private:
    // A buffer over a batch: one row per sample, or a single row shared by all (setup values).
    struct Matrix {
        std::size_t rows = 0, len = 0;
        std::vector<float> v;
        const float* row(std::size_t b) const { return v.data() + (rows == 1 ? 0 : b) * len; }
    };
    struct State;
    bool step(State& st, std::size_t stream, bool setup) const;
    void execute(State& st, std::size_t stream, const Op& op, bool setup) const;
    [[noreturn]] void fail(const Op& op, const std::string& msg) const;
    void run_section(State& st, bool setup) const;

    const Trace& trace_;
    const Workload& workload_;
    const FileTable& files_;
    std::vector<const CoreNumerics*> cores_;
    std::uint64_t seed_;
    // Per core: MVM events of the setup section and of one sample; per op: its event offset
    // within the sample and its per-column operand slices.
    std::vector<std::uint64_t> setup_events_, sample_events_;
    std::map<const Op*, std::uint64_t> event_offset_;
    struct Columns {
        std::vector<float> bias, scale, offset;
    };
    std::map<const Op*, Columns> columns_;
    std::vector<std::vector<Matrix>> setup_buffers_;  // per stream, per buffer: after the setup section
};

}  // namespace aimc
