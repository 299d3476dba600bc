#include "sim/functional.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "sim/dataflow.hpp"
#include "sim/errors.hpp"
#include "sim/memory.hpp"
#include "sim/simulation.hpp"
#include "sim/timeline.hpp"

namespace aimc {

std::vector<std::size_t> reference_predictions(const Workload& w, std::size_t samples, unsigned threads) {
    const std::size_t rows = std::min(samples, w.inputs ? w.inputs->shape[0] : 0);
    const std::size_t classes = w.network.output_size(), batch = 256, batches = (rows + batch - 1) / batch;
    std::vector<std::size_t> pred(rows);
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t b = next++; b < batches; b = next++) {
            const std::size_t first = b * batch, n = std::min(batch, rows - first);
            const std::vector<float> y = w.reference_logits_batch(first, n);
            for (std::size_t k = 0; k < n; ++k) {
                const float* row = y.data() + k * classes;
                pred[first + k] = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    std::vector<std::size_t> out(samples);
    for (std::size_t k = 0; k < samples && rows > 0; ++k) out[k] = pred[k % rows];
    return out;
}

Top1 score_outputs(const Workload& w, const std::vector<std::vector<float>>& outputs,
                   const std::vector<std::size_t>& reference) {
    Top1 t;
    t.samples = outputs.size();
    const std::size_t classes = w.network.output_size();
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        const auto& y = outputs[k];
        if (y.size() != classes)
            throw InputError(w.trace.file + ": sample " + std::to_string(k) + ": the host collected " +
                             std::to_string(y.size()) + " outputs, the network has " + std::to_string(classes));
        const auto label = static_cast<std::size_t>(w.labels[k % w.labels.size()]);
        const auto pred = static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin());
        t.correct += pred == label;
        t.reference_correct += reference[k] == label;
        t.agree += pred == reference[k];
    }
    return t;
}

namespace {

nlohmann::ordered_json spread(const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    // The sample standard deviation over seeds (0 for one seed).
    const double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
    return {{"top1_mean", mean}, {"top1_std", sd}, {"top1_per_seed", v}};
}

}  // namespace

nlohmann::ordered_json run_functional(const ChipConfig& cfg, const Workload& w, const FunctionalOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    if (!w.has_network() || !w.inputs)
        throw InputError(w.file + ": the functional mode needs a workload with a network and a data set");
    const FileTable files = load_trace_files(w.trace, w);
    const auto& g = cfg.at("chip");
    const int cores = static_cast<int>(g.integer("grid_cols") * g.integer("grid_rows"));
    for (const auto& s : w.trace.streams)
        if (s.endpoint != kHostEndpoint && s.endpoint >= cores)
            throw InputError(w.trace.where(s.line) + ": core " + std::to_string(s.endpoint) +
                             " does not exist: the chip has " + std::to_string(cores) + " cores (0.." +
                             std::to_string(cores - 1) + ")");
    const MemoryEstimate memory = estimate_memory(cfg, w, files, {opt.samples, opt.threads, false, !opt.logits_file.empty()});
    spdlog::debug("memory estimate: {} ({})", format_bytes(memory.total()), memory.breakdown());
    check_memory(memory, opt.memory_limit, opt.memory_limit != 0);
    std::vector<bool> used(static_cast<std::size_t>(cores), false);
    for (const auto& s : w.trace.streams)
        if (s.endpoint != kHostEndpoint) used[static_cast<std::size_t>(s.endpoint)] = true;

    auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(); };
    const std::vector<std::size_t> reference = reference_predictions(w, opt.samples, opt.threads);
    spdlog::debug("float reference of {} samples done at {:.3f} s", opt.samples, since());
    std::vector<std::vector<double>> on(opt.times.size()), off(opt.times.size());
    Top1 last;
    std::unique_ptr<Progress> progress;
    std::vector<bool> settings;
    if (opt.compensated) settings.push_back(true);
    if (opt.uncompensated) settings.push_back(false);
    const std::size_t total = settings.size() * opt.seeds * opt.times.size() * opt.samples;
    if (opt.progress) progress = std::make_unique<Progress>("functional", total);
    std::size_t before = 0;
    const bool configured_compensation = cfg.at("core").boolean("drift_compensation");
    for (unsigned k = 0; k < opt.seeds; ++k) {
        const std::uint64_t seed = opt.seed + k;
        for (std::size_t t = 0; t < opt.times.size(); ++t) {
            std::vector<std::unique_ptr<CoreNumerics>> numerics(static_cast<std::size_t>(cores));
            std::vector<const CoreNumerics*> view(static_cast<std::size_t>(cores), nullptr);
            for (int c = 0; c < cores; ++c)
                if (used[static_cast<std::size_t>(c)]) {
                    numerics[static_cast<std::size_t>(c)] = std::make_unique<CoreNumerics>(
                        cfg.at("core"), NumericsContext{seed, c, opt.times[t].seconds});
                    view[static_cast<std::size_t>(c)] = numerics[static_cast<std::size_t>(c)].get();
                }
            program_cores(w.trace, files, seed, cores, opt.threads,
                          [&](int c) -> CoreNumerics& { return *numerics[static_cast<std::size_t>(c)]; });
            spdlog::debug("seed {}, t = {}: programmed at {:.3f} s", seed, opt.times[t].label, since());
            for (bool compensated : settings) {
                for (auto& n : numerics)
                    if (n) n->set_drift_compensation(compensated);
                const Dataflow values(w.trace, w, files, view, seed);
                const auto outputs = values.run_all(opt.samples, opt.threads, [&](std::size_t n) {
                    if (progress) progress->update(before + n);
                });
                before += opt.samples;
                if (!opt.logits_file.empty() && k == 0 && t == 0 &&
                    (compensated == configured_compensation || settings.size() == 1))
                    write_logits(opt.logits_file, outputs);
                last = score_outputs(w, outputs, reference);
                spdlog::debug("seed {}, t = {}, compensation {}: {} samples done at {:.3f} s", seed, opt.times[t].label,
                              compensated ? "on" : "off", opt.samples, since());
                (compensated ? on : off)[t].push_back(static_cast<double>(last.correct) / static_cast<double>(last.samples));
            }
        }
    }

    progress.reset();
    nlohmann::ordered_json r = report_head(cfg, w, cores, opt.samples, opt.seed);
    r["mode"] = "functional";
    r["seeds"] = opt.seeds;
    auto& acc = r["accuracy"];
    acc["samples"] = opt.samples;
    acc["reference_top1"] = static_cast<double>(last.reference_correct) / static_cast<double>(last.samples);
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (std::size_t t = 0; t < opt.times.size(); ++t)
        points.push_back({{"t_inference", opt.times[t].label},
                          {"t_inference_s", opt.times[t].seconds},
                          {"compensated", opt.compensated ? spread(on[t]) : nlohmann::ordered_json(nullptr)},
                          {"uncompensated", opt.uncompensated ? spread(off[t]) : nlohmann::ordered_json(nullptr)}});
    acc["points"] = points;
    r["config"] = cfg.resolved_json();
    r["sim"]["memory_estimate_bytes"] = memory.total();
    r["sim"]["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return r;
}

}  // namespace aimc
