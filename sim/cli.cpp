#include "sim/cli.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <new>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "models/chip/chip.hpp"
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/functional.hpp"
#include "sim/mapper.hpp"
#include "sim/memory.hpp"
#include "sim/npy.hpp"
#include "sim/probe.hpp"
#include "sim/provenance.hpp"
#include "sim/registry.hpp"
#include "sim/report_diff.hpp"
#include "sim/simulation.hpp"
#include "sim/traffic.hpp"
#include "sim/units.hpp"
#include "sim/workload.hpp"

namespace aimc {

namespace {

const char* kUsage = R"(aimcsim - cycle-accurate system simulator of analog in-memory computing chips

Usage:
  aimcsim run      --chip FILE --workload DIR [options]   simulate; print a summary, write a JSON report
  aimcsim validate --chip FILE [--set K=V]...             check a chip description, print the assembled chip
  aimcsim describe [KIND] [--markdown]                    list component kinds and their parameters
  aimcsim trace    --chip FILE --workload DIR             print the trace a workload resolves to
  aimcsim diff     OLD.json NEW.json [--rtol X] [--atol Y] [--keys PATTERN...] [--ignore PATTERN...]
                                                          compare two reports key by key; exit 0 when they agree
  aimcsim map      --chip FILE --workload DIR [--trace-out FILE]
                                                          tile the workload's network onto the chip: print the
                                                          placement; write the trace (and the files it derives)
  aimcsim probe weights --chip FILE --weights W.npy [--t-inference T] [--seed N] [--out E.npy] [--no-compensation]
                                                          effective weights of one core after programming and drift
  aimcsim probe mvm --chip FILE --weights W.npy [--t-inference T] [--seed N] [--inputs N] [--no-compensation] [--out R.json]
                                                          relative MVM error on random inputs
  aimcsim --help | --version

Options of run (validate and trace take --chip and --set):
  --chip FILE          chip description (YAML), e.g. configs/hermes.yaml
  --workload DIR       workload folder (with workload.yaml), e.g. workloads/tiny-mlp
  --out FILE           write the JSON report there (default: no file)
  --seed N             seed of all random streams (default: run.seed of the config)
  --samples N          samples to run (default: the workload's samples)
  --t-inference T      time since programming, e.g. 1h, "1 d" (default: run.t_inference); with
                       --mode functional a list: 0,1h,1d,1y
  --mode MODE          timed (default): latency, energy and accuracy; functional: accuracy only,
                       the same numerics without the timing model, fast enough for whole test sets
  --timeline FILE      timed mode: write a Chrome/Perfetto trace-event timeline (per-core MVMs,
                       digital unit, messages, host transfers); open in ui.perfetto.dev
  --logits FILE        write the outputs of every sample (samples × outputs) as .npy; functional
                       mode: those of the first seed and time, compensation as configured
  --compensation WHICH functional mode: both (default), on or off: the drift-compensation
                       settings to report (one setting halves the work)
  --seeds N            functional mode: run seeds SEED..SEED+N-1, report mean and std (default 1)
  --threads N          threads for the numerics (default: all); results do not depend on it
  --memory-limit SIZE  refuse to start a run whose estimated memory exceeds SIZE, e.g. 4GiB, 512MiB
                       (default: 80% of the physical memory, or of a lower cgroup or ulimit -v limit);
                       -v prints the estimate, the report has it (sim.memory_estimate_bytes)
  --set KEY=VALUE      override one config value, e.g. --set core.adc.bits=6 (repeatable); keys
                       traffic.* override the workload's traffic section, e.g. --set traffic.rate=0.3
  -q, --quiet          no summary on stdout
  -v, --verbose        debug messages on stderr

Examples:
  aimcsim validate --chip configs/hermes.yaml
  aimcsim run --chip configs/hermes.yaml --workload workloads/synthetic/peak --out r.json
  aimcsim run --chip configs/tiny.yaml --workload workloads/tiny-mlp --set core.adc.bits=4
  aimcsim run --chip configs/hermes.yaml --workload workloads/fmnist-mlp --mode functional \
              --t-inference 0,1h,1d,1y --seeds 5
  aimcsim run --chip configs/hermes.yaml --workload workloads/synthetic/uniform-random --set traffic.rate=0.3
  aimcsim describe cco-adc
  aimcsim diff golden.json new.json --rtol 1e-9 --ignore 'config.*' --keys 'energy.*' 'latency.*'
  aimcsim map --chip configs/tiny.yaml --workload workloads/tiny-mlp --trace-out mapped/trace.txt
  aimcsim probe weights --chip configs/aihwkit-pcm.yaml --weights W.npy --t-inference 1d --out E.npy

Exit codes: 0 success, 1 bad input (config, workload, trace, data), 2 bad command line, 3 internal error.
)";

struct Args {
    std::string command;
    std::map<std::string, std::string> values;
    std::vector<std::string> sets;
    std::vector<std::string> positional;
    bool quiet = false;
    bool markdown = false;
    bool no_compensation = false;
};

Args parse_args(const std::vector<std::string>& a) {
    Args out;
    if (a.empty()) throw UsageError("no command given");
    out.command = a[0];
    static const std::vector<std::string> with_value = {"--chip",    "--workload",    "--out",    "--seed",
                                                        "--samples", "--t-inference", "--weights", "--inputs", "--threads",
                                                        "--mode",    "--seeds",       "--logits",  "--timeline",
                                                        "--compensation", "--trace-out", "--memory-limit"};
    for (std::size_t i = 1; i < a.size(); ++i) {
        const std::string& s = a[i];
        std::string key = s, value;
        bool inline_value = false;
        if (auto eq = s.find('='); s.rfind("--", 0) == 0 && eq != std::string::npos) {
            key = s.substr(0, eq);
            value = s.substr(eq + 1);
            inline_value = true;
        }
        if (key == "-q" || key == "--quiet") {
            out.quiet = true;
        } else if (key == "-v" || key == "--verbose") {
            spdlog::set_level(spdlog::level::debug);
        } else if (key == "--no-compensation" && out.command == "probe") {
            out.no_compensation = true;
        } else if (key == "--markdown" && out.command == "describe") {
            out.markdown = true;
        } else if (key == "--set") {
            if (!inline_value) {
                if (i + 1 >= a.size()) throw UsageError("--set needs KEY=VALUE");
                value = a[++i];
            }
            out.sets.push_back(value);
        } else if (std::find(with_value.begin(), with_value.end(), key) != with_value.end()) {
            if (!inline_value) {
                if (i + 1 >= a.size()) throw UsageError(key + " needs a value");
                value = a[++i];
            }
            if (out.values.count(key)) throw UsageError(key + " given twice");
            out.values[key] = value;
        } else if (s.rfind("-", 0) == 0) {
            throw UsageError("unknown option '" + s + "'");
        } else {
            out.positional.push_back(s);
        }
    }
    return out;
}

std::string require(const Args& a, const std::string& key) {
    auto it = a.values.find(key);
    if (it == a.values.end()) throw UsageError("'" + a.command + "' needs " + key);
    return it->second;
}

void only(const Args& a, const std::vector<std::string>& allowed, bool sets, std::size_t positional) {
    for (const auto& [k, v] : a.values)
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
            throw UsageError("'" + a.command + "' does not take " + k);
    if (!sets && !a.sets.empty()) throw UsageError("'" + a.command + "' does not take --set");
    if (a.positional.size() > positional) throw UsageError("unexpected argument '" + a.positional[positional] + "'");
}

std::string si(double v, const char* unit) {
    static const std::vector<std::pair<double, const char*>> prefixes = {
        {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}};
    for (const auto& [f, p] : prefixes)
        if (std::fabs(v) >= f * 0.9995) return fmt::format("{:.4g} {}{}", v / f, p, unit);
    return fmt::format("{:.4g} {}", v, unit);
}

int cmd_validate(const Args& a) {
    only(a, {"--chip"}, true, 0);
    ChipConfig cfg = load_chip_config(require(a, "--chip"), a.sets);
    PeakFigures p = peak_figures(cfg);
    const auto& c = cfg.at("chip");
    const auto& core = cfg.at("core");
    std::cout << fmt::format("chip '{}' ({}): valid\n", cfg.name, cfg.file);
    std::cout << fmt::format("  cores          {} on a {}x{} grid, clock {}\n", p.cores, c.integer("grid_cols"),
                             c.integer("grid_rows"), si(c.real("clock"), "Hz"));
    std::cout << fmt::format("  crossbar       {} x {} {} ({} device(s) per polarity)\n",
                             core.child("crossbar").integer("rows"), core.child("crossbar").integer("cols"),
                             core.child("crossbar").kind, core.child("crossbar").integer("devices_per_polarity"));
    std::cout << fmt::format("  converters     {} {}-bit in, {} {}-bit out\n", core.child("dac").kind,
                             core.child("dac").integer("bits"), core.child("adc").kind, core.child("adc").integer("bits"));
    std::cout << fmt::format("  digital unit   {}\n", core.child("digital").kind);
    // Elaborating the chip catches what only its components check (host port placement, the
    // interconnect's watchdog against its pipeline).
    const Chip chip("chip", cfg, NumericsContext{static_cast<std::uint64_t>(cfg.at("run").integer("seed")), 0, 0.0});
    const Interconnect& net = chip.interconnect();
    const int cols = static_cast<int>(c.integer("grid_cols")), rows = static_cast<int>(c.integer("grid_rows"));
    const std::uint64_t word = chip.word_bits();
    std::cout << fmt::format("  interconnect   {}; a one-word message takes {} cycles to a neighbour, {} corner to corner "
                             "(zero load)\n",
                             cfg.at("interconnect").kind, net.zero_load_latency(0, 0, cols > 1 ? 1 : 0, cols > 1 ? 0 : (rows > 1 ? 1 : 0), word),
                             net.zero_load_latency(0, 0, cols - 1, rows - 1, word));
    std::cout << fmt::format("  MVM            {} cycles latency, one every {} cycles per core\n", p.mvm_latency_cycles,
                             p.mvm_interval_cycles);
    std::cout << fmt::format("  peak           {:.2f} TOPS, {:.3f} W, {:.2f} TOPS/W (derived from the config)\n", p.tops,
                             p.power_w, p.tops_per_w);
    return 0;
}

void describe_kind(const KindDecl& k) {
    std::cout << fmt::format("{} (kind of {}): {}\n", k.kind, k.interface, k.summary);
    if (k.params.empty()) std::cout << "  (no parameters)\n";
    for (const auto& p : k.params) {
        std::string type = p.type_name();
        std::string unit = p.unit_name();
        std::string range = p.range_text();
        std::cout << fmt::format("  {:<24} {:<12} {:<10} default {:<10} {}{}\n", p.name, type,
                                 unit.empty() ? "-" : unit, p.default_text ? *p.default_text : "(required)", p.meaning,
                                 range.empty() ? "" : " [" + range + "]");
    }
}

void describe_markdown_table(const std::vector<ParamDecl>& params) {
    std::cout << "| parameter | type | unit | default | range | meaning |\n|---|---|---|---|---|---|\n";
    for (const auto& p : params)
        std::cout << fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", p.name, p.type_name(),
                                 p.unit_name().empty() ? "-" : p.unit_name(),
                                 p.default_text ? "`" + *p.default_text + "`" : "required",
                                 p.range_text().empty() ? "-" : p.range_text(), p.meaning);
}

// The config reference (docs/config-reference.md is this output; a test keeps them equal).
void describe_markdown() {
    const auto& cat = Catalog::instance();
    std::cout << "# Config reference\n\n"
                 "Generated by `aimcsim describe --markdown` from the same parameter declarations the config "
                 "loader uses; do not edit by hand. Quantities take a unit (`\"133 ns\"`, `\"1 GHz\"`, "
                 "`\"0.35 pJ\"`, `\"20 mW\"`, `\"25 uS\"`, `\"1 d\"`); ranges are inclusive. A section "
                 "picks its implementation with `kind:`; sections with a default kind may omit it.\n";
    for (const auto& s : chip_slots()) {
        std::cout << fmt::format("\n## `{}`: {}\n\n{}.{}\n", s.path, s.interface, s.meaning,
                                 s.default_kind.empty() ? " `kind:` is required."
                                                        : " Default kind: `" + s.default_kind + "`.");
        for (const auto* k : cat.kinds_of(s.interface)) {
            std::cout << fmt::format("\n### `kind: {}`\n\n{}\n\n", k->kind, k->summary);
            describe_markdown_table(k->params);
        }
    }
    std::cout << "\n# Workload parameters\n\nNot part of a chip description: these sections belong to a "
                 "workload.yaml.\n\n## `traffic`: synthetic traffic\n\nThe `traffic:` section of a workload with "
                 "`generator: traffic`: "
              << traffic_decl().summary
              << ". `aimcsim run --set traffic.KEY=VALUE` overrides one value.\n\n";
    describe_markdown_table(traffic_decl().params);
}

int cmd_describe(const Args& a) {
    only(a, {}, false, 1);
    if (a.markdown) {
        describe_markdown();
        return 0;
    }
    const auto& cat = Catalog::instance();
    if (!a.positional.empty()) {
        for (const auto& s : chip_slots())
            for (const auto* k : cat.kinds_of(s.interface))
                if (k->kind == a.positional[0]) {
                    describe_kind(*k);
                    return 0;
                }
        if (a.positional[0] == traffic_decl().kind) {
            describe_kind(traffic_decl());
            return 0;
        }
        throw UsageError("unknown kind '" + a.positional[0] + "'; 'aimcsim describe' lists them");
    }
    std::cout << "Component kinds by config section (YAML picks one with `kind:`).\n"
                 "Quantities take a unit: \"133 ns\", \"1 GHz\", \"0.35 pJ\", \"20 mW\", \"25 uS\", \"1 d\".\n";
    for (const auto& s : chip_slots()) {
        std::cout << fmt::format("\n[{}] {}: {}{}\n", s.path, s.interface, s.meaning,
                                 s.default_kind.empty() ? "" : " (default kind: " + s.default_kind + ")");
        for (const auto* k : cat.kinds_of(s.interface)) describe_kind(*k);
    }
    std::cout << "\n[traffic] the traffic: section of a workload.yaml with generator: traffic (not a chip component)\n";
    describe_kind(traffic_decl());
    return 0;
}

// The chip and the workload, each with its --set overrides (traffic.* go to the workload).
std::pair<ChipConfig, Workload> load_chip_and_workload(const std::string& chip_file, const std::string& workload_path,
                                                       const std::vector<std::string>& sets) {
    std::vector<std::string> chip_sets, traffic_sets;
    split_traffic_overrides(sets, chip_sets, traffic_sets);
    ChipConfig cfg = load_chip_config(chip_file, chip_sets);
    Workload wl = load_workload(workload_path, cfg, traffic_sets);
    return {std::move(cfg), std::move(wl)};
}

int cmd_trace(const Args& a) {
    only(a, {"--chip", "--workload"}, true, 0);
    const auto [cfg, wl] = load_chip_and_workload(require(a, "--chip"), require(a, "--workload"), a.sets);
    if (wl.traffic) {
        throw InputError(wl.file + ": a traffic workload has no trace: its messages are generated during the run "
                                   "(docs/interconnect.md)");
    } else if (wl.generator == "peak") {
        std::cout << peak_trace_text(cfg);
    } else if (!wl.generated_trace.empty()) {
        std::cout << wl.generated_trace;  // mapped from the network
    } else {
        std::ifstream in(wl.trace.file);
        std::cout << in.rdbuf();
    }
    return 0;
}

// aimcsim map: the placement of the workload's network on the chip; with --trace-out, the trace
// and the files the mapper derived, beside it.
int cmd_map(const Args& a) {
    namespace fs = std::filesystem;
    only(a, {"--chip", "--workload", "--trace-out"}, true, 0);
    std::vector<std::string> chip_sets, traffic_sets;
    split_traffic_overrides(a.sets, chip_sets, traffic_sets);
    if (!traffic_sets.empty()) throw UsageError("'map' does not take --set traffic.*");
    const ChipConfig cfg = load_chip_config(require(a, "--chip"), chip_sets);
    const Workload wl = load_workload(require(a, "--workload"), cfg, {}, /*map_network=*/false);
    if (!wl.has_network()) throw InputError(wl.file + ": the workload has no network: to map");
    const std::string out = a.values.count("--trace-out") ? a.values.at("--trace-out") : "";
    MapOptions opt;
    fs::path trace_dir;
    if (!out.empty()) try {
        if (fs::is_directory(out)) throw UsageError("--trace-out " + out + ": is a folder; name the trace file");
        trace_dir = fs::weakly_canonical(fs::absolute(fs::path(out)).parent_path());
        const fs::path wdir = fs::weakly_canonical(fs::absolute(wl.dir));
        // The trace names the workload's own files relative to its folder, or absolute when the
        // two folders share nothing but the root.
        const fs::path rel = wdir.lexically_relative(trace_dir);
        const bool related = std::distance(wdir.begin(), wdir.end()) > 1 && std::distance(trace_dir.begin(), trace_dir.end()) > 1 &&
                             *std::next(wdir.begin()) == *std::next(trace_dir.begin());
        opt.source_dir = rel.empty() || !related ? wdir.generic_string() : rel == "." ? "" : rel.generic_string();
    } catch (const fs::filesystem_error& e) {  // a name the file system refuses, such as one too long
        throw InputError(out + ": cannot write the trace here (" + e.code().message() + ")");
    }
    const Mapping m = map_network(wl.network, cfg, opt);

    std::cout << fmt::format("map: network of workload '{}' on chip '{}' ({}x{} cores, {}x{} crossbars)\n", wl.name,
                             cfg.name, m.grid_cols, m.grid_rows, m.crossbar_rows, m.crossbar_cols);
    std::vector<std::array<std::string, 8>> rows = {{"layer", "tile", "rows", "cols", "core", "x", "y", "utilisation"}};
    for (const auto& l : m.layers)
        for (const auto& t : l.tiles)
            rows.push_back({l.name, fmt::format("r{}c{}", t.row_block, t.col_block), fmt::format("{}:{}", t.row_begin, t.row_end),
                            fmt::format("{}:{}", t.col_begin, t.col_end), std::to_string(t.core), std::to_string(t.x),
                            std::to_string(t.y), fmt::format("{:.1f}%", 100 * t.utilisation)});
    std::array<std::size_t, 8> width{};
    for (const auto& r : rows)
        for (std::size_t c = 0; c < 8; ++c) width[c] = std::max(width[c], r[c].size());
    for (const auto& r : rows) {
        std::string line = " ";
        for (std::size_t c = 0; c < 8; ++c)  // names left, numbers right
            line += " " + (c < 4 ? fmt::format("{:<{}}", r[c], width[c]) : fmt::format("{:>{}}", r[c], width[c]));
        std::cout << line << "\n";
    }
    std::cout << fmt::format("  cores used {} / {}, mean crossbar utilisation {:.1f}%, {} MACs per inference\n",
                             m.cores_used, m.cores_available, 100 * m.mean_utilisation, m.macs_per_sample);
    if (!out.empty()) {
        std::error_code ec;
        fs::create_directories(trace_dir, ec);
        std::ofstream f(out, std::ios::binary | std::ios::trunc);
        f << m.trace_text;
        f.close();
        if (!f) throw InputError(out + ": cannot write the trace here");
        for (const auto& [name, array] : m.files) write_npy((trace_dir / name).string(), array.shape, array.data);
        std::cout << fmt::format("  trace written to {}{}\n", out,
                                 m.files.empty() ? "" : fmt::format(" (with {} derived .npy files beside it)", m.files.size()));
    }
    return 0;
}

std::uint64_t parse_count(const std::string& flag, const std::string& v, long long lo, long long hi) {
    auto n = parse_integer(v);
    if (!n || *n < lo || *n > hi)
        throw UsageError(flag + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" +
                         v + "'");
    return static_cast<std::uint64_t>(*n);
}

// Checked against the declaration of run.t_inference, so the flag has the config key's range.
double parse_time(const std::string& text) {
    const ParamDecl* decl = Catalog::instance().find("run", "run")->param("t_inference");
    std::string why;
    // A bare 0 is unambiguous: no drift.
    auto v = parse_param(*decl, text == "0" ? "0 s" : text, &why);
    if (!v) throw UsageError("--t-inference: " + why);
    return v->real;
}

double parse_time_flag(const Args& a) { return parse_time(a.values.at("--t-inference")); }

// --t-inference 0,1h,1d: a comma-separated list of times.
std::vector<DriftTime> parse_time_list(const std::string& text) {
    std::vector<DriftTime> times;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) throw UsageError("--t-inference: empty time in the list '" + text + "'");
        times.push_back({item, parse_time(item)});
    }
    if (times.empty() || text.back() == ',') throw UsageError("--t-inference: empty time in the list '" + text + "'");
    return times;
}

int cmd_probe(const Args& a) {
    if (a.positional.empty() || (a.positional[0] != "weights" && a.positional[0] != "mvm"))
        throw UsageError("'probe' needs what to probe: 'probe weights' or 'probe mvm'");
    const bool weights = a.positional[0] == "weights";
    only(a, weights ? std::vector<std::string>{"--chip", "--weights", "--t-inference", "--seed", "--out"}
                    : std::vector<std::string>{"--chip", "--weights", "--t-inference", "--seed", "--inputs", "--out"},
         true, 1);
    ChipConfig cfg = load_chip_config(require(a, "--chip"), a.sets);
    ProbeOptions opt;
    opt.weights_file = require(a, "--weights");
    opt.seed = a.values.count("--seed") ? parse_count("--seed", a.values.at("--seed"), 0, std::numeric_limits<long long>::max())
                                        : static_cast<std::uint64_t>(cfg.at("run").integer("seed"));
    opt.t_inference_s = a.values.count("--t-inference") ? parse_time_flag(a) : cfg.at("run").real("t_inference");
    opt.compensation = !a.no_compensation;
    const std::string when = format_quantity(opt.t_inference_s, Dimension::Time);
    if (weights) {
        const std::string out = a.values.count("--out") ? a.values.at("--out") : "";
        ProbeWeightsResult r = probe_weights(cfg, opt);
        if (!out.empty()) write_npy(out, {r.rows, r.cols}, r.effective);
        std::cout << fmt::format("probe weights: {}x{} on '{}', t = {}, seed {}: alpha {:.6f}{}, rms error {:.5f} of max|W|{}\n",
                                 r.rows, r.cols, cfg.name, when, opt.seed, r.alpha,
                                 opt.compensation ? "" : " (not applied)", r.rms_error,
                                 out.empty() ? "" : ", written to " + out);
    } else {
        if (a.values.count("--inputs")) opt.inputs = parse_count("--inputs", a.values.at("--inputs"), 1, 1'000'000);
        ProbeMvmResult r = probe_mvm(cfg, opt);
        if (a.values.count("--out")) {
            // The figures as a report, for regression goldens and scripts.
            nlohmann::ordered_json j;
            j["schema_version"] = kReportSchemaVersion;
            j["tool"] = {{"name", "aimcsim"}, {"version", kToolVersion}, {"git_commit", git_commit()}};
            j["chip"] = {{"name", cfg.name}, {"file", cfg.file}, {"config_hash", config_hash(cfg)}};
            j["probe"] = {{"kind", "mvm"},          {"weights", opt.weights_file},
                          {"rows", r.rows},         {"cols", r.cols},
                          {"inputs", r.inputs},     {"seed", opt.seed},
                          {"t_inference_s", opt.t_inference_s}, {"compensation", opt.compensation},
                          {"alpha", r.alpha},       {"relative_error", r.relative_error}};
            std::ofstream f(a.values.at("--out"), std::ios::binary);
            f << j.dump(2) << "\n";
            if (!f) throw InputError(a.values.at("--out") + ": cannot write the probe report");
        }
        std::cout << fmt::format("probe mvm: {}x{} on '{}', t = {}, seed {}, {} inputs: relative error {:.5f} "
                                 "(std of y - y_ideal over std of y_ideal), alpha {:.6f}{}\n",
                                 r.rows, r.cols, cfg.name, when, opt.seed, r.inputs, r.relative_error, r.alpha,
                                 opt.compensation ? "" : " (not applied)");
    }
    return 0;
}

// The traffic lines of the summary: what was offered, what the network accepted and how long
// messages took.
void print_traffic_summary(const nlohmann::ordered_json& r) {
    const auto& t = r["traffic"];
    const auto& tp = r["interconnect"]["throughput_flits_per_node_cycle"];
    const auto& lat = r["interconnect"]["packet_latency_cycles"];
    const auto& bound = t["xy_saturation_bound_flits_per_node_cycle"];
    std::cout << fmt::format("  {:<12} {} at {} flits/node/cycle: {} messages of {} flits from {} cores\n", "traffic",
                             t["pattern"].get<std::string>(), t["rate"].get<double>(),
                             t["messages_generated"].get<std::uint64_t>(), t["flits_per_message"].get<std::uint64_t>(),
                             t["sending_nodes"].get<int>());
    std::cout << fmt::format("  {:<12} offered {:.4f}, accepted {:.4f} flits/node/cycle in the window; latency mean "
                             "{:.1f}, p99 {} cycles{}\n",
                             "", tp["offered"].get<double>(), tp["accepted"].get<double>(), lat["mean"].get<double>(),
                             lat["p99"].get<std::uint64_t>(),
                             bound.is_null() ? "" : fmt::format("; XY bound {:.4f}", bound.get<double>()));
}

void print_summary(const nlohmann::ordered_json& r, const std::string& out) {
    const auto& lat = r["latency"];
    const auto& en = r["energy"];
    const auto& ops = r["ops"];
    const auto& acc = r["accuracy"];
    // Synthetic traffic has no samples, MVMs or accuracy: those lines would be zeros.
    const bool traffic = !r["traffic"].is_null();
    std::cout << fmt::format("aimcsim {}: chip {} ({} cores), workload {}, {} samples, seed {}\n",
                             r["tool"]["version"].get<std::string>(), r["chip"]["name"].get<std::string>(),
                             r["chip"]["cores"].get<int>(), r["workload"]["name"].get<std::string>(),
                             r["workload"]["samples"].get<std::size_t>(), r["seed"].get<std::uint64_t>());
    std::cout << fmt::format("  {:<12} total {}  ({} cycles)", "latency", si(lat["total_ns"].get<double>() * 1e-9, "s"),
                             lat["total_cycles"].get<std::uint64_t>());
    if (!traffic)
        std::cout << fmt::format("   per sample {}   first sample {}", si(lat["per_sample_ns"].get<double>() * 1e-9, "s"),
                                 si(lat["first_sample_ns"].get<double>() * 1e-9, "s"));
    std::cout << "\n";
    if (!traffic) {
        std::cout << fmt::format("  {:<12} {} samples/s\n", "throughput",
                                 si(r["throughput"]["samples_per_s"].get<double>(), ""));
        std::cout << fmt::format("  {:<12} {} MVMs, {} MACs   {:.3f} TOPS   {:.3f} TOPS/W\n", "ops",
                                 ops["mvms"].get<std::uint64_t>(), ops["macs"].get<std::uint64_t>(),
                                 ops["tops"].get<double>(), ops["tops_per_w"].get<double>());
    }
    const double total = en["total_pj"].get<double>();
    std::cout << fmt::format("  {:<12} total {}", "energy", si(total * 1e-12, "J"));
    if (!traffic) std::cout << fmt::format("   per sample {}", si(en["per_sample_pj"].get<double>() * 1e-12, "J"));
    std::cout << fmt::format("   average power {}\n", si(r["power"]["average_w"].get<double>(), "W"));
    std::string parts;
    for (const auto& [k, v] : en["breakdown_pj"].items())
        parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : "  ", k, total > 0 ? 100.0 * v.get<double>() / total : 0.0);
    std::cout << fmt::format("  {:<12} {}\n", "breakdown", parts);
    if (traffic)
        print_traffic_summary(r);
    else if (acc["top1"].is_null())
        std::cout << fmt::format("  {:<12} n/a (no labelled network, or no host output in the trace)\n", "accuracy");
    else
        std::cout << fmt::format("  {:<12} top-1 {:.2f}%   float reference {:.2f}%   agreement {:.2f}%   ({} samples, t = {})\n",
                                 "accuracy", 100 * acc["top1"].get<double>(), 100 * acc["reference_top1"].get<double>(),
                                 100 * acc["reference_agreement"].get<double>(), acc["samples"].get<std::size_t>(),
                                 format_quantity(acc["t_inference_s"].get<double>(), Dimension::Time));
    std::cout << fmt::format("  {:<12} {} events, {:.3f} s wall\n", "simulation", r["sim"]["events"].get<std::uint64_t>(),
                             r["sim"]["wall_s"].get<double>());
    if (!out.empty()) std::cout << fmt::format("  {:<12} {}\n", "report", out);
}

// Runs `produce` and writes its report to `out` (when given) and the summary to stdout.
int write_report(const std::string& out, bool quiet, const std::function<nlohmann::ordered_json()>& produce,
                 void (*summary)(const nlohmann::ordered_json&, const std::string&)) {
    // The report goes to a temporary file renamed into place, so that a failed run leaves an
    // earlier report untouched; it is opened first, so that an unwritable place fails early.
    const std::string partial = out + ".partial";
    std::ofstream file;
    if (!out.empty()) {
        file.open(partial, std::ios::binary | std::ios::trunc);
        if (!file) throw InputError(out + ": cannot write the report here");
    }
    nlohmann::ordered_json report;
    try {
        report = produce();
    } catch (...) {
        if (!out.empty()) std::remove(partial.c_str());
        throw;
    }
    if (!out.empty()) {
        // Names and paths come from the user's files: bytes that are not UTF-8 are replaced.
        file << report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        file.close();
        if (!file || std::rename(partial.c_str(), out.c_str()) != 0) {
            std::remove(partial.c_str());
            throw InputError(out + ": writing the report failed");
        }
    }
    if (!quiet) summary(report, out);
    return 0;
}


void print_functional_summary(const nlohmann::ordered_json& r, const std::string& out) {
    const auto& acc = r["accuracy"];
    const auto seed = r["seed"].get<std::uint64_t>();
    const auto seeds = r["seeds"].get<unsigned>();
    std::cout << fmt::format("aimcsim {} functional: chip {}, workload {}, {} samples, seed{} {}\n",
                             r["tool"]["version"].get<std::string>(), r["chip"]["name"].get<std::string>(),
                             r["workload"]["name"].get<std::string>(), acc["samples"].get<std::size_t>(),
                             seeds > 1 ? "s" : "",
                             seeds > 1 ? fmt::format("{}..{}", seed, seed + seeds - 1) : std::to_string(seed));
    std::cout << fmt::format("  {:<14} top-1 {:.2f}%\n", "float reference", 100 * acc["reference_top1"].get<double>());
    std::cout << fmt::format("  {:<14} {:<22} {}\n", "t_inference", "top-1 compensated", "top-1 uncompensated");
    for (const auto& p : acc["points"]) {
        auto cell = [](const nlohmann::ordered_json& c) {
            if (c.is_null()) return std::string("-");
            return fmt::format("{:.2f} ± {:.2f} %", 100 * c["top1_mean"].get<double>(), 100 * c["top1_std"].get<double>());
        };
        std::cout << fmt::format("  {:<14} {:<22} {}\n", p["t_inference"].get<std::string>(), cell(p["compensated"]),
                                 cell(p["uncompensated"]));
    }
    std::cout << fmt::format("  {:<14} {:.3f} s wall\n", "simulation", r["sim"]["wall_s"].get<double>());
    if (!out.empty()) std::cout << fmt::format("  {:<14} {}\n", "report", out);
}

int cmd_run(const Args& a) {
    only(a, {"--chip", "--workload", "--out", "--seed", "--samples", "--t-inference", "--threads", "--mode", "--seeds",
             "--logits", "--timeline", "--compensation", "--memory-limit"},
         true, 0);
    const std::string chip_file = require(a, "--chip");
    const std::string workload_path = require(a, "--workload");
    const std::string mode = a.values.count("--mode") ? a.values.at("--mode") : "timed";
    if (mode != "timed" && mode != "functional")
        throw UsageError("--mode: expected timed or functional, got '" + mode + "'");
    const bool functional = mode == "functional";
    if (!functional && a.values.count("--seeds")) throw UsageError("--seeds needs --mode functional");
    if (!functional && a.values.count("--compensation"))
        throw UsageError("--compensation needs --mode functional (a timed run uses core.drift_compensation)");
    const std::string compensation = a.values.count("--compensation") ? a.values.at("--compensation") : "both";
    if (compensation != "both" && compensation != "on" && compensation != "off")
        throw UsageError("--compensation: expected both, on or off, got '" + compensation + "'");
    RunOptions opt;
    if (a.values.count("--seed")) opt.seed = parse_count("--seed", a.values.at("--seed"), 0, std::numeric_limits<long long>::max());
    if (a.values.count("--samples")) opt.samples = parse_count("--samples", a.values.at("--samples"), 1, 100'000'000);
    if (a.values.count("--threads"))
        opt.threads = static_cast<unsigned>(parse_count("--threads", a.values.at("--threads"), 1, 1024));
    if (a.values.count("--memory-limit")) {
        const std::string& v = a.values.at("--memory-limit");
        const auto bytes = parse_memory_size(v);
        if (!bytes)
            throw UsageError("--memory-limit: expected a size such as 4GiB, 512MiB or 1000000 (bytes), got '" + v + "'");
        opt.memory_limit = *bytes;
    }
    std::vector<DriftTime> times;
    if (a.values.count("--t-inference")) {
        times = parse_time_list(a.values.at("--t-inference"));
        if (times.size() > 1 && !functional)
            throw UsageError("--t-inference: a list of times needs --mode functional; a timed run has one");
        opt.t_inference_s = times[0].seconds;
    }
    std::string out = a.values.count("--out") ? a.values.at("--out") : "";
    if (a.values.count("--logits")) opt.logits_file = a.values.at("--logits");
    if (a.values.count("--timeline")) {
        if (functional) throw UsageError("--timeline: the functional mode has no timing; use a timed run");
        opt.timeline_file = a.values.at("--timeline");
    }
    opt.progress = !a.quiet;
    const auto load_start = std::chrono::steady_clock::now();
    // Not a structured binding: the lambdas below capture them, which clang before 16 rejects in C++17.
    const auto loaded = load_chip_and_workload(chip_file, workload_path, a.sets);
    const ChipConfig& cfg = loaded.first;
    const Workload& wl = loaded.second;
    spdlog::debug("chip and workload loaded in {:.3f} s",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
    if (wl.traffic && opt.samples)
        throw UsageError("--samples: a traffic workload has no samples; its length is traffic.warmup + traffic.duration");
    if (functional && wl.traffic) throw UsageError("--mode functional: a traffic workload has no values to compute");
    if (functional) {
        FunctionalOptions f;
        f.seed = opt.seed ? *opt.seed : static_cast<std::uint64_t>(cfg.at("run").integer("seed"));
        if (a.values.count("--seeds")) f.seeds = static_cast<unsigned>(parse_count("--seeds", a.values.at("--seeds"), 1, 1000));
        if (times.empty()) {
            const double t = cfg.at("run").real("t_inference");
            times.push_back({format_quantity(t, Dimension::Time), t});
        }
        f.times = times;
        f.samples = opt.samples ? *opt.samples : wl.default_samples;
        f.threads = opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
        f.logits_file = opt.logits_file;
        f.memory_limit = opt.memory_limit;
        f.progress = opt.progress;
        f.compensated = compensation != "off";
        f.uncompensated = compensation != "on";
        return write_report(out, a.quiet, [&] { return run_functional(cfg, wl, f); }, print_functional_summary);
    }
    return write_report(out, a.quiet, [&] { return simulate(cfg, wl, opt); }, print_summary);
}

// aimcsim diff OLD NEW [--rtol X] [--atol Y] [--keys P...] [--ignore P...] [--wall-clock]
int cmd_diff(const std::vector<std::string>& args) {
    DiffOptions opt;
    std::vector<std::string> files;
    std::vector<std::string>* list = nullptr;  // --keys / --ignore take every pattern up to the next option
    auto number = [](const std::string& flag, const std::string& v) {
        auto x = parse_real(v);
        if (!x || !(*x >= 0) || !std::isfinite(*x)) throw UsageError(flag + ": expected a non-negative number, got '" + v + "'");
        return *x;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& s = args[i];
        if (s == "--rtol" || s == "--atol") {
            if (i + 1 >= args.size()) throw UsageError(s + " needs a value");
            (s == "--rtol" ? opt.rtol : opt.atol) = number(s, args[++i]);
            list = nullptr;
        } else if (s == "--keys" || s == "--ignore") {
            list = s == "--keys" ? &opt.keys : &opt.ignore;
            if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) throw UsageError(s + " needs at least one pattern");
        } else if (s == "--wall-clock") {
            opt.include_wall_clock = true;
            list = nullptr;
        } else if (s.rfind("--", 0) == 0) {
            throw UsageError("unknown option '" + s + "' for diff");
        } else if (list) {
            list->push_back(s);
        } else {
            files.push_back(s);
        }
    }
    if (files.size() != 2) throw UsageError("'diff' needs two reports: aimcsim diff OLD.json NEW.json");
    nlohmann::json doc[2];
    for (int k = 0; k < 2; ++k) {
        std::ifstream in(files[static_cast<std::size_t>(k)], std::ios::binary);
        if (!in) throw InputError(files[static_cast<std::size_t>(k)] + ": cannot open the report");
        try {
            doc[k] = nlohmann::json::parse(in);
        } catch (const nlohmann::json::parse_error& e) {
            throw InputError(files[static_cast<std::size_t>(k)] + ": not a JSON report (" + e.what() + ")");
        }
    }
    const DiffResult r = diff_reports(doc[0], doc[1], opt);
    if (r.changed.empty()) {
        std::cout << fmt::format("reports agree: {} keys compared (rtol {}, atol {})\n", r.compared, opt.rtol, opt.atol);
        return 0;
    }
    std::cout << diff_table(r)
              << fmt::format("{} of {} keys differ beyond rtol {}, atol {}\n", r.changed.size(), r.compared, opt.rtol, opt.atol);
    return 1;
}

}  // namespace

int cli_main(const std::vector<std::string>& args) {
    // Diagnostics go to stderr, so that stdout holds only the summary (or the trace, or describe).
    auto log = spdlog::stderr_color_st("aimcsim");
    log->set_pattern("%^%l%$: %v");
    spdlog::set_default_logger(log);
    try {
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            std::cout << kUsage;
            return args.empty() ? 2 : 0;
        }
        if (args[0] == "--version") {
            std::cout << "aimcsim " << kToolVersion << "\n";
            return 0;
        }
        for (const auto& s : args)
            if (s == "--help" || s == "-h") {
                std::cout << kUsage;
                return 0;
            }
        if (args[0] == "diff") return cmd_diff(args);
        Args a = parse_args(args);
        if (a.command == "run") return cmd_run(a);
        if (a.command == "validate") return cmd_validate(a);
        if (a.command == "describe") return cmd_describe(a);
        if (a.command == "trace") return cmd_trace(a);
        if (a.command == "map") return cmd_map(a);
        if (a.command == "probe") return cmd_probe(a);
        throw UsageError("unknown command '" + a.command + "'");
    } catch (const UsageError& e) {
        std::cerr << "aimcsim: " << e.what() << "\n(see 'aimcsim --help')\n";
        return 2;
    } catch (const InputErrors& e) {
        for (const auto& m : e.messages()) std::cerr << "error: " << m << "\n";
        std::cerr << e.messages().size() << " error(s)\n";
        return 1;
    } catch (const InputError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        // The estimate (sim/memory.hpp) refuses what will not fit; this is what it missed, or a
        // limit raised past the memory there is.
        std::cerr << "error: out of memory: the run needs more memory than this process may use (see --memory-limit "
                     "and docs/robustness.md)\n";
        return 1;
    } catch (const InternalError& e) {
        std::cerr << "aimcsim: " << e.what() << "\nThis is a bug in aimcsim; please report it with the command line.\n";
        return 3;
    } catch (const std::exception& e) {
        std::cerr << "aimcsim: internal error: " << e.what() << "\n";
        return 3;
    }
}

}  // namespace aimc
