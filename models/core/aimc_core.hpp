// One compute core (interface "core", kind "aimc-core"): DAC -> crossbar -> ADC -> digital unit,
// with its MVM pipeline, digital-unit occupancy, network interface and event counters. Its
// operations are called by the core's trace player at the current simulation cycle and return
// the cycle at which their result is ready.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "models/converters/adc.hpp"
#include "models/converters/dac.hpp"
#include "models/core/mvm_pipeline.hpp"
#include "models/crossbar/crossbar.hpp"
#include "models/interconnect/interconnect.hpp"
#include "models/nmpu/digital_unit.hpp"

namespace aimc {

struct EnergyBreakdown {
    double dac = 0, crossbar = 0, adc = 0, nmpu = 0, interconnect = 0, memory = 0, static_ = 0;
    // Summed in this fixed order, so the total equals the sum of the printed parts exactly.
    double total() const { return dac + crossbar + adc + nmpu + interconnect + memory + static_; }
};

// The numerics of one MVM through the peripherals, shared by the timed and functional drivers:
// DAC encode -> crossbar -> ADC convert -> undo the input and weight scales.
struct CoreNumerics {
    std::unique_ptr<Dac> dac;
    std::unique_ptr<Crossbar> crossbar;
    std::unique_ptr<Adc> adc;
    std::unique_ptr<DigitalUnit> digital;
    // `event` numbers this core's MVMs: it keys the per-MVM noise draws.
    void mvm(const float* x, float* y, std::uint64_t event) const;

private:
    mutable std::vector<float> x_norm_;
};

// The numerics of a core, built from its `core` config section.
CoreNumerics make_core_numerics(const ComponentConfig& core, std::uint64_t seed, int core_index);
// The MVM timing of a core with these converters at this clock.
MvmCoreTiming core_timing(const ComponentConfig& core, const CoreNumerics& n, double clock_hz);

class AimcCore : public sc_core::sc_module {
public:
    AimcCore(sc_core::sc_module_name name, int index, const ComponentConfig& cfg, const ChipGeometry& g,
             std::uint64_t seed);

    int index() const { return index_; }
    NetworkInterface& ni() { return ni_; }
    const Crossbar& crossbar() const { return *numerics_.crossbar; }

    void program(const WeightTile& tile);
    // First cycle at which a new MVM may begin loading its input.
    std::uint64_t mvm_load_free() const { return pipeline_.load_free(); }
    // Runs an MVM whose input is ready at `ready`; returns the cycle its output is in the buffer.
    std::uint64_t mvm(const std::vector<float>& x, std::vector<float>& y, std::uint64_t ready);
    std::uint64_t digital_free() const { return digital_free_; }
    std::uint64_t nmpu(const DigitalOp& op, const std::vector<float>& in, std::vector<float>& out, std::uint64_t start);

    MvmPhases phases(std::size_t rows, std::size_t cols) const;
    const CoreNumerics& numerics() const { return numerics_; }
    void add_energy(EnergyBreakdown& e) const;
    double static_power() const { return static_power_; }
    nlohmann::ordered_json stats(std::uint64_t total_cycles) const;
    std::uint64_t mvms() const { return mvms_; }
    std::uint64_t macs() const { return macs_; }

private:
    int index_;
    ChipGeometry geometry_;
    CoreNumerics numerics_;
    MvmCoreTiming timing_;
    MvmPipeline pipeline_;
    NetworkInterface ni_;
    double static_power_;
    std::uint64_t digital_free_ = 0;
    std::uint64_t mvms_ = 0, macs_ = 0, dac_conversions_ = 0, adc_conversions_ = 0, lane_ops_ = 0;
    std::uint64_t digital_busy_ = 0;
};

}  // namespace aimc
