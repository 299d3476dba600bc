#include "models/interconnect/mesh_network.hpp"

#include <algorithm>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// `cond ? a : b` without a branch. Which way a flit turns is as good as random to a branch
// predictor, and compilers often turn ternaries into branches: on x86-64 this is a conditional
// move, elsewhere mask arithmetic.
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

// Round-robin over the members of a set of at most 16 (virtual channels), from `start` (0..16;
// 16 or the member count means 0) on, wrapping around: bit k of the result is member
// (start + k) % 16. Doubling the set makes the wrap one shift, free of the member count.
inline std::uint32_t in_turn(std::uint32_t set, int start) { return ((set | set << 16) >> start) & 0xffffu; }
// The member that the lowest bit of in_turn(set, start) stands for.
inline int turn_member(std::uint32_t in_turn_bits, int start) { return (start + __builtin_ctz(in_turn_bits)) & 15; }

// Bit b of a plane set to `on`, without a branch.
inline void assign_bit(std::uint64_t& plane, std::uint64_t bit, bool on) {
    plane = (plane & ~bit) | (bit & (std::uint64_t{0} - static_cast<std::uint64_t>(on)));
}

// Round-robin arbitration on bit-planes, for each router of a group at once: among the members m
// of `request` (request[m * stride]: bit b set when member m of router b requests), the first at
// or after the router's start, wrapping around. `from[m * stride]` is the thermometer code of the
// start (bit b set when router b's start is <= m; all clear: a start past the last member, that
// is 0). Writes the winners to grant[m * stride] and returns the routers with any request.
template <int kN>
inline std::uint64_t round_robin(int n, const std::uint64_t* request, const std::uint64_t* from, int stride,
                                 std::uint64_t* grant) {
    const int count = kN > 0 ? kN : n;
    std::uint64_t at_or_after = 0, any = 0;  // routers with a request at or after their start; any
    std::uint64_t first_after[16], first_any[16];
    for (int m = 0; m < count; ++m) {
        const std::uint64_t req = request[m * stride], late = req & from[m * stride];
        first_after[m] = late & ~at_or_after;
        at_or_after |= late;
        first_any[m] = req & ~any;
        any |= req;
    }
    for (int m = 0; m < count; ++m) grant[m * stride] = first_after[m] | (first_any[m] & ~at_or_after);
    return any;
}

// The thermometer code of the start after a grant to member m, for the routers in `granted`:
// start m + 1, so bit b of from[k * stride] becomes (m < k). Others keep theirs.
inline void advance_past(int n, const std::uint64_t* grant, std::uint64_t granted, std::uint64_t* from, int stride) {
    std::uint64_t before = 0;  // routers whose grant went to a member before k
    for (int k = 0; k < n; ++k) {
        from[k * stride] = (from[k * stride] & ~granted) | (before & granted);
        before |= grant[k * stride];
    }
}

// The planes out[o] (o < ports) of the 64 bytes: bit b set where byte b equals o.
inline void bytes_to_planes(const std::uint8_t* bytes, int ports, std::uint64_t* out) {
#if defined(__SSE2__)
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)),
                  b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 16)),
                  c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 32)),
                  d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 48));
    for (int o = 0; o < ports; ++o) {
        const __m128i v = _mm_set1_epi8(static_cast<char>(o));
        const auto mask = [&v](__m128i x) {
            return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, v))));
        };
        out[o] = mask(a) | mask(b) << 16 | mask(c) << 32 | mask(d) << 48;
    }
#else
    for (int o = 0; o < ports; ++o) out[o] = 0;
    for (int k = 0; k < 64; ++k)
        if (bytes[k] < ports) out[bytes[k]] |= std::uint64_t{1} << k;
#endif
}

// The set bits of x (a library call without the popcnt instruction, which the x86-64 baseline
// lacks).
inline int bit_count(std::uint64_t x) {
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return static_cast<int>((x * 0x0101010101010101ull) >> 56);
}

// Adds 1 (subtracts 1) to the bit-sliced counts count[0..bits) of the routers in `which`.
inline void count_up(std::uint64_t* count, int bits, std::uint64_t which) {
    for (int k = 0; k < bits; ++k) {
        const std::uint64_t carry = count[k] & which;
        count[k] ^= which;
        which = carry;
    }
}
inline void count_down(std::uint64_t* count, int bits, std::uint64_t which) {
    for (int k = 0; k < bits; ++k) {
        const std::uint64_t borrow = ~count[k] & which;
        count[k] ^= which;
        which = borrow;
    }
}

// ORs a plane of all routers (word g of `from`: routers 64 g to 64 g + 63), with router r's bit
// moved to router r + by, into word `at` of each group's block of planes (`stride` words apart).
// Adds each group's new bits to counts[g] where counts is given.
inline void shift_into(const std::uint64_t* from, int groups, int by, std::uint64_t* planes, std::size_t stride,
                       std::size_t at, std::uint32_t* counts) {
    const int words = (by < 0 ? -by : by) / 64, bits = (by < 0 ? -by : by) % 64;
    for (int g = 0; g < groups; ++g) {
        const int src = by >= 0 ? g - words : g + words, spill = by >= 0 ? src - 1 : src + 1;
        std::uint64_t word = 0;
        if (src >= 0 && src < groups) word = by >= 0 ? from[src] << bits : from[src] >> bits;
        if (bits && spill >= 0 && spill < groups) word |= by >= 0 ? from[spill] >> (64 - bits) : from[spill] << (64 - bits);
        planes[static_cast<std::size_t>(g) * stride + at] |= word;
        if (counts) counts[g] += static_cast<std::uint32_t>(bit_count(word));
    }
}

}  // namespace

MeshNetwork::MeshNetwork(const MeshParams& p) : params_(p), V_(p.virtual_channels), B_(p.buffer_depth) {
    AIMC_ASSERT(p.cols >= 1 && p.rows >= 1 && p.cols * p.rows <= 65535, "mesh size out of range");
    AIMC_ASSERT(V_ >= 1 && V_ <= 16, "virtual channels out of range");
    AIMC_ASSERT(B_ >= 1 && B_ <= 1024, "buffer depth out of range");
    AIMC_ASSERT(p.router_latency >= 1 && p.link_latency >= 1 && p.router_latency <= 1000 && p.link_latency <= 1000,
                "router and link latencies must be 1 to 1000 cycles");
    const int n = routers();
    routers_.resize(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        routers_[static_cast<std::size_t>(r)].x = r % p.cols;
        routers_[static_cast<std::size_t>(r)].y = r / p.cols;
    }
}

void MeshNetwork::attach(int id, int x, int y) {
    AIMC_ASSERT(!built_, "endpoint attached after the first message");
    AIMC_ASSERT(x >= 0 && x < params_.cols && y >= 0 && y < params_.rows && id >= 0, "endpoint outside the mesh");
    const int r = y * params_.cols + x;
    Router& router = routers_[static_cast<std::size_t>(r)];
    AIMC_ASSERT(router.ports < kMaxPorts, "too many endpoints on one router");
    if (sources_.size() <= static_cast<std::size_t>(id)) sources_.resize(static_cast<std::size_t>(id) + 1);
    Source& s = sources_[static_cast<std::size_t>(id)];
    s.router = r;
    s.port = router.ports++;
}


// Builds the port, buffer, credit and plane tables once every endpoint is attached.
void MeshNetwork::build() {
    built_ = true;
    const int n = routers(), groups = (n + kGroup - 1) / kGroup;
    for (const Router& router : routers_) P_ = std::max(P_, static_cast<int>(router.ports));
    const int P = P_, V = V_, NV = P * V;
    layout_ = plane_layout(P, V);
    // The wheel reaches as far ahead as a flit's ready cycle is set: link + router latency.
    wheel_ = 2;
    while (wheel_ <= params_.link_latency + params_.router_latency) wheel_ *= 2;
    credit_bits_ = credit_bits(B_);
    due_at_ = static_cast<std::size_t>(tallies_at(layout_, P, V, credit_bits_) + (P + kMeshPorts) * kTallyBits);
    back_at_ = due_at_ + static_cast<std::size_t>(wheel_ * NV);
    plane_stride_ = back_at_ + static_cast<std::size_t>(wheel_ * P * V);
    planes_.assign(static_cast<std::size_t>(groups) * plane_stride_, 0);
    for (int g = 0; g < groups; ++g) {  // every round-robin start is 0: <= every member
        Mask* pl = planes(g);
        std::fill(pl + layout_.rr_in, pl + layout_.rr_in + NV, ~Mask{0});
        std::fill(pl + layout_.rr_out, pl + layout_.rr_out + P * P, ~Mask{0});
        std::fill(pl + layout_.rr_vc, pl + layout_.rr_vc + NV, ~Mask{0});
    }
    group_flits_.assign(static_cast<std::size_t>(groups), 0);
    tallied_cycles_.assign(static_cast<std::size_t>(groups), 0);
    route_of_.assign(static_cast<std::size_t>(groups * NV * kGroup), kNoRoute);  // by vc_slot()
    router_flits_.assign(static_cast<std::size_t>(n), 0);
    occupancy_.assign(static_cast<std::size_t>(n), 0);
    sent_.assign(static_cast<std::size_t>(kMeshPorts * V * groups), 0);
    freed_.assign(static_cast<std::size_t>(kMeshPorts * V * groups), 0);
    const auto ports = static_cast<std::size_t>(n) * static_cast<std::size_t>(P);
    link_flits_.assign(ports, 0);
    const auto slots = static_cast<std::size_t>(groups * NV * kGroup);
    input_vcs_.assign(slots, InputVc{});
    flits_.resize(slots * static_cast<std::size_t>(B_));
    down_slot_.assign(ports, 0);
    coords_.resize(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r)
        coords_[static_cast<std::size_t>(r)] = {routers_[static_cast<std::size_t>(r)].x, routers_[static_cast<std::size_t>(r)].y};
    const auto endpoints = static_cast<int>(sources_.size());
    AIMC_ASSERT(endpoints <= 65535, "too many endpoints");
    if (n <= kRouteTable) {
        route_stride_ = endpoints;
        routes_.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(endpoints));
        for (int r = 0; r < n; ++r)
            for (int e = 0; e < endpoints; ++e) {
                const Source& d = sources_[static_cast<std::size_t>(e)];
                const Coord a = coords_[static_cast<std::size_t>(r)], b = coords_[static_cast<std::size_t>(d.router)];
                routes_[static_cast<std::size_t>(r * endpoints + e)] = static_cast<std::uint8_t>(
                        b.x > a.x ? East : b.x < a.x ? West : b.y < a.y ? North : b.y > a.y ? South : d.port);
            }
    }
    neighbour_[East] = 1;
    neighbour_[West] = -1;
    neighbour_[North] = -params_.cols;
    neighbour_[South] = params_.cols;
    // An output port over a link starts with a buffer's depth of credits on every VC.
    for (int r = 0; r < n; ++r) {
        Mask* pl = planes(r / kGroup);
        const Mask bit = Mask{1} << (r % kGroup);
        for (int d = 0; d < kMeshPorts; ++d) {
            if (!has_link(r, static_cast<Direction>(d))) continue;
            down_slot_[port_index(r, d)] = vc_slot(r + neighbour_[d], opposite(d) * V);
            for (int w = 0; w < V; ++w)
                for (int k = 0; k < credit_bits_; ++k)
                    if (B_ >> k & 1) pl[layout_.credits + (d * V + w) * credit_bits_ + k] |= bit;
        }
    }
    // Interfaces always accept flits: the ejection port never runs out of credits (it spends none).
    blocked_.assign(static_cast<std::size_t>(groups * P), 0);
    source_at_.assign(ports, -1);
    for (std::size_t id = 0; id < sources_.size(); ++id) {
        Source& s = sources_[id];
        if (s.port < kMeshPorts) continue;
        s.slot = vc_slot(s.router, s.port * V);
        s.planes_at = static_cast<std::size_t>(s.router / kGroup) * plane_stride_;
        s.bit = Mask{1} << (s.router % kGroup);
        planes(s.router / kGroup)[layout_.unlimited + s.port] |= Mask{1} << (s.router % kGroup);
        source_at_[port_index(s.router, s.port)] = static_cast<int>(id);
    }
}

void MeshNetwork::enqueue(std::uint32_t packet, int src, int dst, std::uint32_t flits, std::uint64_t ready) {
    if (!built_) build();
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
    Source& s = sources_[static_cast<std::size_t>(src)];
    // Messages sent are dropped when the queue empties, or, for a source that stays backlogged,
    // once they are half of it (amortised constant cost), so that its memory stays bounded.
    if (s.front > 0 && (s.front == s.queue.size() || (s.front >= 64 && 2 * s.front >= s.queue.size()))) {
        s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<std::ptrdiff_t>(s.front));
        s.front = 0;
    }
    s.queue.push_back({packet, flits, static_cast<std::uint16_t>(dst), ready});
    if (s.state == Source::Idle) wait(ready, src);
    flits_enqueued_ += flits;
}

// XY routing: from a table of the output ports towards each endpoint on meshes of up to
// kRouteTable routers (one load), else from the coordinates, with selects.
inline int MeshNetwork::route(int r, const Flit& f) const {
    if (!routes_.empty()) return routes_[static_cast<std::size_t>(r * route_stride_ + f.dst)];
    const Source& d = sources_[f.dst];
    const Coord at = coords_[static_cast<std::size_t>(r)], dst = coords_[static_cast<std::size_t>(d.router)];
    const int y_way = pick(dst.y < at.y, static_cast<int>(North), pick(dst.y > at.y, static_cast<int>(South), d.port));
    return pick(dst.x != at.x, pick(dst.x < at.x, static_cast<int>(West), static_cast<int>(East)), y_way);
}



// Writes flit f into the input VC at `slot` (vc_slot()) of router r (its credit was spent upstream; the
// caller schedules when it becomes ready). A head flit into an empty VC brings its packet's route;
// a body flit finds its packet's state in place. Which VCs are empty, and which flits are heads,
// is as good as random to a branch predictor: the planes change by masks.
template <int kP, int kV, int kB>
[[gnu::always_inline]] inline void MeshNetwork::push_flit(int r, std::size_t slot, const Flit& f) {
    const int B = kB > 0 ? kB : B_;
    InputVc& q = input_vcs_[slot];
    AIMC_ASSERT(q.count < B, "flit written into a full buffer (credit error)");
    const int to = route(r, f);
    const bool new_head = (q.count == 0) & ((f.info & kHead) != 0);
    flits_[slot * static_cast<std::size_t>(B) + static_cast<std::size_t>(wrap_slot<kB>(q.head + q.count, B))] =
            Flit{f.packet, f.dst, static_cast<std::uint16_t>((f.info & (kHead | kTail)) | to << kRouteShift)};
    ++q.count;
    std::uint8_t& way = route_of_[slot];
    way = static_cast<std::uint8_t>(pick<int>(new_head, to, way));
    ++router_flits_[static_cast<std::size_t>(r)];
}

// Counts in the credits that arrive by cycle c, for every router at once: bit-sliced additions
// on the planes of credit counts. Cycles in which the network was not stepped may be among them
// (credits still on their way when the last flit left).
void MeshNetwork::return_credits(std::uint64_t c) {
    const int PV = P_ * V_, CB = credit_bits_;
    const std::uint64_t end = std::min<std::uint64_t>(c, credits_through_ + static_cast<std::uint64_t>(wheel_));
    for (std::uint64_t t = credits_through_ + 1; t <= end; ++t)
        for (std::size_t g = 0; g < group_flits_.size(); ++g) {
            Mask* const pl = planes(static_cast<int>(g));
            Mask* const back = pl + back_at_ + (t & static_cast<std::uint64_t>(wheel_ - 1)) * static_cast<std::size_t>(PV);
            // Fixed trip counts: which VCs get credits back is as good as random to a branch
            // predictor.
            for (int ow = 0; ow < PV; ++ow) {
                count_up(pl + layout_.credits + ow * CB, CB, std::exchange(back[ow], Mask{0}));
            }
        }
    credits_through_ = c;
}


void MeshNetwork::wait(std::uint64_t ready, int id) {
    sources_[static_cast<std::size_t>(id)].state = Source::Waiting;
    if (waiting_in_order_.empty() || waiting_in_order_.back().first <= ready)
        waiting_in_order_.emplace_back(ready, id);
    else
        waiting_.emplace(ready, id);
}

template <int kP, int kV, int kB>
bool MeshNetwork::inject_from_sources(std::uint64_t c) {
    const int P = kP > 0 ? kP : P_, V = kV > 0 ? kV : V_, B = kB > 0 ? kB : B_, NV = P * V;
    const std::size_t due = due_at_ + ((c + static_cast<std::uint64_t>(params_.router_latency)) &
                                       static_cast<std::uint64_t>(wheel_ - 1)) * static_cast<std::size_t>(NV);
    // Sources whose front message becomes ready join the active ones.
    const auto activate = [this](int id) {
        sources_[static_cast<std::size_t>(id)].state = Source::Active;
        active_sources_.push_back(id);
    };
    for (; !waiting_in_order_.empty() && waiting_in_order_.front().first <= c; waiting_in_order_.pop_front())
        activate(waiting_in_order_.front().second);
    for (; !waiting_.empty() && waiting_.top().first <= c; waiting_.pop()) activate(waiting_.top().second);
    bool moved = false;
    std::size_t keep = 0;
    for (std::size_t i = 0; i < active_sources_.size(); ++i) {
        const int id = active_sources_[i];
        Source& s = sources_[static_cast<std::size_t>(id)];
        const SourceMessage& m = s.queue[s.front];
        const InputVc* const pq = input_vcs_.data() + s.slot;
        // A new message takes an empty virtual channel if there is one, else one with room
        // (round-robin from next_vc); all its flits follow in that VC.
        std::uint32_t empty = 0, room = 0;
        for (int v = 0; v < V; ++v) {
            empty |= static_cast<std::uint32_t>(pq[v * kGroup].count == 0) << v;
            room |= static_cast<std::uint32_t>(pq[v * kGroup].count < B) << v;
        }
        const std::uint32_t choice = pick(empty != 0, empty, room);
        const int vc = pick(s.vc < 0, turn_member(in_turn(choice, s.next_vc) | 0x10000u, s.next_vc), s.vc);
        if (!((room >> vc) & 1u)) {  // a VC is chosen only with room: wait until a flit leaves
            s.state = Source::Blocked;
            blocked_[static_cast<std::size_t>(s.router / kGroup * P + s.port)] |= s.bit;
            continue;
        }
        // Whether the flit is a message's first or last is as good as random to a branch
        // predictor: selects.
        const bool fresh = s.vc < 0;
        s.next_vc = pick(fresh, wrap(vc + 1, V), s.next_vc);
        const std::uint32_t sent = s.sent + 1;
        const bool done = sent == m.flits;
        const auto info = static_cast<std::uint16_t>(pick<int>(s.sent == 0, kHead, 0) | pick<int>(done, kTail, 0));
        push_flit<kP, kV, kB>(s.router, s.slot + static_cast<std::size_t>(vc) * kGroup, Flit{m.packet, m.dst, info});
        planes_[s.planes_at + due + static_cast<std::size_t>(s.port * V + vc)] |= s.bit;
        ++group_flits_[static_cast<std::size_t>(s.router / kGroup)];
        ++buffered_;
        moved = true;
        s.front += done;
        s.sent = pick(done, 0u, sent);
        s.vc = pick(done, -1, vc);
        // The next message, if any, may go from the next cycle on.
        if (done && s.front == s.queue.size()) {
            s.state = Source::Idle;
        } else if (done && s.queue[s.front].ready > c + 1) {
            wait(s.queue[s.front].ready, id);
        } else {
            active_sources_[keep++] = id;
        }
    }
    active_sources_.resize(keep);
    return moved;
}

// The allocation of one cycle for the routers of group g, on bit-planes: separable and
// input-first. Each input port nominates one VC whose head flit is ready and can go on (a head
// flit: its output port has a free VC with a credit; a packet that holds an output VC: that VC
// has a credit), round-robin among its VCs; each output port grants one of the inputs that
// nominated it, round-robin among inputs, and gives a head flit the first free output VC with a
// credit, round-robin among VCs. Then the granted flits move, one by one, and what follows for
// the routers' state is computed on the planes.
template <int kP, int kV, int kB>
bool MeshNetwork::allocate_group(int g, std::uint64_t c, std::vector<Ejection>& ejected) {
    const int P = kP > 0 ? kP : P_, V = kV > 0 ? kV : V_, NV = P * V;
    const int CB = kB > 0 ? credit_bits(kB) : credit_bits_;
    const PlaneLayout L = plane_layout(P, V);
    Mask* const pl = planes(g);
    Mask* const matured = pl + matured_at(L, P, V, CB);
    Mask ready[kMaxPorts * 16];  // [i]: the head flit of VC i is ready to leave
    {  // flits that become ready in this cycle
        Mask* const due = pl + due_at_ + (c & static_cast<std::uint64_t>(wheel_ - 1)) * static_cast<std::size_t>(NV);
        Mask any_ready = 0;
        for (int i = 0; i < NV; ++i) {
            Mask* const count = matured + i * CB;
            count_up(count, CB, due[i]);
            due[i] = 0;
            Mask nonzero = 0;
            for (int k = 0; k < CB; ++k) nonzero |= count[k];
            ready[i] = nonzero;
            any_ready |= nonzero;
        }
        // Flits only in router pipelines or on links (common at light load): nothing to allocate.
        if (!any_ready) return false;
    }
    Mask* const held_is = pl + L.held_is;
    // Which VCs' packets hold an output VC, and which output VCs are so held: once a cycle from
    // held_is and out_is, rather than kept up to date flit by flit. The out_is planes are needed
    // (and computed) only for VCs with a ready flit or a held output VC.
    Mask* const out_is = pl + L.out_is;
    Mask holds[kMaxPorts * 16], taken[kMaxPorts * 16] = {};
    for (int i = 0; i < NV; ++i) {
        Mask any = 0;
        for (int w = 0; w < V; ++w) any |= held_is[i * V + w];
        holds[i] = any;
        if (!(any | ready[i])) continue;  // common at low load, and for an endpoint's port
        bytes_to_planes(route_of_.data() + vc_slot(g * kGroup, i), P, out_is + i * P);
        for (int o = 0; o < P; ++o) {
            const Mask to_o = out_is[i * P + o];
            for (int w = 0; w < V; ++w) taken[o * V + w] |= held_is[i * V + w] & to_o;
        }
    }
    // Which output VCs have credits, which are free too, and which output ports have such a VC.
    Mask credit_ok[kMaxPorts * 16], free_ok[kMaxPorts * 16], vc_free[kMaxPorts];
    for (int o = 0; o < P; ++o) {
        Mask any_free = 0;
        for (int w = 0; w < V; ++w) {
            const Mask* const count = pl + L.credits + (o * V + w) * CB;
            Mask nonzero = 0;
            for (int k = 0; k < CB; ++k) nonzero |= count[k];
            const Mask ok = (nonzero | pl[L.unlimited + o]) & ~pl[L.failed + o];
            credit_ok[o * V + w] = ok;
            free_ok[o * V + w] = ok & ~taken[o * V + w];
            any_free |= free_ok[o * V + w];
        }
        vc_free[o] = any_free;
    }
    Mask* const rr_in = pl + L.rr_in;
    Mask* const rr_out = pl + L.rr_out;
    Mask chosen[kMaxPorts * 16];             // [p V + v]: input port p nominates its VC v
    Mask request[kMaxPorts * kMaxPorts];     // [o P + p]: input port p nominates output o
    Mask grant[kMaxPorts * kMaxPorts];       // [o P + p]: output o grants input p
    Mask eligible[kMaxPorts];                // [p]: input port p holds a ready head flit
    Mask granted_in[kMaxPorts] = {};         // [p]: input port p was granted
    std::fill(request, request + P * P, Mask{0});
    Mask any_eligible = 0;
    for (int p = 0; p < P; ++p) {
        Mask go[16];
        Mask any_ready = 0;
        for (int v = 0; v < V; ++v) {
            const int i = p * V + v;
            const Mask rd = ready[i];
            any_ready |= rd;
            Mask head_open = 0, hold_open = 0;
            if (rd) {
                for (int o = 0; o < P; ++o) {
                    const Mask to_o = out_is[i * P + o];
                    Mask credited = 0;
                    for (int w = 0; w < V; ++w) credited |= held_is[i * V + w] & credit_ok[o * V + w];
                    head_open |= to_o & vc_free[o];
                    hold_open |= to_o & credited;
                }
            }
            go[v] = rd & ((holds[i] & hold_open) | (~holds[i] & head_open));
        }
        eligible[p] = any_ready;
        any_eligible |= any_ready;
        round_robin<kV>(V, go, rr_in + p * V, 1, chosen + p * V);
        for (int v = 0; v < V; ++v) {
            const Mask nominated = chosen[p * V + v];
            for (int o = 0; o < P; ++o) request[o * P + p] |= nominated & out_is[(p * V + v) * P + o];
        }
    }
    if (!any_eligible) return false;
    // [p V + w]: the output VC w that input port p's nominated packet holds
    Mask hold_vc[kMaxPorts * 16];
    for (int p = 0; p < P; ++p)
        for (int w = 0; w < V; ++w) {
            Mask h = 0;
            for (int v = 0; v < V; ++v) h |= chosen[p * V + v] & held_is[(p * V + v) * V + w];
            hold_vc[p * V + w] = h;
        }
    Mask via[kMaxPorts * 16];  // [o V + w]: the flit granted output port o leaves on its VC w
    Mask any_sent = 0;
    int moves = 0;
    for (int o = 0; o < P; ++o) {
        const Mask requested = round_robin<kP>(P, request + o * P, rr_out + o * P, 1, grant + o * P);
        if (!requested) {  // often so for an endpoint's port
            std::fill(via + o * V, via + o * V + V, Mask{0});
            continue;
        }
        advance_past(P, grant + o * P, requested, rr_out + o * P, 1);
        if (o < kMeshPorts) count_up(pl + tallies_at(L, P, V, CB) + (P + o) * kTallyBits, kTallyBits, requested);
        Mask held[16] = {}, any_held = 0;
        for (int p = 0; p < P; ++p) {
            granted_in[p] |= grant[o * P + p];
            for (int w = 0; w < V; ++w) held[w] |= grant[o * P + p] & hold_vc[p * V + w];
        }
        for (int w = 0; w < V; ++w) any_held |= held[w];
        any_sent |= requested;
        moves += bit_count(requested);
        // A head flit takes the first free output VC with a credit from the port's start on.
        const Mask heads = requested & ~any_held;
        Mask first_free[16];
        round_robin<kV>(V, free_ok + o * V, pl + L.rr_vc + o * V, 1, first_free);
        advance_past(V, first_free, heads, pl + L.rr_vc + o * V, 1);
        for (int w = 0; w < V; ++w) via[o * V + w] = held[w] | (heads & first_free[w]);
    }
    Mask* const tallies = pl + tallies_at(L, P, V, CB);
    for (int p = 0; p < P; ++p) {
        advance_past(V, chosen + p * V, granted_in[p], rr_in + p * V, 1);
        count_up(tallies + p * kTallyBits, kTallyBits, eligible[p] & ~granted_in[p]);
    }
    // The tallies move to the routers' counts before they could overflow.
    if (++tallied_cycles_[static_cast<std::size_t>(g)] == (1 << kTallyBits) - 1) flush_tallies(g);
    Mask tail_in[kMaxPorts];  // [p]: the flit that input port p sent is its packet's tail
    for (int p = 0; p < P; ++p) {
        Mask tails = 0, ejecting = 0;
        for (int o = kMeshPorts; o < P; ++o) ejecting |= grant[o * P + p];
        const auto port_slot = static_cast<std::size_t>((g * NV + p * V) * kGroup);  // vc_slot() of VC 0 of router 0
        // The chosen VC at router b, and its slot.
        const auto vc_at = [&](int b) {
            int v = 0;
            if constexpr (kV > 0)
                for (int u = 1; u < kV; ++u) v |= static_cast<int>(chosen[p * V + u] >> b & 1u) * u;
            else
                while (!(chosen[p * V + v] >> b & 1u)) ++v;
            return port_slot + static_cast<std::size_t>(v * kGroup + b);
        };
        // Flits to a neighbour: the output port is the packet's route, and the output VC the one
        // allocated on it.
        for (Mask go = granted_in[p] & ~ejecting; go; go &= go - 1) {
            const int b = __builtin_ctzll(go);
            const std::size_t slot = vc_at(b);
            const int o = route_of_[slot];
            int w = 0;
            if constexpr (kV > 0)
                for (int u = 1; u < kV; ++u) w |= static_cast<int>(via[o * V + u] >> b & 1u) * u;
            else
                while (!(via[o * V + w] >> b & 1u)) ++w;
            const int r = g * kGroup + b;
            const Flit f = take_flit<kB>(slot, r, b, tails);
            push_flit<kP, kV, kB>(r + neighbour_[o], down_slot_[static_cast<std::size_t>(r * P + o)] + static_cast<std::size_t>(w * kGroup), f);
        }
        for (Mask go = ejecting; go; go &= go - 1) {
            const int b = __builtin_ctzll(go);
            eject(take_flit<kB>(vc_at(b), g * kGroup + b, b, tails), c, ejected);
        }
        tail_in[p] = tails;
    }
    // What the moves did to the routers' state, for every router at once.
    for (int p = 0; p < P; ++p) {
        if (!granted_in[p]) continue;
        Mask to_vc[16] = {}, sent_from = 0;  // [w]: input port p's flit left on output VC w; any
        for (int o = 0; o < P; ++o)
            for (int w = 0; w < V; ++w) to_vc[w] |= grant[o * P + p] & via[o * V + w];
        for (int v = 0; v < V; ++v) {
            const int i = p * V + v;
            const Mask left = chosen[i] & granted_in[p], holding = left & ~tail_in[p];
            // The packet holds the output VC it left on, until its tail has left.
            for (int w = 0; w < V; ++w) held_is[i * V + w] = (held_is[i * V + w] & ~left) | (holding & to_vc[w]);
            count_down(matured + i * CB, CB, left);
            if (p < kMeshPorts) freed_[static_cast<std::size_t>(i * static_cast<int>(group_flits_.size()) + g)] = left;
            sent_from |= left;
        }
        // A source that found no room in its input port may try again.
        if (p >= kMeshPorts) {
            Mask& blocked = blocked_[static_cast<std::size_t>(g * P + p)];
            for (Mask wake = blocked & sent_from; wake; wake &= wake - 1) {
                const int id = source_at_[static_cast<std::size_t>((g * kGroup + __builtin_ctzll(wake)) * P + p)];
                sources_[static_cast<std::size_t>(id)].state = Source::Active;
                active_sources_.push_back(id);
            }
            blocked &= ~sent_from;
        }
    }
    for (int o = 0; o < kMeshPorts; ++o)
        for (int w = 0; w < V; ++w) {
            count_down(pl + L.credits + (o * V + w) * CB, CB, via[o * V + w]);
            sent_[static_cast<std::size_t>((o * V + w) * static_cast<int>(group_flits_.size()) + g)] = via[o * V + w];
        }
    group_flits_[static_cast<std::size_t>(g)] -= static_cast<std::uint32_t>(moves);
    return any_sent != 0;
}

// Takes the head flit out of the input VC at `slot` of router r (bit b of its group) to send it on;
// sets bit b of `tails` if it is its packet's tail. Whether the flit is a tail, and whether a
// flit follows it, is as good as random to a branch predictor: selects.
template <int kB>
[[gnu::always_inline]] inline MeshNetwork::Flit MeshNetwork::take_flit(std::size_t slot, int r, int b, Mask& tails) {
    const int B = kB > 0 ? kB : B_;
    InputVc& q = input_vcs_[slot];
    const Flit* const buffer = flits_.data() + slot * static_cast<std::size_t>(B);
    const Flit f = buffer[q.head];
    const int head = wrap_slot<kB>(q.head + 1, B);
    q.head = static_cast<std::uint16_t>(head);
    const int count = q.count - 1;
    q.count = static_cast<std::uint16_t>(count);
    --router_flits_[static_cast<std::size_t>(r)];
    const bool left = count != 0, tail = (f.info & kTail) != 0;
    // After a tail, the next flit, if any, is a new packet's head flit: its route is the VC's.
    std::uint8_t& way = route_of_[slot];
    way = static_cast<std::uint8_t>(pick<int>(tail, pick<int>(left, buffer[head].info >> kRouteShift, kNoRoute), way));
    tails |= (Mask{1} << b) & (Mask{0} - tail);
    return f;
}

// Flit f leaves the network in cycle c into its destination interface.
[[gnu::always_inline]] inline void MeshNetwork::eject(const Flit& f, std::uint64_t c, std::vector<Ejection>& ejected) {
    --buffered_;
    ++flits_ejected_;
    std::uint32_t& got = packet_ejected_[f.packet];
    ++got;
    if (f.info & kTail) {
        AIMC_ASSERT(got == packet_flits_[f.packet] && (f.info & kHead || got > 1),
                    "packet " + std::to_string(f.packet) + " ejected with " + std::to_string(got) + " of " +
                            std::to_string(packet_flits_[f.packet]) + " flits");
        ejected.push_back({f.packet, c + static_cast<std::uint64_t>(params_.link_latency)});
    }
}

bool MeshNetwork::step(std::uint64_t c, std::vector<Ejection>& ejected) {
    if (!built_) build();
    last_cycle_ = c;
    const std::size_t first = ejected.size();
    // HERMES' routers (2 VCs of 4 flits; 5 ports, 6 where the host is attached too), and the
    // common virtual channel counts with the default buffer depth of 4 where it applies.
    const bool depth4 = B_ == 4;
    bool moved;
    if (P_ == 5 && V_ == 2 && depth4)
        moved = step_cycle<5, 2, 4>(c, ejected);
    else if (P_ == 6 && V_ == 2 && depth4)
        moved = step_cycle<6, 2, 4>(c, ejected);
    else
        switch (V_) {
            case 1: moved = depth4 ? step_cycle<0, 1, 4>(c, ejected) : step_cycle<0, 1, 0>(c, ejected); break;
            case 2: moved = depth4 ? step_cycle<0, 2, 4>(c, ejected) : step_cycle<0, 2, 0>(c, ejected); break;
            case 4: moved = depth4 ? step_cycle<0, 4, 4>(c, ejected) : step_cycle<0, 4, 0>(c, ejected); break;
            default: moved = step_cycle<0, 0, 0>(c, ejected);
        }
    // The packets of one cycle in the order of their handles, whatever order the routers were
    // handled in.
    std::sort(ejected.begin() + static_cast<std::ptrdiff_t>(first), ejected.end(),
              [](const Ejection& a, const Ejection& b) { return a.packet < b.packet; });
    return moved;
}

template <int kP, int kV, int kB>
bool MeshNetwork::step_cycle(std::uint64_t c, std::vector<Ejection>& ejected) {
    return_credits(c);
    bool moved = inject_from_sources<kP, kV, kB>(c);
    if (!buffered_) return moved;
    std::fill(sent_.begin(), sent_.end(), Mask{0});
    std::fill(freed_.begin(), freed_.end(), Mask{0});
    const std::size_t groups = group_flits_.size();
    for (std::size_t g = 0; g < groups; ++g)
        if (group_flits_[g]) moved |= allocate_group<kP, kV, kB>(static_cast<int>(g), c, ejected);
    deliver(c);
    // Buffer occupancy, sampled at the end of the cycle.
    const auto n = static_cast<std::size_t>(routers());
    for (std::size_t g = 0; g < groups; ++g)
        if (group_flits_[g])
            for (std::size_t r = g * kGroup; r < std::min(n, (g + 1) * kGroup); ++r) occupancy_[r] += router_flits_[r];
    return moved;
}

// The flits sent and the buffer slots freed in cycle c reach the neighbours: the flits become
// ready a link and the router pipeline later, the credits arrive a link later.
void MeshNetwork::deliver(std::uint64_t c) {
    const int groups = static_cast<int>(group_flits_.size()), V = V_;
    const auto link = static_cast<std::uint64_t>(params_.link_latency), mask = static_cast<std::uint64_t>(wheel_ - 1);
    const std::size_t due = due_at_ + ((c + link + static_cast<std::uint64_t>(params_.router_latency)) & mask) *
                                              static_cast<std::size_t>(P_ * V),
                      back = back_at_ + ((c + link) & mask) * static_cast<std::size_t>(P_ * V);
    for (int d = 0; d < kMeshPorts; ++d)
        for (int w = 0; w < V; ++w) {
            const auto at = static_cast<std::size_t>(opposite(d) * V + w);
            const std::size_t plane = static_cast<std::size_t>((d * V + w) * groups);
            shift_into(sent_.data() + plane, groups, neighbour_[d], planes_.data(), plane_stride_, due + at,
                       group_flits_.data());
            shift_into(freed_.data() + plane, groups, neighbour_[d], planes_.data(), plane_stride_, back + at, nullptr);
        }
}

std::optional<std::uint64_t> MeshNetwork::next_busy_cycle(std::uint64_t c) const {
    // While any router holds flits (some perhaps still on a link), every cycle is simulated; a
    // blocked source implies buffered flits.
    if (buffered_ || !active_sources_.empty()) return c + 1;
    std::optional<std::uint64_t> next;
    if (!waiting_in_order_.empty()) next = waiting_in_order_.front().first;
    if (!waiting_.empty() && (!next || waiting_.top().first < *next)) next = waiting_.top().first;
    if (!next) return std::nullopt;
    return std::max(c + 1, *next);
}

std::uint64_t MeshNetwork::occupancy_flit_cycles(int r) const { return built_ ? occupancy_[static_cast<std::size_t>(r)] : 0; }

void MeshNetwork::fail_link(int r, Direction d) {
    if (!built_) build();
    AIMC_ASSERT(has_link(r, d), "no such link");
    planes(r / kGroup)[layout_.failed + d] |= Mask{1} << (r % kGroup);
}

int MeshNetwork::credit_count(int r, int o, int w) const {
    const Mask* const pl = planes(r / kGroup);
    const int b = r % kGroup;
    if (pl[layout_.failed + o] >> b & 1u) return -1;
    int count = 0;
    for (int k = 0; k < credit_bits_; ++k)
        count |= static_cast<int>(pl[layout_.credits + (o * V_ + w) * credit_bits_ + k] >> b & 1u) << k;
    return count;
}

std::uint64_t MeshNetwork::link_traversals() const {
    std::uint64_t n = 0;
    for (int r = 0; built_ && r < routers(); ++r)
        for (int d = 0; d < kMeshPorts; ++d) n += link_flits(r, static_cast<Direction>(d));
    return n;
}

bool MeshNetwork::has_link(int r, Direction d) const {
    if (!built_) return false;  // as reported for a network that never carried a message
    const Router& at = routers_[static_cast<std::size_t>(r)];
    switch (d) {
        case East: return at.x + 1 < params_.cols;
        case West: return at.x > 0;
        case North: return at.y > 0;
        default: return at.y + 1 < params_.rows;
    }
}

std::uint64_t MeshNetwork::link_flits(int r, Direction d) const {
    return built_ ? link_flits_[port_index(r, d)] + tally(r / kGroup, P_ + d, r % kGroup) : 0;
}


void MeshNetwork::flush_tallies(int g) {
    for (int b = 0; b < kGroup && g * kGroup + b < routers(); ++b) {
        const int r = g * kGroup + b;
        for (int p = 0; p < P_; ++p) routers_[static_cast<std::size_t>(r)].stall_cycles += tally(g, p, b);
        for (int d = 0; d < kMeshPorts; ++d) link_flits_[port_index(r, d)] += tally(g, P_ + d, b);
    }
    Mask* const tallies = planes(g) + tallies_at(layout_, P_, V_, credit_bits_);
    std::fill(tallies, tallies + (P_ + kMeshPorts) * kTallyBits, Mask{0});
    tallied_cycles_[static_cast<std::size_t>(g)] = 0;
}

std::uint64_t MeshNetwork::tally(int g, int counter, int b) const {
    const Mask* const bits = planes(g) + tallies_at(layout_, P_, V_, credit_bits_) + counter * kTallyBits;
    std::uint64_t n = 0;
    for (int k = 0; k < kTallyBits; ++k) n |= (bits[k] >> b & 1u) << k;
    return n;
}

std::uint64_t MeshNetwork::stall_cycles(int r) const {
    std::uint64_t n = routers_[static_cast<std::size_t>(r)].stall_cycles;
    for (int p = 0; built_ && p < P_; ++p) n += tally(r / kGroup, p, r % kGroup);
    return n;
}

int MeshNetwork::held_vc(int r, int i) const {
    const Mask* const pl = planes(r / kGroup);
    for (int w = 0; w < V_; ++w)
        if (pl[layout_.held_is + i * V_ + w] >> (r % kGroup) & 1u) return w;
    return -1;
}

int MeshNetwork::matured_count(int r, int i) const {
    const Mask* const pl = planes(r / kGroup) + matured_at(layout_, P_, V_, credit_bits_) + i * credit_bits_;
    int count = 0;
    for (int k = 0; k < credit_bits_; ++k) count |= static_cast<int>(pl[k] >> (r % kGroup) & 1u) << k;
    return count;
}

std::string MeshNetwork::stuck_report(std::uint64_t) const {
    std::string s;
    int listed = 0;
    for (int r = 0; built_ && r < routers() && listed < 16; ++r) {
        const Router& router = routers_[static_cast<std::size_t>(r)];
        if (!router_flits_[static_cast<std::size_t>(r)]) continue;
        ++listed;
        s += "  router " + std::to_string(r) + " at (" + std::to_string(router.x) + ", " + std::to_string(router.y) +
             "): " + std::to_string(router_flits_[static_cast<std::size_t>(r)]) + " flits buffered";
        for (int p = 0; p < router.ports; ++p)
            for (int v = 0; v < V_; ++v) {
                const int i = p * V_ + v;
                const std::size_t slot = vc_slot(r, i);
                const InputVc& q = input_vcs_[slot];
                if (!q.count) continue;
                const Flit& f = flits_[slot * static_cast<std::size_t>(B_) + q.head];
                const int held = held_vc(r, i), out = route_of_[slot];
                const std::string in_name = p < kMeshPorts ? kPortNames[p] : "local " + std::to_string(p - kMeshPorts);
                const std::string out_name = out < kMeshPorts ? kPortNames[out] : "ejection";
                std::string why;
                if (matured_count(r, i) == 0)
                    why = "in the router pipeline";
                else if (held < 0)
                    why = "waits for a free virtual channel with a credit";
                else if (credit_count(r, out, held) <= 0)
                    why = "waits for a credit on vc " + std::to_string(held);
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
