// MVM phase formulas and the core pipeline, in cycles (docs/timing-energy.md).
#include <catch2/catch.hpp>

#include "models/core/mvm_pipeline.hpp"
#include "sim/config.hpp"
#include "sim/simulation.hpp"

using namespace aimc;

namespace {
MvmCoreTiming hermes_timing() {
    MvmCoreTiming t;
    t.clock_hz = 1e9;
    t.dac_bits = 8;
    t.adc_bits = 8;
    t.input_bus_bits = 256;
    t.output_bus_bits = 256;
    t.windows = 1;
    t.window_s = 128e-9;
    t.conversion_s = 5e-9;
    return t;
}
}  // namespace

TEST_CASE("timing: cycles_for rounds durations up to whole cycles") {
    CHECK(cycles_for(128e-9, 1e9) == 128);
    CHECK(cycles_for(5e-9, 1e9) == 5);
    CHECK(cycles_for(133.2e-9, 1e9) == 134);
    CHECK(cycles_for(0.0, 1e9) == 0);
    CHECK(cycles_for(128e-9, 1.5e9) == 192);
    CHECK(cycles_for(300e-12, 1e9) == 1);
}

TEST_CASE("timing: one MVM on the full HERMES array takes load 8 + integrate 128 + convert 5 + readout 8") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{256, 256});
    CHECK(p.load == 8);        // 256 rows x 8 bits / 256 bits per cycle
    CHECK(p.integrate == 128); // 2^7 LSB x 1 ns
    CHECK(p.convert == 5);
    CHECK(p.readout == 8);
    CHECK(p.latency() == 149);
    CHECK(p.analog() == 133);
}

TEST_CASE("timing: a partial tile loads and reads out only its rows and columns") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{64, 48});
    CHECK(p.load == 2);     // ceil(64*8/256)
    CHECK(p.readout == 2);  // ceil(48*8/256)
    auto t = hermes_timing();
    t.input_bus_bits = 100;
    t.output_bus_bits = 7;
    p = mvm_phases(t, MvmShape{33, 5});
    CHECK(p.load == 3);     // ceil(264/100)
    CHECK(p.readout == 6);  // ceil(40/7)
}

TEST_CASE("timing: back-to-back MVMs with double-buffered inputs start one every analog phase") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{256, 256});
    MvmPipeline pipe(true);
    MvmSchedule a = pipe.issue(0, p);
    CHECK(a.load_start == 0);
    CHECK(a.analog_start == 8);
    CHECK(a.readout_start == 141);
    CHECK(a.done == 149);
    CHECK(pipe.load_free() == 8);  // the shadow register frees when integration starts
    MvmSchedule b = pipe.issue(0, p);
    CHECK(b.load_start == 8);
    CHECK(b.analog_start == 141);  // array and ADC latches busy until the first readout starts
    CHECK(b.done == 149 + 133);
    for (int i = 2; i < 10; ++i) {
        MvmSchedule c = pipe.issue(0, p);
        CHECK(c.done == 149 + 133 * static_cast<std::uint64_t>(i));
    }
    CHECK(pipe.analog_busy_cycles() == 10 * 133);
}

TEST_CASE("timing: single-buffered inputs add the load to the MVM interval") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{256, 256});
    MvmPipeline pipe(false);
    MvmSchedule a = pipe.issue(0, p);
    CHECK(a.done == 149);
    CHECK(pipe.load_free() == 8 + 128);  // the drive register is busy until integration ends
    MvmSchedule b = pipe.issue(0, p);
    CHECK(b.load_start == 136);
    CHECK(b.analog_start == 144);
    CHECK(b.done == 144 + 133 + 8);
    MvmSchedule c = pipe.issue(0, p);
    CHECK(c.done - b.done == 136);  // interval = load + integrate
}

TEST_CASE("timing: a late input delays only its own MVM") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{256, 256});
    MvmPipeline pipe(true);
    pipe.issue(0, p);
    MvmSchedule b = pipe.issue(1000, p);
    CHECK(b.load_start == 1000);
    CHECK(b.done == 1149);
}

TEST_CASE("timing: validate's peak figures for HERMES follow from the config") {
    ChipConfig cfg = load_chip_config("configs/hermes.yaml");
    PeakFigures f = peak_figures(cfg);
    CHECK(f.cores == 64);
    CHECK(f.mvm_latency_cycles == 149);
    CHECK(f.mvm_interval_cycles == 133);
    // 64 cores x 256 x 256 MACs x 2 ops / 133 ns
    CHECK(f.tops == Approx(64.0 * 256 * 256 * 2 / 133e-9 / 1e12).epsilon(1e-12));
    // per core per MVM: 256 x 4 pJ + 65536 x 0.04 pJ + 256 x 26.2 pJ + 256 x 0.7 pJ + 512 B x 0.05 pJ,
    // plus static
    const double e_core = 256 * 4e-12 + 65536 * 0.04e-12 + 256 * 26.2e-12 + 256 * 0.7e-12 + 512 * 0.05e-12;
    const double p_static = 64 * (20e-3 + 1.6e-3);
    CHECK(f.power_w == Approx(64 * e_core / 133e-9 + p_static).epsilon(1e-12));
    CHECK(f.tops == Approx(63.1).epsilon(0.01));
    CHECK(f.tops_per_w == Approx(9.76).epsilon(0.01));
}

TEST_CASE("timing: a four-phase MVM integrates four windows with switches between them") {
    auto t = hermes_timing();
    t.windows = 4;
    t.window_switch_cycles = 1;
    MvmPhases p = mvm_phases(t, MvmShape{256, 256});
    CHECK(p.integrate == 4 * 128 + 3 * 1);
    CHECK(p.analog() == 520);
    CHECK(p.latency() == 8 + 520 + 8);
    MvmPipeline pipe(true);
    const std::uint64_t first = pipe.issue(0, p).done;
    CHECK(first == 536);
    CHECK(pipe.issue(0, p).done - first == 520);  // initiation interval = analog stage
}

TEST_CASE("timing: validate's four-phase peak figures for HERMES follow from the config") {
    ChipConfig cfg = load_chip_config("configs/hermes.yaml", {"core.mvm_mode=four-phase"});
    PeakFigures f = peak_figures(cfg);
    CHECK(f.mvm_latency_cycles == 536);
    CHECK(f.mvm_interval_cycles == 520);
    CHECK(f.tops == Approx(64.0 * 256 * 256 * 2 / 520e-9 / 1e12).epsilon(1e-12));
    // Four windows of DAC, crossbar and ADC energy, one digital pass and one buffer transfer.
    const double e_core = 4 * (256 * 4e-12 + 65536 * 0.04e-12 + 256 * 26.2e-12) + 256 * 0.7e-12 + 512 * 0.05e-12;
    const double p_static = 64 * (20e-3 + 1.6e-3);
    CHECK(f.power_w == Approx(64 * e_core / 520e-9 + p_static).epsilon(1e-12));
    CHECK(f.tops == Approx(16.1).epsilon(0.03));
    CHECK(f.tops_per_w == Approx(2.48).epsilon(0.05));
}

TEST_CASE("timing: a full output buffer holds the readout until a slot is released") {
    MvmPhases p = mvm_phases(hermes_timing(), MvmShape{256, 256});
    MvmPipeline pipe(true);
    MvmSchedule a = pipe.issue(0, p);
    // The result may enter the output buffer only at cycle 1000.
    MvmSchedule b = pipe.issue(0, p, 1000);
    CHECK(b.readout_start == 1000);
    CHECK(b.readout_stall == 1000 - (a.readout_start + 133));
    CHECK(b.done == 1008);
    // The array is held until the stalled readout starts.
    MvmSchedule c = pipe.issue(0, p);
    CHECK(c.analog_start == 1000);
}

TEST_CASE("timing: an ADC that converts after each window separates the windows by its conversion") {
    auto t = hermes_timing();
    t.windows = 4;
    t.window_switch_cycles = 1;
    t.conversion_s = 77e-9;
    t.convert_between_windows = true;
    MvmPhases p = mvm_phases(t, MvmShape{256, 256});
    CHECK(p.integrate == 4 * 128 + 3 * 77);
    CHECK(p.convert == 77);
    t.convert_between_windows = false;
    CHECK(mvm_phases(t, MvmShape{256, 256}).integrate == 4 * 128 + 3 * 1);
}
