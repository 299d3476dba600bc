// Regression tests for what the fuzz harnesses found (fuzz/, docs/fuzzing.md): each feeds the
// input that failed through the API its harness calls and expects the InputError of the fix.
#include <catch2/catch.hpp>

#include <string>

#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/workload.hpp"
#include "support/run_helpers.hpp"
#include "support/temp_dir.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// fuzz_config, crash-0ad4556b: a `base:` whose name is longer than a file name may be made the
// file system answer ENAMETOOLONG, and std::filesystem::exists threw filesystem_error (exit 3,
// "internal error"). Reduced: the same with 300 letters.
const std::string kLongName = std::string(300, 'x') + ".yaml";

}  // namespace

TEST_CASE("fuzz regression: a base name too long for the file system is an input error") {
    const std::string name = kSource + "/configs/fuzz-input.yaml";
    const std::string text = "base: " + kLongName + "\nname: a\n";
    try {
        aimc::load_chip_config_text(text, name);
        FAIL("accepted a base that cannot exist");
    } catch (const aimc::InputError& e) {
        CHECK_THAT(std::string(e.what()), StartsWith(name + ":1:7: base: file not found: " + kSource + "/configs/" + kLongName) &&
                                              Contains("File name too long"));
    }
    // The input the fuzzer saved (a mutated hermes.yaml whose base line runs on into binary).
    const std::string crash = aimc_test::read_file(kSource + "/fuzz/corpus/config/regression-base-name-too-long.yaml");
    CHECK_THROWS_WITH(aimc::load_chip_config_text(crash, name), StartsWith(name + ":2:7: base: file not found: "));
}

TEST_CASE("fuzz regression: a chip or workload path too long for the file system is an input error") {
    aimc_test::TempDir dir;
    const std::string chip = dir.file(kLongName);
    CHECK_THROWS_WITH(aimc::load_chip_config(chip), chip + ": cannot open file");
    const aimc::ChipConfig tiny = aimc::load_chip_config(kSource + "/configs/tiny.yaml");
    const std::string workload = dir.file(std::string(300, 'w'));
    CHECK_THROWS_WITH(aimc::load_workload(workload, tiny),
                      StartsWith(workload + ": no workload here") && Contains("File name too long"));
}
