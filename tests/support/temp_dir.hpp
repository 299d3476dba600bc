// A fresh directory under the system temp dir, removed when the test ends.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace aimc_test {

class TempDir {
public:
    explicit TempDir(const std::string& tag = "tmp") {
        std::random_device rd;
        for (int attempt = 0; attempt < 100; ++attempt) {
            std::filesystem::path p = std::filesystem::temp_directory_path() /
                                      ("aimc-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
            if (std::filesystem::create_directories(p)) {
                path = p;
                return;
            }
        }
        FAIL("cannot create a temporary directory");
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path / name).string(); }
    // Writes `text` to `name` in the directory (creating subfolders); returns the file's path.
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::path p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary);
        out << text;
        out.close();
        REQUIRE(out.good());
        return p.string();
    }

    std::filesystem::path path;
};

}  // namespace aimc_test
