#include "sim/mapper.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "sim/config.hpp"
#include "sim/errors.hpp"

namespace aimc {

namespace fs = std::filesystem;

void serpentine_position(int step, int grid_cols, int& x, int& y) {
    y = step / grid_cols;
    const int k = step % grid_cols;
    x = y % 2 == 0 ? k : grid_cols - 1 - k;
}

namespace {

// A digital operation after the weight layer's MVMs, in network order.
struct PostOp {
    enum Kind { Relu = 1, Residual = 2, Pool = 3 } kind = Relu;  // the order the nmpu applies them in
    std::size_t layer = 0;
    std::size_t source_stage = 0, source_pos = 0;  // Residual: where the added tensor is made
    std::string pool;                              // Pool: "max:K" / "avg:K"
    std::size_t map_h = 0, map_w = 0;              // Pool: the map it pools
};

// One weight layer with the layers after it up to the next weight layer (their digital work runs on
// the reducing cores of this layer). Position p = the tensor after the first p post-ops (0: the
// weight layer's output with bias).
struct Stage {
    std::size_t layer = 0;
    std::vector<PostOp> post;
    std::vector<std::size_t> spatial;  // output positions per channel at each position (1 for dense)
    std::size_t rows = 0, cols = 0, rb = 0, cb = 0;
    std::map<std::size_t, std::string> sources;  // non-final positions other stages add: the name of the layer
    std::vector<int> cores;                      // tile (i, j) at j · rb + i
    std::string weight_file, bias_file;          // as the trace names them; bias_file empty without bias
    std::size_t final_pos() const { return post.size(); }
    std::size_t out_size() const { return spatial.back() * cols; }
    std::size_t block_cols(std::size_t j, std::size_t C) const { return std::min((j + 1) * C, cols) - j * C; }
};

struct Emitter {
    std::vector<std::string> setup, sample;
    void op(std::vector<std::string>& v, const std::string& s) { v.push_back(s); }
};

std::string range(std::size_t a, std::size_t b) { return std::to_string(a) + ":" + std::to_string(b); }

}  // namespace

Mapping map_network(const Network& net, const ChipConfig& chip, const MapOptions& opt) {
    const std::string where = net.file.empty() ? "" : net.file + ": ";
    auto fail = [&](const std::string& msg) -> void { throw InputError(where + msg); };

    Mapping m;
    const auto& g = chip.at("chip");
    const auto& xb = chip.at("core.crossbar");
    m.chip = chip.name;
    m.grid_cols = static_cast<int>(g.integer("grid_cols"));
    m.grid_rows = static_cast<int>(g.integer("grid_rows"));
    m.crossbar_rows = static_cast<std::size_t>(xb.integer("rows"));
    m.crossbar_cols = static_cast<std::size_t>(xb.integer("cols"));
    m.cores_available = static_cast<std::size_t>(m.grid_cols) * static_cast<std::size_t>(m.grid_rows);
    m.macs_per_sample = net.macs_per_sample();
    const std::size_t R = m.crossbar_rows, C = m.crossbar_cols;

    // ---- stages and the position of every layer's output ----
    std::vector<Stage> stages;
    std::vector<std::pair<long, std::size_t>> at(net.layers.size(), {-1, 0});  // layer -> (stage, position)
    for (std::size_t i = 0; i < net.layers.size(); ++i) {
        const Layer& l = net.layers[i];
        const std::string who = std::string(layer_type_name(l.type)) + " '" + l.name + "'";
        if (l.is_weight_layer()) {
            Stage s;
            s.layer = i;
            s.rows = l.matrix_rows();
            s.cols = l.matrix_cols();
            s.rb = (s.rows + R - 1) / R;
            s.cb = (s.cols + C - 1) / C;
            s.spatial.push_back(l.type == LayerType::Conv2d ? l.out_shape[0] * l.out_shape[1] : 1);
            if (l.relu) {
                s.post.push_back(PostOp{PostOp::Relu, i, 0, 0, "", 0, 0});
                s.spatial.push_back(s.spatial.back());
            }
            stages.push_back(std::move(s));
            at[i] = {static_cast<long>(stages.size() - 1), stages.back().final_pos()};
            continue;
        }
        if (stages.empty()) {
            if (l.type == LayerType::Flatten) continue;
            fail("mapper: " + who + " comes before the first dense or conv2d layer: no core computes it");
        }
        Stage& s = stages.back();
        switch (l.type) {
            case LayerType::Relu: s.post.push_back(PostOp{PostOp::Relu, i, 0, 0, "", 0, 0}); break;
            case LayerType::MaxPool:
            case LayerType::AvgPool:
                if (l.stride != l.kernel)
                    fail("mapper: " + who + " has stride " + std::to_string(l.stride) + " and kernel " +
                         std::to_string(l.kernel) + ": the digital unit pools with stride = kernel only");
                s.post.push_back(PostOp{PostOp::Pool, i, 0, 0,
                                        std::string(l.type == LayerType::MaxPool ? "max:" : "avg:") + std::to_string(l.kernel),
                                        l.in_shape[0], l.in_shape[1]});
                break;
            case LayerType::Add: {
                const auto src = at[l.from_index];
                if (src.first < 0)
                    fail("mapper: " + who + " adds '" + l.from + "', which comes before the first dense or conv2d layer");
                s.post.push_back(PostOp{PostOp::Residual, i, static_cast<std::size_t>(src.first), src.second, "", 0, 0});
                break;
            }
            default: break;  // batchnorm (folded), flatten (no data moves), argmax (the host's prediction)
        }
        if (s.spatial.size() < s.post.size() + 1) {
            std::size_t sp = s.spatial.back();
            if (l.type == LayerType::MaxPool || l.type == LayerType::AvgPool) sp = l.out_shape[0] * l.out_shape[1];
            s.spatial.push_back(sp);
        }
        at[i] = {static_cast<long>(stages.size() - 1), s.final_pos()};
    }
    if (stages.empty()) fail("mapper: the network has no dense or conv2d layer to map");

    // Residual sources that are not a stage's output get a buffer of their own.
    for (std::size_t si = 0; si < stages.size(); ++si)
        for (std::size_t k = 0; k < stages[si].post.size(); ++k) {
            const PostOp& p = stages[si].post[k];
            if (p.kind != PostOp::Residual) continue;
            Stage& src = stages[p.source_stage];
            const Layer& add = net.layers[p.layer];
            if (src.cb != stages[si].cb || src.cols != stages[si].cols ||
                src.spatial[p.source_pos] != stages[si].spatial[k])
                fail("mapper: add '" + add.name + "': the output of '" + add.from +
                     "' is split over the cores differently from the tensor it is added to (" +
                     std::to_string(src.cols) + " against " + std::to_string(stages[si].cols) +
                     " channels per position): not supported");
            if (p.source_pos != src.final_pos() && !src.sources.count(p.source_pos)) src.sources[p.source_pos] = add.from;
        }

    // Channel-split maps: blocks would have to interleave channel by channel.
    for (const Stage& s : stages)
        if (s.cb > 1 && s.spatial.back() > 1) {
            const Layer& l = net.layers[s.layer];
            fail("mapper: conv2d '" + l.name + "': its " + std::to_string(s.cols) + " output channels span " +
                 std::to_string(s.cb) + " crossbars of " + std::to_string(C) + " columns and its output map has " +
                 std::to_string(s.spatial.back()) +
                 " positions: channel-split feature maps are not supported (at most " + std::to_string(C) +
                 " output channels per conv2d on this chip)");
        }

    // ---- cores ----
    std::size_t need = 0;
    std::string per_layer;
    for (const Stage& s : stages) {
        need += s.rb * s.cb;
        per_layer += (per_layer.empty() ? "" : ", ") + net.layers[s.layer].name + ": " + std::to_string(s.rb) + "x" +
                     std::to_string(s.cb) + " tiles";
    }
    if (need > m.cores_available)
        fail("network needs " + std::to_string(need) + " cores (" + per_layer + "), chip '" + chip.name + "' has " +
             std::to_string(m.cores_available));
    m.cores_used = need;

    // ---- files ----
    auto source = [&](const std::string& f) {
        if (f.find_first_of(" \t,=") != std::string::npos)
            fail("mapper: the file name '" + f + "' has a space, ',' or '=', which a trace cannot name");
        return opt.source_dir.empty() ? f : (fs::path(opt.source_dir) / f).generic_string();
    };
    for (Stage& s : stages) {
        const Layer& l = net.layers[s.layer];
        if (l.type == LayerType::Conv2d) {
            NpyArray w2d;
            w2d.shape = {s.rows, s.cols};
            w2d.data = l.weight.data;
            w2d.dtype = "<f8";
            s.weight_file = l.name + ".w2d.npy";
            m.files[s.weight_file] = std::move(w2d);
        } else if (l.folded) {
            s.weight_file = l.name + ".w.npy";
            m.files[s.weight_file] = l.weight;
        } else {
            s.weight_file = source(l.weight_file);
        }
        if (l.folded) {
            s.bias_file = l.name + ".b.npy";
            m.files[s.bias_file] = l.bias;
        } else if (l.has_bias) {
            s.bias_file = source(l.bias_file);
        }
    }

    // ---- placement along the serpentine walk ----
    int step = 0;
    double util = 0;
    for (Stage& s : stages) {
        const Layer& l = net.layers[s.layer];
        LayerMapping lm;
        lm.name = l.name;
        lm.type = l.type;
        lm.layer_index = s.layer;
        lm.rows = s.rows;
        lm.cols = s.cols;
        lm.row_blocks = s.rb;
        lm.col_blocks = s.cb;
        for (std::size_t j = 0; j < s.cb; ++j)
            for (std::size_t i = 0; i < s.rb; ++i) {
                TilePlacement t;
                t.layer = l.name;
                t.row_block = i;
                t.col_block = j;
                t.row_begin = i * R;
                t.row_end = std::min((i + 1) * R, s.rows);
                t.col_begin = j * C;
                t.col_end = std::min((j + 1) * C, s.cols);
                serpentine_position(step++, m.grid_cols, t.x, t.y);
                t.core = t.y * m.grid_cols + t.x;
                t.utilisation = static_cast<double>((t.row_end - t.row_begin) * (t.col_end - t.col_begin)) /
                                static_cast<double>(R * C);
                t.reduces = i == 0;
                util += t.utilisation;
                s.cores.push_back(t.core);
                lm.tiles.push_back(t);
            }
        m.layers.push_back(std::move(lm));
    }
    m.mean_utilisation = util / static_cast<double>(need);

    // ---- the trace ----
    auto reducer = [&](std::size_t si, std::size_t j) { return stages[si].cores[j * stages[si].rb]; };
    // The buffer holding the tensor at `pos` of stage si, column block j (on its reducing core).
    auto tensor_name = [&](std::size_t si, std::size_t pos, std::size_t j) {
        const Stage& s = stages[si];
        if (pos == s.final_pos()) return net.layers[s.layer].name + ".y" + std::to_string(j);
        return s.sources.at(pos) + ".r" + std::to_string(j);
    };
    // The flattened output range of stage si's column block j.
    auto block_range = [&](std::size_t si, std::size_t j) {
        const Stage& s = stages[si];
        return std::make_pair(s.spatial.back() * j * C, s.spatial.back() * (j * C + s.block_cols(j, C)));
    };

    // Whether tile (i, any column block) of stage si takes column block jp of the stage before as
    // input: a conv tile takes the whole map, a dense tile the blocks that overlap its rows.
    auto takes = [&](std::size_t si, std::size_t i, std::size_t jp) {
        const Stage& s = stages[si];
        if (net.layers[s.layer].type == LayerType::Conv2d) return true;
        const auto r = block_range(si - 1, jp);
        return r.first < std::min((i + 1) * R, s.rows) && r.second > i * R;
    };
    // A residual that the reducing core already receives as its input is not sent twice.
    auto residual_is_input = [&](std::size_t si, const PostOp& po, std::size_t j) {
        return po.source_stage + 1 == si && po.source_pos == stages[po.source_stage].final_pos() && takes(si, 0, j);
    };

    std::map<int, Emitter> cores;
    Emitter feed, collect;
    std::vector<int> order;  // cores in placement order

    for (std::size_t si = 0; si < stages.size(); ++si) {
        Stage& s = stages[si];
        const Layer& l = net.layers[s.layer];
        const std::string L = l.name;
        const bool conv = l.type == LayerType::Conv2d;
        std::string patches;
        if (conv)
            patches = " patches=" + std::to_string(l.in_shape[0]) + "," + std::to_string(l.in_shape[1]) + "," +
                      std::to_string(l.in_shape[2]) + "," + std::to_string(l.weight.shape[0]) + "," +
                      std::to_string(l.weight.shape[1]) + "," + std::to_string(l.stride) + "," + std::to_string(l.padding);
        for (std::size_t j = 0; j < s.cb; ++j)
            for (std::size_t i = 0; i < s.rb; ++i) {
                const int core = s.cores[j * s.rb + i];
                order.push_back(core);
                Emitter& e = cores[core];
                const std::size_t a = i * R, b = std::min((i + 1) * R, s.rows);
                const std::size_t c0 = j * C, c1 = c0 + s.block_cols(j, C);
                e.op(e.setup, "program matrix=" + s.weight_file + " rows=" + range(a, b) + " cols=" + range(c0, c1));

                // Inputs.
                std::string in;
                std::string select;  // patches=... for a conv, or to pick rows out of gathered inputs
                if (si == 0) {
                    in = conv || s.rb == 1 ? "x" : "x" + std::to_string(i);
                    e.op(e.sample, "recv from=host buf=" + in);
                    if (conv) select = patches + (s.rb > 1 ? " patch_rows=" + range(a, b) : "");
                } else {
                    const std::size_t p = si - 1;
                    std::vector<std::string> got;
                    std::size_t g0 = 0, g1 = 0;
                    for (std::size_t jp = 0; jp < stages[p].cb; ++jp) {
                        const auto r = block_range(p, jp);
                        if (!takes(si, i, jp)) continue;
                        if (got.empty()) g0 = r.first;
                        g1 = r.second;
                        got.push_back(tensor_name(p, stages[p].final_pos(), jp));
                        e.op(e.sample, "recv from=" + std::to_string(reducer(p, jp)) + " buf=" + got.back());
                    }
                    in = got.front();
                    if (got.size() > 1) {
                        std::string list;
                        for (const auto& n : got) list += (list.empty() ? "" : ",") + n;
                        in = L + ".x";
                        e.op(e.sample, "concat in=" + list + " out=" + in);
                    }
                    if (conv)
                        select = patches + (s.rb > 1 ? " patch_rows=" + range(a, b) : "");
                    else if (g0 != a || g1 != b)  // rows a:b out of the gathered g0:g1, as a 1x1 "convolution"
                        select = " patches=1,1," + std::to_string(g1 - g0) + ",1,1,1,0 patch_rows=" + range(a - g0, b - g0);
                }
                const std::string out = i == 0 ? "acc" : L + ".p" + std::to_string(i);
                e.op(e.sample, "mvm in=" + in + " out=" + out + select);
                if (i > 0) {
                    e.op(e.sample, "send to=" + std::to_string(s.cores[j * s.rb]) + " buf=" + out);
                    continue;
                }

                // The reducing core: partial sums, then bias and the post-ops, packed into as few
                // nmpu operations as their fixed order allows (add, bias, activation, residual, pool).
                std::string cur = "acc";
                for (std::size_t k = 1; k + 1 < s.rb; ++k) {
                    const std::string p = L + ".p" + std::to_string(k), sum = L + ".s" + std::to_string(k);
                    e.op(e.sample, "recv from=" + std::to_string(s.cores[j * s.rb + k]) + " buf=" + p);
                    e.op(e.sample, "nmpu in=" + cur + " add=" + p + " out=" + sum);
                    cur = sum;
                }
                std::string add, attrs;
                if (s.rb > 1) {
                    const std::string p = L + ".p" + std::to_string(s.rb - 1);
                    e.op(e.sample, "recv from=" + std::to_string(s.cores[j * s.rb + s.rb - 1]) + " buf=" + p);
                    add = " add=" + p;
                }
                if (!s.bias_file.empty()) attrs += " bias=" + s.bias_file + " cols=" + range(c0, c1);
                int level = 0;
                int temp = 0;
                std::vector<std::string> pre;  // recvs the open operation needs
                auto close = [&](const std::string& name) {
                    for (const auto& r : pre) e.op(e.sample, r);
                    pre.clear();
                    e.op(e.sample, "nmpu in=" + cur + add + " out=" + name + attrs);
                    cur = name;
                    add.clear();
                    attrs.clear();
                    level = 0;
                };
                for (std::size_t k = 0; k < s.post.size(); ++k) {
                    if (s.sources.count(k)) close(tensor_name(si, k, j));
                    const PostOp& po = s.post[k];
                    if (static_cast<int>(po.kind) <= level) close(L + ".t" + std::to_string(++temp));
                    switch (po.kind) {
                        case PostOp::Relu: attrs += " relu"; break;
                        case PostOp::Residual: {
                            const std::string rn = tensor_name(po.source_stage, po.source_pos, j);
                            if (po.source_stage != si && !residual_is_input(si, po, j))
                                pre.push_back("recv from=" + std::to_string(reducer(po.source_stage, j)) + " buf=" + rn);
                            attrs += " residual=" + rn;
                            break;
                        }
                        case PostOp::Pool:
                            attrs += " pool=" + po.pool + " map=" + std::to_string(po.map_h) + "," + std::to_string(po.map_w) +
                                     "," + std::to_string(c1 - c0);
                            break;
                    }
                    level = static_cast<int>(po.kind);
                }
                close(tensor_name(si, s.final_pos(), j));

                // Sends: the next layer's tiles that need this block, residual consumers, the host.
                if (si + 1 < stages.size()) {
                    const Stage& n = stages[si + 1];
                    for (std::size_t jn = 0; jn < n.cb; ++jn)
                        for (std::size_t in_ = 0; in_ < n.rb; ++in_) {
                            if (takes(si + 1, in_, j))
                                e.op(e.sample, "send to=" + std::to_string(n.cores[jn * n.rb + in_]) + " buf=" + cur);
                        }
                } else {
                    e.op(e.sample, "send to=host buf=" + cur);
                    collect.op(collect.sample, "recv from=" + std::to_string(core) + " buf=" + cur);
                    collect.op(collect.sample, "output buf=" + cur);
                }
                std::set<std::pair<int, std::string>> sent;
                for (std::size_t ci = si; ci < stages.size(); ++ci)
                    for (const PostOp& po : stages[ci].post)
                        if (po.kind == PostOp::Residual && po.source_stage == si && ci != si && !residual_is_input(ci, po, j)) {
                            const std::string rn = tensor_name(si, po.source_pos, j);
                            const int to = reducer(ci, j);
                            if (sent.insert({to, rn}).second)
                                e.op(e.sample, "send to=" + std::to_string(to) + " buf=" + rn);
                        }
            }
    }

    // The host: inputs for the first layer's tiles.
    {
        const Stage& s = stages.front();
        const bool conv = net.layers[s.layer].type == LayerType::Conv2d;
        if (conv || s.rb == 1) {
            feed.op(feed.sample, "input buf=x");
        } else {
            for (std::size_t i = 0; i < s.rb; ++i)
                feed.op(feed.sample, "input buf=x" + std::to_string(i) + " cols=" + range(i * R, std::min((i + 1) * R, s.rows)));
        }
        for (std::size_t j = 0; j < s.cb; ++j)
            for (std::size_t i = 0; i < s.rb; ++i)
                feed.op(feed.sample, "send to=" + std::to_string(s.cores[j * s.rb + i]) +
                                         " buf=" + (conv || s.rb == 1 ? std::string("x") : "x" + std::to_string(i)));
    }

    std::ostringstream t;
    t << "# Generated by the aimcsim mapper (docs/mapping.md) for chip '" << chip.name << "' (" << m.grid_cols << "x"
      << m.grid_rows << " cores, " << R << "x" << C << " crossbars)" << (net.file.empty() ? "" : " from " + net.file)
      << ".\n# " << m.cores_used << " of " << m.cores_available << " cores; tiles (layer, row block, column block: rows, cols -> core (x, y)):\n";
    for (const auto& lm : m.layers)
        for (const auto& tp : lm.tiles)
            t << "#   " << lm.name << " r" << tp.row_block << "c" << tp.col_block << ": rows " << range(tp.row_begin, tp.row_end)
              << ", cols " << range(tp.col_begin, tp.col_end) << " -> core " << tp.core << " (" << tp.x << ", " << tp.y
              << ")" << (tp.reduces && lm.row_blocks > 1 ? ", reduces" : "") << "\n";
    t << "aimcsim-trace 1\n\nstream host feed\nsample\n";
    for (const auto& o : feed.sample) t << o << "\n";
    t << "\nstream host collect\nsample\n";
    for (const auto& o : collect.sample) t << o << "\n";
    std::size_t k = 0;
    for (const auto& lm : m.layers)
        for (const auto& tp : lm.tiles) {
            const Emitter& e = cores.at(order[k++]);
            t << "\n# " << lm.name << " r" << tp.row_block << "c" << tp.col_block << "\nstream core " << tp.core << "\n";
            for (const auto& o : e.setup) t << o << "\n";
            t << "sample\n";
            for (const auto& o : e.sample) t << o << "\n";
        }
    m.trace_text = t.str();
    return m;
}

}  // namespace aimc
