// Device models (interface "device", slot core.crossbar.device): how a programmed conductance
// deviates from its target, drifts and fluctuates. Numerics only; conductances in microsiemens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/common/random.hpp"
#include "sim/config.hpp"

namespace aimc {

// The random streams of one crossbar's devices: device i of the array draws index i.
// `programming` numbers the programmings of the array, so that programming it again draws anew.
struct DeviceStreams {
    CounterRng programming, drift, read, short_term;
    std::uint64_t event = 0;
    DeviceStreams(std::uint64_t seed, std::uint64_t core, std::uint64_t programming_event = 0)
        : programming(seed, core, RandomPurpose::ProgrammingNoise), drift(seed, core, RandomPurpose::DriftExponent),
          read(seed, core, RandomPurpose::ReadNoise), short_term(seed, core, RandomPurpose::ShortTermReadNoise),
          event(programming_event) {}
};

class DeviceModel {
public:
    static constexpr const char* kInterface = "device";
    virtual ~DeviceModel() = default;

    // Largest target conductance of one device, µS.
    virtual double g_max_us() const = 0;
    // Programs devices first..first+n-1 of the array: targets -> programmed conductances, and
    // draws each device's drift exponent from its target.
    virtual void program(const float* g_target, float* g_prog, float* nu, std::size_t n, std::uint64_t first,
                         const DeviceStreams& rng) const = 0;
    // Conductances read `t_inference` seconds after programming: drift and accumulated 1/f
    // read noise, drawn once for the run (as AIHWKit's drift_analog_weights).
    virtual void read(const float* g_prog, const float* nu, float* g, std::size_t n, double t_inference,
                      std::uint64_t first, const DeviceStreams& rng) const = 0;
};

}  // namespace aimc
