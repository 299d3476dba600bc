#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

// SystemC's library expects sc_main; tests drive the kernel themselves.
int sc_main(int, char**) { return 0; }

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
