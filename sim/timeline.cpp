#include "sim/timeline.hpp"

#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

#include "sim/errors.hpp"

namespace aimc {

Timeline::Timeline(const std::string& path, double clock_hz, int cores)
    : path_(path), out_(path, std::ios::binary | std::ios::trunc), us_per_cycle_(1e6 / clock_hz) {
    if (!out_) throw InputError(path + ": cannot write the timeline here");
    out_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    // Names of the processes and tracks, so the viewer shows "core 3 / crossbar".
    auto meta = [&](const char* kind, int pid, int tid, const std::string& name) {
        out_ << (first_ ? "" : ",\n")
             << fmt::format(R"({{"ph":"M","name":"{}","pid":{},"tid":{},"args":{{"name":"{}"}}}})", kind, pid, tid, name);
        first_ = false;
    };
    for (int c = 0; c <= cores; ++c) {
        meta("process_name", c, 0, c == cores ? std::string("host port") : "core " + std::to_string(c));
        meta("process_sort_index", c, 0, std::to_string(c));
        meta("thread_name", c, Crossbar, c == cores ? "transfers" : "crossbar (MVM)");
        if (c < cores) meta("thread_name", c, Digital, "digital unit");
        meta("thread_name", c, NetworkIn, "network in");
    }
}

Timeline::~Timeline() {
    if (!finished_) out_ << "]}\n";
}

void Timeline::span(int process, Track track, const std::string& name, std::uint64_t start, std::uint64_t end,
                    const std::string& args_json) {
    out_ << (first_ ? "" : ",\n")
         << fmt::format(R"({{"ph":"X","name":"{}","pid":{},"tid":{},"ts":{:.3f},"dur":{:.3f}{}}})", name, process,
                        static_cast<int>(track), static_cast<double>(start) * us_per_cycle_,
                        static_cast<double>(end - start) * us_per_cycle_,
                        args_json.empty() ? "" : ",\"args\":" + args_json);
    first_ = false;
}

void Timeline::finish() {
    out_ << "]}\n";
    finished_ = true;
    out_.close();
    if (!out_) throw InputError(path_ + ": writing the timeline failed");
}

Progress::Progress(const std::string& what, std::uint64_t total)
    : what_(what), total_(total), enabled_(total > 0 && isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
    if (enabled_ && shown_ >= 0) std::fprintf(stderr, "\r\033[K");
}

void Progress::update(std::uint64_t done) {
    if (!enabled_) return;
    const int percent = static_cast<int>(100 * done / total_);
    if (percent == shown_) return;
    shown_ = percent;
    const int bar = percent * 30 / 100;
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %llu/%llu", what_.c_str(), std::string(static_cast<std::size_t>(bar), '#').c_str(),
                 std::string(static_cast<std::size_t>(30 - bar), ' ').c_str(), percent,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_));
    std::fflush(stderr);
}

}  // namespace aimc
