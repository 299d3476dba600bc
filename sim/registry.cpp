#include "sim/registry.hpp"

namespace aimc {

const ParamDecl* KindDecl::param(const std::string& name) const {
    for (const auto& p : params)
        if (p.name == name) return &p;
    return nullptr;
}

Catalog& Catalog::instance() {
    static Catalog c;
    return c;
}

bool Catalog::add_kind(KindDecl decl) {
    AIMC_ASSERT(!kinds_[decl.interface].count(decl.kind), "kind '" + decl.kind + "' registered twice");
    auto iface = decl.interface;
    auto kind = decl.kind;
    kinds_[iface].emplace(kind, std::move(decl));
    return true;
}

const KindDecl* Catalog::find(const std::string& interface, const std::string& kind) const {
    auto it = kinds_.find(interface);
    if (it == kinds_.end()) return nullptr;
    auto k = it->second.find(kind);
    return k == it->second.end() ? nullptr : &k->second;
}

std::vector<const KindDecl*> Catalog::kinds_of(const std::string& interface) const {
    std::vector<const KindDecl*> out;
    auto it = kinds_.find(interface);
    if (it != kinds_.end())
        for (const auto& [name, decl] : it->second) out.push_back(&decl);
    return out;
}

}  // namespace aimc
