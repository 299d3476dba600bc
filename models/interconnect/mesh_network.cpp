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

}  // namespace

MeshNetwork::MeshNetwork(const MeshParams& p) : params_(p), V_(p.virtual_channels), B_(p.buffer_depth) {
    AIMC_ASSERT(p.cols >= 1 && p.rows >= 1 && p.cols * p.rows <= 65535, "mesh size out of range");
    AIMC_ASSERT(V_ >= 1 && V_ <= 16, "virtual channels out of range");
    AIMC_ASSERT(B_ >= 1 && B_ <= 1024, "buffer depth out of range");
    AIMC_ASSERT(p.router_latency >= 1 && p.link_latency >= 1, "router and link latencies must be >= 1 cycle");
    const int n = routers();
    router_x_.resize(static_cast<std::size_t>(n));
    router_y_.resize(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        router_x_[static_cast<std::size_t>(r)] = r % p.cols;
        router_y_[static_cast<std::size_t>(r)] = r / p.cols;
    }
    ports_.assign(static_cast<std::size_t>(n), kMeshPorts);
}

void MeshNetwork::attach(int id, int x, int y) {
    AIMC_ASSERT(input_vcs_.empty(), "endpoint attached after the first message");
    AIMC_ASSERT(x >= 0 && x < params_.cols && y >= 0 && y < params_.rows && id >= 0, "endpoint outside the mesh");
    const int r = y * params_.cols + x;
    AIMC_ASSERT(ports_[static_cast<std::size_t>(r)] < kMaxPorts, "too many endpoints on one router");
    if (sources_.size() <= static_cast<std::size_t>(id)) sources_.resize(static_cast<std::size_t>(id) + 1);
    Source& s = sources_[static_cast<std::size_t>(id)];
    s.router = r;
    s.port = ports_[static_cast<std::size_t>(r)]++;
}

// Builds the port, buffer and credit tables once every endpoint is attached.
void MeshNetwork::build() {
    const int n = routers();
    port_base_.resize(static_cast<std::size_t>(n));
    int total = 0;
    for (int r = 0; r < n; ++r) {
        port_base_[static_cast<std::size_t>(r)] = total;
        total += ports_[static_cast<std::size_t>(r)];
    }
    const auto P = static_cast<std::size_t>(total), PV = P * static_cast<std::size_t>(V_);
    port_router_.resize(P);
    for (int r = 0; r < n; ++r)
        for (int p = 0; p < ports_[static_cast<std::size_t>(r)]; ++p) port_router_[static_cast<std::size_t>(gp(r, p))] = r;
    link_to_.assign(P, -1);
    credit_to_.assign(P, -1);
    eject_endpoint_.assign(P, -1);
    output_vcs_.assign(PV, OutputVc{});
    returning_at_.assign(PV * static_cast<std::size_t>(B_), 0);
    for (int r = 0; r < n; ++r) {
        const int x = router_x_[static_cast<std::size_t>(r)], y = router_y_[static_cast<std::size_t>(r)];
        const int neighbour[4] = {x + 1 < params_.cols ? r + 1 : -1, x > 0 ? r - 1 : -1,
                                  y > 0 ? r - params_.cols : -1, y + 1 < params_.rows ? r + params_.cols : -1};
        for (int d = 0; d < kMeshPorts; ++d) {
            if (neighbour[d] < 0) continue;
            const int out = gp(r, d), in = gp(neighbour[d], opposite(d));
            link_to_[static_cast<std::size_t>(out)] = in;
            credit_to_[static_cast<std::size_t>(in)] = out;
            for (int v = 0; v < V_; ++v) output_vcs_[static_cast<std::size_t>(out * V_ + v)].credits = static_cast<std::int16_t>(B_);
        }
    }
    for (std::size_t id = 0; id < sources_.size(); ++id) {
        const Source& s = sources_[id];
        if (s.port < kMeshPorts) continue;  // an id that was never attached
        const int out = gp(s.router, s.port);
        eject_endpoint_[static_cast<std::size_t>(out)] = static_cast<int>(id);
        // Interfaces always accept flits: the ejection port never runs out of credits.
        for (int v = 0; v < V_; ++v)
            output_vcs_[static_cast<std::size_t>(out * V_ + v)].credits = std::numeric_limits<std::int16_t>::max();
    }
    input_vcs_.resize(PV);
    nonempty_ports_.assign(static_cast<std::size_t>(n), 0);
    flits_.resize(PV * static_cast<std::size_t>(B_));
    nonempty_vcs_.assign(P, 0);
    rr_input_vc_.assign(P, 0);
    rr_output_.assign(P, 0);
    rr_output_vc_.assign(P, 0);
    link_flits_.assign(P, 0);
    buffered_.assign(static_cast<std::size_t>(n), 0);
    router_active_.assign(static_cast<std::size_t>(n), 0);
    stall_cycles_.assign(static_cast<std::size_t>(n), 0);
    occupancy_.assign(static_cast<std::size_t>(n), 0);
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
    const int x = router_x_[static_cast<std::size_t>(r)], y = router_y_[static_cast<std::size_t>(r)];
    const int dx = router_x_[f.dst_router], dy = router_y_[f.dst_router];
    if (dx > x) return East;
    if (dx < x) return West;
    if (dy < y) return North;
    if (dy > y) return South;
    return f.dst_port;
}

void MeshNetwork::activate(int r) {
    if (router_active_[static_cast<std::size_t>(r)]) return;
    router_active_[static_cast<std::size_t>(r)] = 1;
    active_routers_.push_back(r);
}

void MeshNetwork::set_head(int r, InputVc& q, const Flit& f) {
    q.head_ready = f.ready;
    q.head_route = static_cast<std::int8_t>((f.flags & kHead) ? route(r, f) : -1);
}

void MeshNetwork::push_flit(int r, int global_port, int vc, const Flit& f) {
    InputVc& q = ivc(global_port, vc);
    AIMC_ASSERT(q.count < B_, "flit written into a full buffer (credit error)");
    const std::size_t base = static_cast<std::size_t>(global_port * V_ + vc) * static_cast<std::size_t>(B_);
    flits_[base + static_cast<std::size_t>(wrap(q.head + q.count, B_))] = f;
    if (q.count++ == 0) {
        set_head(r, q, f);
        nonempty_vcs_[static_cast<std::size_t>(global_port)] |= static_cast<std::uint16_t>(1u << vc);
        nonempty_ports_[static_cast<std::size_t>(r)] |= 1u << (global_port - port_base_[static_cast<std::size_t>(r)]);
    }
    ++buffered_[static_cast<std::size_t>(r)];
    activate(r);
}

int MeshNetwork::credits(std::size_t o, std::uint64_t c) {
    OutputVc& out = output_vcs_[o];
    while (out.returning && returning_at_[o * static_cast<std::size_t>(B_) + out.returning_head] <= c) {
        ++out.credits;
        out.returning_head = static_cast<std::uint16_t>(wrap(out.returning_head + 1, B_));
        --out.returning;
    }
    return out.credits;
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
        const int g = gp(s.router, s.port);
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
        push_flit(s.router, g, s.vc, f);
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

bool MeshNetwork::allocate(int r, std::uint64_t c, std::vector<Ejection>& ejected) {
    const auto R = static_cast<std::size_t>(r);
    occupancy_[R] += buffered_[R];
    const int np = ports_[R], base = port_base_[R];
    struct Nomination {
        std::int8_t vc, out, out_vc;
    };
    Nomination nom[kMaxPorts];
    std::uint32_t requests[kMaxPorts];  // per output port: nominating input ports
    std::uint32_t requested = 0;        // output ports with requests
    std::uint32_t eligible = 0;         // input ports with a flit ready to leave
    for (std::uint32_t ports = nonempty_ports_[R]; ports; ports &= ports - 1) {
        const int p = __builtin_ctz(ports);
        const int g = base + p;
        const std::uint32_t mask = nonempty_vcs_[static_cast<std::size_t>(g)];
        const int start = rr_input_vc_[static_cast<std::size_t>(g)];
        // The non-empty VCs in round-robin order from `start`: rotate, then walk the set bits.
        for (std::uint32_t rotated = ((mask >> start) | (mask << (V_ - start))) & ((1u << V_) - 1u); rotated;
             rotated &= rotated - 1) {
            const int v = wrap(start + __builtin_ctz(rotated), V_);
            const InputVc& q = ivc(g, v);
            if (q.head_ready > c) continue;
            eligible |= 1u << p;
            int out = q.out_port, out_vc = q.out_vc;
            if (out_vc < 0) {
                // A head flit: a free output virtual channel with a credit on its route.
                out = q.head_route;
                const int go = base + out;
                const int first = rr_output_vc_[static_cast<std::size_t>(go)];
                for (int j = 0; j < V_ && out_vc < 0; ++j) {
                    const int w = wrap(first + j, V_);
                    const auto o = static_cast<std::size_t>(go * V_ + w);
                    if (!output_vcs_[o].taken && credits(o, c) > 0) out_vc = w;
                }
                if (out_vc < 0) continue;
            } else if (credits(static_cast<std::size_t>((base + out) * V_ + out_vc), c) <= 0) {
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
    for (; requested; requested &= requested - 1) {
        const int out = __builtin_ctz(requested);
        const std::uint32_t req = requests[out];
        const int go = base + out;
        // Round-robin: the first requesting input at or after the pointer.
        const int start = rr_output_[static_cast<std::size_t>(go)];
        const std::uint32_t rotated = (req >> start) | (req << (np - start));
        const int p = wrap(start + __builtin_ctz(rotated & ((1u << np) - 1u)), np);
        granted |= 1u << p;
        rr_output_[static_cast<std::size_t>(go)] = static_cast<std::uint8_t>(wrap(p + 1, np));
        const Nomination n = nom[p];
        const int g = base + p;
        rr_input_vc_[static_cast<std::size_t>(g)] = static_cast<std::uint8_t>(wrap(n.vc + 1, V_));
        InputVc& q = ivc(g, n.vc);
        const std::size_t slots = static_cast<std::size_t>(g * V_ + n.vc) * static_cast<std::size_t>(B_);
        const Flit f = flits_[slots + q.head];
        q.head = static_cast<std::uint16_t>(wrap(q.head + 1, B_));
        --buffered_[R];
        const auto o = static_cast<std::size_t>(go * V_ + n.out_vc);
        OutputVc& ovc = output_vcs_[o];
        if (q.out_vc < 0) {
            q.out_port = n.out;
            q.out_vc = n.out_vc;
            ovc.taken = 1;
            rr_output_vc_[static_cast<std::size_t>(go)] = static_cast<std::uint8_t>(wrap(n.out_vc + 1, V_));
        }
        if (f.flags & kTail) {
            ovc.taken = 0;
            q.out_port = -1;
            q.out_vc = -1;
        }
        if (--q.count == 0) {
            nonempty_vcs_[static_cast<std::size_t>(g)] &= static_cast<std::uint16_t>(~(1u << n.vc));
            if (!nonempty_vcs_[static_cast<std::size_t>(g)]) nonempty_ports_[R] &= ~(1u << p);
        } else {
            set_head(r, q, flits_[slots + q.head]);
        }
        ++router_traversals_;
        if (const int up = credit_to_[static_cast<std::size_t>(g)]; up >= 0) {
            // The freed slot's credit reaches the upstream router a link latency from now.
            const auto u = static_cast<std::size_t>(up * V_ + n.vc);
            OutputVc& back = output_vcs_[u];
            returning_at_[u * static_cast<std::size_t>(B_) + static_cast<std::size_t>(wrap(back.returning_head + back.returning, B_))] =
                    c + link;
            ++back.returning;
        }
        if (eject_endpoint_[static_cast<std::size_t>(go)] >= 0) {
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
            ++link_flits_[static_cast<std::size_t>(go)];
            Flit next = f;
            next.ready = c + pipeline;
            const int down = link_to_[static_cast<std::size_t>(go)];
            push_flit(port_router_[static_cast<std::size_t>(down)], down, n.out_vc, next);
        }
    }
    for (std::uint32_t stalled = eligible & ~granted; stalled; stalled &= stalled - 1) ++stall_cycles_[R];
    return granted != 0;
}

bool MeshNetwork::step(std::uint64_t c, std::vector<Ejection>& ejected) {
    if (input_vcs_.empty()) build();
    bool moved = inject_from_sources(c);
    // Routers that receive flits in this cycle are visited from the next one on.
    const std::size_t visiting = active_routers_.size();
    std::size_t keep = 0;
    for (std::size_t i = 0; i < active_routers_.size(); ++i) {
        const int r = active_routers_[i];
        if (i < visiting) moved |= allocate(r, c, ejected);
        if (buffered_[static_cast<std::size_t>(r)])
            active_routers_[keep++] = r;
        else
            router_active_[static_cast<std::size_t>(r)] = 0;
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
    return !port_base_.empty() && link_to_[static_cast<std::size_t>(gp(r, d))] >= 0;
}

std::uint64_t MeshNetwork::link_flits(int r, Direction d) const {
    return port_base_.empty() ? 0 : link_flits_[static_cast<std::size_t>(gp(r, d))];
}

std::string MeshNetwork::stuck_report(std::uint64_t c) const {
    std::string s;
    int listed = 0;
    for (int r = 0; r < routers() && listed < 16; ++r) {
        if (buffered_.empty() || !buffered_[static_cast<std::size_t>(r)]) continue;
        ++listed;
        s += "  router " + std::to_string(r) + " at (" + std::to_string(router_x_[static_cast<std::size_t>(r)]) + ", " +
             std::to_string(router_y_[static_cast<std::size_t>(r)]) + "): " +
             std::to_string(buffered_[static_cast<std::size_t>(r)]) + " flits buffered";
        for (int p = 0; p < ports_[static_cast<std::size_t>(r)]; ++p)
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
                else if (output_vcs_[static_cast<std::size_t>((port_base_[static_cast<std::size_t>(r)] + out) * V_ + q.out_vc)].credits <= 0)
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
