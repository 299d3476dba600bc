#include "sim/trace.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/errors.hpp"
#include "sim/units.hpp"

namespace aimc {

const char* opcode_name(OpCode c) {
    switch (c) {
        case OpCode::Program: return "program";
        case OpCode::Fill: return "fill";
        case OpCode::Input: return "input";
        case OpCode::Output: return "output";
        case OpCode::Mvm: return "mvm";
        case OpCode::Nmpu: return "nmpu";
        case OpCode::Send: return "send";
        case OpCode::Recv: return "recv";
        case OpCode::Barrier: return "barrier";
        case OpCode::Concat: return "concat";
    }
    return "?";
}

namespace {

struct OpSpec {
    OpCode code;
    const char* name;
    std::vector<std::string> required, optional, flags;
    bool host, core, setup_only, sample_only = false;
};

const std::vector<OpSpec>& op_specs() {
    static const std::vector<OpSpec> specs = {
        {OpCode::Program, "program", {"matrix"}, {"rows", "cols", "seed"}, {}, false, true, true},
        {OpCode::Fill, "fill", {"buf", "len"}, {"value", "seed"}, {}, true, true, true},
        {OpCode::Input, "input", {"buf"}, {"cols"}, {}, true, false, false, true},
        {OpCode::Output, "output", {"buf"}, {}, {}, true, false, false, true},
        {OpCode::Mvm, "mvm", {"in", "out"}, {"patches", "patch_rows"}, {}, false, true, false},
        {OpCode::Nmpu, "nmpu", {"in", "out"}, {"add", "bias", "scale", "offset", "cols", "act", "residual", "pool", "map"},
         {"relu"}, false, true, false},
        {OpCode::Send, "send", {"to", "buf"}, {"tag"}, {}, true, true, false},
        {OpCode::Recv, "recv", {"from", "buf"}, {"tag"}, {}, true, true, false},
        {OpCode::Barrier, "barrier", {"name"}, {}, {}, true, true, false},
        {OpCode::Concat, "concat", {"in", "out"}, {}, {}, true, true, false},
    };
    return specs;
}

class Parser {
public:
    Parser(const std::string& name, const std::string& dir) {
        trace_.file = name;
        trace_.dir = dir;
    }

    Trace run(std::istream& in) {
        std::string raw;
        std::vector<std::string> tok;
        bool header = false;
        std::streambuf& sb = *in.rdbuf();
        while (next_line(sb, raw)) {
            ++line_;
            if (line_ > kMaxLines) fail("more than 10 million lines");
            split(raw, std::min(raw.size(), raw.find('#')), tok);
            if (tok.empty()) continue;
            if (!header) {
                if (tok[0] != "aimcsim-trace" || tok.size() != 2)
                    fail("expected the header 'aimcsim-trace 1' before anything else");
                if (tok[1] != "1") fail("unsupported trace version '" + tok[1] + "'; this build reads version 1");
                header = true;
                continue;
            }
            if (tok[0] == "stream") {
                start_stream(tok);
                continue;
            }
            if (trace_.streams.empty()) fail("operation '" + tok[0] + "' before any 'stream' line");
            if (tok[0] == "sample") {
                if (tok.size() != 1) fail("'sample' takes no attributes");
                if (in_sample_) fail("second 'sample' line in this stream (first at line " + std::to_string(sample_line_) + ")");
                in_sample_ = true;
                sample_line_ = line_;
                continue;
            }
            op(tok);
        }
        if (!header) throw InputError(trace_.file + ": empty trace: expected the header 'aimcsim-trace 1'");
        return std::move(trace_);
    }

private:
    Trace trace_;
    int line_ = 0;
    bool in_sample_ = false;
    int sample_line_ = 0;
    std::set<std::pair<int, std::string>> seen_streams_;
    std::set<int> written_;  // buffers of the current stream written so far
    int program_line_ = 0;   // of the current stream's `program`, if any

    static constexpr int kMaxLines = 10'000'000;
    static constexpr std::size_t kMaxLineBytes = 1 << 20;

    [[noreturn]] void fail(const std::string& msg) const { throw InputError(trace_.where(line_) + ": " + msg); }

    // The next line (without its '\n') into `line`; false at the end of the input. A line longer
    // than 1 MiB (a binary file, a device) is an error, before it fills the memory.
    bool next_line(std::streambuf& sb, std::string& line) {
        line.clear();
        for (int c = sb.sbumpc();; c = sb.sbumpc()) {
            if (c == std::char_traits<char>::eof()) return !line.empty();
            if (c == '\n') return true;
            if (line.size() == kMaxLineBytes) {
                ++line_;
                fail("line longer than 1 MiB; not a trace");
            }
            line.push_back(static_cast<char>(c));
        }
    }

    static bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

    // The whitespace-separated words of s[0, end).
    static void split(const std::string& s, std::size_t end, std::vector<std::string>& out) {
        out.clear();
        for (std::size_t i = 0; i < end;) {
            while (i < end && space(s[i])) ++i;
            const std::size_t begin = i;
            while (i < end && !space(s[i])) ++i;
            if (i > begin) out.emplace_back(s, begin, i - begin);
        }
    }

    StreamTrace& stream() { return trace_.streams.back(); }

    void start_stream(const std::vector<std::string>& tok) {
        StreamTrace s;
        s.line = line_;
        if ((tok.size() == 2 || tok.size() == 3) && tok[1] == "host") {
            s.endpoint = kHostEndpoint;
            if (tok.size() == 3) s.name = tok[2];
        } else if (tok.size() == 3 && tok[1] == "core") {
            s.endpoint = static_cast<int>(index(tok[2], "core index"));
        } else {
            fail("expected 'stream host [NAME]' or 'stream core N'");
        }
        if (!seen_streams_.insert({s.endpoint, s.name}).second)
            fail("second stream for " + std::string(s.endpoint == kHostEndpoint
                                                        ? "the host" + (s.name.empty() ? "" : " named " + s.name)
                                                        : "core " + std::to_string(s.endpoint)));
        trace_.streams.push_back(std::move(s));
        in_sample_ = false;
        program_line_ = 0;
        written_.clear();
    }

    std::size_t index(const std::string& text, const std::string& what) const {
        auto v = parse_integer(text);
        if (!v || *v < 0 || *v > 1'000'000'000) fail(what + ": expected a non-negative integer, got '" + text + "'");
        return static_cast<std::size_t>(*v);
    }

    Range range(const std::string& text, const std::string& key) const {
        auto colon = text.find(':');
        if (colon == std::string::npos) fail(key + "=" + text + ": expected a range A:B");
        Range r;
        r.begin = index(text.substr(0, colon), key + " start");
        r.end = index(text.substr(colon + 1), key + " end");
        if (r.end <= r.begin) fail(key + "=" + text + ": empty range (end must be greater than start)");
        r.set = true;
        return r;
    }

    int buffer(const std::string& name, bool write) {
        auto& names = stream().buffers;
        auto it = std::find(names.begin(), names.end(), name);
        int id = static_cast<int>(it - names.begin());
        if (it == names.end()) names.push_back(name);
        if (write) {
            written_.insert(id);
        } else if (!written_.count(id)) {
            fail("buffer '" + name + "' is read before any operation of this stream writes it");
        }
        return id;
    }

    static int intern(std::vector<std::string>& table, const std::string& s) {
        auto it = std::find(table.begin(), table.end(), s);
        if (it != table.end()) return static_cast<int>(it - table.begin());
        table.push_back(s);
        return static_cast<int>(table.size() - 1);
    }

    int endpoint(const std::string& text, const std::string& key) const {
        if (text == "host") return kHostEndpoint;
        return static_cast<int>(index(text, key + " (a core index or 'host')"));
    }

    // act=relu | clip:C | leaky:A
    void activation(const std::string& text, Op& op) const {
        const auto colon = text.find(':');
        const std::string kind = text.substr(0, colon);
        if (kind == "relu" && colon == std::string::npos) {
            op.activation = kind;
            return;
        }
        if ((kind == "clip" || kind == "leaky") && colon != std::string::npos) {
            auto v = parse_real(text.substr(colon + 1));
            if (v && (kind == "leaky" || *v > 0)) {
                op.activation = kind;
                op.activation_param = *v;
                return;
            }
        }
        fail("act=" + text + ": expected relu, clip:C (a ceiling C > 0) or leaky:A (a slope A)");
    }

    // pool=max:K | avg:K
    void pooling(const std::string& text, Op& op) const {
        const auto colon = text.find(':');
        const std::string kind = text.substr(0, colon);
        std::optional<long long> k;
        if (colon != std::string::npos) k = parse_integer(text.substr(colon + 1));
        if ((kind != "max" && kind != "avg") || !k || *k < 1 || *k > 4096)
            fail("pool=" + text + ": expected max:K or avg:K with a window K in 1..4096");
        op.pooling = kind;
        op.pool_window = static_cast<std::size_t>(*k);
    }

    // A comma-separated list of exactly `n` integers, each in [lo, 1e6].
    std::vector<std::size_t> integers(const std::string& text, const std::string& key, std::size_t n,
                                      const std::string& form, std::size_t lo) const {
        std::vector<std::size_t> v;
        std::stringstream ss(text);
        std::string item;
        while (std::getline(ss, item, ',')) {
            auto x = parse_integer(item);
            if (!x || *x < static_cast<long long>(lo) || *x > 1'000'000) {
                v.clear();
                break;
            }
            v.push_back(static_cast<std::size_t>(*x));
        }
        if (v.size() != n || text.back() == ',')
            fail(key + "=" + text + ": expected " + form + " (" + std::to_string(n) + " integers, each " +
                 std::to_string(lo) + "..1000000)");
        return v;
    }

    void patches(const std::string& text, Op& op) const {
        const auto v = integers(text, "patches", 7, "H,W,C,KH,KW,STRIDE,PAD", 0);
        Patches& p = op.patches;
        p = Patches{v[0], v[1], v[2], v[3], v[4], v[5], v[6], true};
        if (!p.h || !p.w || !p.c || !p.kh || !p.kw || !p.stride)
            fail("patches=" + text + ": H, W, C, KH, KW and STRIDE must be at least 1");
        if (p.kh > p.h + 2 * p.pad || p.kw > p.w + 2 * p.pad)
            fail("patches=" + text + ": the kernel is larger than the padded map");
        if (p.pad >= p.kh || p.pad >= p.kw) fail("patches=" + text + ": padding must be smaller than the kernel");
        if (p.positions() > 1'000'000) fail("patches=" + text + ": more than a million output positions");
    }

    std::string path(const std::string& file) const {
        if (file == "random") return file;
        return (std::filesystem::path(trace_.dir) / file).string();
    }

    void op(const std::vector<std::string>& tok) {
        const OpSpec* spec = nullptr;
        for (const auto& s : op_specs())
            if (tok[0] == s.name) spec = &s;
        if (!spec) {
            std::string known;
            for (const auto& s : op_specs()) known += std::string(known.empty() ? "" : ", ") + s.name;
            fail("unknown operation '" + tok[0] + "'; expected one of: sample, " + known);
        }
        bool host = stream().endpoint == kHostEndpoint;
        if (host && !spec->host) fail("'" + tok[0] + "' is a core operation; the host stream cannot run it");
        if (!host && !spec->core) fail("'" + tok[0] + "' is a host operation; a core stream cannot run it");
        if (spec->setup_only && in_sample_) fail("'" + tok[0] + "' belongs in the setup section, before 'sample'");
        if (spec->sample_only && !in_sample_) fail("'" + tok[0] + "' belongs in the per-sample section, after 'sample'");

        std::map<std::string, std::string> attr;
        std::set<std::string> flags;
        for (size_t i = 1; i < tok.size(); ++i) {
            auto eq = tok[i].find('=');
            std::string key = tok[i].substr(0, eq);
            bool known_attr = std::count(spec->required.begin(), spec->required.end(), key) ||
                              std::count(spec->optional.begin(), spec->optional.end(), key);
            bool known_flag = std::count(spec->flags.begin(), spec->flags.end(), key) > 0;
            if (eq == std::string::npos) {
                if (!known_flag) fail(known_attr ? "'" + key + "' needs a value (" + key + "=...)"
                                                 : "unknown flag '" + key + "' for '" + tok[0] + "'");
                if (!flags.insert(key).second) fail("flag '" + key + "' given twice");
                continue;
            }
            if (key.empty()) fail("'" + tok[i] + "': expected key=value");
            if (known_flag) fail("'" + key + "' is a flag; write it without a value");
            if (!known_attr) fail("unknown attribute '" + key + "' for '" + tok[0] + "'");
            if (eq + 1 == tok[i].size()) fail("attribute '" + key + "' has an empty value");
            if (!attr.emplace(key, tok[i].substr(eq + 1)).second) fail("attribute '" + key + "' given twice");
        }
        for (const auto& r : spec->required)
            if (!attr.count(r)) fail("'" + tok[0] + "' needs " + r + "=...");

        Op op;
        op.code = spec->code;
        op.line = line_;
        auto has = [&](const char* k) { return attr.count(k) != 0; };
        if (has("rows")) op.rows = range(attr["rows"], "rows");
        if (has("cols")) op.cols = range(attr["cols"], "cols");
        if (has("seed")) {
            auto v = parse_integer(attr["seed"]);
            if (!v || *v < 0 || *v > 4294967295LL)
                fail("seed: expected an integer in 0..4294967295, got '" + attr["seed"] + "'");
            op.seed = static_cast<std::uint64_t>(*v);
            op.has_seed = true;
        }
        switch (op.code) {
            case OpCode::Program:
                // Programming happens before inference, once per core (its time and energy are
                // reported apart): a second tile on one core would have nothing to run on.
                if (program_line_)
                    fail("core " + std::to_string(stream().endpoint) + " is already programmed at line " +
                         std::to_string(program_line_) + "; a core holds one weight tile");
                program_line_ = line_;
                op.file = path(attr["matrix"]);
                if (op.file == "random" && (!op.rows.set || !op.cols.set))
                    fail("program matrix=random needs rows=A:B and cols=C:D");
                if (op.file != "random" && op.has_seed) fail("seed= applies only to matrix=random");
                break;
            case OpCode::Fill: {
                op.len = index(attr["len"], "len");
                if (op.len == 0 || op.len > 1'000'000) fail("len: expected 1..1000000, got " + attr["len"]);
                if (has("value") == op.has_seed) fail("fill needs exactly one of value=V or seed=S");
                if (has("value")) {
                    auto v = parse_real(attr["value"]);
                    if (!v) fail("value: expected a number, got '" + attr["value"] + "'");
                    op.value = *v;
                    op.has_value = true;
                }
                op.buf = buffer(attr["buf"], true);
                break;
            }
            case OpCode::Input: op.buf = buffer(attr["buf"], true); break;
            case OpCode::Output: op.buf = buffer(attr["buf"], false); break;
            case OpCode::Mvm:
                op.in = buffer(attr["in"], false);
                if (has("patches")) patches(attr["patches"], op);
                if (has("patch_rows")) {
                    if (!op.patches.set) fail("patch_rows= selects rows of a convolution patch; give patches= too");
                    op.patch_rows = range(attr["patch_rows"], "patch_rows");
                    if (op.patch_rows.end > op.patches.patch_rows())
                        fail("patch_rows=" + attr["patch_rows"] + " exceeds the " +
                             std::to_string(op.patches.patch_rows()) + " rows of a patch");
                }
                op.out = buffer(attr["out"], true);
                break;
            case OpCode::Concat: {
                std::stringstream ss(attr["in"]);
                std::string name;
                while (std::getline(ss, name, ',')) {
                    if (name.empty()) fail("in=" + attr["in"] + ": empty buffer name in the list");
                    op.ins.push_back(buffer(name, false));
                }
                if (attr["in"].back() == ',') fail("in=" + attr["in"] + ": empty buffer name in the list");
                op.out = buffer(attr["out"], true);
                break;
            }
            case OpCode::Nmpu:
                op.in = buffer(attr["in"], false);
                if (has("add")) op.add = buffer(attr["add"], false);
                if (has("bias")) op.file = path(attr["bias"]);
                if (has("scale")) op.scale_file = path(attr["scale"]);
                if (has("offset")) op.offset_file = path(attr["offset"]);
                if (op.cols.set && !has("bias") && !has("scale") && !has("offset"))
                    fail("cols= selects a slice of the per-column files; give bias=, scale= or offset= too");
                if (has("residual")) op.residual = buffer(attr["residual"], false);
                if (flags.count("relu")) {
                    if (has("act")) fail("give either the relu flag or act=, not both");
                    op.activation = "relu";
                }
                if (has("act")) activation(attr["act"], op);
                if (has("pool")) pooling(attr["pool"], op);
                if (has("map")) {
                    if (!has("pool")) fail("map=H,W,C gives the shape for 2-D pooling; give pool= too");
                    const auto v = integers(attr["map"], "map", 3, "H,W,C", 1);
                    op.pool_map = MapShape{v[0], v[1], v[2]};
                    if (op.pool_map.h % op.pool_window || op.pool_map.w % op.pool_window)
                        fail("map=" + attr["map"] + ": the pool window " + std::to_string(op.pool_window) +
                             " does not divide the map's height and width");
                }
                op.out = buffer(attr["out"], true);
                break;
            case OpCode::Send:
                op.peer = endpoint(attr["to"], "to");
                op.buf = buffer(attr["buf"], false);
                op.tag = intern(trace_.tags, has("tag") ? attr["tag"] : attr["buf"]);
                if (op.peer == stream().endpoint)
                    fail(op.peer == kHostEndpoint ? "a host stream cannot send to the host" : "send to itself");
                break;
            case OpCode::Recv:
                op.peer = endpoint(attr["from"], "from");
                op.buf = buffer(attr["buf"], true);
                op.tag = intern(trace_.tags, has("tag") ? attr["tag"] : attr["buf"]);
                if (op.peer == stream().endpoint)
                    fail(op.peer == kHostEndpoint ? "a host stream cannot receive from the host" : "receive from itself");
                break;
            case OpCode::Barrier: op.barrier = intern(trace_.barriers, attr["name"]); break;
        }
        (in_sample_ ? stream().per_sample : stream().setup).push_back(std::move(op));
    }
};

}  // namespace

Trace parse_trace(const std::string& text, const std::string& name, const std::string& dir) {
    std::istringstream in(text);
    return Parser(name, dir).run(in);
}

Trace load_trace(const std::string& path) {
    // Read as it is parsed: the memory is that of the operations, not of the file.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a directory, expected a trace file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open trace file");
    return Parser(path, std::filesystem::path(path).parent_path().string()).run(in);
}

}  // namespace aimc
