// Error kinds, after gem5: a user's mistake (bad config, trace, data file, CLI flag) is distinct
// from a bug in the simulator. User errors end the run with a message and exit code 1 (2 for the
// command line); internal errors are bugs and say so.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace aimc {

// Bad input: config, workload, trace, weight or data file. Message is complete
// ("file:line:col: key.path: what is wrong") and printed as is. Exit code 1.
class InputError : public std::runtime_error {
public:
    explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// Several input errors collected before giving up (config validation reports all of them).
class InputErrors : public InputError {
public:
    explicit InputErrors(std::vector<std::string> messages);
    const std::vector<std::string>& messages() const { return messages_; }

private:
    std::vector<std::string> messages_;
};

// Bad command line. Exit code 2.
class UsageError : public std::runtime_error {
public:
    explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// A broken invariant inside the simulator: a bug, never the user's fault.
class InternalError : public std::logic_error {
public:
    explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

}  // namespace aimc

#define AIMC_ASSERT(cond, msg)                                                                 \
    do {                                                                                       \
        if (!(cond))                                                                           \
            throw ::aimc::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                        ": internal error: " + (msg));                        \
    } while (0)
