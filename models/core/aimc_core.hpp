// One compute core (interface "core", kind "aimc-core"): DAC -> crossbar -> ADC -> digital unit,
// with its MVM pipeline, output buffer, digital-unit occupancy, network interface and event
// counters. Its operations are called by the core's trace player at the current simulation cycle
// and return the cycle at which their result is ready.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "models/core/core_numerics.hpp"
#include "models/core/mvm_pipeline.hpp"
#include "models/interconnect/interconnect.hpp"

namespace aimc {

struct EnergyBreakdown {
    double dac = 0, crossbar = 0, adc = 0, nmpu = 0, interconnect = 0, memory = 0, static_ = 0;
    // Summed in this fixed order, so the total equals the sum of the printed parts exactly.
    double total() const { return dac + crossbar + adc + nmpu + interconnect + memory + static_; }
};

class AimcCore : public sc_core::sc_module {
public:
    AimcCore(sc_core::sc_module_name name, int index, const ComponentConfig& cfg, const ChipGeometry& g,
             const NumericsContext& ctx);

    int index() const { return index_; }
    NetworkInterface& ni() { return ni_; }
    const Crossbar& crossbar() const { return numerics_.crossbar(); }
    const CoreNumerics& numerics() const { return numerics_; }
    CoreNumerics& numerics() { return numerics_; }

    // Adds the time and energy of the tile just programmed on numerics() (weights are programmed
    // before inference: reported apart).
    void record_programming();
    // First cycle at which a new MVM may begin loading its input, or nothing while the output
    // buffer is full of results whose readers have not been issued yet (unless this MVM itself
    // reads or overwrites one of them: `frees_a_slot`).
    std::optional<std::uint64_t> mvm_load_free(bool frees_a_slot) const;
    // Runs `count` MVMs on the programmed tile (one, or one per position of a convolution) whose
    // input is ready at `ready`; returns the cycle the last output is in the output buffer, where
    // the result (one vector, or the whole output map) occupies one slot until consume_output()
    // releases it. The values are computed by the dataflow; this is their timing and energy.
    std::uint64_t mvm(std::size_t count, std::uint64_t ready);
    // The first reader of an MVM result frees its output-buffer slot when it starts.
    void consume_output(std::uint64_t cycle);
    std::uint64_t digital_free() const { return digital_free_; }
    // A digital operation on n input elements starting at `start`: returns when its result is ready.
    std::uint64_t nmpu(const DigitalOp& op, std::size_t n, std::uint64_t start);
    // Signalled when an output-buffer slot is released.
    sc_core::sc_event output_released;

    MvmPhases phases(std::size_t rows, std::size_t cols) const;
    void add_energy(EnergyBreakdown& e) const;
    double static_power() const { return static_power_; }
    nlohmann::ordered_json stats(std::uint64_t total_cycles) const;
    std::uint64_t mvms() const { return mvms_; }
    std::uint64_t digital_ops() const { return digital_ops_; }
    std::uint64_t digital_busy_cycles() const { return digital_busy_; }
    double digital_energy() const { return static_cast<double>(lane_ops_) * numerics_.digital().energy_per_lane_op(); }
    std::uint64_t macs() const { return macs_; }
    double programming_time() const { return programming_time_; }
    std::uint64_t devices_programmed() const { return devices_programmed_; }
    double programming_energy() const { return programming_energy_; }

private:
    int index_;
    ChipGeometry geometry_;
    CoreNumerics numerics_;
    MvmCoreTiming timing_;
    MvmPipeline pipeline_;
    NetworkInterface ni_;
    double static_power_;
    double buffer_energy_per_byte_;
    std::size_t output_slots_;
    std::deque<std::optional<std::uint64_t>> output_buffer_;  // per held result: release cycle, once known
    std::uint64_t digital_free_ = 0;
    std::uint64_t mvms_ = 0, macs_ = 0, dac_conversions_ = 0, cell_reads_ = 0, adc_conversions_ = 0, lane_ops_ = 0;
    std::uint64_t buffer_bytes_ = 0, digital_busy_ = 0, digital_ops_ = 0, output_stall_cycles_ = 0;
    double programming_time_ = 0, programming_energy_ = 0;
    std::uint64_t devices_programmed_ = 0;
};

}  // namespace aimc
