// libFuzzer harness: the .npy reader (sim/npy.hpp, parse_npy) on the fuzzer's bytes.
// Properties of an accepted file: the data holds one value per element of the shape, every value
// is finite. Of a rejected one: the message starts with the name given (the file's path).
#include <cmath>

#include "fuzz/fuzz_common.hpp"
#include "sim/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes = aimc_fuzz::text(data, size);
    aimc::NpyArray a;
    const auto o = aimc_fuzz::run([&] { a = aimc::parse_npy(bytes, "fuzz.npy"); });
    if (!o.accepted) {
        aimc_fuzz::check(o.error.rfind("fuzz.npy: ", 0) == 0, "error message does not start with the file name: " + o.error);
        return 0;
    }
    aimc_fuzz::check(a.data.size() == a.size(), "data size differs from the product of the shape");
    for (double v : a.data) aimc_fuzz::check(std::isfinite(v), "a non-finite value was accepted");
    aimc_fuzz::check(a.data.size() * 1 <= bytes.size(), "more elements than bytes");
    return 0;
}
