// The docs that are generated from, or promise things about, the code stay in step with it.
#include <catch2/catch.hpp>

#include "sim/trace.hpp"
#include "support/run_helpers.hpp"

TEST_CASE("docs: config-reference.md is the output of describe --markdown") {
    auto r = aimc_test::run_command(aimc_test::cli() + " describe --markdown");
    REQUIRE(r.exit_code == 0);
    INFO("regenerate with: build/aimcsim describe --markdown > docs/config-reference.md");
    CHECK(r.output == aimc_test::read_file(AIMC_SOURCE_DIR "/docs/config-reference.md"));
}

TEST_CASE("docs: trace-format.md documents every opcode the parser knows") {
    const std::string doc = aimc_test::read_file(AIMC_SOURCE_DIR "/docs/trace-format.md");
    for (auto c : {aimc::OpCode::Program, aimc::OpCode::Fill, aimc::OpCode::Input, aimc::OpCode::Output,
                   aimc::OpCode::Mvm, aimc::OpCode::Nmpu, aimc::OpCode::Send, aimc::OpCode::Recv,
                   aimc::OpCode::Barrier}) {
        INFO(aimc::opcode_name(c));
        CHECK(doc.find(std::string("| `") + aimc::opcode_name(c) + "` |") != std::string::npos);
    }
}
