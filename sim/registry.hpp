// Component registry: each kind registers under a name for its interface; YAML picks it with
// `kind:`. The catalog holds the declarations (for the loader and `aimcsim describe`); a
// Factory per interface holds the constructors.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/errors.hpp"
#include "sim/params.hpp"

namespace aimc {

struct ComponentConfig;

struct KindDecl {
    std::string interface;  // "dac"
    std::string kind;       // "pwm-dac"
    std::string summary;    // one line
    std::vector<ParamDecl> params;

    const ParamDecl* param(const std::string& name) const;
};

class Catalog {
public:
    static Catalog& instance();
    bool add_kind(KindDecl decl);  // returns true, for static registration
    const KindDecl* find(const std::string& interface, const std::string& kind) const;
    std::vector<const KindDecl*> kinds_of(const std::string& interface) const;

private:
    std::map<std::string, std::map<std::string, KindDecl>> kinds_;  // interface -> kind -> decl
};

// Base must provide `static constexpr const char* kInterface`.
template <class Base, class... Args>
class Factory {
public:
    using Fn = std::function<std::unique_ptr<Base>(const ComponentConfig&, Args...)>;

    static bool add(KindDecl decl, Fn fn) {
        decl.interface = Base::kInterface;
        fns()[decl.kind] = std::move(fn);
        Catalog::instance().add_kind(std::move(decl));
        return true;
    }
    static std::unique_ptr<Base> create(const ComponentConfig& cfg, Args... args);

private:
    static std::map<std::string, Fn>& fns() {
        static std::map<std::string, Fn> m;
        return m;
    }
};

}  // namespace aimc

#include "sim/config.hpp"

namespace aimc {

template <class Base, class... Args>
std::unique_ptr<Base> Factory<Base, Args...>::create(const ComponentConfig& cfg, Args... args) {
    auto it = fns().find(cfg.kind);
    AIMC_ASSERT(it != fns().end(), "no factory for kind '" + cfg.kind + "' of " + Base::kInterface);
    return it->second(cfg, args...);
}

}  // namespace aimc

#define AIMC_CONCAT_INNER(a, b) a##b
#define AIMC_CONCAT(a, b) AIMC_CONCAT_INNER(a, b)
// Registers a kind at static-initialization time (the library is linked whole, see CMakeLists).
#define AIMC_REGISTER_KIND(FactoryType, ...) \
    static const bool AIMC_CONCAT(aimc_registered_, __LINE__) = FactoryType::add(__VA_ARGS__)
// Declares the parameters of a kind that the chip builds directly (one kind for its slot).
#define AIMC_DECLARE_KIND(...) \
    static const bool AIMC_CONCAT(aimc_declared_, __LINE__) = ::aimc::Catalog::instance().add_kind(__VA_ARGS__)
