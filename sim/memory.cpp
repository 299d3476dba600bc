#include "sim/memory.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "models/nmpu/digital_unit.hpp"
#include "sim/errors.hpp"

namespace aimc {

namespace {

// Measured (docs/robustness.md): the process before any chip (code, libraries, the SystemC
// kernel, the allocator's arenas), and each core's modules (SystemC objects, router, ADC
// mismatch tables, statistics).
constexpr std::uint64_t kBaseBytes = 10ull << 20;
constexpr std::uint64_t kPerCoreBytes = 4ull << 10;
// The JSON report: its fixed part and, per core, its statistics (mesh: its router's too).
constexpr std::uint64_t kReportBytes = 256ull << 10;
constexpr std::uint64_t kReportPerCoreBytes = 8ull << 10;

// Conductances kept per programmed cell: as programmed and at inference, each as positive,
// negative and difference over full scale and their magnitudes (12 floats).
constexpr std::uint64_t kCrossbarBytesPerCell = 12 * sizeof(float);

// A heap block of `bytes` (glibc: 8 bytes of header, 16-byte granules).
std::uint64_t heap_block(std::uint64_t bytes) { return bytes == 0 ? 0 : (bytes + 8 + 15) / 16 * 16; }

// Saturating arithmetic: absurd configurations must give an absurd estimate, not a wrapped one.
std::uint64_t add(std::uint64_t a, std::uint64_t b) {
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}
std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
    return a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a ? std::numeric_limits<std::uint64_t>::max()
                                                                         : a * b;
}

std::uint64_t array_bytes(const NpyArray& a) { return heap_block(mul(a.data.size(), sizeof(double))); }

// The buffer lengths of one sample through the trace: the dataflow's schedule (sim/dataflow.cpp,
// run_section) with lengths in place of values. What it cannot run (a deadlock, a missing file)
// the dataflow itself reports; the estimate stops there.
struct Lengths {
    std::uint64_t buffers = 0;    // Σ over streams and buffers of the longest value each holds (elements)
    std::uint64_t queued = 0;     // the most elements in messages sent and not yet received
    std::uint64_t outputs = 0;    // host output elements per sample
    std::uint64_t operands = 0;   // the largest MVM's im2col input, result and event keys per vector (bytes)
    std::uint64_t sends = 0;      // messages per sample
    std::uint64_t setup_sends = 0;
};

Lengths trace_lengths(const Trace& trace, const Workload& w, const std::vector<std::uint64_t>& tile_rows,
                      const std::vector<std::uint64_t>& tile_cols) {
    Lengths out;
    const auto& streams = trace.streams;
    std::vector<std::vector<std::uint64_t>> len(streams.size()), longest(streams.size());
    for (std::size_t s = 0; s < streams.size(); ++s) {
        len[s].assign(streams[s].buffers.size(), 0);
        longest[s].assign(streams[s].buffers.size(), 0);
    }
    std::map<std::tuple<int, int, int>, std::deque<std::uint64_t>> queues;
    std::uint64_t queued = 0;
    for (const bool setup : {true, false}) {
        std::vector<std::size_t> pc(streams.size(), 0);
        auto ops_of = [&](std::size_t s) -> const std::vector<Op>& { return setup ? streams[s].setup : streams[s].per_sample; };
        auto set = [&](std::size_t s, int id, std::uint64_t n) {
            if (id < 0 || static_cast<std::size_t>(id) >= len[s].size()) return;
            len[s][static_cast<std::size_t>(id)] = n;
            auto& m = longest[s][static_cast<std::size_t>(id)];
            m = std::max(m, n);
        };
        auto get = [&](std::size_t s, int id) -> std::uint64_t {
            return id < 0 || static_cast<std::size_t>(id) >= len[s].size() ? 0 : len[s][static_cast<std::size_t>(id)];
        };
        // One operation of stream s, if it can run now.
        auto step = [&](std::size_t s) {
            if (pc[s] == ops_of(s).size()) return false;
            const Op& op = ops_of(s)[pc[s]];
            const int endpoint = streams[s].endpoint;
            const auto core = static_cast<std::size_t>(endpoint);
            switch (op.code) {
                case OpCode::Program:
                case OpCode::Barrier: break;
                case OpCode::Fill: set(s, op.buf, op.len); break;
                case OpCode::Input: set(s, op.buf, op.cols.set ? op.cols.size() : w.input_features()); break;
                case OpCode::Output:
                    if (!setup) out.outputs = add(out.outputs, get(s, op.buf));
                    break;
                case OpCode::Mvm: {
                    const std::uint64_t rows = endpoint >= 0 && core < tile_rows.size() ? tile_rows[core] : 0;
                    const std::uint64_t cols = endpoint >= 0 && core < tile_cols.size() ? tile_cols[core] : 0;
                    const std::uint64_t positions = op.patches.positions();
                    set(s, op.out, mul(positions, cols));
                    // Per vector: the input rows, the result and the noise key of each position.
                    out.operands = std::max(out.operands, mul(positions, add(mul(add(rows, cols), sizeof(float)),
                                                                             sizeof(std::uint64_t))));
                    break;
                }
                case OpCode::Nmpu: set(s, op.out, digital_op_shape(op).output_size(get(s, op.in))); break;
                case OpCode::Concat: {
                    std::uint64_t n = 0;
                    for (int id : op.ins) n = add(n, get(s, id));
                    set(s, op.out, n);
                    break;
                }
                case OpCode::Send: {
                    const std::uint64_t n = get(s, op.buf);
                    queues[{endpoint, op.peer, op.tag}].push_back(n);
                    queued = add(queued, n);
                    out.queued = std::max(out.queued, queued);
                    ++(setup ? out.setup_sends : out.sends);
                    break;
                }
                case OpCode::Recv: {
                    auto it = queues.find({op.peer, endpoint, op.tag});
                    if (it == queues.end() || it->second.empty()) return false;
                    set(s, op.buf, it->second.front());
                    queued -= it->second.front();
                    it->second.pop_front();
                    break;
                }
            }
            ++pc[s];
            return true;
        };
        for (bool progress = true; progress;) {
            progress = false;
            for (std::size_t s = 0; s < streams.size(); ++s)
                while (step(s)) progress = true;
        }
    }
    for (const auto& l : longest)
        for (std::uint64_t n : l) out.buffers = add(out.buffers, n);
    return out;
}

// Per sample of the float reference's batches: the largest layer's input, output and im2col
// matrix, and the outputs kept for residual additions (floats).
std::uint64_t reference_floats_per_sample(const Network& net) {
    std::uint64_t peak = 0, kept = 0;
    for (const auto& l : net.layers) {
        std::uint64_t need = add(shape_size(l.in_shape), shape_size(l.out_shape));
        if (l.type == LayerType::Conv2d && l.out_shape.size() == 3)
            need = add(need, mul(l.out_shape[0] * l.out_shape[1], l.matrix_rows()));
        peak = std::max(peak, need);
        if (l.type == LayerType::Add) kept = add(kept, shape_size(l.out_shape));
    }
    return add(peak, kept);
}

}  // namespace

std::uint64_t MemoryEstimate::total() const {
    std::uint64_t t = 0;
    for (std::uint64_t p : {base, workload, crossbars, programming, dataflow, reference, results, report}) t = add(t, p);
    return t;
}

std::string MemoryEstimate::breakdown() const {
    std::string out;
    const std::pair<const char*, std::uint64_t> parts[] = {
        {"base", base},       {"workload", workload},   {"crossbars", crossbars}, {"programming", programming},
        {"dataflow", dataflow}, {"reference", reference}, {"results", results},     {"report", report}};
    for (const auto& [name, bytes] : parts)
        if (bytes) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, format_bytes(bytes));
    return out;
}

MemoryEstimate estimate_memory(const ChipConfig& cfg, const Workload& w, const FileTable& files, const MemoryRun& run) {
    MemoryEstimate e;
    const auto& g = cfg.at("chip");
    const auto cores = static_cast<std::uint64_t>(g.integer("grid_cols") * g.integer("grid_rows"));
    const unsigned threads = std::max(1u, run.threads);
    e.base = add(kBaseBytes, mul(cores, kPerCoreBytes));

    // Already in memory: the data set, the network, the trace, the weight files.
    if (w.inputs) e.workload = add(e.workload, heap_block(mul(w.inputs->data.size(), sizeof(float))));
    e.workload = add(e.workload, heap_block(mul(w.labels.size(), sizeof(long long))));
    for (const auto& l : w.network.layers)
        e.workload = add(e.workload, add(add(array_bytes(l.weight), array_bytes(l.bias)),
                                         heap_block(mul(add(l.wf.size(), l.bf.size()), sizeof(float)))));
    for (const auto& [name, a] : w.generated_files) e.workload = add(e.workload, array_bytes(a));
    for (const auto& [name, a] : files) e.workload = add(e.workload, array_bytes(a));
    std::uint64_t ops = 0;
    for (const auto& s : w.trace.streams) ops += s.setup.size() + s.per_sample.size();
    e.workload = add(e.workload, add(mul(ops, sizeof(Op)), w.generated_trace.size()));

    // The tile of every programmed core, as the program operations give it (clipped to the
    // crossbar: a larger one is an error when it is programmed).
    const auto& xb = cfg.at("core.crossbar");
    auto param = [&](const char* name, long long fallback) {
        return static_cast<std::uint64_t>(xb.decl && xb.decl->param(name) ? xb.integer(name) : fallback);
    };
    const std::uint64_t xb_rows = param("rows", 0), xb_cols = param("cols", 0), devices = param("devices_per_polarity", 1);
    std::vector<std::uint64_t> tile_rows(cores, 0), tile_cols(cores, 0), cells;
    for (const auto& s : w.trace.streams) {
        if (s.endpoint < 0 || static_cast<std::uint64_t>(s.endpoint) >= cores) continue;
        for (const auto& op : s.setup) {
            if (op.code != OpCode::Program) continue;
            std::uint64_t r = op.rows.set ? op.rows.size() : 0, c = op.cols.set ? op.cols.size() : 0;
            if (const auto f = files.find(op.file); f != files.end() && f->second.shape.size() == 2) {
                if (!op.rows.set) r = f->second.shape[0];
                if (!op.cols.set) c = f->second.shape[1];
            }
            tile_rows[static_cast<std::size_t>(s.endpoint)] = std::min(r, xb_rows);
            tile_cols[static_cast<std::size_t>(s.endpoint)] = std::min(c, xb_cols);
            cells.push_back(mul(std::min(r, xb_rows), std::min(c, xb_cols)));
        }
    }
    for (std::uint64_t n : cells) e.crossbars = add(e.crossbars, mul(n, kCrossbarBytesPerCell));
    // Programming one tile holds four floats per device (targets, programmed conductances, drift
    // exponents, conductances at inference; 2 × devices_per_polarity devices per cell), the tile's
    // weights and a read-back of them: the largest tiles, one per thread.
    std::sort(cells.begin(), cells.end(), std::greater<>());
    for (std::size_t i = 0; i < cells.size() && i < threads; ++i)
        e.programming = add(e.programming, mul(cells[i], add(mul(2 * devices, 4 * sizeof(float)), 2 * sizeof(float))));

    const Lengths l = trace_lengths(w.trace, w, tile_rows, tile_cols);
    const std::uint64_t samples = run.samples;
    if (!w.trace.streams.empty() && samples > 0) {
        // One batch of kBatch samples per thread: every buffer of every stream, the messages in
        // flight, the host outputs, and the largest MVM's operands.
        const std::uint64_t batches = (samples + Dataflow::kBatch - 1) / Dataflow::kBatch;
        const std::uint64_t floats = add(add(l.buffers, l.queued), l.outputs);
        const std::uint64_t per_batch = mul(Dataflow::kBatch, add(mul(floats, sizeof(float)), l.operands));
        e.dataflow = mul(std::min<std::uint64_t>(threads, batches), per_batch);
    }
    if (w.has_network() && w.inputs && samples > 0) {
        const std::uint64_t rows = std::min<std::uint64_t>(samples, w.inputs->shape[0]);
        const std::uint64_t batch = 256, batches = (rows + batch - 1) / batch;
        e.reference = mul(std::min<std::uint64_t>(threads, batches),
                          mul(batch * sizeof(float), reference_floats_per_sample(w.network)));
        e.results = add(e.results, mul(samples, 2 * sizeof(std::size_t)));  // predictions
    }
    // Per sample: its host outputs (a vector each), its start and end cycles and output count;
    // the --logits array and its file image (float64); each message's latency (and its sorted copy).
    std::uint64_t per_sample = add(3 * sizeof(void*), heap_block(mul(l.outputs, sizeof(float))));
    if (run.timed) per_sample = add(per_sample, 2 * sizeof(std::uint64_t) + sizeof(int) + mul(l.sends, 2 * sizeof(std::uint32_t)));
    if (run.logits) per_sample = add(per_sample, mul(l.outputs, 2 * sizeof(double)));
    e.results = add(e.results, mul(samples, per_sample));
    if (run.timed && w.traffic) {
        // Synthetic traffic: rate × cores × cycles flits offered, in messages of
        // ceil(message_bits / flit width) flits; per message its latency and a sorted copy,
        // and room for it in a source queue (past saturation the queues grow).
        const auto& net = cfg.at("interconnect");
        const char* width = net.decl && net.decl->param("link_width_bits") ? "link_width_bits"
                            : net.decl && net.decl->param("width_bits")    ? "width_bits"
                                                                          : nullptr;
        const double flit_bits = width ? static_cast<double>(net.integer(width)) : 1e18;
        const double flits = std::max(1.0, std::ceil(static_cast<double>(w.traffic->message_bits) / flit_bits));
        const double messages = std::ceil(w.traffic->rate * static_cast<double>(cores) *
                                          static_cast<double>(w.traffic->end_cycle()) / flits);
        e.results = add(e.results, mul(static_cast<std::uint64_t>(std::min(messages, 1e15)), 2 * sizeof(std::uint32_t) + 16));
    }
    if (run.timed) e.report = add(kReportBytes, mul(cores, kReportPerCoreBytes));
    else e.report = kReportBytes;
    return e;
}

std::uint64_t default_memory_limit() {
    std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) limit = mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page));
    // A container's limit (cgroup v2): "max" or bytes.
    if (std::ifstream cg("/sys/fs/cgroup/memory.max"); cg) {
        std::string text;
        cg >> text;
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 20)
            limit = std::min<std::uint64_t>(limit, std::stoull(text));
    }
    struct rlimit as {};
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        limit = std::min<std::uint64_t>(limit, static_cast<std::uint64_t>(as.rlim_cur));
    if (limit == std::numeric_limits<std::uint64_t>::max()) return limit;
    return limit / 5 * 4;
}

std::optional<std::uint64_t> parse_memory_size(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    const std::string number = text.substr(0, i);
    std::size_t u = i;
    while (u < text.size() && text[u] == ' ') ++u;
    const std::string unit = text.substr(u);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) return std::nullopt;
    static const std::map<std::string, double> units = {
        {"", 1.0},        {"B", 1.0},       {"K", 0x1p10},     {"KiB", 0x1p10}, {"k", 0x1p10},   {"M", 0x1p20},
        {"MiB", 0x1p20},  {"G", 0x1p30},    {"GiB", 0x1p30},   {"T", 0x1p40},   {"TiB", 0x1p40}, {"kB", 1e3},
        {"KB", 1e3},      {"MB", 1e6},      {"GB", 1e9},       {"TB", 1e12}};
    const auto it = units.find(unit);
    if (it == units.end()) return std::nullopt;
    const double bytes = std::strtod(number.c_str(), nullptr) * it->second;
    if (!(bytes >= 1) || bytes > 0x1p62) return std::nullopt;
    return static_cast<std::uint64_t>(bytes);
}

std::string format_bytes(std::uint64_t bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = static_cast<double>(bytes);
    std::size_t k = 0;
    while (v >= 1024 * 0.9995 && k + 1 < std::size(units)) {
        v /= 1024;
        ++k;
    }
    return k == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.3g} {}", v, units[k]);
}

void check_memory(const MemoryEstimate& e, std::uint64_t limit, bool limit_given) {
    if (limit == 0) limit = default_memory_limit();
    if (e.total() <= limit) return;
    throw InputError(fmt::format(
        "the run needs an estimated {} of memory ({}), more than the limit of {} ({}); lower the sizes, "
        "samples or threads, or raise the limit with --memory-limit SIZE (docs/robustness.md)",
        format_bytes(e.total()), e.breakdown(), format_bytes(limit),
        limit_given ? "--memory-limit" : "the default: 80% of the memory available to this process"));
}

}  // namespace aimc
