#include <systemc>

#include "sim/cli.hpp"

// SystemC's library expects sc_main; the CLI drives the kernel itself.
int sc_main(int, char**) { return 0; }

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return aimc::cli_main(args);
}
