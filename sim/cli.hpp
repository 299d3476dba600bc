// The `aimcsim` command line. Exit codes: 0 success, 1 bad input (config, workload, trace, data
// files), 2 bad command line, 3 internal error (a bug).
#pragma once

#include <string>
#include <vector>

namespace aimc {

int cli_main(const std::vector<std::string>& args);

}  // namespace aimc
