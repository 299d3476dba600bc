#include "sim/dataflow.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <tuple>

#include "models/common/random.hpp"
#include "sim/errors.hpp"

namespace aimc {

namespace {

std::string range_text(const Range& r) { return std::to_string(r.begin) + ":" + std::to_string(r.end); }

}  // namespace

FileTable load_trace_files(const Trace& trace, const Workload& workload) {
    FileTable files;
    for (const auto& s : trace.streams)
        for (const auto* ops : {&s.setup, &s.per_sample})
            for (const auto& op : *ops)
                for (const std::string* file : {&op.file, &op.scale_file, &op.offset_file}) {
                    if (file->empty() || *file == "random" || files.count(*file)) continue;
                    try {
                        // Files the mapper derived are in memory, never on the disk.
                        const auto generated = workload.generated_files.find(*file);
                        NpyArray a = generated != workload.generated_files.end() ? generated->second : read_npy(*file);
                        if (op.code == OpCode::Program && a.shape.size() != 2)
                            throw InputError(*file + ": expected a 2-D (inputs, outputs) matrix");
                        files.emplace(*file, std::move(a));
                    } catch (const InputError& e) {
                        throw InputError(trace.where(op.line) + ": " + opcode_name(op.code) + ": " + e.what());
                    }
                }
    return files;
}

WeightTile program_tile(const Op& op, const Trace& trace, const FileTable& files, std::uint64_t seed, int core,
                        const Crossbar& xb) {
    const auto fail = [&](const std::string& msg) { throw InputError(trace.where(op.line) + ": program: " + msg); };
    WeightTile tile;
    const auto fits = [&](std::size_t rows, std::size_t cols) {
        if (rows > xb.rows() || cols > xb.cols())
            fail("a " + std::to_string(rows) + "x" + std::to_string(cols) + " tile does not fit the " +
                 std::to_string(xb.rows()) + "x" + std::to_string(xb.cols()) + " crossbar");
        if (rows == 0 || cols == 0) fail("an empty tile");
    };
    if (op.file == "random") {
        fits(op.rows.size(), op.cols.size());
        tile.rows = op.rows.size();
        tile.cols = op.cols.size();
        const CounterRng rng(seed, static_cast<std::uint64_t>(core), RandomPurpose::RandomWeights);
        tile.w.resize(tile.rows * tile.cols);
        for (std::size_t i = 0; i < tile.w.size(); ++i) tile.w[i] = static_cast<float>(rng.symmetric(op.seed, i));
    } else {
        const NpyArray& m = files.at(op.file);
        const Range rows = op.rows.set ? op.rows : Range{0, m.shape[0], true};
        const Range cols = op.cols.set ? op.cols : Range{0, m.shape[1], true};
        if (rows.end > m.shape[0] || cols.end > m.shape[1])
            fail("rows " + range_text(rows) + ", cols " + range_text(cols) + " lie outside the " +
                 std::to_string(m.shape[0]) + "x" + std::to_string(m.shape[1]) + " matrix in " + op.file);
        fits(rows.size(), cols.size());
        tile.rows = rows.size();
        tile.cols = cols.size();
        tile.w.resize(tile.rows * tile.cols);
        for (std::size_t r = 0; r < tile.rows; ++r)
            for (std::size_t c = 0; c < tile.cols; ++c)
                tile.w[r * tile.cols + c] = static_cast<float>(m.data[(rows.begin + r) * m.shape[1] + cols.begin + c]);
    }
    return tile;
}

void program_cores(const Trace& trace, const FileTable& files, std::uint64_t seed, int cores, unsigned threads,
                   const std::function<CoreNumerics&(int)>& numerics, const std::function<void(int)>& programmed) {
    // Each core programs its own tiles in trace order; cores are independent (their random streams
    // are keyed by core), so they run on any number of threads with the same result.
    std::vector<std::vector<const Op*>> ops(static_cast<std::size_t>(cores));
    for (const auto& s : trace.streams)
        if (s.endpoint != kHostEndpoint && s.endpoint < cores)
            for (const auto& op : s.setup)
                if (op.code == OpCode::Program) ops[static_cast<std::size_t>(s.endpoint)].push_back(&op);
    std::vector<std::exception_ptr> errors(ops.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t c = next++; c < ops.size(); c = next++) {
            try {
                const int core = static_cast<int>(c);
                for (const Op* op : ops[c]) {
                    CoreNumerics& n = numerics(core);
                    n.program(program_tile(*op, trace, files, seed, core, n.crossbar()));
                    if (programmed) programmed(core);
                }
            } catch (...) {
                errors[c] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

DigitalOp digital_op_shape(const Op& op) {
    static const float kPresent = 0;  // marks a stage that runs; never read
    DigitalOp d;
    d.add = op.add >= 0 ? &kPresent : nullptr;
    d.residual = op.residual >= 0 ? &kPresent : nullptr;
    d.bias = op.file.empty() ? nullptr : &kPresent;
    d.scale = op.scale_file.empty() ? nullptr : &kPresent;
    d.offset = op.offset_file.empty() ? nullptr : &kPresent;
    d.activation = op.activation == "relu"    ? Activation::Relu
                   : op.activation == "clip"  ? Activation::Clipped
                   : op.activation == "leaky" ? Activation::Leaky
                                              : Activation::None;
    d.activation_param = static_cast<float>(op.activation_param);
    d.pooling = op.pooling == "max" ? Pooling::Max : op.pooling == "avg" ? Pooling::Average : Pooling::None;
    d.pool_window = op.pool_window;
    d.pool_map_h = op.pool_map.h;
    d.pool_map_w = op.pool_map.w;
    d.pool_map_c = op.pool_map.c;
    return d;
}

struct Dataflow::State {
    std::size_t first = 0, n = 1;  // the batch: samples [first, first + n); the setup runs with n = 1
    std::vector<std::vector<Matrix>> buffers;  // per stream
    std::vector<std::size_t> pc;
    std::map<std::tuple<int, int, int>, std::deque<Matrix>> queues;  // (from, to, tag)
    std::vector<std::vector<float>> outputs;
};

Dataflow::Dataflow(const Trace& trace, const Workload& workload, const FileTable& files,
                   std::vector<const CoreNumerics*> cores, std::uint64_t seed)
    : trace_(trace), workload_(workload), files_(files), cores_(std::move(cores)), seed_(seed),
      setup_events_(cores_.size(), 0), sample_events_(cores_.size(), 0) {
    for (const auto& s : trace.streams) {
        for (const auto* ops : {&s.setup, &s.per_sample})
            for (const auto& op : *ops) {
                if (op.code == OpCode::Mvm && s.endpoint != kHostEndpoint &&
                    static_cast<std::size_t>(s.endpoint) < cores_.size()) {
                    auto& counter = (ops == &s.setup ? setup_events_ : sample_events_)[static_cast<std::size_t>(s.endpoint)];
                    event_offset_[&op] = counter;
                    counter += op.patches.positions();
                }
                if (op.code != OpCode::Nmpu) continue;
                Columns& c = columns_[&op];
                auto slice = [&](const std::string& file, std::vector<float>& v) {
                    if (file.empty()) return;
                    const NpyArray& a = files.at(file);
                    const Range cols = op.cols.set ? op.cols : Range{0, a.size(), true};
                    if (cols.end > a.size())
                        fail(op, "cols " + range_text(cols) + " exceed the " + std::to_string(a.size()) + " values in " + file);
                    v.resize(cols.size());
                    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(a.data[cols.begin + i]);
                };
                slice(op.file, c.bias);
                slice(op.scale_file, c.scale);
                slice(op.offset_file, c.offset);
            }
    }
    State st;
    st.buffers.resize(trace.streams.size());
    for (std::size_t i = 0; i < trace.streams.size(); ++i) st.buffers[i].resize(trace.streams[i].buffers.size());
    st.pc.assign(trace.streams.size(), 0);
    run_section(st, true);
    for (const auto& [key, q] : st.queues)
        if (!q.empty())
            throw InputError(trace.file + ": a message sent in a setup section is not received in a setup section; "
                             "messages before 'sample' must be received before 'sample'");
    setup_buffers_ = std::move(st.buffers);
}

void Dataflow::fail(const Op& op, const std::string& msg) const {
    throw InputError(trace_.where(op.line) + ": " + opcode_name(op.code) + ": " + msg);
}

void Dataflow::run_section(State& st, bool setup) const {
    const auto& streams = trace_.streams;
    auto ops_of = [&](std::size_t s) -> const std::vector<Op>& { return setup ? streams[s].setup : streams[s].per_sample; };
    while (true) {
        bool progress = false, done = true;
        for (std::size_t s = 0; s < streams.size(); ++s) {
            while (step(st, s, setup)) progress = true;
            done = done && st.pc[s] == ops_of(s).size();
        }
        if (done) return;
        if (progress) continue;
        std::string msg = trace_.file + ": deadlock: these streams wait for messages that are never sent:";
        for (std::size_t s = 0; s < streams.size(); ++s) {
            if (st.pc[s] == ops_of(s).size()) continue;
            const Op& op = ops_of(s)[st.pc[s]];
            msg += "\n  " + (streams[s].endpoint == kHostEndpoint
                                 ? "host stream" + (streams[s].name.empty() ? "" : " " + streams[s].name)
                                 : "core " + std::to_string(streams[s].endpoint)) +
                   " at " + trace_.where(op.line) + " (" + opcode_name(op.code) + ")";
            if (!setup) msg += ", sample " + std::to_string(st.first);
        }
        throw InputError(msg);
    }
}

bool Dataflow::step(State& st, std::size_t s, bool setup) const {
    const StreamTrace& stream = trace_.streams[s];
    const auto& ops = setup ? stream.setup : stream.per_sample;
    if (st.pc[s] == ops.size()) return false;
    const Op& op = ops[st.pc[s]];
    if (op.code == OpCode::Recv) {
        auto it = st.queues.find({op.peer, stream.endpoint, op.tag});
        if (it == st.queues.end() || it->second.empty()) return false;
    }
    execute(st, s, op, setup);
    ++st.pc[s];
    return true;
}

void Dataflow::execute(State& st, std::size_t s, const Op& op, bool setup) const {
    const StreamTrace& stream = trace_.streams[s];
    auto& bufs = st.buffers[s];
    auto buf = [&](int id) -> Matrix& { return bufs[static_cast<std::size_t>(id)]; };
    auto name_of = [&](int id) -> const std::string& { return stream.buffers[static_cast<std::size_t>(id)]; };
    const int cores = static_cast<int>(cores_.size());
    auto check_peer = [&] {
        if (op.peer != kHostEndpoint && op.peer >= cores)
            fail(op, "core " + std::to_string(op.peer) + " does not exist: the chip has " + std::to_string(cores) +
                         " cores");
    };
    const std::size_t n = st.n;
    switch (op.code) {
        case OpCode::Program:
        case OpCode::Barrier: return;
        case OpCode::Fill: {
            Matrix& b = buf(op.buf);
            b.rows = 1;
            b.len = op.len;
            b.v.resize(op.len);
            const int endpoint = stream.endpoint == kHostEndpoint ? cores : stream.endpoint;
            const CounterRng rng(seed_, static_cast<std::uint64_t>(endpoint), RandomPurpose::FillData);
            for (std::size_t i = 0; i < op.len; ++i)
                b.v[i] = op.has_value ? static_cast<float>(op.value) : static_cast<float>(rng.symmetric(op.seed, i));
            return;
        }
        case OpCode::Input: {
            if (!workload_.inputs) fail(op, "the workload has no data.inputs");
            const std::size_t f = workload_.input_features(), samples = workload_.inputs->shape[0];
            const Range cols = op.cols.set ? op.cols : Range{0, f, true};
            if (cols.end > f)
                fail(op, "cols " + range_text(cols) + " exceed the " + std::to_string(f) + " input features");
            Matrix& b = buf(op.buf);
            b.rows = n;
            b.len = cols.size();
            b.v.resize(n * b.len);
            for (std::size_t k = 0; k < n; ++k) {
                const float* src = workload_.inputs->data.data() + ((st.first + k) % samples) * f + cols.begin;
                std::copy(src, src + b.len, b.v.begin() + static_cast<long>(k * b.len));
            }
            return;
        }
        case OpCode::Output: {
            const Matrix& b = buf(op.buf);
            for (std::size_t k = 0; k < n; ++k) st.outputs[k].insert(st.outputs[k].end(), b.row(k), b.row(k) + b.len);
            return;
        }
        case OpCode::Mvm: {
            const std::size_t c = static_cast<std::size_t>(stream.endpoint);
            const CoreNumerics* core = c < cores_.size() ? cores_[c] : nullptr;
            const std::size_t rows = core ? core->crossbar().tile_rows() : 0;
            if (rows == 0) fail(op, "no weights programmed on core " + std::to_string(c));
            const std::size_t cols = core->crossbar().tile_cols();
            const Matrix& in = buf(op.in);
            const Patches& p = op.patches;
            const std::size_t positions = p.positions();
            Range patch = op.patch_rows.set ? op.patch_rows : Range{0, p.patch_rows(), true};
            if (!p.set && in.len != rows)
                fail(op, "in=" + name_of(op.in) + " has " + std::to_string(in.len) +
                             " elements but the programmed tile has " + std::to_string(rows) + " rows");
            if (p.set && in.len != p.h * p.w * p.c)
                fail(op, "in=" + name_of(op.in) + " has " + std::to_string(in.len) + " elements, patches= describes a " +
                             std::to_string(p.h) + "x" + std::to_string(p.w) + "x" + std::to_string(p.c) + " map of " +
                             std::to_string(p.h * p.w * p.c));
            if (p.set && patch.size() != rows)
                fail(op, "the patch rows " + range_text(patch) + " are " + std::to_string(patch.size()) +
                             " but the programmed tile has " + std::to_string(rows) + " rows");
            const std::size_t vectors = (setup ? 1 : n) * positions;
            std::vector<float> x(vectors * rows);
            if (!p.set) {
                for (std::size_t k = 0; k * positions < vectors; ++k) std::copy(in.row(k), in.row(k) + rows, x.begin() + k * rows);
            } else {
                // One patch per output position, rows in (ky, kx, c) order, zero outside the map.
                const std::size_t ow = p.out_w();
                for (std::size_t v = 0; v < vectors; ++v) {
                    const float* map = in.row(v / positions);
                    const std::size_t pos = v % positions, oy = pos / ow, ox = pos % ow;
                    float* dst = x.data() + v * rows;
                    for (std::size_t r = patch.begin; r < patch.end; ++r) {
                        const std::size_t ch = r % p.c, kx = (r / p.c) % p.kw, ky = r / (p.c * p.kw);
                        const long iy = static_cast<long>(oy * p.stride + ky) - static_cast<long>(p.pad);
                        const long ix = static_cast<long>(ox * p.stride + kx) - static_cast<long>(p.pad);
                        const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<long>(p.h) && ix < static_cast<long>(p.w);
                        *dst++ = inside ? map[(static_cast<std::size_t>(iy) * p.w + static_cast<std::size_t>(ix)) * p.c + ch] : 0.f;
                    }
                }
            }
            // Core c's MVM events: the setup section's first, then sample after sample.
            std::vector<std::uint64_t> events(vectors);
            const std::uint64_t offset = event_offset_.at(&op);
            for (std::size_t v = 0; v < vectors; ++v)
                events[v] = setup ? offset + v
                                  : setup_events_[c] + (st.first + v / positions) * sample_events_[c] + offset + v % positions;
            Matrix& out = buf(op.out);
            Matrix result;
            result.rows = setup ? 1 : n;
            result.len = positions * cols;
            result.v.resize(vectors * cols);
            core->mvm_batch(x.data(), result.v.data(), vectors, events.data());
            out = std::move(result);
            return;
        }
        case OpCode::Nmpu: {
            const CoreNumerics* core = cores_.at(static_cast<std::size_t>(stream.endpoint));
            const Matrix& in = buf(op.in);
            const std::size_t len = in.len;
            auto operand = [&](int id, const char* key) -> const Matrix* {
                if (id < 0) return nullptr;
                if (buf(id).len != len)
                    fail(op, std::string(key) + "=" + name_of(id) + " has " + std::to_string(buf(id).len) +
                                 " elements, in=" + name_of(op.in) + " has " + std::to_string(len));
                return &buf(id);
            };
            const Matrix* add = operand(op.add, "add");
            const Matrix* residual = operand(op.residual, "residual");
            const Columns& cols = columns_.at(&op);
            // One value per element, or one per channel of a channels-last map (repeated over the
            // positions) when the element count is a multiple of the value count.
            std::vector<float> repeated[3];
            auto per_column = [&](const std::vector<float>& v, const char* key, std::vector<float>& r) -> const float* {
                if (v.empty()) return nullptr;
                if (v.size() == len) return v.data();
                if (len % v.size() != 0)
                    fail(op, std::string("the ") + key + " slice has " + std::to_string(v.size()) + " values, in=" +
                                 name_of(op.in) + " has " + std::to_string(len) + " (neither equal nor a multiple)");
                r.resize(len);
                for (std::size_t i = 0; i < len; ++i) r[i] = v[i % v.size()];
                return r.data();
            };
            DigitalOp d = digital_op_shape(op);
            d.bias = per_column(cols.bias, "bias", repeated[0]);
            d.scale = per_column(cols.scale, "scale", repeated[1]);
            d.offset = per_column(cols.offset, "offset", repeated[2]);
            if (d.pools_map() && op.pool_map.h * op.pool_map.w * op.pool_map.c != len)
                fail(op, "map=" + std::to_string(op.pool_map.h) + "," + std::to_string(op.pool_map.w) + "," +
                             std::to_string(op.pool_map.c) + " has " +
                             std::to_string(op.pool_map.h * op.pool_map.w * op.pool_map.c) + " elements, in=" +
                             name_of(op.in) + " has " + std::to_string(len));
            if (!d.pools_map() && len % op.pool_window != 0)
                fail(op, "pool window " + std::to_string(op.pool_window) + " does not divide the " +
                             std::to_string(len) + " elements of in=" + name_of(op.in));
            const bool shared = in.rows == 1 && (!add || add->rows == 1) && (!residual || residual->rows == 1);
            const std::size_t rows = shared ? 1 : n;
            Matrix result;
            result.rows = rows;
            result.len = d.output_size(len);
            result.v.resize(rows * result.len);
            try {
                for (std::size_t k = 0; k < rows; ++k) {
                    d.add = add ? add->row(k) : nullptr;
                    d.residual = residual ? residual->row(k) : nullptr;
                    core->digital().apply(d, in.row(k), result.v.data() + k * result.len, len);
                }
            } catch (const InputError& e) {
                fail(op, e.what());
            }
            buf(op.out) = std::move(result);
            return;
        }
        case OpCode::Send: {
            check_peer();
            st.queues[{stream.endpoint, op.peer, op.tag}].push_back(buf(op.buf));
            return;
        }
        case OpCode::Recv: {
            check_peer();
            auto& q = st.queues.at({op.peer, stream.endpoint, op.tag});
            buf(op.buf) = std::move(q.front());
            q.pop_front();
            return;
        }
        case OpCode::Concat: {
            Matrix result;
            result.rows = 1;
            for (int id : op.ins) {
                result.len += buf(id).len;
                result.rows = std::max(result.rows, buf(id).rows);
            }
            result.v.resize(result.rows * result.len);
            for (std::size_t k = 0; k < result.rows; ++k) {
                float* dst = result.v.data() + k * result.len;
                for (int id : op.ins) dst = std::copy(buf(id).row(k), buf(id).row(k) + buf(id).len, dst);
            }
            buf(op.out) = std::move(result);
            return;
        }
    }
}

std::vector<std::vector<float>> Dataflow::run(std::size_t first, std::size_t n) const {
    State st;
    st.first = first;
    st.n = n;
    st.buffers = setup_buffers_;
    st.pc.assign(trace_.streams.size(), 0);
    st.outputs.resize(n);
    run_section(st, false);
    return std::move(st.outputs);
}

std::vector<std::vector<float>> Dataflow::run_all(std::size_t samples, unsigned threads,
                                                  const std::function<void(std::size_t)>& done) const {
    std::vector<std::vector<float>> outputs(samples);
    std::mutex report;
    std::size_t finished = 0;
    const std::size_t batches = (samples + kBatch - 1) / kBatch;
    std::vector<std::exception_ptr> errors(batches);
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t b = next++; b < batches; b = next++) {
            try {
                const std::size_t first = b * kBatch, n = std::min(kBatch, samples - first);
                auto out = run(first, n);
                for (std::size_t k = 0; k < n; ++k) outputs[first + k] = std::move(out[k]);
                if (done) {
                    const std::lock_guard<std::mutex> lock(report);
                    done(finished += n);
                }
            } catch (...) {
                errors[b] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::min<std::size_t>(std::max(1u, threads), std::max<std::size_t>(batches, 1)); ++t)
        pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    return outputs;
}

}  // namespace aimc
