// float and fp16-ldpu: floating-point digital units. float is the ideal float32 reference;
// fp16-ldpu rounds every stage's result to IEEE binary16, as the FP16 local digital processing
// units of HERMES [LG23].
#include <algorithm>
#include <cmath>

#include "models/nmpu/digital_unit.hpp"
#include "models/nmpu/fp16.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace aimc {

namespace {

// `round` rounds a value to the unit's format; `fma` computes s·y + o rounded once to it.
template <class Round, class Fma>
void run_stages(const DigitalOp& op, const float* in, float* out, std::size_t n, Round round, Fma fma) {
    // Stage after stage over the whole vector (the same operations per element as one pass, in
    // the same order), so each stage is a tight loop.
    std::vector<float> pooled(op.pooling == Pooling::None ? 0 : n);
    float* y = op.pooling == Pooling::None ? out : pooled.data();
    for (std::size_t i = 0; i < n; ++i) y[i] = round(in[i]);
    if (op.add)
        for (std::size_t i = 0; i < n; ++i) y[i] = round(y[i] + round(op.add[i]));
    if (op.affine())
        for (std::size_t i = 0; i < n; ++i)
            y[i] = fma(op.scale ? round(op.scale[i]) : 1.f, y[i], op.offset ? round(op.offset[i]) : 0.f);
    if (op.bias)
        for (std::size_t i = 0; i < n; ++i) y[i] = round(y[i] + round(op.bias[i]));
    switch (op.activation) {
        case Activation::None: break;
        case Activation::Relu:
            for (std::size_t i = 0; i < n; ++i) y[i] = std::max(y[i], 0.f);
            break;
        case Activation::Clipped:
            for (std::size_t i = 0; i < n; ++i) y[i] = std::clamp(y[i], 0.f, round(op.activation_param));
            break;
        case Activation::Leaky:
            for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < 0 ? round(y[i] * round(op.activation_param)) : y[i];
            break;
    }
    if (op.residual)
        for (std::size_t i = 0; i < n; ++i) y[i] = round(y[i] + round(op.residual[i]));
    if (op.pooling == Pooling::None) return;
    op.arrange_pool_windows(pooled);
    y = pooled.data();
    const std::size_t k = op.pool_size();
    for (std::size_t w = 0; w < n / k; ++w) {
        float acc = op.pooling == Pooling::Max ? y[w * k] : 0.f;
        for (std::size_t j = 0; j < k; ++j)
            acc = op.pooling == Pooling::Max ? std::max(acc, y[w * k + j]) : round(acc + y[w * k + j]);
        out[w] = op.pooling == Pooling::Max ? acc : round(acc / static_cast<float>(k));
    }
}

class FloatUnit final : public DigitalUnit {
public:
    explicit FloatUnit(const ComponentConfig& c) : DigitalUnit(c) {}
    void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const override {
        run_stages(op, in, out, n, [](float v) { return v; }, [](float s, float y, float o) { return std::fma(s, y, o); });
    }
};

class Fp16Unit final : public DigitalUnit {
public:
    explicit Fp16Unit(const ComponentConfig& c) : DigitalUnit(c) {}
    void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const override {
        // The fused multiply-add rounds once to FP16 from the exact result: a float fma followed
        // by an FP16 rounding would round twice.
        run_stages(op, in, out, n, [](float v) { return round_fp16(v); },
                   [](float s, float y, float o) {
                       return from_fp16_bits(fp16_fma(to_fp16_bits(s), to_fp16_bits(y), to_fp16_bits(o)));
                   });
    }
};

AIMC_REGISTER_KIND(Factory<DigitalUnit>,
                   KindDecl{"", "float", "ideal float32 post-processing (the accuracy reference), lane timing model",
                            DigitalUnit::cost_params(16, 1, 2)},
                   [](const ComponentConfig& c) { return std::make_unique<FloatUnit>(c); });

AIMC_REGISTER_KIND(Factory<DigitalUnit>,
                   KindDecl{"", "fp16-ldpu",
                            "FP16 local digital processing unit as in HERMES [LG23]: every stage rounds to IEEE "
                            "binary16 (round to nearest even); lane timing model",
                            DigitalUnit::cost_params(1, 4, 4)},
                   [](const ComponentConfig& c) { return std::make_unique<Fp16Unit>(c); });

}  // namespace
}  // namespace aimc
