// Shared by the libFuzzer harnesses (docs/fuzzing.md). An InputError (the user's mistake: exit
// code 1) is the normal outcome of bad input; anything else that escapes a parser is a finding:
// an InternalError (a bug by definition), a UsageError where no command line is involved, or
// any other exception. The harness prints it and aborts, so that libFuzzer saves the input as a
// crash file. Crashes and sanitizer reports stop the fuzzer by themselves.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <typeinfo>

#include "sim/errors.hpp"

namespace aimc_fuzz {

[[noreturn]] inline void finding(const std::string& kind, const std::string& what) {
    std::fprintf(stderr, "\n==aimc-fuzz== FINDING: %s: %s\n", kind.c_str(), what.c_str());
    std::fflush(stderr);
    std::abort();
}

// Checks a property of an accepted input or of an error; a violation is a finding.
inline void check(bool ok, const std::string& what) {
    if (!ok) finding("violated property", what);
}

struct Outcome {
    bool accepted = false;  // the body returned normally
    std::string error;      // the InputError's message otherwise
};

// AIMC_FUZZ_VERBOSE=1 in the environment: print each outcome (to see what the seeds reach:
// `AIMC_FUZZ_VERBOSE=1 build-asan/fuzz_trace fuzz/corpus/trace/*`).
inline void report(const Outcome& o) {
    static const bool verbose = std::getenv("AIMC_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "==aimc-fuzz== %s\n", o.accepted ? "accepted" : ("rejected: " + o.error).c_str());
}

// Runs `body`. `usage_is_input`: a UsageError is a normal outcome too (the --set parser reports a
// malformed assignment as a command-line error, exit code 2).
template <class F>
Outcome run(F&& body, bool usage_is_input = false) {
    struct Report {
        Outcome& o;
        ~Report() { report(o); }
    };
    Outcome o;
    Report r{o};
    try {
        body();
        o.accepted = true;
    } catch (const aimc::InputError& e) {  // and InputErrors
        o.error = e.what();
        check(!o.error.empty(), "an InputError with an empty message");
    } catch (const aimc::UsageError& e) {
        if (!usage_is_input) finding("UsageError outside the command line", e.what());
        o.error = e.what();
    } catch (const aimc::InternalError& e) {
        finding("InternalError", e.what());
    } catch (const std::exception& e) {
        finding(std::string("uncaught exception (typeid ") + typeid(e).name() + ")", e.what());
    } catch (...) {
        finding("uncaught exception of a non-std type", "");
    }
    return o;
}

inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Diagnostics off: some loaders warn through spdlog.
inline void quiet() { spdlog::set_level(spdlog::level::off); }

inline std::string source_dir() { return AIMC_SOURCE_DIR; }

// A fresh directory under the system temp dir for the files a harness writes once at startup,
// removed at a normal exit (a crash leaves it behind, with the input that caused it).
inline std::filesystem::path make_temp_dir(const std::string& tag) {
    static std::string dir;
    std::string templ = (std::filesystem::temp_directory_path() / ("aimc-fuzz-" + tag + "-XXXXXX")).string();
    if (!::mkdtemp(templ.data())) {
        std::perror("mkdtemp");
        std::abort();
    }
    dir = templ;
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    });
    return templ;
}

}  // namespace aimc_fuzz
