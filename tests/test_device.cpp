// PCM device model (AIHWKit PCMLikeNoiseModel, as in docs/models.md),
// the differential mapping of pcm-crossbar and the global drift compensation of CoreNumerics.
// Statistical checks use n >= 1e5 devices against moments derived here from the published
// formulas (never from the implementation's own helpers):
//   mean within 4 standard errors (expected std / sqrt(n)), std within 2 % (the relative standard
//   error of a sample std is about 1/sqrt(2n) = 0.22 % at n = 1e5, so 2 % is about 9 of them).
// Set AIMC_TEST_VERBOSE=1 to print the measured deviations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "models/core/core_numerics.hpp"
#include "models/crossbar/crossbar.hpp"
#include "models/device/device.hpp"
#include "sim/config.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

using namespace aimc;

namespace {

const char* kPcmConfig = "configs/aihwkit-pcm.yaml";

// The published model, µS and seconds.
constexpr double kGMax = 25.0, kT0 = 20.0, kTRead = 250e-9;
constexpr double kHour = 3600.0, kDay = 86400.0, kYear = 365.0 * 86400.0;
constexpr std::size_t kN = 100000;

bool verbose() { return std::getenv("AIMC_TEST_VERBOSE") != nullptr; }

double sigma_prog(double x) { return 0.26348 + 1.9650 * x - 1.1731 * x * x; }
double mu_nu(double x) {
    const double r = std::max(x, 1e-7);
    return std::clamp(-0.0155 * std::log(r) + 0.0244, 0.049, 0.1);
}
double sd_nu(double x) {
    const double r = std::max(x, 1e-7);
    return std::clamp(-0.0125 * std::log(r) - 0.0059, 0.008, 0.045);
}
double q_s(double g_prog) { return std::min(0.0088 / std::max(std::pow(g_prog / kGMax, 0.65), 1e-3), 0.2); }
double read_time_factor(double t_inf) {
    const double t = t_inf + kT0;
    return std::sqrt(std::log((t + kTRead) / (2 * kTRead)));
}

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double phi(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI); }

struct Moments {
    double mean, sd;
};

// Y = max(c, X), X ~ N(m, s²):
//   E[Y]  = c·Φ(a) + m·(1 − Φ(a)) + s·φ(a),                     a = (c − m)/s
//   E[Y²] = c²·Φ(a) + (m² + s²)·(1 − Φ(a)) + s·φ(a)·(m + c)
Moments clipped_normal(double m, double s, double c) {
    if (s == 0) return {std::max(c, m), 0};
    const double a = (c - m) / s, P = Phi(a), p = phi(a);
    const double e1 = c * P + m * (1 - P) + s * p;
    const double e2 = c * c * P + (m * m + s * s) * (1 - P) + s * p * (m + c);
    return {e1, std::sqrt(std::max(0.0, e2 - e1 * e1))};
}

// |X|, X ~ N(m, s²): E|X| = s·sqrt(2/π)·exp(−m²/2s²) + m·(1 − 2Φ(−m/s)), E[X²] = m² + s².
Moments folded_normal(double m, double s) {
    s = std::fabs(s);
    const double e1 = s * std::sqrt(2 / M_PI) * std::exp(-m * m / (2 * s * s)) + m * (1 - 2 * Phi(-m / s));
    return {e1, std::sqrt(std::max(0.0, m * m + s * s - e1 * e1))};
}

template <class T>
Moments sample(const std::vector<T>& v) {
    double s = 0;
    for (T a : v) s += static_cast<double>(a);
    const double m = s / static_cast<double>(v.size());
    double q = 0;
    for (T a : v) q += (static_cast<double>(a) - m) * (static_cast<double>(a) - m);
    return {m, std::sqrt(q / static_cast<double>(v.size() - 1))};
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    const Moments ma = sample(a), mb = sample(b);
    double c = 0;
    for (std::size_t i = 0; i < a.size(); ++i) c += (a[i] - ma.mean) * (b[i] - mb.mean);
    return c / static_cast<double>(a.size() - 1) / (ma.sd * mb.sd);
}

// Compares sample moments with expected ones; returns (mean error in standard errors, std
// relative error) for the report.
struct Deviation {
    double mean_se, sd_rel;
};
Deviation check_moments(const Moments& got, const Moments& want, std::size_t n, const std::string& what) {
    const double se = want.sd / std::sqrt(static_cast<double>(n));
    const Deviation d{std::fabs(got.mean - want.mean) / se, std::fabs(got.sd / want.sd - 1)};
    INFO(what << ": mean " << got.mean << " (expected " << want.mean << ", " << d.mean_se
              << " standard errors), std " << got.sd << " (expected " << want.sd << ", rel. dev. " << d.sd_rel << ")");
    CHECK(d.mean_se < 4.0);
    CHECK(d.sd_rel < 0.02);
    if (verbose())
        std::printf("%-48s mean %.6g exp %.6g (%.2f SE)  std %.6g exp %.6g (%.3f %%)\n", what.c_str(), got.mean,
                    want.mean, d.mean_se, got.sd, want.sd, 100 * d.sd_rel);
    return d;
}

std::string label(const char* what, double x, double t = -1) {
    char buf[128];
    if (t < 0)
        std::snprintf(buf, sizeof buf, "%s x=%g", what, x);
    else
        std::snprintf(buf, sizeof buf, "%s x=%g t_inf=%g s", what, x, t);
    return buf;
}

std::unique_ptr<DeviceModel> pcm_device(std::vector<std::string> sets = {}) {
    ChipConfig cfg = load_chip_config(kPcmConfig, sets);
    return Factory<DeviceModel>::create(cfg.at("core.crossbar.device"));
}

const std::vector<std::string> kProgOnly = {"core.crossbar.device.drift_scale=0",
                                            "core.crossbar.device.read_noise_scale=0"};

// n devices programmed at one target level x (fraction of g_max).
struct Programmed {
    std::vector<float> target, g_prog, nu;
};
Programmed program_level(const DeviceModel& dev, double x, std::size_t n, std::uint64_t seed = 7,
                         std::uint64_t core = 0) {
    Programmed p;
    p.target.assign(n, static_cast<float>(x * dev.g_max_us()));
    p.g_prog.resize(n);
    p.nu.resize(n);
    dev.program(p.target.data(), p.g_prog.data(), p.nu.data(), n, 0, DeviceStreams(seed, core));
    return p;
}

std::vector<float> read_all(const DeviceModel& dev, const Programmed& p, double t_inf, std::uint64_t seed = 7,
                            std::uint64_t core = 0) {
    std::vector<float> g(p.g_prog.size());
    dev.read(p.g_prog.data(), p.nu.data(), g.data(), g.size(), t_inf, 0, DeviceStreams(seed, core));
    return g;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Programming noise

TEST_CASE("device: programming noise has the mean and std of the sigma polynomial at each level") {
    auto dev = pcm_device(kProgOnly);
    REQUIRE(dev->g_max_us() == Approx(kGMax).epsilon(1e-12));
    double worst_se = 0, worst_sd = 0;
    std::uint64_t seed = 100;
    for (double x : {0.05, 0.25, 0.5, 0.75, 1.0}) {
        Programmed p = program_level(*dev, x, kN, ++seed);  // independent draws per level
        // g_prog = max(0, g_target + σ·N): a normal clipped at 0 (a 3.5σ tail at x = 0.05).
        const double gt = p.target[0];
        const Moments want = clipped_normal(gt, sigma_prog(gt / kGMax), 0.0);
        const Deviation d = check_moments(sample(p.g_prog), want, kN, label("prog noise", x));
        worst_se = std::max(worst_se, d.mean_se);
        worst_sd = std::max(worst_sd, d.sd_rel);
    }
    if (verbose()) std::printf("prog noise: worst mean %.2f SE, worst std %.3f %%\n", worst_se, 100 * worst_sd);
}

TEST_CASE("device: programming noise at target 0 is a normal clipped to a point mass at 0") {
    auto dev = pcm_device(kProgOnly);
    Programmed p = program_level(*dev, 0.0, kN);
    const double s = 0.26348;
    // max(0, s·N): mean s/sqrt(2π), E[Y²] = s²/2, so std = s·sqrt(1/2 − 1/(2π)).
    const Moments want{s / std::sqrt(2 * M_PI), s * std::sqrt(0.5 - 1 / (2 * M_PI))};
    const Moments formula = clipped_normal(0, s, 0);
    CHECK(formula.mean == Approx(want.mean).epsilon(1e-12));
    CHECK(formula.sd == Approx(want.sd).epsilon(1e-12));
    check_moments(sample(p.g_prog), want, kN, "prog noise x=0 (half normal)");
    std::size_t zeros = 0;
    for (float g : p.g_prog) {
        REQUIRE(g >= 0.f);
        zeros += g == 0.f;
    }
    // P(g = 0) = 1/2, binomial standard error sqrt(n/4).
    const double z = (static_cast<double>(zeros) - kN / 2.0) / std::sqrt(kN / 4.0);
    INFO("exact zeros " << zeros << " of " << kN);
    CHECK(std::fabs(z) < 4);
}

TEST_CASE("device: prog_noise_scale 0 gives exact targets and 2 doubles the noise") {
    auto off = pcm_device({"core.crossbar.device.prog_noise_scale=0"});
    auto one = pcm_device({});
    auto two = pcm_device({"core.crossbar.device.prog_noise_scale=2"});
    // Targets spread over [0, g_max].
    std::vector<float> target(kN), g0(kN), g1(kN), g2(kN), nu0(kN), nu1(kN), nu2(kN);
    for (std::size_t i = 0; i < kN; ++i) target[i] = static_cast<float>(kGMax * static_cast<double>(i) / (kN - 1));
    const DeviceStreams rng(11, 3);
    off->program(target.data(), g0.data(), nu0.data(), kN, 0, rng);
    one->program(target.data(), g1.data(), nu1.data(), kN, 0, rng);
    two->program(target.data(), g2.data(), nu2.data(), kN, 0, rng);
    CHECK(g0 == target);
    // Same draws: the deviation doubles per device wherever neither result is clipped at 0.
    double worst = 0;
    std::vector<double> d1, d2;
    for (std::size_t i = 0; i < kN; ++i) {
        if (target[i] < 0.3 * kGMax) continue;  // 4.4σ or more from 0 at scale 2: no clipping
        REQUIRE(g1[i] > 0.f);
        REQUIRE(g2[i] > 0.f);
        const double a = static_cast<double>(g1[i]) - target[i], b = static_cast<double>(g2[i]) - target[i];
        worst = std::max(worst, std::fabs(b - 2 * a));
        d1.push_back(a / sigma_prog(target[i] / kGMax));
        d2.push_back(b / sigma_prog(target[i] / kGMax));
    }
    INFO("largest |dev2 - 2 dev1| " << worst << " uS");
    CHECK(worst < 1e-5);  // float rounding of conductances up to 25 uS (ulp 1.9e-6)
    REQUIRE(d1.size() > kN * 0.69);
    // The normalized deviations are N(0, 1) and N(0, 4).
    CHECK(sample(d1).sd == Approx(1.0).epsilon(0.02));
    CHECK(sample(d2).sd == Approx(2.0).epsilon(0.02));
    // The drift exponents do not depend on the programming noise: drawn from the target.
    CHECK(nu0 == nu1);
    CHECK(nu1 == nu2);
    if (verbose())
        std::printf("prog scale: worst |d2-2d1| %.3g uS, std scale1 %.4f scale2 %.4f\n", worst, sample(d1).sd,
                    sample(d2).sd);
}

// ---------------------------------------------------------------------------------------------
// 2. Drift exponents

TEST_CASE("device: drift exponents follow the folded normal of the clamped fit") {
    auto dev = pcm_device({});
    double worst_se = 0, worst_sd = 0;
    std::uint64_t seed = 200;
    for (double x : {0.0, 1e-3, 0.01, 0.1, 0.5, 1.0}) {
        Programmed p = program_level(*dev, x, kN, ++seed);
        const double xr = static_cast<double>(p.target[0]) / kGMax;
        const Moments want = folded_normal(mu_nu(xr), sd_nu(xr));
        for (float v : p.nu) REQUIRE(v >= 0.f);
        const Deviation d = check_moments(sample(p.nu), want, kN, label("drift exponent", x));
        worst_se = std::max(worst_se, d.mean_se);
        worst_sd = std::max(worst_sd, d.sd_rel);
    }
    if (verbose()) std::printf("drift exponents: worst mean %.2f SE, worst std %.3f %%\n", worst_se, 100 * worst_sd);
}

TEST_CASE("device: drift exponent clamps bind where the fit leaves its range") {
    // The values of the fit, by hand: at x = 1e-3 both upper clamps bind (unclamped μ 0.1315,
    // σ 0.0804); at x = 0.01 only σ's (μ 0.0958, σ 0.0517 -> 0.045); at x = 0.5 and 1 both lower
    // ones (μ 0.0351 / 0.0244 -> 0.049, σ 0.0028 / -0.0059 -> 0.008); x = 0.1 is inside (μ 0.0601,
    // σ 0.0229).
    CHECK(mu_nu(1e-3) == 0.1);
    CHECK(sd_nu(1e-3) == 0.045);
    CHECK(sd_nu(0.01) == 0.045);
    CHECK(mu_nu(0.01) == Approx(-0.0155 * std::log(0.01) + 0.0244).epsilon(1e-12));
    CHECK(mu_nu(0.5) == 0.049);
    CHECK(sd_nu(0.5) == 0.008);
    CHECK(mu_nu(1.0) == 0.049);
    CHECK(sd_nu(1.0) == 0.008);
    auto dev = pcm_device({});
    struct Case {
        double x, mu, sd, mu_unclamped, sd_unclamped;
    };
    for (const Case& c : {Case{1e-3, 0.1, 0.045, -0.0155 * std::log(1e-3) + 0.0244, -0.0125 * std::log(1e-3) - 0.0059},
                          Case{0.5, 0.049, 0.008, -0.0155 * std::log(0.5) + 0.0244, 0.008},
                          Case{1.0, 0.049, 0.008, 0.0244, 0.008}}) {
        Programmed p = program_level(*dev, c.x, kN, 5);
        const Moments got = sample(p.nu), want = folded_normal(c.mu, c.sd),
                      unclamped = folded_normal(c.mu_unclamped, c.sd_unclamped);
        const double se = want.sd / std::sqrt(static_cast<double>(kN));
        INFO("x=" << c.x << ": mean " << got.mean << ", clamped " << want.mean << ", unclamped " << unclamped.mean);
        CHECK(std::fabs(got.mean - want.mean) < 4 * se);
        CHECK(std::fabs(got.mean - unclamped.mean) > 20 * se);  // the test can tell the clamp
    }
    // Below the clamps every level draws the same distribution: identical exponents per device.
    Programmed a = program_level(*dev, 1e-3, 1000, 5), b = program_level(*dev, 1e-5, 1000, 5),
               z = program_level(*dev, 0.0, 1000, 5);
    CHECK(a.nu == b.nu);
    CHECK(a.nu == z.nu);
}

TEST_CASE("device: drift_scale multiplies the exponents and 0 switches drift off") {
    auto one = pcm_device({});
    auto two = pcm_device({"core.crossbar.device.drift_scale=2"});
    auto off = pcm_device({"core.crossbar.device.drift_scale=0", "core.crossbar.device.read_noise_scale=0"});
    Programmed p1 = program_level(*one, 0.3, 10000), p2 = program_level(*two, 0.3, 10000),
               p0 = program_level(*off, 0.3, 10000);
    for (std::size_t i = 0; i < p1.nu.size(); ++i) {
        REQUIRE(p2.nu[i] == Approx(2.0 * p1.nu[i]).epsilon(1e-6));
        REQUIRE(p0.nu[i] == 0.f);
    }
    const std::vector<float> g = read_all(*off, p0, kYear);
    CHECK(g == p0.g_prog);
}

// ---------------------------------------------------------------------------------------------
// 3. Drift law

TEST_CASE("device: drift follows g_prog times t over t0 to the minus nu per device") {
    for (const char* prog : {"0", "1"}) {
        auto dev = pcm_device({"core.crossbar.device.read_noise_scale=0",
                               std::string("core.crossbar.device.prog_noise_scale=") + prog});
        std::vector<float> target(kN), g_prog(kN), nu(kN), g(kN);
        for (std::size_t i = 0; i < kN; ++i) target[i] = static_cast<float>(kGMax * static_cast<double>(i) / (kN - 1));
        const DeviceStreams rng(3, 1);
        dev->program(target.data(), g_prog.data(), nu.data(), kN, 0, rng);
        if (std::string(prog) == "0") CHECK(g_prog == target);
        // t_inf = 0: drift has not started; without read noise nothing changes.
        dev->read(g_prog.data(), nu.data(), g.data(), kN, 0.0, 0, rng);
        CHECK(g == g_prog);
        for (double t_inf : {kHour, kDay, kYear}) {
            dev->read(g_prog.data(), nu.data(), g.data(), kN, t_inf, 0, rng);
            const double ratio = (t_inf + kT0) / kT0;
            double worst = 0, mean_factor = 0;
            for (std::size_t i = 0; i < kN; ++i) {
                const double want = static_cast<double>(g_prog[i]) * std::pow(ratio, -static_cast<double>(nu[i]));
                const double err = std::fabs(g[i] - want);
                worst = std::max(worst, want > 0 ? err / want : err);
                if (want == 0) REQUIRE(g[i] == 0.f);
                if (g_prog[i] > 0) mean_factor += g[i] / g_prog[i];
            }
            INFO("t_inf " << t_inf << " s, prog noise " << prog << ": largest relative error " << worst);
            CHECK(worst < 2e-7);  // float rounding of the result
            if (verbose())
                std::printf("drift law t=%g s prog=%s: worst rel err %.3g, mean g/g_prog %.4f\n", t_inf, prog, worst,
                            mean_factor / kN);
        }
    }
}

TEST_CASE("device: the mean drift factor at one day matches the integral over the exponent distribution") {
    // E[(t/t0)^(−ν)] for ν = |μ + σZ|, by quadrature over Z, against the sample mean of g/g_prog.
    auto dev = pcm_device({"core.crossbar.device.read_noise_scale=0", "core.crossbar.device.prog_noise_scale=0"});
    const double L = std::log((kDay + kT0) / kT0);
    std::uint64_t seed = 300;
    for (double x : {0.01, 0.1, 0.5}) {
        Programmed p = program_level(*dev, x, kN, ++seed);
        const std::vector<float> g = read_all(*dev, p, kDay, seed);
        std::vector<double> f(kN);
        for (std::size_t i = 0; i < kN; ++i) f[i] = g[i] / p.g_prog[i];
        const double xr = static_cast<double>(p.target[0]) / kGMax, m = mu_nu(xr), s = sd_nu(xr);
        double e1 = 0, e2 = 0;
        const int steps = 20000;
        const double h = 16.0 / steps;
        for (int k = 0; k <= steps; ++k) {
            const double z = -8 + k * h, w = (k == 0 || k == steps ? 0.5 : 1.0) * h * phi(z);
            const double v = std::exp(-std::fabs(m + s * z) * L);
            e1 += w * v;
            e2 += w * v * v;
        }
        check_moments(sample(f), Moments{e1, std::sqrt(e2 - e1 * e1)}, kN, label("drift factor", x, kDay));
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Read noise

TEST_CASE("device: read noise has std Q_s times the 1/f time factor at each level and time") {
    auto dev = pcm_device({"core.crossbar.device.prog_noise_scale=0", "core.crossbar.device.drift_scale=0"});
    double worst_se = 0, worst_sd = 0;
    std::uint64_t seed = 400;
    for (double x : {1e-3, 0.01, 0.05, 0.25, 1.0}) {
        Programmed p = program_level(*dev, x, kN, 9);
        const double gp = p.g_prog[0];
        REQUIRE(gp == static_cast<double>(p.target[0]));
        for (double t_inf : {0.0, kHour, kDay, kYear}) {
            const std::vector<float> g = read_all(*dev, p, t_inf, ++seed);  // independent draws
            std::vector<double> rel(kN);
            for (std::size_t i = 0; i < kN; ++i) rel[i] = (g[i] - gp) / gp;
            // g = max(0, g_p + g_p·σ·N): the relative deviation is max(−1, σ·N).
            const double sigma = q_s(gp) * read_time_factor(t_inf);
            const Moments want = clipped_normal(0, sigma, -1);
            const Deviation d = check_moments(sample(rel), want, kN,
                                              label("read noise", x, t_inf));
            if (sigma < 0.2) CHECK(std::fabs(want.mean) < 1e-12);  // no clipping: mean 0
            worst_se = std::max(worst_se, d.mean_se);
            worst_sd = std::max(worst_sd, d.sd_rel);
        }
    }
    if (verbose()) std::printf("read noise: worst mean %.2f SE, worst std %.3f %%\n", worst_se, 100 * worst_sd);
}

TEST_CASE("device: read noise of a device at 0 uS leaves it at 0 and scale 0 switches it off") {
    auto dev = pcm_device({"core.crossbar.device.prog_noise_scale=0"});
    Programmed p = program_level(*dev, 0.0, 1000);
    for (float v : read_all(*dev, p, kDay)) REQUIRE(v == 0.f);
    auto quiet = pcm_device({"core.crossbar.device.read_noise_scale=0", "core.crossbar.device.drift_scale=0"});
    Programmed q = program_level(*quiet, 0.4, 1000);
    CHECK(read_all(*quiet, q, kYear) == q.g_prog);
    CHECK(read_all(*quiet, q, 0.0) == q.g_prog);
}

TEST_CASE("device: read noise std depends on the conductance handed to read") {
    // Q_s depends on g_prog only: read() of given conductances, at levels where Q_s differs by
    // factors of 4.5 and 2.8.
    auto dev = pcm_device({"core.crossbar.device.drift_scale=0"});
    for (double gp : {0.5, 5.0, 25.0}) {
        std::vector<float> g_prog(kN, static_cast<float>(gp)), nu(kN, 0.f), g(kN);
        dev->read(g_prog.data(), nu.data(), g.data(), kN, kHour, 0, DeviceStreams(2, 0));
        std::vector<double> rel(kN);
        for (std::size_t i = 0; i < kN; ++i) rel[i] = (g[i] - gp) / gp;
        check_moments(sample(rel), clipped_normal(0, q_s(gp) * read_time_factor(kHour), -1), kN,
                      "read noise at g_prog " + std::to_string(gp) + " uS, t_inf 1 h");
    }
}

TEST_CASE("device: read noise scales with the programmed conductance not the target") {
    // Targets at 0.5 uS with programming noise (σ 0.30 uS): g_prog spreads over 0..1.3 uS, so
    // Q_s(g_prog) varies per device. The relative read deviation is then a mixture of clipped
    // normals max(−1, Q_s(g_prog_i)·f·N): its moments are the averages over devices of each
    // component's moments. With Q_s(target) instead the std would be off by several percent.
    auto dev = pcm_device({"core.crossbar.device.drift_scale=0"});
    Programmed p = program_level(*dev, 0.02, 2 * kN, 12);
    const std::vector<float> g = read_all(*dev, p, kHour, 12);
    const double f = read_time_factor(kHour), gt = p.target[0];
    std::vector<double> rel;
    double e1 = 0, e2 = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (p.g_prog[i] == 0.f) {  // clipped by the programming noise: stays at 0
            REQUIRE(g[i] == 0.f);
            continue;
        }
        const double gp = p.g_prog[i];
        rel.push_back((g[i] - gp) / gp);
        const Moments c = clipped_normal(0, q_s(gp) * f, -1);
        e1 += c.mean;
        e2 += c.sd * c.sd + c.mean * c.mean;
    }
    const double n = static_cast<double>(rel.size());
    REQUIRE(n > kN);
    const Moments want{e1 / n, std::sqrt(e2 / n - (e1 / n) * (e1 / n))};
    const Moments wrong = clipped_normal(0, q_s(gt) * f, -1);
    const Moments got = sample(rel);
    check_moments(got, want, rel.size(), "read noise mixture x=0.02 t_inf=3600 s");
    INFO("std with Q_s(g_prog) " << want.sd << ", with Q_s(target) " << wrong.sd << ", sample " << got.sd);
    CHECK(std::fabs(got.sd / wrong.sd - 1) > 0.04);
    if (verbose()) std::printf("read noise mixture: std %.5f, Q_s(g_prog) %.5f, Q_s(target) %.5f\n", got.sd, want.sd, wrong.sd);
}

// ---------------------------------------------------------------------------------------------
// 5. Determinism and independence of the random streams

TEST_CASE("device: the same seed and core give identical arrays and another seed or core differs") {
    auto dev = pcm_device({});
    std::vector<float> target(5000);
    for (std::size_t i = 0; i < target.size(); ++i) target[i] = static_cast<float>(kGMax * (i % 101) / 100.0);
    auto run = [&](std::uint64_t seed, std::uint64_t core) {
        Programmed p;
        p.target = target;
        p.g_prog.resize(target.size());
        p.nu.resize(target.size());
        dev->program(target.data(), p.g_prog.data(), p.nu.data(), target.size(), 0, DeviceStreams(seed, core));
        std::vector<float> g = read_all(*dev, p, kDay, seed, core);
        return std::make_tuple(p.g_prog, p.nu, g);
    };
    const auto a = run(42, 0), b = run(42, 0), c = run(43, 0), d = run(42, 1);
    CHECK(std::get<0>(a) == std::get<0>(b));
    CHECK(std::get<1>(a) == std::get<1>(b));
    CHECK(std::get<2>(a) == std::get<2>(b));
    auto differing = [](const std::vector<float>& u, const std::vector<float>& v) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < u.size(); ++i) n += u[i] != v[i];
        return n;
    };
    for (const auto* other : {&c, &d}) {
        // All but the devices at 0 clipped in both (about half of the 1 % at target 0) differ.
        CHECK(differing(std::get<0>(a), std::get<0>(*other)) > target.size() * 95 / 100);
        CHECK(differing(std::get<1>(a), std::get<1>(*other)) > target.size() * 95 / 100);
        CHECK(differing(std::get<2>(a), std::get<2>(*other)) > target.size() * 95 / 100);
    }
}

TEST_CASE("device: results do not depend on how devices are split across calls") {
    auto dev = pcm_device({});
    const std::size_t n = 1000, split = 377;
    std::vector<float> target(n);
    for (std::size_t i = 0; i < n; ++i) target[i] = static_cast<float>(kGMax * ((i * 37) % 1000) / 1000.0);
    const DeviceStreams rng(8, 2);
    std::vector<float> gp1(n), nu1(n), g1(n), gp2(n), nu2(n), g2(n);
    dev->program(target.data(), gp1.data(), nu1.data(), n, 0, rng);
    dev->read(gp1.data(), nu1.data(), g1.data(), n, kDay, 0, rng);
    dev->program(target.data(), gp2.data(), nu2.data(), split, 0, rng);
    dev->program(target.data() + split, gp2.data() + split, nu2.data() + split, n - split, split, rng);
    // Read in three pieces, the last one first.
    dev->read(gp2.data() + 700, nu2.data() + 700, g2.data() + 700, n - 700, kDay, 700, rng);
    dev->read(gp2.data(), nu2.data(), g2.data(), 100, kDay, 0, rng);
    dev->read(gp2.data() + 100, nu2.data() + 100, g2.data() + 100, 600, kDay, 100, rng);
    CHECK(gp1 == gp2);
    CHECK(nu1 == nu2);
    CHECK(g1 == g2);
    // A different offset gives different draws.
    std::vector<float> gp3(n), nu3(n);
    dev->program(target.data(), gp3.data(), nu3.data(), n, 1, rng);
    CHECK(gp3 != gp1);
}

TEST_CASE("device: programming drift and read noise draws are uncorrelated across streams and cores") {
    // At x = 0.25 (no clipping of any kind): normalized programming deviation, drift exponent and
    // read deviation of the same device, and the programming deviation of the same device index
    // on another core. |r| < 5/sqrt(n) = 0.016.
    auto dev = pcm_device({});
    const double x = 0.25, limit = 5 / std::sqrt(static_cast<double>(kN));
    Programmed p = program_level(*dev, x, kN, 4, 0), q = program_level(*dev, x, kN, 4, 1);
    auto quiet = pcm_device({"core.crossbar.device.drift_scale=0"});
    Programmed r = program_level(*quiet, x, kN, 4, 0);  // the same g_prog, no drift
    const std::vector<float> g = read_all(*quiet, r, kHour, 4, 0);
    std::vector<double> dp(kN), dq(kN), nu(kN), rd(kN);
    for (std::size_t i = 0; i < kN; ++i) {
        dp[i] = p.g_prog[i] - p.target[i];
        dq[i] = q.g_prog[i] - q.target[i];
        nu[i] = p.nu[i];
        rd[i] = (g[i] - r.g_prog[i]) / r.g_prog[i];
    }
    const double c1 = correlation(dp, nu), c2 = correlation(dp, rd), c3 = correlation(nu, rd), c4 = correlation(dp, dq);
    INFO("r(prog, nu) " << c1 << ", r(prog, read) " << c2 << ", r(nu, read) " << c3 << ", r(core 0, core 1) " << c4);
    CHECK(std::fabs(c1) < limit);
    CHECK(std::fabs(c2) < limit);
    CHECK(std::fabs(c3) < limit);
    CHECK(std::fabs(c4) < limit);
    if (verbose()) std::printf("correlations: %.4f %.4f %.4f %.4f (limit %.4f)\n", c1, c2, c3, c4, limit);
}

// ---------------------------------------------------------------------------------------------
// pcm-hermes and pcm-hermes-pair: AIHWKit HermesNoiseModel (inference/noise/hermes.py) with
// num_devices 1 and 2, fits written out here from that source.

namespace {

struct HermesRef {
    const char* kind;
    double g_max, t0, t_read;
    double prog[4];
    double sd_knee, sd_a, sd_b, sd_lo, sd_hi, sd_q2, sd_q1, sd_q0;
    double q_knee, q_a, q_b, q_lo, q_hi, q_c3, q_c2, q_c1, q_c0;

    double sigma_prog(double x) const { return prog[0] + prog[1] * x + prog[2] * x * x + prog[3] * x * x * x; }
    double mu(double x) const {
        const double r = std::max(x, 1e-7);
        return r < 0.0945 ? std::clamp(-0.0387 * std::log(r) - 0.0182, 0.0720, 0.13)
                          : -0.0436 * r * r - 0.0126 * r + 0.0736;
    }
    double sd(double x) const {
        const double r = std::max(x, 1e-7);
        return r < sd_knee ? std::clamp(sd_a * std::log(r) + sd_b, sd_lo, sd_hi) : sd_q2 * r * r + sd_q1 * r + sd_q0;
    }
    double q(double r) const {
        return r < q_knee ? std::clamp(q_a * std::log(r) + q_b, q_lo, q_hi)
                          : q_c3 * r * r * r + q_c2 * r * r + q_c1 * r + q_c0;
    }
};

const HermesRef kHermesOne = {"pcm-hermes", 10.35, 200, 512e-9,
                              {0.15781817, 2.32443916, -2.16310839, 0.68841818},
                              0.3039, -0.0120, -0.0023, 0.0124, 0.04, -0.0165, 0.0116, 0.0104,
                              0.1591, -0.0078, 0.0038, 0.0179, 0.04, 0.0664, -0.1352, 0.0768, 0.0088};
const HermesRef kHermesTwo = {"pcm-hermes-pair", 20.7, 300, 512e-9,
                              {0.16603222, 4.71806468, -8.48101252, 4.68961419},
                              0.3055, -0.0117, -0.0057, 0.0091, 0.04, -0.0118, 0.0093, 0.0073,
                              0.16, -0.0117, -0.0069, 0.015, 0.04, 0.0069, -0.0280, 0.0211, 0.0123};

void check_hermes(const HermesRef& h) {
    // Levels on both sides of every knee: μ at 0.0945, Q_s at 0.159/0.16, σ_ν at 0.304/0.306.
    const std::string kind = std::string("core.crossbar.device.kind=") + h.kind;
    auto dev = pcm_device({kind});
    auto read_only = pcm_device({kind, "core.crossbar.device.drift_scale=0", "core.crossbar.device.prog_noise_scale=0"});
    REQUIRE(dev->g_max_us() == Approx(h.g_max).epsilon(1e-12));
    const double f = std::sqrt(std::log((kDay + h.t0 + h.t_read) / (2 * h.t_read)));
    std::uint64_t seed = h.g_max > 15 ? 600 : 500;  // other draws for the other kind
    for (double x : {0.0, 0.05, 0.12, 0.2, 0.5, 1.0}) {
        const std::string tag = std::string(h.kind) + " x=" + std::to_string(x).substr(0, 4);
        Programmed p = program_level(*dev, x, kN, ++seed);
        const double gt = p.target[0], xr = gt / h.g_max;
        check_moments(sample(p.g_prog), clipped_normal(gt, h.sigma_prog(xr), 0), kN, tag + " prog noise");
        check_moments(sample(p.nu), folded_normal(h.mu(xr), h.sd(xr)), kN, tag + " drift exponent");
        if (x == 0) continue;
        Programmed r = program_level(*read_only, x, kN, ++seed);
        REQUIRE(r.g_prog[0] == r.target[0]);
        const std::vector<float> g = read_all(*read_only, r, kDay, seed);
        std::vector<double> rel(kN);
        for (std::size_t i = 0; i < kN; ++i) rel[i] = (g[i] - gt) / gt;
        check_moments(sample(rel), clipped_normal(0, h.q(xr) * f, -1), kN, tag + " read noise 1 d");
    }
    // At 0 uS the Q_s fit has no floor (ln 0 = −inf, upper clip) and the device stays at 0.
    Programmed z = program_level(*read_only, 0.0, 1000);
    for (float v : read_all(*read_only, z, kDay)) REQUIRE(v == 0.f);
    // Drift: g_prog·(t/t0)^(−ν) with the kind's own t0.
    auto drift_only = pcm_device({kind, "core.crossbar.device.read_noise_scale=0"});
    Programmed d = program_level(*drift_only, 0.3, 10000, 3);
    const std::vector<float> g = read_all(*drift_only, d, kDay, 3);
    for (std::size_t i = 0; i < g.size(); ++i)
        REQUIRE(g[i] == Approx(d.g_prog[i] * std::pow((kDay + h.t0) / h.t0, -static_cast<double>(d.nu[i])))
                            .epsilon(2e-7));
    CHECK(read_all(*drift_only, d, 0.0) == d.g_prog);
}

}  // namespace

TEST_CASE("device: pcm-hermes follows the HermesNoiseModel fits for one device") { check_hermes(kHermesOne); }

TEST_CASE("device: pcm-hermes-pair follows the HermesNoiseModel fits for two devices") { check_hermes(kHermesTwo); }

// ---------------------------------------------------------------------------------------------
// 6. Mapping onto differential pairs (pcm-crossbar)

namespace {

WeightTile uniform_tile(std::size_t rows, std::size_t cols, double scale, unsigned seed) {
    std::mt19937_64 gen(seed);
    WeightTile t;
    t.rows = rows;
    t.cols = cols;
    t.w.resize(rows * cols);
    for (float& v : t.w) v = static_cast<float>(scale * (2.0 * (static_cast<double>(gen() >> 11) / 9007199254740992.0) - 1.0));
    return t;
}

// Row r of the chosen conductances (over full scale) through a one-hot MVM.
std::vector<float> row_of(const Crossbar& xb, std::size_t r, Polarity p, WeightState s) {
    std::vector<float> x(xb.tile_rows(), 0.f), y(xb.tile_cols());
    x[r] = 1.f;
    xb.mvm(x.data(), y.data(), p, s, 0);
    return y;
}

}  // namespace

TEST_CASE("device: pcm-crossbar programs G plus for positive weights and G minus for negative ones") {
    ChipConfig cfg = load_chip_config(kPcmConfig, {"core.crossbar.device.kind=ideal", "core.crossbar.g_min=5uS"});
    auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
    WeightTile t;
    t.rows = 2;
    t.cols = 4;
    t.w = {0.5f, -2.0f, 0.0f, 1.0f, -0.25f, 2.0f, -1.0f, 0.75f};
    xb->program(t, 0.0, DeviceStreams(1, 0));
    CHECK(xb->weight_scale() == 2.0);
    CHECK(xb->tile_rows() == 2);
    CHECK(xb->tile_cols() == 4);
    CHECK(xb->devices_programmed() == 2u * 4u * 2u * 1u);
    // Over full scale (g_max − g_min per device, g_min removed): G+ holds w⁺/max|W|, G− w⁻/max|W|.
    for (std::size_t r = 0; r < 2; ++r) {
        const auto pos = row_of(*xb, r, Polarity::Positive, WeightState::AtInference);
        const auto neg = row_of(*xb, r, Polarity::Negative, WeightState::AtInference);
        const auto dif = row_of(*xb, r, Polarity::Difference, WeightState::AtInference);
        for (std::size_t c = 0; c < 4; ++c) {
            const float w = t.w[r * 4 + c];
            CHECK(pos[c] == Approx(std::max(w, 0.f) / 2.0).margin(1e-7));
            CHECK(neg[c] == Approx(std::max(-w, 0.f) / 2.0).margin(1e-7));
            CHECK(dif[c] == Approx(w / 2.0).margin(1e-7));
        }
    }
}

TEST_CASE("device: the off device of a pair is programmed to g_min") {
    // With programming noise only, an all-positive tile leaves every G− at its target g_min plus
    // noise: (G− − g_min)/full scale has mean 0 and std σ_prog(g_min/g_max)/full scale. With
    // g_min = 5 uS (x = 0.2, σ = 0.6096 uS, 8σ from 0: no clipping).
    std::vector<double> off;
    double full_scale = 0;
    for (unsigned seed : {1u, 2u}) {
        ChipConfig cfg = load_chip_config(kPcmConfig, {"core.crossbar.g_min=5uS", "core.crossbar.device.drift_scale=0",
                                                       "core.crossbar.device.read_noise_scale=0"});
        auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
        WeightTile t = uniform_tile(256, 256, 1.0, seed);
        for (float& v : t.w) v = std::fabs(v) + 0.01f;
        xb->program(t, 0.0, DeviceStreams(seed, 0));
        full_scale = kGMax - 5.0;
        for (std::size_t r = 0; r < 256; ++r)
            for (float v : row_of(*xb, r, Polarity::Negative, WeightState::Programmed)) off.push_back(v * full_scale);
    }
    REQUIRE(off.size() == 131072);
    check_moments(sample(off), Moments{0.0, sigma_prog(5.0 / kGMax)}, off.size(), "G- minus g_min (g_min 5 uS)");
}

TEST_CASE("device: effective weights equal W for one and two devices per polarity and g_min above 0") {
    double worst = 0;
    for (const char* dpp : {"1", "2"}) {
        for (const char* g_min : {"0uS", "5uS", "24uS"}) {
            ChipConfig cfg = load_chip_config(
                kPcmConfig, {"core.crossbar.device.kind=ideal", std::string("core.crossbar.devices_per_polarity=") + dpp,
                             std::string("core.crossbar.g_min=") + g_min});
            auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
            WeightTile t = uniform_tile(200, 100, 3.5, 77);
            t.w[5] = 0.f;
            xb->program(t, kDay, DeviceStreams(1, 0));
            CHECK(xb->devices_programmed() == 200u * 100u * 2u * static_cast<unsigned>(std::stoi(dpp)));
            double w_max = 0;
            for (float v : t.w) w_max = std::max(w_max, static_cast<double>(std::fabs(v)));
            CHECK(xb->weight_scale() == w_max);
            for (WeightState s : {WeightState::Programmed, WeightState::AtInference}) {
                const std::vector<float> e = xb->effective_weights(s);
                REQUIRE(e.size() == t.w.size());
                double err = 0;
                for (std::size_t i = 0; i < e.size(); ++i) err = std::max(err, std::fabs(e[i] - t.w[i]) / w_max);
                INFO("devices_per_polarity " << dpp << ", g_min " << g_min << ": largest |e − w|/max|W| " << err);
                // Conductances are floats: a few ulp of g_max (6e-8 relative), amplified by
                // g_max/(g_max − g_min) = 25 at g_min 24 uS.
                CHECK(err < 4e-6);
                worst = std::max(worst, err * (kGMax - std::stod(g_min)) / kGMax);
            }
            CHECK(xb->effective_weights(WeightState::Programmed)[5] == 0.f);
        }
    }
    if (verbose()) std::printf("mapping: worst |e-w|/max|W| scaled by span/g_max %.3g\n", worst);
    // A zero tile maps to zero conductance differences with weight scale 1.
    ChipConfig cfg = load_chip_config(kPcmConfig, {"core.crossbar.device.kind=ideal"});
    auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
    WeightTile z;
    z.rows = 3;
    z.cols = 3;
    z.w.assign(9, 0.f);
    xb->program(z, 0.0, DeviceStreams(1, 0));
    CHECK(xb->weight_scale() == 1.0);
    for (float v : xb->effective_weights(WeightState::AtInference)) CHECK(v == 0.f);
}

TEST_CASE("device: g_min at or above g_max is an input error naming core.crossbar.g_min") {
    for (const char* g_min : {"30uS", "25uS"}) {
        const std::string set = std::string("core.crossbar.g_min=") + g_min;
        ChipConfig cfg = load_chip_config(kPcmConfig, {set});
        try {
            auto xb = Factory<Crossbar>::create(cfg.at("core.crossbar"));
            FAIL("no error for g_min " << g_min);
        } catch (const InputError& e) {
            CHECK(std::string(e.what()) ==
                  "--set " + set + ": core.crossbar.g_min: must be below the device's g_max (25 uS)");
        }
    }
    // Just below g_max is fine.
    ChipConfig ok = load_chip_config(kPcmConfig, {"core.crossbar.g_min=24.9uS"});
    CHECK_NOTHROW(Factory<Crossbar>::create(ok.at("core.crossbar")));
}

// ---------------------------------------------------------------------------------------------
// 7. Global drift compensation

namespace {

double mean_abs(const std::vector<float>& w) {
    double s = 0;
    for (float v : w) s += std::fabs(v);
    return s / static_cast<double>(w.size());
}

}  // namespace

TEST_CASE("device: drift compensation alpha is mean abs programmed over mean abs drifted weight") {
    ChipConfig cfg = load_chip_config(kPcmConfig);
    const WeightTile t = uniform_tile(256, 256, 1.0, 99);
    double alpha_day = 0;
    for (double t_inf : {0.0, kHour, kDay}) {
        CoreNumerics n(cfg.at("core"), NumericsContext{5, 0, t_inf});
        n.program(t);
        const double want = mean_abs(n.crossbar().effective_weights(WeightState::Programmed)) /
                            mean_abs(n.crossbar().effective_weights(WeightState::AtInference));
        INFO("t_inf " << t_inf << ": alpha " << n.alpha() << ", ratio of mean |w| " << want);
        CHECK(n.alpha() == Approx(want).epsilon(1e-9));
        if (t_inf == 0) CHECK(std::fabs(n.alpha() - 1) < 0.01);
        if (t_inf == kDay) {
            CHECK(n.alpha() > 1.3);
            alpha_day = n.alpha();
        }
        if (verbose()) std::printf("alpha at %g s: %.6f\n", t_inf, n.alpha());
    }
    // Independently: noise terms are zero-mean to first order, so alpha at one day is about
    // E[x] / E[x·(t/t0)^(−ν(x))] over the |w| = x ~ U(0, 1) of the tile, by quadrature.
    const double L = std::log((kDay + kT0) / kT0);
    double num = 0, den = 0;
    const int nx = 2000, nz = 2000;
    for (int i = 0; i < nx; ++i) {
        const double x = (i + 0.5) / nx, m = mu_nu(x), s = sd_nu(x);
        double e = 0;
        for (int k = 0; k < nz; ++k) {
            const double z = -8 + (k + 0.5) * 16.0 / nz;
            e += phi(z) * 16.0 / nz * std::exp(-std::fabs(m + s * z) * L);
        }
        num += x;
        den += x * e;
    }
    const double expected = num / den;
    INFO("alpha at 1 d " << alpha_day << ", first-order expectation " << expected);
    CHECK(alpha_day == Approx(expected).epsilon(0.01));
    if (verbose()) std::printf("alpha at 1 d %.5f, first-order expectation %.5f\n", alpha_day, expected);
    // Off: alpha is 1 whatever the drift.
    ChipConfig off = load_chip_config(kPcmConfig, {"core.drift_compensation=false"});
    CoreNumerics n(off.at("core"), NumericsContext{5, 0, kDay});
    n.program(t);
    CHECK(n.alpha() == 1.0);
}

TEST_CASE("device: no read noise accumulates before t_read has passed") {
    aimc::ChipConfig cfg = aimc::load_chip_config("configs/aihwkit-pcm.yaml",
                                                  {"core.crossbar.device.t0=100ns", "core.crossbar.device.prog_noise_scale=0"});
    auto dev = aimc::Factory<aimc::DeviceModel>::create(cfg.at("core.crossbar.device"));
    aimc::DeviceStreams rng(1, 0);
    std::vector<float> target(1000, 10.f), prog(1000), nu(1000), g(1000);
    dev->program(target.data(), prog.data(), nu.data(), 1000, 0, rng);
    dev->read(prog.data(), nu.data(), g.data(), 1000, 0.0, 0, rng);  // t = 100 ns < t_read = 250 ns
    for (float v : g) REQUIRE(v == 10.f);
}
