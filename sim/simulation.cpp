#include "sim/simulation.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <thread>
#include <limits>

#include "models/chip/chip.hpp"
#include "sim/dataflow.hpp"
#include "sim/errors.hpp"
#include "sim/functional.hpp"
#include "sim/memory.hpp"
#include "sim/player.hpp"
#include "sim/provenance.hpp"
#include "sim/registry.hpp"
#include "sim/traffic.hpp"

namespace aimc {

namespace {

const bool run_kind_registered = [] {
    Catalog::instance().add_kind(KindDecl{
        "run", "run", "run options (the command line overrides them)",
        {ParamDecl::integer("seed", 1, 0, std::numeric_limits<long long>::max(),
                            "seed of every random stream (key of the counter-based generator)", ""),
         ParamDecl::quantity("t_inference", Dimension::Time, std::string("0 s"), 0, 100 * 365 * 86400.0,
                             "time between weight programming and inference (device drift)")}});
    return true;
}();

double ns(std::uint64_t cycles, double clock_hz) { return static_cast<double>(cycles) * 1e9 / clock_hz; }

}  // namespace

nlohmann::ordered_json report_head(const ChipConfig& cfg, const Workload& w, int cores, std::size_t samples,
                                   std::uint64_t seed) {
    nlohmann::ordered_json r;
    r["schema_version"] = kReportSchemaVersion;
    r["tool"] = {{"name", "aimcsim"}, {"version", kToolVersion}, {"git_commit", git_commit()}};
    r["chip"] = {{"name", cfg.name}, {"file", cfg.file}, {"cores", cores}, {"config_hash", config_hash(cfg)}};
    r["workload"] = {{"name", w.name}, {"path", w.file}, {"samples", samples}, {"files_hash", workload_hash(w)}};
    r["seed"] = seed;
    return r;
}

void write_logits(const std::string& path, const std::vector<std::vector<float>>& outputs) {
    const std::size_t width = outputs.empty() ? 0 : outputs[0].size();
    std::vector<double> data;
    data.reserve(outputs.size() * width);
    for (const auto& y : outputs) {
        if (y.size() != width)
            throw InputError(path + ": cannot write logits: samples have different numbers of outputs (" +
                             std::to_string(width) + " and " + std::to_string(y.size()) + ")");
        data.insert(data.end(), y.begin(), y.end());
    }
    write_npy(path, {outputs.size(), width}, data);
}

PeakFigures peak_figures(const ChipConfig& cfg) {
    ChipGeometry g = chip_geometry(cfg);
    const auto& core = cfg.at("core");
    const CoreNumerics n(core, NumericsContext{});
    const MvmCoreTiming t = core_timing(core, n, g.clock_hz);
    const std::uint64_t rows = n.crossbar().rows(), cols = n.crossbar().cols();
    MvmPhases p = mvm_phases(t, MvmShape{rows, cols});
    // Steady state of back-to-back MVMs: the slowest stage sets the interval.
    MvmPipeline pipe(t.input_double_buffered);
    std::uint64_t prev = 0, interval = 0;
    for (int i = 0; i < 4; ++i) {
        auto s = pipe.issue(0, p);
        if (i > 0) interval = s.done - prev;
        prev = s.done;
    }
    interval = std::max(interval, n.digital().occupancy_cycles(DigitalOp{}, cols));
    PeakFigures f;
    f.cores = g.grid_cols * g.grid_rows;
    f.mvm_latency_cycles = p.latency();
    f.mvm_interval_cycles = interval;
    const double t_mvm = static_cast<double>(interval) / g.clock_hz;
    const double ops = 2.0 * static_cast<double>(rows * cols) * f.cores;
    f.tops = ops / t_mvm / 1e12;
    // Per MVM: every window drives the rows, reads the cells and converts the columns; one
    // digital pass; the input and output buffer bytes.
    const double windows = static_cast<double>(t.windows);
    const double e_core = windows * (static_cast<double>(rows) * n.dac().energy_per_conversion() +
                                     static_cast<double>(rows * cols) * n.crossbar().energy_per_mac() +
                                     static_cast<double>(cols) * n.adc().energy_per_conversion()) +
                          static_cast<double>(cols) * n.digital().energy_per_lane_op() +
                          static_cast<double>((rows * t.dac_bits + cols * t.adc_bits + 7) / 8) *
                              core.real("buffer_energy_per_byte");
    const auto& net = cfg.at("interconnect");
    // The interconnect's static power from its parameters: a mesh has one router per core, a bus
    // one static figure for the whole medium.
    const double router_static = net.decl->param("router_static_power") ? net.real("router_static_power") : 0.0;
    const double medium_static = net.decl->param("static_power") ? net.real("static_power") : 0.0;
    const double p_static = cfg.at("chip").real("static_power") +
                            f.cores * (core.real("static_power") + n.digital().static_power() + router_static) +
                            medium_static;
    f.power_w = e_core * f.cores / t_mvm + p_static;
    f.tops_per_w = f.tops / f.power_w;
    return f;
}

nlohmann::ordered_json simulate(const ChipConfig& cfg, const Workload& workload, const RunOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);

    RunState run;
    run.trace = &workload.trace;
    run.workload = &workload;
    run.seed = opt.seed ? *opt.seed : static_cast<std::uint64_t>(cfg.at("run").integer("seed"));
    run.samples = opt.samples ? *opt.samples : workload.default_samples;
    const double t_inference = opt.t_inference_s ? *opt.t_inference_s : cfg.at("run").real("t_inference");
    const FileTable files = load_trace_files(workload.trace, workload);
    if (workload.inputs && run.samples > workload.inputs->shape[0])
        spdlog::warn("{} samples requested but the data set has {}; inputs repeat from the start",
                     run.samples, workload.inputs->shape[0]);

    const unsigned threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    // Before the chip, its crossbars and the values are allocated: refuse what will not fit.
    const MemoryEstimate memory = estimate_memory(cfg, workload, files, {run.samples, threads, true, !opt.logits_file.empty()});
    spdlog::debug("memory estimate: {} ({})", format_bytes(memory.total()), memory.breakdown());
    check_memory(memory, opt.memory_limit, opt.memory_limit != 0);

    Chip chip("chip", cfg, NumericsContext{run.seed, 0, t_inference});
    run.chip = &chip;
    const int cores = chip.core_count();
    for (const auto& s : workload.trace.streams)
        if (s.endpoint != kHostEndpoint && s.endpoint >= cores)
            throw InputError(workload.trace.where(s.line) + ": core " + std::to_string(s.endpoint) +
                             " does not exist: the chip has " + std::to_string(cores) + " cores (0.." +
                             std::to_string(cores - 1) + ")");
    run.barriers = std::vector<BarrierState>(workload.trace.barriers.size());
    for (const auto& s : workload.trace.streams) {
        std::vector<bool> has(workload.trace.barriers.size(), false);
        bool outputs = false;
        for (const auto* ops : {&s.setup, &s.per_sample})
            for (const auto& op : *ops) {
                if (op.code == OpCode::Barrier) has[static_cast<std::size_t>(op.barrier)] = true;
                if (op.code == OpCode::Output) outputs = true;
            }
        for (std::size_t b = 0; b < has.size(); ++b) run.barriers[b].participants += has[b] ? 1 : 0;
        if (outputs) {
            run.host_collects = true;
            ++run.host_output_streams;
        }
    }
    if (workload.has_network() && !run.host_collects)
        spdlog::warn("{}: the workload has a network but no host stream outputs results: no accuracy", workload.trace.file);
    run.sample_start.assign(run.samples, std::numeric_limits<std::uint64_t>::max());
    run.sample_end.assign(run.samples, 0);
    run.host_outputs_per_sample.assign(run.samples, 0);

    std::vector<std::unique_ptr<StreamPlayer>> players;
    for (const auto& s : workload.trace.streams) {
        std::string name = s.endpoint == kHostEndpoint ? "host_stream" + (s.name.empty() ? "" : "_" + s.name)
                                                       : "core" + std::to_string(s.endpoint) + "_sequencer";
        players.push_back(std::make_unique<StreamPlayer>(name.c_str(), s, run));
    }

    // Synthetic traffic has no streams: its driver injects messages straight into the network.
    std::unique_ptr<TrafficRun> traffic;
    if (workload.traffic) traffic = std::make_unique<TrafficRun>(cfg, chip, *workload.traffic, run.seed, run.error);

    program_cores(
        workload.trace, files, run.seed, cores, threads, [&](int c) -> CoreNumerics& { return chip.core(c).numerics(); },
        [&](int c) { chip.core(c).record_programming(); });
    // The values first, in batches (timing never depends on them), then the timing model.
    {
        std::vector<const CoreNumerics*> numerics;
        for (int c = 0; c < cores; ++c) numerics.push_back(&chip.core(c).numerics());
        const Dataflow values(workload.trace, workload, files, numerics, run.seed);
        run.outputs = values.run_all(run.samples, threads);
    }
    if (!opt.logits_file.empty()) write_logits(opt.logits_file, run.outputs);
    spdlog::debug("elaborated chip '{}': {} cores, {} streams, {} samples, seed {}", cfg.name, cores,
                  players.size(), run.samples, run.seed);
    std::unique_ptr<Timeline> timeline;
    if (!opt.timeline_file.empty()) timeline = std::make_unique<Timeline>(opt.timeline_file, chip.geometry().clock_hz, cores);
    run.timeline = timeline.get();
    std::unique_ptr<Progress> progress;
    if (opt.progress && run.host_collects) progress = std::make_unique<Progress>("simulating", run.samples);
    run.progress = progress.get();
    sc_core::sc_start();
    progress.reset();
    if (timeline) timeline->finish();
    spdlog::debug("simulation ended at cycle {} after {} process activations", run.end_cycle, run.events);
    if (run.error) std::rethrow_exception(run.error);
    chip.interconnect().rethrow_failure();
    std::vector<std::string> stuck;
    for (const auto& p : players)
        if (!p->finished()) stuck.push_back("  " + p->position());
    if (!stuck.empty()) {
        std::string msg = workload.trace.file + ": deadlock: no event is left but these streams are still waiting:";
        for (const auto& s : stuck) msg += "\n" + s;
        throw InputError(msg);
    }

    chip.interconnect().check_conservation();
    if (traffic) {
        run.end_cycle = traffic->end_cycle();
        run.events += traffic->activations();
    }

    // ---- Report ----
    const ChipGeometry& g = chip.geometry();
    const std::uint64_t total_cycles = run.end_cycle;
    const double total_s = static_cast<double>(total_cycles) / g.clock_hz;

    EnergyBreakdown e;
    std::uint64_t mvms = 0, macs = 0;
    for (int i = 0; i < cores; ++i) {
        chip.core(i).add_energy(e);
        mvms += chip.core(i).mvms();
        macs += chip.core(i).macs();
    }
    e.interconnect = chip.interconnect().dynamic_energy();
    e.memory += chip.host().energy();
    e.static_ = chip.total_static_power() * total_s;
    const double total_j = e.total();

    nlohmann::ordered_json r = report_head(cfg, workload, cores, run.samples, run.seed);

    double sum_latency = 0, max_latency = 0;
    for (std::size_t k = 0; k < run.samples; ++k) {
        double l = run.sample_end[k] >= run.sample_start[k] ? ns(run.sample_end[k] - run.sample_start[k], g.clock_hz) : 0;
        sum_latency += l;
        max_latency = std::max(max_latency, l);
    }
    const bool sampled = run.samples > 0 && run.sample_start[0] != std::numeric_limits<std::uint64_t>::max();
    auto& lat = r["latency"];
    lat["total_ns"] = ns(total_cycles, g.clock_hz);
    lat["total_cycles"] = total_cycles;
    lat["per_sample_ns"] = sampled ? sum_latency / static_cast<double>(run.samples) : 0.0;
    lat["first_sample_ns"] = sampled ? ns(run.sample_end[0] - run.sample_start[0], g.clock_hz) : 0.0;
    lat["max_sample_ns"] = max_latency;
    r["throughput"]["samples_per_s"] = total_s > 0 ? static_cast<double>(run.samples) / total_s : 0.0;

    auto& en = r["energy"];
    en["total_pj"] = total_j * 1e12;
    en["per_sample_pj"] = run.samples ? total_j * 1e12 / static_cast<double>(run.samples) : 0.0;
    en["breakdown_pj"] = {{"dac", e.dac * 1e12},         {"crossbar", e.crossbar * 1e12},
                          {"adc", e.adc * 1e12},         {"nmpu", e.nmpu * 1e12},
                          {"interconnect", e.interconnect * 1e12}, {"memory", e.memory * 1e12},
                          {"static", e.static_ * 1e12}};
    // total_pj is recomputed from the printed parts so that they add up to it exactly.
    double sum_pj = 0;
    for (const auto& [k, v] : en["breakdown_pj"].items()) sum_pj += v.get<double>();
    en["total_pj"] = sum_pj;
    r["power"]["average_w"] = total_s > 0 ? total_j / total_s : 0.0;

    auto& ops = r["ops"];
    ops["mvms"] = mvms;
    ops["macs"] = macs;
    ops["network_macs"] = workload.has_network()
                              ? nlohmann::ordered_json(workload.network_macs_per_sample() * run.samples)
                              : nlohmann::ordered_json(nullptr);
    ops["tops"] = total_s > 0 ? 2.0 * static_cast<double>(macs) / total_s / 1e12 : 0.0;
    ops["tops_per_w"] = total_j > 0 ? 2.0 * static_cast<double>(macs) / total_j / 1e12 : 0.0;

    auto& acc = r["accuracy"];
    if (workload.has_network() && run.host_collects) {
        const Top1 t = score_outputs(workload, run.outputs, reference_predictions(workload, run.samples, threads));
        const double n = static_cast<double>(run.samples);
        acc["top1"] = static_cast<double>(t.correct) / n;
        acc["reference_top1"] = static_cast<double>(t.reference_correct) / n;
        acc["reference_agreement"] = static_cast<double>(t.agree) / n;
        acc["samples"] = run.samples;
    } else {
        acc["top1"] = nullptr;
        acc["reference_top1"] = nullptr;
        acc["reference_agreement"] = nullptr;
        acc["samples"] = 0;
    }
    acc["t_inference_s"] = t_inference;

    // Weights are programmed before inference (t_inference earlier): reported apart, not part of
    // the run's latency or energy. Cores program in parallel.
    double program_s = 0, program_j = 0;
    std::uint64_t devices = 0;
    for (int i = 0; i < cores; ++i) {
        program_s = std::max(program_s, chip.core(i).programming_time());
        program_j += chip.core(i).programming_energy();
        devices += chip.core(i).devices_programmed();
    }
    r["programming"] = {{"time_ns", program_s * 1e9}, {"energy_pj", program_j * 1e12}, {"devices", devices}};

    nlohmann::ordered_json core_stats = nlohmann::ordered_json::array();
    for (int i = 0; i < cores; ++i) core_stats.push_back(chip.core(i).stats(total_cycles));
    r["cores"] = core_stats;
    // The digital units' share: busy cycles per operation (the post-processing latency of one
    // vector) and their part of the energy.
    std::uint64_t digital_ops = 0, digital_busy = 0;
    for (int i = 0; i < cores; ++i) {
        digital_ops += chip.core(i).digital_ops();
        digital_busy += chip.core(i).digital_busy_cycles();
    }
    const auto& unit = chip.core(0).numerics().digital();
    r["digital"] = {{"kind", cfg.at("core.digital").kind},
                    {"lanes", unit.lanes()},
                    {"operations", digital_ops},
                    {"busy_cycles", digital_busy},
                    {"mean_cycles_per_operation",
                     digital_ops ? static_cast<double>(digital_busy) / static_cast<double>(digital_ops) : 0.0},
                    {"energy_share", total_j > 0 ? e.nmpu / total_j : 0.0},
                    {"area_um2_per_core", unit.area() * 1e12}};
    r["interconnect"] = chip.interconnect().stats(total_cycles);
    r["traffic"] = traffic ? traffic->report() : nlohmann::ordered_json(nullptr);
    r["host"] = chip.host().stats(total_cycles);
    r["config"] = cfg.resolved_json();
    r["sim"]["events"] = run.events;
    r["sim"]["memory_estimate_bytes"] = memory.total();
    r["sim"]["wall_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return r;
}

}  // namespace aimc
