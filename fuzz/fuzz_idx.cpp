// libFuzzer harness: the IDX reader (sim/idx.hpp) on the fuzzer's bytes, as read_idx does for a
// plain file (parse_idx) and for a ".gz" one (gunzip, then parse_idx).
// Properties: an accepted file has one byte per element of its shape; an error message starts
// with the name given (the file's path).
#include "fuzz/fuzz_common.hpp"
#include "sim/idx.hpp"

namespace {

void check_parse(const std::string& bytes, const std::string& name) {
    aimc::IdxArray a;
    const auto o = aimc_fuzz::run([&] { a = aimc::parse_idx(bytes, name); });
    if (!o.accepted) {
        aimc_fuzz::check(o.error.rfind(name + ": ", 0) == 0, "error message does not start with the file name: " + o.error);
        return;
    }
    aimc_fuzz::check(a.data.size() == a.size(), "data size differs from the product of the shape");
    aimc_fuzz::check(!a.shape.empty() && a.shape.size() <= 4, "accepted a shape of " + std::to_string(a.shape.size()) + " dimensions");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes = aimc_fuzz::text(data, size);
    check_parse(bytes, "fuzz.idx");
    std::string inflated;
    const auto o = aimc_fuzz::run([&] { inflated = aimc::gunzip(bytes, "fuzz.idx.gz"); });
    if (o.accepted)
        check_parse(inflated, "fuzz.idx.gz");
    else
        aimc_fuzz::check(o.error.rfind("fuzz.idx.gz: ", 0) == 0, "error message does not start with the file name: " + o.error);
    return 0;
}
