// The malformed-input corpus (docs/robustness.md): every folder tests/malformed/NAME holds the
// inputs of one case and a case.yaml with the command line, the exit code and the exact error.
// Each folder is one test case, listed at configure time (CMakeLists.txt writes
// malformed_cases.inc). The case's files are copied to a fresh folder (plus any generated ones;
// "{root}", the repository, and "{dir}", that folder, are replaced in its .yaml and .txt files
// and in the arguments and expected messages),
// and aimcsim runs there with a memory cap (ulimit -v; under AddressSanitizer, which reserves
// terabytes of address space, its hard_rss_limit_mb instead) and a time limit.
#include <catch2/catch.hpp>

#include "support/run_helpers.hpp"
#include <yaml-cpp/yaml.h>

#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(AIMC_SOURCE_DIR) / "tests" / "malformed";

using aimc_test::kSanitized;
constexpr long kMemoryCapMiB = 2048;
// "A few seconds" each; the sanitized build runs several times slower.
constexpr double kSeconds = kSanitized ? 60 : 10;

std::string substitute(std::string s, const std::map<std::string, std::string>& vars) {
    for (const auto& [key, value] : vars)
        for (std::size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
            s.replace(at, key.size(), value);
    return s;
}

// parts: [{text: T, count: N}, ...]: each part's text repeated count times (default 1), in
// order, written to `out`; "{i}" in the text is the repetition's number (0, 1, ...).
void write_parts(const YAML::Node& parts, std::ostream& out) {
    for (const auto& part : parts) {
        const std::string text = part["text"].as<std::string>();
        const long long count = part["count"] ? part["count"].as<long long>() : 1;
        const std::size_t counter = text.find("{i}");
        std::string chunk;
        for (long long i = 0; i < count; ++i) {
            if (counter == std::string::npos)
                chunk += text;
            else
                chunk += text.substr(0, counter) + std::to_string(i) + text.substr(counter + 3);
            if (chunk.size() > (1 << 20)) {
                out << chunk;
                chunk.clear();
            }
        }
        out << chunk;
    }
}

// generate: [{file: NAME, parts: [...]}]: files too large to keep in the repository.
void generate(const YAML::Node& list, const fs::path& dir) {
    if (!list) return;
    for (const auto& g : list) {
        std::ofstream out(dir / g["file"].as<std::string>(), std::ios::binary);
        write_parts(g["parts"], out);
        REQUIRE(out.good());
    }
}

// An argument: text, or {parts: [...]} for one too long to write out.
std::string argument(const YAML::Node& a) {
    if (!a.IsMap()) return a.as<std::string>();
    std::ostringstream out;
    write_parts(a["parts"], out);
    return out.str();
}

void check_case(const std::string& name) {
    const fs::path source = kCorpus / name;
    REQUIRE(fs::is_regular_file(source / "case.yaml"));
    const YAML::Node spec = YAML::LoadFile((source / "case.yaml").string());
    aimc_test::TempDir work("malformed");
    fs::copy(source, work.path, fs::copy_options::recursive);
    fs::remove(work.path / "case.yaml");
    const std::map<std::string, std::string> vars = {{"{root}", AIMC_SOURCE_DIR},
                                                     {"{dir}", fs::canonical(work.path).string()}};
    // Text inputs may name repository files: {root} (and {dir}, the case's folder) are replaced.
    for (const auto& entry : fs::recursive_directory_iterator(work.path)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".txt")) {
            const std::string text = aimc_test::read_file(entry.path());
            const std::string replaced = substitute(text, vars);
            if (replaced != text) std::ofstream(entry.path(), std::ios::binary) << replaced;
        }
    }
    generate(spec["generate"], work.path);

    std::string cmd = "cd " + aimc_test::shell_quote(work.path.string()) + " && ";
    if (kSanitized)
        cmd += "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=" + std::to_string(kMemoryCapMiB) + "\" ";
    else
        cmd += "ulimit -v " + std::to_string(kMemoryCapMiB * 1024) + " && ";
    cmd += "exec timeout -s KILL " + std::to_string(static_cast<int>(kSeconds) + 5) + " " + aimc_test::shell_quote(AIMC_CLI);
    std::string shown = "aimcsim";
    for (const auto& a : spec["args"]) {
        const std::string arg = substitute(argument(a), vars);
        cmd += " " + aimc_test::shell_quote(arg);
        shown += " " + (arg.size() > 200 ? arg.substr(0, 200) + "..." : arg);
    }
    cmd += " >" + aimc_test::shell_quote(work.file(".stdout")) + " 2>" + aimc_test::shell_quote(work.file(".stderr")) + " </dev/null";

    INFO("case " << name << " (" << spec["description"].as<std::string>("") << ")\n  in " << work.path.string()
                 << "\n  " << shown);
    const auto start = std::chrono::steady_clock::now();
    const int status = std::system(("/bin/sh -c " + aimc_test::shell_quote(cmd)).c_str());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string err = aimc_test::read_file(work.file(".stderr"));
    INFO("exit status " << status << " after " << seconds << " s\n--- stderr\n" << err << "---");
    REQUIRE(WIFEXITED(status));  // not killed (time limit, memory cap) nor crashed
    CHECK(WEXITSTATUS(status) == spec["exit"].as<int>(1));
    CHECK(seconds < kSeconds);
    if (spec["stderr"]) {
        CHECK(err == substitute(spec["stderr"].as<std::string>(), vars));
    } else {
        REQUIRE(spec["first_line"]);
        CHECK(err.substr(0, err.find('\n')) == substitute(spec["first_line"].as<std::string>(), vars));
    }
}

}  // namespace

#define AIMC_MALFORMED_CASE(name) \
    TEST_CASE("malformed: " name) { check_case(name); }
#include "malformed_cases.inc"

TEST_CASE("malformed: every folder of the corpus has a case.yaml") {
    for (const auto& entry : fs::directory_iterator(kCorpus))
        if (entry.is_directory()) {
            INFO(entry.path().string());
            CHECK(fs::is_regular_file(entry.path() / "case.yaml"));
        }
}
