#include "sim/player.hpp"

#include <algorithm>

#include "sim/dataflow.hpp"
#include "sim/errors.hpp"

namespace aimc {

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

void StreamPlayer::record(Timeline::Track track, const std::string& name, std::uint64_t start,
                          std::uint64_t end) const {
    if (!run_.timeline) return;
    const int process = core_ ? core_->index() : run_.chip->core_count();
    run_.timeline->span(process, track, name, start, end, in_setup_ ? "" : "{\"sample\":" + std::to_string(sample_) + "}");
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
                    if (run_.progress) run_.progress->update(run_.chip->host().samples_done);
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

// Timing only: the values were computed by the dataflow before the run (sim/dataflow.hpp), which
// also checked every operation's operands; buffers here carry their length and ready cycle.
StreamPlayer::Outcome StreamPlayer::execute(const Op& op, std::uint64_t now) {
    const std::uint64_t word_bytes = (run_.chip->word_bits() + 7) / 8;
    switch (op.code) {
        case OpCode::Program:
            // Weights are programmed before inference, all cores at once (program_cores()).
            return done(now);
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
        case OpCode::Fill: {
            Buffer& b = buf(op.buf);
            b.len = op.len;
            b.ready = now;
            return done(now);
        }
        case OpCode::Input: {
            HostPort& host = run_.chip->host();
            if (run_.host_collects && sample_ >= host.samples_done + host.samples_in_flight()) return on(host.sample_done);
            if (host.port_free() > now) return until(host.port_free());
            Buffer& b = buf(op.buf);
            b.len = op.cols.set ? op.cols.size() : run_.workload->input_features();
            b.ready = host.transfer(b.len * word_bytes, now);
            record(Timeline::Crossbar, "input " + stream_.buffers[static_cast<std::size_t>(op.buf)], now, b.ready);
            return done(b.ready);
        }
        case OpCode::Output: {
            Buffer& b = buf(op.buf);
            HostPort& host = run_.chip->host();
            std::uint64_t start = std::max(b.ready, host.port_free());
            if (start > now) return until(start);
            const std::uint64_t end = host.transfer(b.len * word_bytes, now);
            record(Timeline::Crossbar, "output " + stream_.buffers[static_cast<std::size_t>(op.buf)], now, end);
            return done(end);
        }
        case OpCode::Mvm: {
            Buffer& in = buf(op.in);
            const auto load_free = core_->mvm_load_free(in.in_output_buffer || buf(op.out).in_output_buffer);
            if (!load_free) return on(core_->output_released);
            std::uint64_t start = std::max(in.ready, *load_free);
            if (start > now) return until(start);
            read(op.in, now);
            Buffer& out = read(op.out, now);  // an unread result it overwrites leaves the buffer
            out.len = mvm_output_elements(op, core_->crossbar().tile_cols());
            out.ready = core_->mvm(op.patches.positions(), now);
            out.in_output_buffer = true;
            record(Timeline::Crossbar,
                   op.patches.set ? "conv " + std::to_string(op.patches.positions()) + " MVMs" : std::string("mvm"), now,
                   out.ready);
            return done(out.ready);
        }
        case OpCode::Nmpu: {
            // Scheduled ahead without sleeping: the digital unit is local to the core, so its start
            // (operands ready, unit free) is known now and nothing else can change it.
            Buffer& in = buf(op.in);
            std::uint64_t start = std::max({now, in.ready, core_->digital_free()});
            for (int id : {op.add, op.residual})
                if (id >= 0) start = std::max(start, buf(id).ready);
            const DigitalOp d = digital_op_shape(op);
            const std::size_t n = in.len;
            read(op.in, start);
            if (op.add >= 0) read(op.add, start);
            if (op.residual >= 0) read(op.residual, start);
            Buffer& out = read(op.out, start);
            out.ready = core_->nmpu(d, n, start);
            out.len = d.output_size(n);
            record(Timeline::Digital, "nmpu", start, out.ready);
            return done(out.ready);
        }
        case OpCode::Concat: {
            // An address remap in the stream's buffer memory: free, ready with its last part.
            std::uint64_t ready = now;
            std::size_t len = 0;
            for (int id : op.ins) {
                ready = std::max(ready, buf(id).ready);
                len += buf(id).len;
            }
            for (int id : op.ins) read(id, ready);
            Buffer& out = read(op.out, ready);
            out.len = len;
            out.ready = ready;
            return done(ready);
        }
        case OpCode::Send: {
            Buffer& b = buf(op.buf);
            if (b.ready > now) return until(b.ready);
            if (core_) read(op.buf, now);
            Message m;
            m.src = ni().id();
            m.dst = endpoint_id(op.peer);
            m.tag = op.tag;
            m.elements = b.len;
            m.bits = b.len * run_.chip->word_bits();
            run_.chip->interconnect().inject(std::move(m), now);
            return done(now);
        }
        case OpCode::Recv: {
            NetworkInterface& port = ni();
            const int src = endpoint_id(op.peer);
            Message* m = port.peek(src, op.tag);
            if (!m) return on(port.arrived);
            if (m->arrival_cycle > now) return until(m->arrival_cycle);
            Message got = port.pop(src, op.tag);
            Buffer& b = buf(op.buf);
            b.len = got.elements;
            b.ready = got.arrival_cycle;
            record(Timeline::NetworkIn,
                   (op.peer == kHostEndpoint ? std::string("from host") : "from core " + std::to_string(op.peer)) + ": " +
                       std::to_string(got.bits) + " bits",
                   got.inject_cycle, got.arrival_cycle);
            return done(got.arrival_cycle);
        }
    }
    return done(now);
}

}  // namespace aimc
