// A Chrome/Perfetto trace-event timeline of a timed run (`aimcsim run --timeline FILE`): one
// process per core (tracks: crossbar, digital unit, network in) and one for the host port, one
// complete event ("ph": "X") per MVM operation, digital operation, received message and host
// transfer. Open it in https://ui.perfetto.dev or chrome://tracing. Times are simulated, in µs.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace aimc {

class Timeline {
public:
    enum Track { Crossbar = 0, Digital = 1, NetworkIn = 2 };
    // `host` is the process id of the host port (the core count).
    Timeline(const std::string& path, double clock_hz, int cores);
    ~Timeline();
    Timeline(const Timeline&) = delete;
    Timeline& operator=(const Timeline&) = delete;

    // One event on `track` of `process` (a core, or the host) from cycle `start` to `end`.
    void span(int process, Track track, const std::string& name, std::uint64_t start, std::uint64_t end,
              const std::string& args_json = "");
    // Closes the JSON document; throws InputError when the file could not be written.
    void finish();

private:
    std::string path_;
    std::ofstream out_;
    double us_per_cycle_;
    bool first_ = true, finished_ = false;
};

// A progress bar on stderr, drawn only when stderr is a terminal (and not in CI logs).
class Progress {
public:
    Progress(const std::string& what, std::uint64_t total);
    ~Progress();
    void update(std::uint64_t done);

private:
    std::string what_;
    std::uint64_t total_;
    int shown_ = -1;
    bool enabled_;
};

}  // namespace aimc
