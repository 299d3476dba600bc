// The chip (interface "chip", kind "aimc-chip"): a grid of identical cores, the interconnect
// between them and a host port, assembled from the configuration.
#pragma once

#include <systemc>

#include <memory>
#include <vector>

#include "models/core/aimc_core.hpp"
#include "models/host/host_port.hpp"
#include "models/interconnect/interconnect.hpp"
#include "sim/config.hpp"

namespace aimc {

// Clock period and grid from the `chip` section. Throws InputError when the clock period is
// not a whole number of picoseconds (the kernel's time resolution).
ChipGeometry chip_geometry(const ChipConfig& cfg);

class Chip : public sc_core::sc_module {
public:
    // `numerics.seed` keys every random draw of the chip's devices and converters; the devices are
    // read `numerics.t_inference` after programming. Its core index is set per core.
    Chip(sc_core::sc_module_name name, const ChipConfig& cfg, const NumericsContext& numerics);

    const ChipGeometry& geometry() const { return geometry_; }
    int core_count() const { return static_cast<int>(cores_.size()); }
    AimcCore& core(int i) { return *cores_.at(static_cast<std::size_t>(i)); }
    const AimcCore& core(int i) const { return *cores_.at(static_cast<std::size_t>(i)); }
    HostPort& host() { return *host_; }
    const HostPort& host() const { return *host_; }
    Interconnect& interconnect() { return *interconnect_; }
    const Interconnect& interconnect() const { return *interconnect_; }
    std::uint64_t word_bits() const { return word_bits_; }
    double chip_static_power() const { return static_power_; }
    // Static power of everything: chip-level, cores and interconnect.
    double total_static_power() const;

private:
    ChipGeometry geometry_;
    std::vector<std::unique_ptr<AimcCore>> cores_;
    std::unique_ptr<Interconnect> interconnect_;
    std::unique_ptr<HostPort> host_;
    std::uint64_t word_bits_;
    double static_power_;
};

}  // namespace aimc
