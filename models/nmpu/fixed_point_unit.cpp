// fixed-point-nmpu: the post-processing of a fixed-point near-memory processing unit [FE24]:
// every operand enters its configured format, every stage computes exactly and rounds once into
// the accumulator format, the result is rounded into the output format (the requantization for
// the next layer). Formats Qi.f: i integer bits including the sign, f fraction bits.
#include <algorithm>
#include <cmath>

#include "models/nmpu/digital_unit.hpp"
#include "models/nmpu/fixed_point.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"
#include "sim/units.hpp"

namespace aimc {

namespace {

const char* const kFormats[] = {"input", "scale", "offset", "accumulator", "output"};

class FixedPointUnit final : public DigitalUnit {
public:
    explicit FixedPointUnit(const ComponentConfig& c)
        : DigitalUnit(c), rounding_(*parse_rounding(c.text("rounding"))), overflow_(*parse_overflow(c.text("overflow"))),
          input_(format(c, "input")), scale_(format(c, "scale")), offset_(format(c, "offset")),
          acc_(format(c, "accumulator")), output_(format(c, "output")) {}

    void apply(const DigitalOp& op, const float* in, float* out, std::size_t n) const override {
        std::vector<std::int64_t> y(n);
        for (std::size_t i = 0; i < n; ++i) {
            Fixed x{from_real(in[i], input_, rounding_, overflow_), input_};
            std::int64_t acc = op.add ? add(x, {from_real(op.add[i], input_, rounding_, overflow_), input_}, acc_,
                                            rounding_, overflow_)
                                      : convert(x.raw, input_, acc_, rounding_, overflow_);
            if (op.affine()) {
                const Fixed o{op.offset ? parameter(op.offset[i], offset_, "offset", i) : 0, offset_};
                // Without a scale the offset is added: 1.0 need not fit the scale format (Q1.f).
                acc = op.scale ? mul_add({parameter(op.scale[i], scale_, "scale", i), scale_}, {acc, acc_}, o, acc_,
                                         rounding_, overflow_)
                               : add({acc, acc_}, o, acc_, rounding_, overflow_);
            }
            if (op.bias) acc = add({acc, acc_}, {parameter(op.bias[i], offset_, "bias", i), offset_}, acc_, rounding_, overflow_);
            switch (op.activation) {
                case Activation::None: break;
                case Activation::Relu: acc = relu({acc, acc_}); break;
                case Activation::Clipped:
                    acc = clipped_relu({acc, acc_}, parameter(op.activation_param, acc_, "clip ceiling", i));
                    break;
                case Activation::Leaky:
                    acc = leaky_relu({acc, acc_}, {parameter(op.activation_param, scale_, "leaky slope", i), scale_}, acc_,
                                     rounding_, overflow_);
                    break;
            }
            if (op.residual)
                acc = add({acc, acc_}, {from_real(op.residual[i], input_, rounding_, overflow_), input_}, acc_, rounding_,
                          overflow_);
            y[i] = convert(acc, acc_, output_, rounding_, overflow_);
        }
        if (op.pooling == Pooling::None) {
            for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(to_real(y[i], output_));
            return;
        }
        op.arrange_pool_windows(y);
        const std::size_t k = op.pool_size();
        for (std::size_t w = 0; w < n / k; ++w) {
            const std::int64_t* window = &y[w * k];
            const std::int64_t v = op.pooling == Pooling::Max ? max_of(window, k)
                                                             : average(window, k, output_, output_, rounding_, overflow_);
            out[w] = static_cast<float>(to_real(v, output_));
        }
    }

private:
    static FixedFormat format(const ComponentConfig& c, const std::string& name) {
        const int i = static_cast<int>(c.integer(name + "_int_bits")), f = static_cast<int>(c.integer(name + "_frac_bits"));
        if (auto why = FixedFormat::invalid(i, f))
            throw InputError(c.params.value(name + "_int_bits").where + ": " + c.path + "." + name + "_int_bits: " + *why);
        return FixedFormat{i, f};
    }

    // A constant operand (scale, offset, bias, activation parameter): one that does not fit its
    // format is a configuration error, not a value to saturate silently.
    std::int64_t parameter(double v, FixedFormat f, const char* what, std::size_t column) const {
        bool overflowed = false;
        const std::int64_t raw = from_real(v, f, rounding_, Overflow::Saturate, &overflowed);
        if (overflowed)
            throw InputError(std::string(what) + " " + std::to_string(v) + " (element " + std::to_string(column) +
                             ") does not fit the " + f.describe() + " format of core.digital (range " +
                             std::to_string(f.min_value()) + " to " + std::to_string(f.max_value()) + ")");
        return raw;
    }

    Rounding rounding_;
    Overflow overflow_;
    FixedFormat input_, scale_, offset_, acc_, output_;
};

std::vector<ParamDecl> fixed_params() {
    // Defaults (assumed; [FE24] does not publish them): a 16-bit datapath with a 32-bit accumulator.
    const int defaults[][2] = {{8, 8}, {4, 12}, {8, 8}, {12, 20}, {8, 8}};
    std::vector<ParamDecl> p;
    for (int k = 0; k < 5; ++k) {
        const std::string name = kFormats[k];
        p.push_back(ParamDecl::integer(name + "_int_bits", defaults[k][0], 1, 64,
                                       name + " format: integer bits, sign included", "bits"));
        p.push_back(ParamDecl::integer(name + "_frac_bits", defaults[k][1], 0, 63, name + " format: fraction bits", "bits"));
    }
    p.push_back(ParamDecl::choice("rounding", std::string("nearest-even"), {"nearest-even", "nearest-up", "truncate"},
                                  "how every rounding step disposes of the dropped bits"));
    p.push_back(ParamDecl::choice("overflow", std::string("saturate"), {"saturate", "wrap"},
                                  "what a result beyond its format does"));
    for (const auto& c : DigitalUnit::cost_params(16, 1, 3)) p.push_back(c);
    return p;
}

AIMC_REGISTER_KIND(Factory<DigitalUnit>,
                   KindDecl{"", "fixed-point-nmpu",
                            "fixed-point near-memory processing unit [FE24]: configurable formats, rounding and "
                            "saturation; lane timing model",
                            fixed_params()},
                   [](const ComponentConfig& c) { return std::make_unique<FixedPointUnit>(c); });

}  // namespace
}  // namespace aimc
