#include "models/interconnect/mesh_network.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "sim/errors.hpp"

namespace aimc {

namespace {

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

// `cond ? a : b` without a branch. Whether a flit is a head, a tail or the first in its buffer, or
// which way it turns, is as good as random to a branch predictor, and compilers often turn
// ternaries into branches: on x86-64 this is a conditional move, elsewhere mask arithmetic.
template <typename T>
inline T pick(bool cond, T a, T b) {
    static_assert(std::is_integral_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "pick: 32- or 64-bit integers");
#if defined(__GNUC__) && defined(__x86_64__)
    asm("testb %1, %1\n\tcmovnz %2, %0" : "+r"(b) : "q"(cond), "rm"(a) : "cc");
    return b;
#else
    using U = std::make_unsigned_t<T>;
    const U mask = U{0} - static_cast<U>(cond);
    return static_cast<T>(static_cast<U>(b) ^ ((static_cast<U>(a) ^ static_cast<U>(b)) & mask));
#endif
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

// Builds the port, buffer, credit and gate tables once every endpoint is attached.
void MeshNetwork::build() {
    const int n = routers();
    int total = 0, gates = 0;
    for (Router& router : routers_) {
        router.base = total;
        total += router.ports;
        router.gates = static_cast<std::uint32_t>(gates);
        gates += kMaxPorts + router.ports * V_;
    }
    const auto P = static_cast<std::size_t>(total), PV = P * static_cast<std::size_t>(V_);
    port_.assign(P, Port{});
    link_flits_.assign(P, 0);
    gates_.assign(static_cast<std::size_t>(gates), 0);
    coords_.resize(static_cast<std::size_t>(n));
    if (n <= kRouteTable) {
        route_stride_ = n;
        routes_.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
        for (int r = 0; r < n; ++r)
            for (int d = 0; d < n; ++d) {
                const Router &a = routers_[static_cast<std::size_t>(r)], &b = routers_[static_cast<std::size_t>(d)];
                routes_[static_cast<std::size_t>(r * n + d)] = static_cast<std::uint8_t>(
                        b.x > a.x ? East : b.x < a.x ? West : b.y < a.y ? North : b.y > a.y ? South : 0xff);
            }
    }
    for (int r = 0; r < n; ++r) {
        const Router& router = routers_[static_cast<std::size_t>(r)];
        coords_[static_cast<std::size_t>(r)] = {router.x, router.y};
        for (int p = 0; p < router.ports; ++p) {
            port_[static_cast<std::size_t>(router.base + p)].number = static_cast<std::uint16_t>(p);
            port_[static_cast<std::size_t>(router.base + p)].gates = router.gates;
        }
    }
    // An output port that leads somewhere starts with `credits` on every VC, all free.
    const auto open = [&](int out, int credits) {
        const Port& o = port_[static_cast<std::size_t>(out)];
        std::int16_t* const g = gates_.data() + o.gates;
        for (int v = 0; v < V_; ++v) this->credits(g, o.number)[v] = static_cast<std::int16_t>(credits);
        port_[static_cast<std::size_t>(out)].credited_vcs = static_cast<std::uint16_t>((1u << V_) - 1u);
        g[o.number] = 1;
    };
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
            o.down_port = static_cast<std::uint16_t>(opposite(d));
            port_[static_cast<std::size_t>(in)].credit_to = out;
            open(out, B_);
        }
    }
    for (std::size_t id = 0; id < sources_.size(); ++id) {
        Source& s = sources_[id];
        if (s.port < kMeshPorts) continue;  // an id that was never attached
        const int out = gp(s.router, s.port);
        s.global_port = out;
        // Interfaces always accept flits: the ejection port never runs out of credits (it
        // spends none).
        open(out, std::numeric_limits<std::int16_t>::max());
    }
    input_vcs_.resize(PV);
    flits_.resize(PV * static_cast<std::size_t>(B_));
    // Room for the credits of a few cycles; return_credits() grows the ring when needed.
    std::size_t ring = 64;
    while (ring < 4 * P) ring *= 2;
    returning_.resize(ring);
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

// XY routing: from a table of the ways between routers on meshes of up to kRouteTable routers
// (one load), else from the coordinates, with selects: which way a head flit goes is as good as
// random to a branch predictor.
inline int MeshNetwork::route(int r, const Flit& f) const {
    if (!routes_.empty()) {
        const unsigned way = routes_[static_cast<std::size_t>(r * route_stride_ + f.dst_router)];
        const unsigned here = 0u - (way >> 7);  // all ones: the destination router, way 0xff
        return static_cast<int>((way & ~here) | (f.dst_port & here));
    }
    const Coord at = coords_[static_cast<std::size_t>(r)], dst = coords_[f.dst_router];
    const int y_way = pick(dst.y < at.y, static_cast<int>(North), pick(dst.y > at.y, static_cast<int>(South), static_cast<int>(f.dst_port)));
    return pick(dst.x != at.x, pick(dst.x < at.x, static_cast<int>(West), static_cast<int>(East)), y_way);
}

std::int32_t MeshNetwork::credit(int global_port, int vc) const {
    const Port& o = port_[static_cast<std::size_t>(global_port)];
    return gates_[o.gates + static_cast<std::size_t>(kMaxPorts + o.number * V_ + vc)];
}

// Writes flit f, ready to leave at `ready`, into input VC vc of port `port` (global port g) of
// router r (its credit was spent upstream). f may be the flit's slot upstream: it is copied once,
// here.
template <int kV, int kB>
[[gnu::always_inline]] inline void MeshNetwork::push_flit(int r, int g, int port, int vc, const Flit& f,
                                                          std::uint64_t ready) {
    const int V = kV > 0 ? kV : V_, B = kB > 0 ? kB : B_;
    const auto qi = static_cast<std::size_t>(g * V + vc);
    InputVc& q = input_vcs_[qi];
    AIMC_ASSERT(q.count < B_, "flit written into a full buffer (credit error)");
    Flit& slot = flits_[qi * static_cast<std::size_t>(B) + static_cast<std::size_t>(wrap_slot<kB>(q.head + q.count, B))];
    const int to = route(r, f);
    slot.packet = f.packet;
    slot.dst_router = f.dst_router;
    slot.dst_port = f.dst_port;
    slot.flags = static_cast<std::uint8_t>((f.flags & (kHead | kTail)) | to << kRouteShift);
    slot.ready = ready;
    // Into an empty VC the flit becomes the head. A head flit waits for an output VC on its route;
    // a body flit follows its packet, whose port and gate the VC kept.
    const bool was_empty = q.count++ == 0, new_head = was_empty & ((f.flags & kHead) != 0);
    q.head_ready = pick(was_empty, ready, q.head_ready);
    q.out = static_cast<std::uint16_t>(pick<int>(new_head, to, q.out));
    q.gate = static_cast<std::uint16_t>(pick<int>(new_head, to, q.gate));
    Router& router = routers_[static_cast<std::size_t>(r)];
    router.nonempty_ports |= 1u << port;
    ++router.buffered;
    if (!router.active) {
        router.active = 1;
        active_routers_.push_back(r);
    }
}

template <int kV, int kB>
bool MeshNetwork::inject_from_sources(std::uint64_t c) {
    const int V = kV > 0 ? kV : V_;
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
        const InputVc* const pq = input_vcs_.data() + g * V;
        // A new message takes an empty virtual channel if there is one, else one with room
        // (round-robin from next_vc); all its flits follow in that VC.
        std::uint32_t empty = 0, room = 0;
        for (int v = 0; v < V; ++v) {
            empty |= static_cast<std::uint32_t>(pq[v].count == 0) << v;
            room |= static_cast<std::uint32_t>(pq[v].count < B_) << v;
        }
        const std::uint32_t choice = pick(empty != 0, empty, room);
        const int vc = pick(s.vc < 0, turn_member(in_turn(choice, s.next_vc) | 0x10000u, s.next_vc), s.vc);
        if (!((room >> vc) & 1u)) continue;  // a VC is chosen only with room
        if (s.vc < 0) {
            s.vc = vc;
            s.next_vc = wrap(vc + 1, V);
        }
        Flit f;
        f.packet = m.packet;
        f.dst_router = m.dst_router;
        f.dst_port = m.dst_port;
        f.flags = static_cast<std::uint8_t>((s.sent == 0 ? kHead : 0) | (s.sent + 1 == m.flits ? kTail : 0));
        push_flit<kV, kB>(s.router, g, s.port, s.vc, f, c + static_cast<std::uint64_t>(params_.router_latency));
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

// One router's cycle: separable input-first allocation, then the granted flits leave. Which VCs
// are ready, hold an output VC or have credits is as good as random to a branch predictor, so
// the nominations are computed without branches on it: a VC's gate says whether it can go on.
template <int kV, int kB>
bool MeshNetwork::allocate(int r, std::uint64_t c, std::vector<Ejection>& ejected) {
    Router& router = routers_[static_cast<std::size_t>(r)];
    const int V = kV > 0 ? kV : V_, B = kB > 0 ? kB : B_, base = router.base;
    Port* const port = port_.data() + base;              // this router's ports, by port number
    InputVc* const ivcs = input_vcs_.data() + base * V;  // by port * V + vc
    std::int16_t* const gates = gates_.data() + router.gates;
    std::uint16_t nom_vc[kMaxPorts];         // per input port: the VC it nominates
    std::uint32_t requests[kMaxPorts] = {};  // per output port: nominating input ports
    std::uint32_t requested = 0;             // output ports with requests
    std::uint32_t eligible = 0;              // input ports with a flit ready to leave
    for (std::uint32_t ports = router.nonempty_ports; ports; ports &= ports - 1) {
        const int p = __builtin_ctz(ports);
        const InputVc* const pq = ivcs + p * V;
        // Per VC: its head flit has finished the pipeline (ready) and its gate is open (go).
        std::uint32_t ready = 0, go = 0;
        for (int v = 0; v < V; ++v) {
            const std::uint32_t is_ready = pq[v].head_ready <= c;
            ready |= is_ready << v;
            go |= (is_ready & (gates[pq[v].gate] > 0)) << v;
        }
        eligible |= static_cast<std::uint32_t>(ready != 0) << p;
        // The first VC that can go, in round-robin order from the port's start (the sentinel bit
        // 16 makes an empty set pick the start itself, perhaps V; then nothing is requested).
        const int start = port[p].rr_input_vc;
        int v;
        if constexpr (kV == 1) {
            v = 0;
        } else if constexpr (kV == 2) {
            // Two VCs: the start (0, 1, or 2 meaning 0) if it can go, else the other.
            const int first = start & 1;
            v = pick((go >> first) & 1u, first, first ^ 1);
        } else {
            v = turn_member(in_turn(go, start) | 0x10000u, start);
        }
        const std::uint32_t nominates = go != 0;
        nom_vc[p] = static_cast<std::uint16_t>(v);
        const int out = pq[kV == 1 || kV == 2 ? v : pick(v < V, v, 0)].out;
        requests[out] |= nominates << p;
        requested |= nominates << out;
    }
    if (!eligible) return false;
    std::uint32_t granted = 0;
    const auto link = static_cast<std::uint64_t>(params_.link_latency);
    const auto pipeline = link + static_cast<std::uint64_t>(params_.router_latency);
    Flit* const slots = flits_.data() + static_cast<std::size_t>(base * V) * static_cast<std::size_t>(B);
    std::uint64_t* const link_flits = link_flits_.data() + base;
    std::uint32_t* const ring = returning_.data();
    const std::size_t ring_mask = returning_.size() - 1;
    // Counters in locals for the loop (stores through the many pointers could alias members;
    // flits pushed downstream go to other routers).
    std::size_t ring_tail = returning_tail_;
    std::uint32_t buffered = router.buffered, nonempty_ports = router.nonempty_ports;
    std::uint64_t ejected_flits = 0, occupancy = 0;
    // Each output port grants one of the inputs that nominated it, mesh ports first, then
    // ejection ports, each in port order; the granted flit leaves its buffer.
    for (; requested; requested &= requested - 1) {
        const int out = __builtin_ctz(requested);
        Port& op = port[out];
        // Round-robin: the first requesting input at or after the pointer.
        const int start = op.rr_output;
        const int p = turn_member(in_turn(requests[out], start), start);
        granted |= 1u << p;
        op.rr_output = static_cast<std::uint16_t>(p + 1);  // in_turn() wraps it
        const int v = nom_vc[p];
        Port& ip = port[p];
        ip.rr_input_vc = static_cast<std::uint16_t>(v + 1);
        const int qi = p * V + v;
        InputVc& q = ivcs[qi];
        Flit* const buffer = slots + static_cast<std::size_t>(qi) * static_cast<std::size_t>(B);
        const Flit& f = buffer[q.head];  // stays in its slot until pushed downstream
        q.head = static_cast<std::uint16_t>(wrap_slot<kB>(q.head + 1, B));
        const int left = --q.count;
        --buffered;
        occupancy += c - arrival(p, f);
        // A head flit takes the first free output VC with a credit, round-robin (the VC
        // allocation folded into the switch allocation); the tail gives its VC back.
        const std::uint32_t free = static_cast<std::uint32_t>(op.credited_vcs & ~op.taken_vcs);
        const bool holds = q.gate >= kMaxPorts, tail = f.flags & kTail;
        const int first = op.rr_output_vc;
        const int w = pick(holds, q.gate - (kMaxPorts + out * V), turn_member(in_turn(free, first) | 0x10000u, first));
        const std::uint32_t bit = 1u << w;
        op.rr_output_vc = static_cast<std::uint16_t>(pick(holds, first, w + 1));
        const std::uint32_t taken = pick(tail, op.taken_vcs & ~bit, op.taken_vcs | bit);
        op.taken_vcs = static_cast<std::uint16_t>(taken);
        // The next flit, if any, becomes the head; after a tail it is a new packet's head flit,
        // which waits for an output VC on its route.
        const Flit& next = buffer[q.head];
        q.head_ready = pick(left != 0, next.ready, InputVc::kEmpty);
        std::uint32_t port_holds = 0;  // flits in any VC of port p
        for (int u = 0; u < V; ++u) port_holds |= ivcs[p * V + u].head_ready != InputVc::kEmpty;
        nonempty_ports &= ~((port_holds ^ 1u) << p);
        const int to = next.flags >> kRouteShift;
        q.out = static_cast<std::uint16_t>(pick(tail, to, out));
        q.gate = static_cast<std::uint16_t>(pick(tail, to, kMaxPorts + out * V + w));
        // The freed slot's credit reaches the upstream router a link latency from now (an
        // injection port has none: its interface looks at the buffer).
        ring[ring_tail & ring_mask] = static_cast<std::uint32_t>(ip.credit_to) << 4 | static_cast<std::uint32_t>(v);
        ring_tail += ip.credit_to >= 0;
        if (out < kMeshPorts) {
            // Spend a credit of w (the port's gate follows).
            const std::int32_t left_credits = --gates[kMaxPorts + out * V + w];
            const std::uint32_t credited = op.credited_vcs & ~(static_cast<std::uint32_t>(left_credits <= 0) << w);
            op.credited_vcs = static_cast<std::uint16_t>(credited);
            gates[out] = static_cast<std::int16_t>((credited & ~taken) != 0);
            ++link_flits[out];
            push_flit<kV, kB>(op.down_router, op.link_to, op.down_port, w, f, c + pipeline);
        } else {
            gates[out] = static_cast<std::int16_t>((op.credited_vcs & ~taken) != 0);
            ++ejected_flits;
            std::uint32_t& got = packet_ejected_[f.packet];
            ++got;
            if (tail) {
                AIMC_ASSERT(got == packet_flits_[f.packet] && (f.flags & kHead || got > 1),
                            "packet " + std::to_string(f.packet) + " ejected with " + std::to_string(got) + " of " +
                                    std::to_string(packet_flits_[f.packet]) + " flits");
                ejected.push_back({f.packet, c + link});
            }
        }
    }
    returning_tail_ = ring_tail;
    router.buffered = buffered;
    router.nonempty_ports = nonempty_ports;
    flits_ejected_ += ejected_flits;
    router.occupancy += occupancy;
    router.stall_cycles += static_cast<std::uint64_t>(count16(eligible & ~granted));
    return granted != 0;
}

// Counts in the credits that arrive by cycle c, and makes sure the ring has room for the
// credits of one more cycle.
template <int kV>
void MeshNetwork::return_credits(std::uint64_t c) {
    const int V = kV > 0 ? kV : V_;
    const std::size_t mask = returning_.size() - 1;
    for (; batches_front_ < batches_.size() && batches_[batches_front_].due <= c; ++batches_front_)
        for (const std::size_t end = batches_[batches_front_].end; returning_head_ != end; ++returning_head_) {
            const std::uint32_t credit = returning_[returning_head_ & mask];
            Port& o = port_[credit >> 4];
            const std::uint32_t vc = credit & 15u;
            std::int16_t* const g = gates_.data() + o.gates;
            const std::uint32_t credited =
                    o.credited_vcs | static_cast<std::uint32_t>(++g[kMaxPorts + o.number * V + static_cast<int>(vc)] > 0) << vc;
            o.credited_vcs = static_cast<std::uint16_t>(credited);
            g[o.number] = static_cast<std::int16_t>((credited & ~static_cast<std::uint32_t>(o.taken_vcs)) != 0);
        }
    if (batches_front_ == batches_.size()) {
        batches_.clear();
        batches_front_ = 0;
    } else if (batches_front_ >= 1024 && 2 * batches_front_ >= batches_.size()) {
        // With link_latency > 1 batches are always pending: drop the applied ones now and then
        // (amortised constant cost) so that the FIFO stays bounded.
        batches_.erase(batches_.begin(), batches_.begin() + static_cast<std::ptrdiff_t>(batches_front_));
        batches_front_ = 0;
    }
    // A cycle returns at most one credit per port (and writes one more, not kept, at the end).
    if (returning_tail_ - returning_head_ + port_.size() + 1 > returning_.size()) {
        std::vector<std::uint32_t> bigger(2 * returning_.size());
        for (std::size_t i = returning_head_; i != returning_tail_; ++i) bigger[i - returning_head_] = returning_[i & mask];
        for (std::size_t i = batches_front_; i < batches_.size(); ++i) batches_[i].end -= returning_head_;
        returning_tail_ -= returning_head_;
        returning_head_ = 0;
        returning_.swap(bigger);
    }
}

bool MeshNetwork::step(std::uint64_t c, std::vector<Ejection>& ejected) {
    if (input_vcs_.empty()) build();
    last_cycle_ = c;
    const std::size_t first = ejected.size();
    // The common virtual channel counts, with the default buffer depth of 4 where it applies.
    const bool depth4 = B_ == 4;
    bool moved;
    switch (V_) {
        case 1: moved = depth4 ? step_cycle<1, 4>(c, ejected) : step_cycle<1, 0>(c, ejected); break;
        case 2: moved = depth4 ? step_cycle<2, 4>(c, ejected) : step_cycle<2, 0>(c, ejected); break;
        case 4: moved = depth4 ? step_cycle<4, 4>(c, ejected) : step_cycle<4, 0>(c, ejected); break;
        default: moved = step_cycle<0, 0>(c, ejected);
    }
    // The packets of one cycle in the order of their handles, whatever order the routers were
    // visited in.
    std::sort(ejected.begin() + static_cast<std::ptrdiff_t>(first), ejected.end(),
              [](const Ejection& a, const Ejection& b) { return a.packet < b.packet; });
    return moved;
}

std::uint64_t MeshNetwork::occupancy_flit_cycles(int r) const {
    const Router& router = routers_[static_cast<std::size_t>(r)];
    std::uint64_t sum = router.occupancy;
    if (!router.buffered) return sum;
    // Flits still buffered count up to the last simulated cycle.
    for (int p = 0; p < router.ports; ++p)
        for (int v = 0; v < V_; ++v) {
            const int g = gp(r, p);
            const InputVc& q = ivc(g, v);
            for (int k = 0; k < q.count; ++k) {
                const Flit& f = flits_[static_cast<std::size_t>(g * V_ + v) * static_cast<std::size_t>(B_) +
                                       static_cast<std::size_t>((q.head + k) % B_)];
                sum += last_cycle_ + 1 - arrival(p, f);
            }
        }
    return sum;
}

template <int kV, int kB>
bool MeshNetwork::step_cycle(std::uint64_t c, std::vector<Ejection>& ejected) {
    return_credits<kV>(c);
    bool moved = inject_from_sources<kV, kB>(c);
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
    if (returning_tail_ != (batches_.size() > batches_front_ ? batches_.back().end : returning_head_))
        batches_.push_back({c + static_cast<std::uint64_t>(params_.link_latency), returning_tail_});
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
    const Port& o = port_[static_cast<std::size_t>(gp(r, d))];
    std::int16_t* const g = gates_.data() + o.gates;
    for (int v = 0; v < V_; ++v) credits(g, o.number)[v] = -16384;
    port_[static_cast<std::size_t>(gp(r, d))].credited_vcs = 0;
    g[o.number] = 0;
}

std::uint64_t MeshNetwork::link_traversals() const {
    std::uint64_t n = 0;
    for (const std::uint64_t flits : link_flits_) n += flits;
    return n;
}

bool MeshNetwork::has_link(int r, Direction d) const {
    return !port_.empty() && port_[static_cast<std::size_t>(gp(r, d))].link_to >= 0;
}

std::uint64_t MeshNetwork::link_flits(int r, Direction d) const {
    return port_.empty() ? 0 : link_flits_[static_cast<std::size_t>(gp(r, d))];
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
                const bool holds = q.gate >= kMaxPorts;
                const int out = q.out;
                const int out_vc = q.gate - kMaxPorts - out * V_;
                const std::string in_name = p < kMeshPorts ? kPortNames[p] : "local " + std::to_string(p - kMeshPorts);
                const std::string out_name = out < kMeshPorts ? kPortNames[out] : "ejection";
                std::string why;
                if (f.ready > c)
                    why = "in the router pipeline";
                else if (!holds)
                    why = "waits for a free virtual channel with a credit";
                else if (credit(router.base + out, out_vc) <= 0)
                    why = "waits for a credit on vc " + std::to_string(out_vc);
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
