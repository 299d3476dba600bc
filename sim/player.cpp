#include "sim/player.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "models/common/random.hpp"
#include "sim/errors.hpp"

namespace aimc {

namespace {

std::string range_text(const Range& r) { return std::to_string(r.begin) + ":" + std::to_string(r.end); }

// The weight tile a `program` operation writes on `core`.
WeightTile program_tile(const Op& op, const RunState& run, const AimcCore& core) {
    const auto fail = [&](const std::string& msg) {
        throw InputError(run.trace->where(op.line) + ": program: " + msg);
    };
    WeightTile tile;
    const Crossbar& xb = core.crossbar();
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
        const CounterRng rng(run.seed, static_cast<std::uint64_t>(core.index()), RandomPurpose::RandomWeights);
        tile.w.resize(tile.rows * tile.cols);
        for (std::size_t i = 0; i < tile.w.size(); ++i) tile.w[i] = static_cast<float>(rng.symmetric(op.seed, i));
    } else {
        const NpyArray& m = run.files.at(op.file);
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

}  // namespace

void program_weights(RunState& run, unsigned threads) {
    // Each core programs its own tiles in trace order; cores are independent (their random streams
    // are keyed by core), so they run on any number of threads with the same result.
    std::vector<std::vector<const Op*>> ops(static_cast<std::size_t>(run.chip->core_count()));
    for (const auto& s : run.trace->streams)
        if (s.endpoint != kHostEndpoint)
            for (const auto& op : s.setup)
                if (op.code == OpCode::Program) ops[static_cast<std::size_t>(s.endpoint)].push_back(&op);
    std::vector<std::exception_ptr> errors(ops.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t c = next++; c < ops.size(); c = next++) {
            try {
                AimcCore& core = run.chip->core(static_cast<int>(c));
                for (const Op* op : ops[c]) core.program(program_tile(*op, run, core));
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
        if (e) std::rethrow_exception(e);  // the lowest core's error, whatever the thread count
}

StreamPlayer::StreamPlayer(sc_core::sc_module_name name, const StreamTrace& stream, RunState& run)
    : sc_core::sc_module(name), stream_(stream), run_(run), buffers_(stream.buffers.size()) {
    if (stream.endpoint != kHostEndpoint) core_ = &run.chip->core(stream.endpoint);
    for (const auto& op : stream.per_sample)
        if (op.code == OpCode::Output) collects_outputs_ = true;
    SC_METHOD(step);
}

std::uint64_t StreamPlayer::now_cycle() const {
    return sc_core::sc_time_stamp().value() / run_.chip->geometry().cycle.value();
}

NetworkInterface& StreamPlayer::ni() { return core_ ? core_->ni() : run_.chip->host().ni(); }

int StreamPlayer::endpoint_id(int trace_endpoint) const {
    return trace_endpoint == kHostEndpoint ? run_.chip->core_count() : trace_endpoint;
}

StreamPlayer::Buffer& StreamPlayer::read(int id, std::uint64_t cycle) {
    Buffer& b = buf(id);
    if (b.in_output_buffer) {
        core_->consume_output(cycle);
        b.in_output_buffer = false;
    }
    return b;
}

std::string StreamPlayer::position() const {
    std::string who = core_ ? "core " + std::to_string(core_->index())
                            : "host stream" + (stream_.name.empty() ? "" : " " + stream_.name);
    const auto& ops = in_setup_ ? stream_.setup : stream_.per_sample;
    if (pc_ >= ops.size()) return who;
    const Op& op = ops[pc_];
    std::string s = who + " at " + run_.trace->where(op.line) + " (" + opcode_name(op.code) + ")";
    if (!in_setup_) s += ", sample " + std::to_string(sample_);
    return s;
}

void StreamPlayer::fail(const Op& op, const std::string& msg) const {
    throw InputError(run_.trace->where(op.line) + ": " + opcode_name(op.code) + ": " + msg);
}

void StreamPlayer::step() {
    ++run_.events;
    if (finished_ || run_.error) return;
    try {
        const std::uint64_t now = now_cycle();
        while (true) {
            if (in_setup_ && pc_ == stream_.setup.size()) {
                in_setup_ = false;
                pc_ = 0;
                if (stream_.per_sample.empty()) sample_ = run_.samples;
            }
            if (!in_setup_ && (sample_ >= run_.samples || stream_.per_sample.empty())) {
                finished_ = true;
                run_.end_cycle = std::max(run_.end_cycle, now);
                return;
            }
            const Op& op = in_setup_ ? stream_.setup[pc_] : stream_.per_sample[pc_];
            Outcome r = execute(op, now);
            if (r.kind == Wait::Until) {
                next_trigger((r.cycle - now) * run_.chip->geometry().cycle);
                return;
            }
            if (r.kind == Wait::Event) {
                next_trigger(*r.event);
                return;
            }
            run_.end_cycle = std::max(run_.end_cycle, r.done);
            if (in_setup_) {
                ++pc_;
                continue;
            }
            if (!sample_started_) {
                sample_started_ = true;
                sample_first_ = now;
                sample_last_ = now;
            }
            sample_last_ = std::max(sample_last_, r.done);
            if (++pc_ == stream_.per_sample.size()) {
                auto& st = run_.sample_start[sample_];
                auto& en = run_.sample_end[sample_];
                st = std::min(st, sample_first_);
                en = std::max(en, sample_last_);
                if (collects_outputs_ && ++run_.host_outputs_per_sample[sample_] == run_.host_output_streams) {
                    ++run_.chip->host().samples_done;
                    run_.chip->host().sample_done.notify(sc_core::SC_ZERO_TIME);
                }
                pc_ = 0;
                ++sample_;
                sample_started_ = false;
            }
        }
    } catch (...) {
        run_.error = std::current_exception();
        sc_core::sc_stop();
    }
}

StreamPlayer::Outcome StreamPlayer::execute(const Op& op, std::uint64_t now) {
    const std::uint64_t word_bytes = (run_.chip->word_bits() + 7) / 8;
    switch (op.code) {
        case OpCode::Program:
            // Weights are programmed before inference, all cores at once (program_weights()).
            return done(now);
        case OpCode::Fill: {
            Buffer& b = buf(op.buf);
            b.data.resize(op.len);
            const CounterRng rng(run_.seed, static_cast<std::uint64_t>(endpoint_id(stream_.endpoint)),
                                 RandomPurpose::FillData);
            for (std::size_t i = 0; i < op.len; ++i)
                b.data[i] = op.has_value ? static_cast<float>(op.value) : static_cast<float>(rng.symmetric(op.seed, i));
            b.ready = now;
            return done(now);
        }
        case OpCode::Input: {
            const Workload& w = *run_.workload;
            if (!w.inputs) fail(op, "the workload has no data.inputs");
            HostPort& host = run_.chip->host();
            if (run_.host_collects && sample_ >= host.samples_done + host.samples_in_flight()) return on(host.sample_done);
            if (host.port_free() > now) return until(host.port_free());
            const std::size_t f = w.input_features();
            Range cols = op.cols.set ? op.cols : Range{0, f, true};
            if (cols.end > f) fail(op, "cols " + std::to_string(cols.begin) + ":" + std::to_string(cols.end) +
                                           " exceed the " + std::to_string(f) + " input features");
            const std::size_t row = sample_ % w.inputs->shape[0];
            Buffer& b = buf(op.buf);
            b.data.resize(cols.size());
            for (std::size_t i = 0; i < cols.size(); ++i) b.data[i] = static_cast<float>(w.inputs->data[row * f + cols.begin + i]);
            b.ready = host.transfer(cols.size() * word_bytes, now);
            return done(b.ready);
        }
        case OpCode::Output: {
            Buffer& b = buf(op.buf);
            HostPort& host = run_.chip->host();
            std::uint64_t start = std::max(b.ready, host.port_free());
            if (start > now) return until(start);
            auto& out = run_.outputs[sample_];
            out.insert(out.end(), b.data.begin(), b.data.end());
            return done(host.transfer(b.data.size() * word_bytes, now));
        }
        case OpCode::Mvm: {
            Buffer& in = buf(op.in);
            const auto load_free =
                core_->mvm_load_free(buf(op.in).in_output_buffer || buf(op.out).in_output_buffer);
            if (!load_free) return on(core_->output_released);
            std::uint64_t start = std::max(in.ready, *load_free);
            if (start > now) return until(start);
            const std::size_t rows = core_->crossbar().tile_rows();
            if (rows == 0) fail(op, "no weights programmed on core " + std::to_string(core_->index()));
            if (in.data.size() != rows)
                fail(op, "in=" + name_of(op.in) + " has " + std::to_string(in.data.size()) +
                             " elements but the programmed tile has " + std::to_string(rows) + " rows");
            read(op.in, now);
            Buffer& out = read(op.out, now);  // an unread result it overwrites leaves the buffer
            out.ready = core_->mvm(in.data, out.data, now);
            out.in_output_buffer = true;
            return done(out.ready);
        }
        case OpCode::Nmpu: {
            // Scheduled ahead without sleeping: the digital unit is local to the core, so its start
            // (operands ready, unit free) is known now and nothing else can change it.
            Buffer& in = buf(op.in);
            std::uint64_t start = std::max({now, in.ready, core_->digital_free()});
            const std::size_t n = in.data.size();
            DigitalOp d;
            auto operand = [&](int id, const char* key) -> const float* {
                if (id < 0) return nullptr;
                start = std::max(start, buf(id).ready);
                if (buf(id).data.size() != n)
                    fail(op, std::string(key) + "=" + name_of(id) + " has " + std::to_string(buf(id).data.size()) +
                                 " elements, in=" + name_of(op.in) + " has " + std::to_string(n));
                return buf(id).data.data();
            };
            d.add = operand(op.add, "add");
            d.residual = operand(op.residual, "residual");
            // Per-column values: the slice cols=A:B of each file, one value per element.
            std::vector<float> bias, scale, offset;
            auto per_column = [&](const std::string& file, const char* key, std::vector<float>& v) -> const float* {
                if (file.empty()) return nullptr;
                const NpyArray& a = run_.files.at(file);
                const Range cols = op.cols.set ? op.cols : Range{0, a.size(), true};
                if (cols.end > a.size())
                    fail(op, "cols " + range_text(cols) + " exceed the " + std::to_string(a.size()) + " values in " + file);
                if (cols.size() != n)
                    fail(op, std::string("the ") + key + " slice has " + std::to_string(cols.size()) + " values, in=" +
                                 name_of(op.in) + " has " + std::to_string(n));
                v.resize(n);
                for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(a.data[cols.begin + i]);
                return v.data();
            };
            d.bias = per_column(op.file, "bias", bias);
            d.scale = per_column(op.scale_file, "scale", scale);
            d.offset = per_column(op.offset_file, "offset", offset);
            d.activation = op.activation == "relu"    ? Activation::Relu
                           : op.activation == "clip"  ? Activation::Clipped
                           : op.activation == "leaky" ? Activation::Leaky
                                                      : Activation::None;
            d.activation_param = static_cast<float>(op.activation_param);
            d.pooling = op.pooling == "max" ? Pooling::Max : op.pooling == "avg" ? Pooling::Average : Pooling::None;
            d.pool_window = op.pool_window;
            if (n % op.pool_window != 0)
                fail(op, "pool window " + std::to_string(op.pool_window) + " does not divide the " + std::to_string(n) +
                             " elements of in=" + name_of(op.in));
            read(op.in, start);
            if (op.add >= 0) read(op.add, start);
            if (op.residual >= 0) read(op.residual, start);
            Buffer& out = read(op.out, start);
            std::vector<float> result;
            try {
                out.ready = core_->nmpu(d, in.data, result, start);
            } catch (const InputError& e) {
                fail(op, e.what());
            }
            out.data = std::move(result);
            return done(out.ready);
        }
        case OpCode::Send: {
            Buffer& b = buf(op.buf);
            NetworkInterface& port = ni();
            if (b.ready > now) return until(b.ready);
            const int dst = endpoint_id(op.peer);
            if (op.peer != kHostEndpoint && op.peer >= run_.chip->core_count())
                fail(op, "core " + std::to_string(op.peer) + " does not exist: the chip has " +
                             std::to_string(run_.chip->core_count()) + " cores");
            if (core_) read(op.buf, now);
            Message m;
            m.src = port.id();
            m.dst = dst;
            m.tag = op.tag;
            m.payload = b.data;
            m.bits = b.data.size() * run_.chip->word_bits();
            run_.chip->interconnect().inject(std::move(m), now);
            return done(now);
        }
        case OpCode::Recv: {
            const int src = endpoint_id(op.peer);
            if (op.peer != kHostEndpoint && op.peer >= run_.chip->core_count())
                fail(op, "core " + std::to_string(op.peer) + " does not exist: the chip has " +
                             std::to_string(run_.chip->core_count()) + " cores");
            NetworkInterface& port = ni();
            Message* m = port.peek(src, op.tag);
            if (!m) return on(port.arrived);
            if (m->arrival_cycle > now) return until(m->arrival_cycle);
            Message got = port.pop(src, op.tag);
            Buffer& b = buf(op.buf);
            b.data = std::move(got.payload);
            b.ready = got.arrival_cycle;
            return done(got.arrival_cycle);
        }
        case OpCode::Barrier: {
            BarrierState& bs = run_.barriers[static_cast<std::size_t>(op.barrier)];
            if (!barrier_waiting_) {
                barrier_waiting_ = barrier_generation_[op.barrier]++;
                if (++bs.arrived[*barrier_waiting_] == bs.participants) bs.released.notify(sc_core::SC_ZERO_TIME);
            }
            if (bs.arrived[*barrier_waiting_] < bs.participants) return on(bs.released);
            barrier_waiting_.reset();
            return done(now);
        }
    }
    return done(now);
}

}  // namespace aimc
