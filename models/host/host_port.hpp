// The host port (interface "host-port"): where input vectors enter the chip and output vectors
// leave it. It sits at one mesh router; transfers between host memory and the port take
// latency + ceil(bytes / bytes_per_cycle) cycles and occupy the port for the second term.
#pragma once

#include <systemc>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "models/interconnect/interconnect.hpp"

namespace aimc {

class HostPort : public sc_core::sc_module {
public:
    HostPort(sc_core::sc_module_name name, int endpoint_id, const ComponentConfig& cfg, const ChipGeometry& g);

    NetworkInterface& ni() { return ni_; }
    std::uint64_t port_free() const { return port_free_; }
    // A transfer of `bytes` starting at `start` (>= port_free()); returns when the data is in place.
    std::uint64_t transfer(std::uint64_t bytes, std::uint64_t start);
    std::uint64_t samples_in_flight() const { return samples_in_flight_; }
    double energy() const { return static_cast<double>(bytes_) * energy_per_byte_; }
    nlohmann::ordered_json stats(std::uint64_t total_cycles) const;

    // Samples whose outputs have all been collected, and an event when that count grows.
    std::uint64_t samples_done = 0;
    sc_core::sc_event sample_done;

private:
    NetworkInterface ni_;
    std::uint64_t bytes_per_cycle_, latency_, samples_in_flight_;
    double energy_per_byte_;
    std::uint64_t port_free_ = 0, bytes_ = 0, busy_ = 0, transfers_ = 0;
};

}  // namespace aimc
