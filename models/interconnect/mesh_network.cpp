#include "models/interconnect/mesh_network.hpp"

#include <algorithm>
#include <limits>

#include "sim/errors.hpp"

namespace aimc {

namespace {

constexpr int kMaxPorts = 16;  // 4 mesh ports + endpoints attached to one router
const char* const kPortNames[] = {"east", "west", "north", "south"};

int opposite(int d) { return d ^ 1; }  // east <-> west, north <-> south

// i + 1 (or i + k, k < n) modulo n without a division: these run per flit.
inline int wrap(int i, int n) { return i >= n ? i - n : i; }

// wrap() for buffer slots: a mask when the buffer depth is known at compile time (kB, a power of
// two; 0: B counted at run time).
template <int kB>
inline int wrap_slot(int i, int B) {
    if constexpr (kB > 0)
        return i & (kB - 1);
    else
        return wrap(i, B);
}

// The number of members of a set of at most 16, without a loop or a popcnt instruction.
inline int count16(std::uint32_t x) {
    x -= (x >> 1) & 0x5555u;
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return static_cast<int>((x + (x >> 8)) & 0x1fu);
}

// Round-robin over the members of a set of at most 16 (input ports or virtual channels), from
// `start` (0..16; 16 or the member count means 0) on, wrapping around: bit k of the result is
// member (start + k) % 16. Doubling the set makes the wrap one shift, free of the member count.
inline std::uint32_t in_turn(std::uint32_t set, int start) { return ((set | set << 16) >> start) & 0xffffu; }
// The member that the lowest bit of in_turn(set, start) stands for.
inline int turn_member(std::uint32_t in_turn_bits, int start) { return (start + __builtin_ctz(in_turn_bits)) & 15; }

}  // namespace

MeshNetwork::MeshNetwork(const MeshParams& p) : params_(p), V_(p.virtual_channels), B_(p.buffer_depth) {
    AIMC_ASSERT(p.cols >= 1 && p.rows >= 1 && p.cols * p.rows <= 65535, "mesh size out of range");
    AIMC_ASSERT(V_ >= 1 && V_ <= 16, "virtual channels out of range");
    AIMC_ASSERT(B_ >= 1 && B_ <= 1024, "buffer depth out of range");
    AIMC_ASSERT(p.router_latency >= 1 && p.link_latency >= 1, "router and link latencies must be >= 1 cycle");
    const int n = routers();
    routers_.resize(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        routers_[static_cast<std::size_t>(r)].x = r % p.cols;
        routers_[static_cast<std::size_t>(r)].y = r / p.cols;
    }
}

void MeshNetwork::attach(int id, int x, int y) {
    AIMC_ASSERT(input_vcs_.empty(), "endpoint attached after the first message");
    AIMC_ASSERT(x >= 0 && x < params_.cols && y >= 0 && y < params_.rows && id >= 0, "endpoint outside the mesh");
    const int r = y * params_.cols + x;
    Router& router = routers_[static_cast<std::size_t>(r)];
    AIMC_ASSERT(router.ports < kMaxPorts, "too many endpoints on one router");
    if (sources_.size() <= static_cast<std::size_t>(id)) sources_.resize(static_cast<std::size_t>(id) + 1);
    Source& s = sources_[static_cast<std::size_t>(id)];
    s.router = r;
    s.port = router.ports++;
}

// Builds the port, buffer and credit tables once every endpoint is attached.
void MeshNetwork::build() {
    const int n = routers();
    int total = 0;
    for (Router& router : routers_) {
        router.base = total;
        total += router.ports;
    }
    const auto P = static_cast<std::size_t>(total), PV = P * static_cast<std::size_t>(V_);
    port_.assign(P, Port{});
    output_vcs_.assign(PV, OutputVc{});
    for (int r = 0; r < n; ++r) {
        const int x = routers_[static_cast<std::size_t>(r)].x, y = routers_[static_cast<std::size_t>(r)].y;
        const int neighbour[4] = {x + 1 < params_.cols ? r + 1 : -1, x > 0 ? r - 1 : -1,
                                  y > 0 ? r - params_.cols : -1, y + 1 < params_.rows ? r + params_.cols : -1};
        for (int d = 0; d < kMeshPorts; ++d) {
            if (neighbour[d] < 0) continue;
            const int out = gp(r, d), in = gp(neighbour[d], opposite(d));
            Port& o = port_[static_cast<std::size_t>(out)];
            o.link_to = in;
            o.down_router = neighbour[d];
            o.down_port = static_cast<std::uint8_t>(opposite(d));
            port_[static_cast<std::size_t>(in)].credit_to = out;
            for (int v = 0; v < V_; ++v) output_vcs_[static_cast<std::size_t>(out * V_ + v)].credits = B_;
        }
    }
    for (std::size_t id = 0; id < sources_.size(); ++id) {
        Source& s = sources_[id];
        if (s.port < kMeshPorts) continue;  // an id that was never attached
        const int out = gp(s.router, s.port);
        s.global_port = out;
        port_[static_cast<std::size_t>(out)].eject_endpoint = static_cast<int>(id);
        // Interfaces always accept flits: the ejection port never runs out of credits.
        for (int v = 0; v < V_; ++v)
            output_vcs_[static_cast<std::size_t>(out * V_ + v)].credits = std::numeric_limits<std::int16_t>::max();
    }
    input_vcs_.resize(PV);
    flits_.resize(PV * static_cast<std::size_t>(B_));
}

void MeshNetwork::enqueue(std::uint32_t packet, int src, int dst, std::uint32_t flits, std::uint64_t ready) {
    if (input_vcs_.empty()) build();
    AIMC_ASSERT(src >= 0 && static_cast<std::size_t>(src) < sources_.size() &&
                        sources_[static_cast<std::size_t>(src)].port >= kMeshPorts,
                "message from an unattached endpoint");
    AIMC_ASSERT(dst >= 0 && static_cast<std::size_t>(dst) < sources_.size() &&
                        sources_[static_cast<std::size_t>(dst)].port >= kMeshPorts,
                "message to an unattached endpoint");
    AIMC_ASSERT(flits >= 1, "a message has at least one flit");
    if (packet_flits_.size() <= packet) {
        packet_flits_.resize(packet + 1);
        packet_ejected_.resize(packet + 1);
    }
    packet_flits_[packet] = flits;
    packet_ejected_[packet] = 0;
    const Source& d = sources_[static_cast<std::size_t>(dst)];
    Source& s = sources_[static_cast<std::size_t>(src)];
    if (s.front > 0 && s.front == s.queue.size()) {
        s.queue.clear();
        s.front = 0;
    }
    s.queue.push_back({packet, flits, static_cast<std::uint16_t>(d.router), static_cast<std::uint8_t>(d.port), ready});
    if (!s.active) {
        s.active = true;
        active_sources_.push_back(src);
    }
    flits_enqueued_ += flits;
}

int MeshNetwork::route(int r, const Flit& f) const {
    const Router& here = routers_[static_cast<std::size_t>(r)];
    const Router& dst = routers_[f.dst_router];
    if (dst.x > here.x) return East;
    if (dst.x < here.x) return West;
    if (dst.y < here.y) return North;
    if (dst.y > here.y) return South;
    return f.dst_port;
}

// Writes flit f, ready to leave at `ready`, into input VC vc of global port g of router r (its
// credit was spent upstream). f may be the flit's slot upstream: it is copied once, here.
template <int kV, int kB>
[[gnu::always_inline]] inline void MeshNetwork::push_flit(int r, int g, int vc, const Flit& f, std::uint64_t ready) {
    const int V = kV > 0 ? kV : V_;
    const auto qi = static_cast<std::size_t>(g * V + vc);
    InputVc& q = input_vcs_[qi];
    AIMC_ASSERT(q.count < B_, "flit written into a full buffer (credit error)");
    const int B = kB > 0 ? kB : B_;
    Flit& slot = flits_[qi * static_cast<std::size_t>(B) + static_cast<std::size_t>(wrap_slot<kB>(q.head + q.count, B))];
    slot = f;
    slot.ready = ready;
    Router& router = routers_[static_cast<std::size_t>(r)];
    if (q.count++ == 0) {
        q.head_ready = ready;
        q.head_route = static_cast<std::int8_t>((f.flags & kHead) ? route(r, f) : -1);
        port_[static_cast<std::size_t>(g)].nonempty_vcs |= static_cast<std::uint16_t>(1u << vc);
        router.nonempty_ports |= 1u << (g - router.base);
    }
    ++router.buffered;
    if (!router.active) {
        router.active = 1;
        active_routers_.push_back(r);
    }
}

bool MeshNetwork::inject_from_sources(std::uint64_t c) {
    bool moved = false;
    std::size_t keep = 0;
    for (std::size_t i = 0; i < active_sources_.size(); ++i) {
        const int id = active_sources_[i];
        Source& s = sources_[static_cast<std::size_t>(id)];
        if (s.front == s.queue.size()) {
            s.active = false;
            continue;
        }
        active_sources_[keep++] = id;
        const SourceMessage& m = s.queue[s.front];
        if (m.ready > c) continue;
        const int g = s.global_port;
        if (s.vc < 0) {
            // A new message takes an empty virtual channel if there is one, else one with room.
            for (int pass = 0; pass < 2 && s.vc < 0; ++pass)
                for (int k = 0; k < V_; ++k) {
                    const int v = wrap(s.next_vc + k, V_);
                    const int count = ivc(g, v).count;
                    if (pass == 0 ? count == 0 : count < B_) {
                        s.vc = v;
                        break;
                    }
                }
            if (s.vc < 0) continue;
            s.next_vc = wrap(s.vc + 1, V_);
        }
        if (ivc(g, s.vc).count >= B_) continue;
        Flit f;
        f.packet = m.packet;
        f.dst_router = m.dst_router;
        f.dst_port = m.dst_port;
        f.flags = static_cast<std::uint8_t>((s.sent == 0 ? kHead : 0) | (s.sent + 1 == m.flits ? kTail : 0));
        f.ready = c + static_cast<std::uint64_t>(params_.router_latency);
        push_flit<0, 0>(s.router, g, s.vc, f, f.ready);
        moved = true;
        if (++s.sent == m.flits) {
            ++s.front;
            s.sent = 0;
            s.vc = -1;
        }
    }
    active_sources_.resize(keep);
    return moved;
}

template <int kV, int kB>
bool MeshNetwork::allocate(int r, std::uint64_t c, std::vector<Ejection>& ejected) {
    // Everything the visit uses, in locals: stores into the one-byte round-robin pointers could
    // otherwise alias any member and force reloads.
    Router& router = routers_[static_cast<std::size_t>(r)];
    router.occupancy += router.buffered;
    const int V = kV > 0 ? kV : V_, B = kB > 0 ? kB : B_, base = router.base;
    Port* const port = port_.data() + base;                // this router's ports, by port number
    InputVc* const ivcs = input_vcs_.data() + base * V;    // by port * V + vc
    OutputVc* const ovcs = output_vcs_.data() + base * V;  // by port * V + vc
    struct Nomination {
        std::int8_t vc, out, out_vc;
    };
    Nomination nom[kMaxPorts];
    std::uint32_t requests[kMaxPorts];  // per output port: nominating input ports
    std::uint32_t requested = 0;        // output ports with requests
    std::uint32_t eligible = 0;         // input ports with a flit ready to leave
    const std::uint32_t all_vcs = (1u << V) - 1u;
    for (std::uint32_t ports = router.nonempty_ports; ports; ports &= ports - 1) {
        const int p = __builtin_ctz(ports);
        const int start = port[p].rr_input_vc;
        const InputVc* const pq = ivcs + p * V;
        // The non-empty VCs in round-robin order from `start`: walk the set bits of in_turn().
        for (std::uint32_t order = in_turn(port[p].nonempty_vcs, start); order; order &= order - 1) {
            const int v = turn_member(order, start);
            const InputVc& q = pq[v];
            if (q.head_ready > c) continue;
            eligible |= 1u << p;
            int out = q.out_port, out_vc = q.out_vc;
            if (out_vc < 0) {
                // A head flit: the first free output virtual channel with a credit on its route,
                // round-robin.
                out = q.head_route;
                const OutputVc* const po = ovcs + out * V;
                const int first = port[out].rr_output_vc;
                for (std::uint32_t order = in_turn(~port[out].taken_vcs & all_vcs, first); order; order &= order - 1)
                    if (const int w = turn_member(order, first); po[w].credits > 0) {
                        out_vc = w;
                        break;
                    }
                if (out_vc < 0) continue;
            } else if (ovcs[out * V + out_vc].credits <= 0) {
                continue;
            }
            nom[p] = {static_cast<std::int8_t>(v), static_cast<std::int8_t>(out), static_cast<std::int8_t>(out_vc)};
            const std::uint32_t bit = 1u << out;
            if (!(requested & bit)) requests[out] = 0;
            requested |= bit;
            requests[out] |= 1u << p;
            break;
        }
    }
    if (!eligible) return false;
    std::uint32_t granted = 0;
    const auto link = static_cast<std::uint64_t>(params_.link_latency);
    const auto pipeline = link + static_cast<std::uint64_t>(params_.router_latency);
    Flit* const slots = flits_.data() + static_cast<std::size_t>(base * V) * static_cast<std::size_t>(B);
    for (; requested; requested &= requested - 1) {
        const int out = __builtin_ctz(requested);
        const std::uint32_t req = requests[out];
        Port& op = port[out];
        // Round-robin: the first requesting input at or after the pointer.
        const int start = op.rr_output;
        const int p = turn_member(in_turn(req, start), start);
        granted |= 1u << p;
        op.rr_output = static_cast<std::uint8_t>(p + 1);  // in_turn() wraps it
        const Nomination n = nom[p];
        Port& ip = port[p];
        ip.rr_input_vc = static_cast<std::uint8_t>(n.vc + 1);
        const int qi = p * V + n.vc;
        InputVc& q = ivcs[qi];
        Flit* const buffer = slots + static_cast<std::size_t>(qi) * static_cast<std::size_t>(B);
        const Flit& f = buffer[q.head];  // stays in its slot until pushed downstream
        q.head = static_cast<std::uint16_t>(wrap_slot<kB>(q.head + 1, B));
        --router.buffered;
        OutputVc& ovc = ovcs[out * V + n.out_vc];
        if (q.out_vc < 0) {
            q.out_port = n.out;
            q.out_vc = n.out_vc;
            op.taken_vcs = static_cast<std::uint16_t>(op.taken_vcs | 1u << n.out_vc);
            op.rr_output_vc = static_cast<std::uint8_t>(n.out_vc + 1);
        }
        if (f.flags & kTail) {
            op.taken_vcs = static_cast<std::uint16_t>(op.taken_vcs & ~(1u << n.out_vc));
            q.out_port = -1;
            q.out_vc = -1;
        }
        if (--q.count == 0) {
            ip.nonempty_vcs = static_cast<std::uint16_t>(ip.nonempty_vcs & ~(1u << n.vc));
            if (!ip.nonempty_vcs) router.nonempty_ports &= ~(1u << p);
        } else {
            const Flit& next = buffer[q.head];
            q.head_ready = next.ready;
            q.head_route = static_cast<std::int8_t>((next.flags & kHead) ? route(r, next) : -1);
        }
        ++router_traversals_;
        if (const int up = ip.credit_to; up >= 0)
            // The freed slot's credit reaches the upstream router a link latency from now.
            returning_.push_back({c + link, static_cast<std::uint32_t>(up * V + n.vc)});
        if (op.eject_endpoint >= 0) {
            ++flits_ejected_;
            std::uint32_t& got = packet_ejected_[f.packet];
            ++got;
            if (f.flags & kTail) {
                AIMC_ASSERT(got == packet_flits_[f.packet] && (f.flags & kHead || got > 1),
                            "packet " + std::to_string(f.packet) + " ejected with " + std::to_string(got) + " of " +
                                    std::to_string(packet_flits_[f.packet]) + " flits");
                ejected.push_back({f.packet, c + link});
            }
        } else {
            --ovc.credits;
            ++link_traversals_;
            ++op.link_flits;
            push_flit<kV, kB>(op.down_router, op.link_to, n.out_vc, f, c + pipeline);
        }
    }
    router.stall_cycles += static_cast<std::uint64_t>(count16(eligible & ~granted));
    return granted != 0;
}

bool MeshNetwork::step(std::uint64_t c, std::vector<Ejection>& ejected) {
    if (input_vcs_.empty()) build();
    // Credits arriving by this cycle (returns arrive in the order they were sent).
    if (returning_front_ < returning_.size()) {
        const ReturningCredit* const due = returning_.data();
        const std::size_t n = returning_.size();
        std::size_t i = returning_front_;
        for (; i < n && due[i].due <= c; ++i) ++output_vcs_[due[i].ovc].credits;
        if (i == n) {
            returning_.clear();
            i = 0;
        } else if (i >= 4096 && 2 * i >= n) {
            // With link_latency > 1 credits are always on their way: drop the applied ones now
            // and then (amortised constant cost per credit) so the FIFO stays bounded.
            returning_.erase(returning_.begin(), returning_.begin() + static_cast<std::ptrdiff_t>(i));
            i = 0;
        }
        returning_front_ = i;
    }
    bool moved = inject_from_sources(c);
    // The common virtual channel counts, with the default buffer depth of 4 where it applies.
    const bool depth4 = B_ == 4;
    switch (V_) {
        case 1: return (depth4 ? visit_routers<1, 4>(c, ejected) : visit_routers<1, 0>(c, ejected)) || moved;
        case 2: return (depth4 ? visit_routers<2, 4>(c, ejected) : visit_routers<2, 0>(c, ejected)) || moved;
        case 4: return (depth4 ? visit_routers<4, 4>(c, ejected) : visit_routers<4, 0>(c, ejected)) || moved;
        default: return visit_routers<0, 0>(c, ejected) || moved;
    }
}

template <int kV, int kB>
bool MeshNetwork::visit_routers(std::uint64_t c, std::vector<Ejection>& ejected) {
    bool moved = false;
    // Routers that receive flits in this cycle are visited from the next one on.
    const std::size_t visiting = active_routers_.size();
    std::size_t keep = 0;
    for (std::size_t i = 0; i < active_routers_.size(); ++i) {
        const int r = active_routers_[i];
        if (i < visiting) moved |= allocate<kV, kB>(r, c, ejected);
        Router& router = routers_[static_cast<std::size_t>(r)];
        if (router.buffered)
            active_routers_[keep++] = r;
        else
            router.active = 0;
    }
    active_routers_.resize(keep);
    return moved;
}

std::optional<std::uint64_t> MeshNetwork::next_busy_cycle(std::uint64_t c) const {
    // A router holding flits (some perhaps still on a link) is visited every cycle.
    if (!active_routers_.empty()) return c + 1;
    std::optional<std::uint64_t> next;
    for (int id : active_sources_) {
        const Source& s = sources_[static_cast<std::size_t>(id)];
        if (s.front == s.queue.size()) continue;
        const std::uint64_t at = std::max(c + 1, s.queue[s.front].ready);
        if (!next || at < *next) next = at;
    }
    return next;
}

void MeshNetwork::fail_link(int r, Direction d) {
    if (input_vcs_.empty()) build();
    AIMC_ASSERT(has_link(r, d), "no such link");
    for (int v = 0; v < V_; ++v) output_vcs_[static_cast<std::size_t>(gp(r, d) * V_ + v)].credits = -16384;
}

bool MeshNetwork::has_link(int r, Direction d) const {
    return !port_.empty() && port_[static_cast<std::size_t>(gp(r, d))].link_to >= 0;
}

std::uint64_t MeshNetwork::link_flits(int r, Direction d) const {
    return port_.empty() ? 0 : port_[static_cast<std::size_t>(gp(r, d))].link_flits;
}

std::string MeshNetwork::stuck_report(std::uint64_t c) const {
    std::string s;
    int listed = 0;
    for (int r = 0; r < routers() && listed < 16; ++r) {
        const Router& router = routers_[static_cast<std::size_t>(r)];
        if (!router.buffered) continue;
        ++listed;
        s += "  router " + std::to_string(r) + " at (" + std::to_string(router.x) + ", " + std::to_string(router.y) +
             "): " + std::to_string(router.buffered) + " flits buffered";
        for (int p = 0; p < router.ports; ++p)
            for (int v = 0; v < V_; ++v) {
                const int g = gp(r, p);
                const InputVc& q = ivc(g, v);
                if (!q.count) continue;
                const Flit& f = flits_[static_cast<std::size_t>(g * V_ + v) * static_cast<std::size_t>(B_) + q.head];
                const int out = q.out_vc >= 0 ? q.out_port : route(r, f);
                const std::string in_name = p < kMeshPorts ? kPortNames[p] : "local " + std::to_string(p - kMeshPorts);
                const std::string out_name = out < kMeshPorts ? kPortNames[out] : "ejection";
                std::string why;
                if (f.ready > c)
                    why = "in the router pipeline";
                else if (q.out_vc < 0)
                    why = "waits for a free virtual channel with a credit";
                else if (output_vcs_[static_cast<std::size_t>((router.base + out) * V_ + q.out_vc)].credits <= 0)
                    why = "waits for a credit on vc " + std::to_string(q.out_vc);
                else
                    why = "waits for the switch";
                s += "\n    input " + in_name + " vc " + std::to_string(v) + ": " + std::to_string(q.count) +
                     " flits, head of message " + std::to_string(f.packet) + " to output " + out_name + ": " + why;
            }
        s += "\n";
    }
    if (listed == 0) s = "  no router holds flits; messages wait in their source interfaces\n";
    return s;
}

}  // namespace aimc
