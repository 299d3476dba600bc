// The cycle-level model of a 2-D mesh network on chip, in plain C++ (no SystemC) so that it can be
// tested alone and driven by a benchmark. The `mesh` interconnect kind wraps it.
//
// Routers have one input buffer per port and virtual channel (`buffer_depth` flits each),
// dimension-order (XY) routes, wormhole switching with credit-based flow control, a pipeline of
// `router_latency` cycles and links of `link_latency` cycles. Each cycle:
//   1. every network interface writes the next flit of its oldest ready message into its
//      router's local input buffer (one flit per cycle, when the buffer has room);
//   2. every router holding flits allocates: each input port nominates one virtual channel
//      whose head flit has spent router_latency cycles in the router, has an output virtual
//      channel (head flits take a free one) and a credit for it; each output port grants one
//      nominating input, round-robin. A granted flit leaves on the link and a credit goes back
//      upstream; both arrive link_latency cycles later.
// A flit on a link already owns its slot in the downstream buffer (its credit was spent), so it
// is written there when it leaves, marked ready link_latency + router_latency cycles later;
// credits are counted in at the start of the cycle they arrive in. The ejection port hands flits to
// the destination interface over a link of link_latency cycles; interfaces always accept them.
//
// How it is computed: the allocation of step 2 is a function of a few bits per router (which
// head flits are ready, which output VCs are free or have credits, where each VC wants to go,
// the round-robin pointers), so it is evaluated for 64 routers at once on bit-planes: one 64-bit
// word per signal, bit b standing for router 64 g + b of group g. Counts (credits, and the flits
// of each input VC that are ready) are bit-sliced on the planes (bit k of every router's count in
// one word), so that a cycle's changes are a few word additions and subtractions. What a moving
// flit does to state other than its own buffers follows from the grants as planes too: the
// output VCs chosen, the VCs held, the credits spent. What reaches the neighbours (flits that
// become ready, credits that come back) is the plane of the senders shifted by the distance to
// the neighbour (1 router east or west, a row north or south). Only the flits that move cost
// work of their own: a buffer read and write, and the route of a packet's next head flit.
// Nothing in a cycle depends on the order in which routers are handled: a router's allocation
// reads only its own state as of the start of the cycle, flits written downstream are not ready
// before the next cycle, and credits arrive a link latency later. A group of routers that holds
// no flit is skipped, and a network with nothing in it is not stepped.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace aimc {

struct MeshParams {
    int cols = 1, rows = 1;
    int virtual_channels = 1;
    int buffer_depth = 4;      // flits per virtual channel
    int router_latency = 1;    // cycles from a flit's arrival to its earliest departure (>= 1)
    int link_latency = 1;      // cycles on a link, for flits and credits alike (>= 1)
};

class MeshNetwork {
public:
    enum Direction { East = 0, West = 1, North = 2, South = 3 };  // north: y - 1
    static constexpr int kMeshPorts = 4;

    explicit MeshNetwork(const MeshParams& p);

    // Attaches endpoint `id` to the router at (x, y) through a port of its own. All endpoints are
    // attached before the first message.
    void attach(int id, int x, int y);

    // Packet `packet` (a handle, reused once ejected) of `flits` flits waits in the source
    // interface of endpoint `src` from cycle `ready` on. Messages of one source leave in order.
    void enqueue(std::uint32_t packet, int src, int dst, std::uint32_t flits, std::uint64_t ready);

    struct Ejection {
        std::uint32_t packet;
        std::uint64_t tail_cycle;  // cycle the tail flit enters the destination interface
    };
    // Simulates cycle c (cycles in increasing order; a skipped cycle must be one that
    // next_busy_cycle() did not ask for). Appends the packets whose tail left the network, in the
    // order of their handles. Returns whether any flit moved.
    bool step(std::uint64_t c, std::vector<Ejection>& ejected);
    // The next cycle after c that needs step(), or none when the network is empty.
    std::optional<std::uint64_t> next_busy_cycle(std::uint64_t c) const;

    std::uint64_t flits_in_network() const { return flits_enqueued_ - flits_ejected_; }
    std::uint64_t flits_enqueued() const { return flits_enqueued_; }
    std::uint64_t flits_ejected() const { return flits_ejected_; }
    // Every flit that leaves a router goes on a link or out of the network.
    std::uint64_t router_traversals() const { return link_traversals() + flits_ejected_; }
    std::uint64_t link_traversals() const;

    int routers() const { return params_.cols * params_.rows; }
    const MeshParams& params() const { return params_; }
    // Flits sent by router r on its mesh port d (0 where there is no link).
    std::uint64_t link_flits(int r, Direction d) const;
    bool has_link(int r, Direction d) const;
    // Cycles in which an input port of router r held a flit ready to leave but sent nothing.
    std::uint64_t stall_cycles(int r) const;
    // Sum over cycles of the flits buffered in router r at the end of the cycle (a flit counts from
    // the cycle it was written into the router's buffer, when it left the upstream router or its
    // interface, up to the cycle before it leaves), up to the last simulated cycle.
    std::uint64_t occupancy_flit_cycles(int r) const;
    // Fault injection: the link leaving router r towards d stops returning credits, so traffic
    // over it stops (for testing the watchdog).
    void fail_link(int r, Direction d);
    // Routers holding flits, what each head flit waits for (for the watchdog).
    std::string stuck_report(std::uint64_t c) const;

private:
    using Mask = std::uint64_t;  // one bit per router of a group
    static constexpr int kGroup = 64;
    static constexpr int kMaxPorts = 16;  // 4 mesh ports + endpoints attached to one router
    // 16-bit fields here and below: stores through unsigned char would alias everything, and
    // the compiler would reload every table pointer after each.
    struct Flit {  // 8 bytes: copied once per hop
        std::uint32_t packet;
        std::uint16_t dst;  // the destination endpoint
        // kHead | kTail, and from kRouteShift on the output port of its route at the router
        // holding it (set when it arrives there; used once it is a head flit at the head).
        std::uint16_t info;
    };
    static constexpr std::uint16_t kHead = 1, kTail = 2, kRouteShift = 8;
    // One input virtual channel's buffer: a ring in flits_. (Which output port and VC its packet
    // holds, and how many of its flits are ready, are in the planes.)
    struct InputVc {  // 4 bytes
        std::uint16_t head = 0, count = 0;
    };
    struct Router {
        std::int32_t ports = kMeshPorts;  // 4 mesh + one per attached endpoint
        std::int32_t x = 0, y = 0;
        std::uint64_t stall_cycles = 0;  // up to the last flush_tallies()
    };
    // Where each signal's planes start in a group's block of planes_ (P ports, V VCs; VC i = p V + v
    // of input port p). Each is a Mask with bit b for router b of the group. A function of P and V
    // alone, so that it folds into constants where they are known at compile time; the bit-sliced
    // counts (their bits depend on the buffer depth) and the wheels follow at matured_at(),
    // due_at_, back_at_.
    struct PlaneLayout {
        int out_is;     // [i P + o]: VC i's packet goes to output port o (from route_of_, each cycle
                        // for the VCs with a ready flit or a held output VC; stale for others)
        int held_is;    // [i V + w]: VC i's packet holds output VC w (its head flit has left)
        int unlimited;  // [o]: output port o never runs out of credits (an ejection port)
        int failed;     // [o]: output port o's link returns no credits (fail_link())
        int rr_in;      // [p V + u]: input port p's round-robin start among its VCs is <= u
        int rr_out;     // [o P + p]: output port o's round-robin start among inputs is <= p
        int rr_vc;      // [o V + w]: output port o's round-robin start among its free VCs is <= w
        int credits;    // [(o V + w) CB + k]: bit k of output VC w's credits (CB: credit_bits_)
    };
    static constexpr PlaneLayout plane_layout(int P, int V) {
        PlaneLayout l{};
        const int NV = P * V;
        l.out_is = 0;
        l.held_is = l.out_is + NV * P;
        l.unlimited = l.held_is + NV * V;
        l.failed = l.unlimited + P;
        l.rr_in = l.failed + P;
        l.rr_out = l.rr_in + NV;
        l.rr_vc = l.rr_out + P * P;
        l.credits = l.rr_vc + NV;
        return l;
    }
    // [i CB + k]: bit k of the number of input VC i's flits that are ready to leave (they arrive
    // in order and wait the same time, so the first ones), after the credit counts.
    static constexpr int matured_at(const PlaneLayout& l, int P, int V, int CB) { return l.credits + P * V * CB; }
    // Tallies kept bit-sliced between flush_tallies(), after the ready counts: [p kTallyBits + k],
    // bit k of the cycles in which input port p held a ready flit but sent nothing (for
    // Router::stall_cycles); [(P + d) kTallyBits + k], of the flits sent on mesh port d (for
    // link_flits_).
    static constexpr int kTallyBits = 8;
    static constexpr int tallies_at(const PlaneLayout& l, int P, int V, int CB) { return matured_at(l, P, V, CB) + P * V * CB; }
    struct SourceMessage {
        std::uint32_t packet;
        std::uint32_t flits;
        std::uint16_t dst;  // endpoint
        std::uint64_t ready;
    };
    struct Source {  // one network interface's injection side
        int router = 0, port = 0;
        std::size_t slot = 0;       // vc_slot() of VC 0 of its input port (set by build())
        std::size_t planes_at = 0;  // where its router's group's planes start in planes_
        Mask bit = 0;               // its router's bit in them
        std::vector<SourceMessage> queue;  // FIFO from `front`
        std::size_t front = 0;
        std::uint32_t sent = 0;  // flits of the front message already written
        int vc = -1;             // virtual channel the front message uses
        int next_vc = 0;         // round-robin start for the next message
        // Idle: no message; waiting: for its front message's ready cycle (wait()); active:
        // in active_sources_; blocked: until a flit leaves its router's input port (blocked_).
        enum State : std::uint8_t { Idle, Waiting, Active, Blocked } state = Idle;
    };
    struct Coord {
        std::int32_t x, y;
    };

    std::size_t port_index(int r, int port) const { return static_cast<std::size_t>(r * P_ + port); }
    // Where input VC i = p V + v of router r is kept (input_vcs_, route_of_; flits_ times the depth):
    // the VCs of a group's 64 routers side by side, so that a signal of theirs is one vector.
    std::size_t vc_slot(int r, int i) const {
        return (static_cast<std::size_t>(r / kGroup) * static_cast<std::size_t>(P_ * V_) + static_cast<std::size_t>(i)) * kGroup +
               static_cast<std::size_t>(r % kGroup);
    }
    Mask* planes(int group) { return planes_.data() + static_cast<std::size_t>(group) * plane_stride_; }
    const Mask* planes(int group) const { return planes_.data() + static_cast<std::size_t>(group) * plane_stride_; }
    int route(int r, const Flit& f) const;
    // Bits of a credit count from 0 to `depth`.
    static constexpr int credit_bits(int depth) {
        int bits = 1;
        while ((1 << bits) <= depth) ++bits;
        return bits;
    }
    // The credits of output VC w of port o of router r (-1: none will come, the link failed).
    int credit_count(int r, int o, int w) const;
    template <int kP, int kV, int kB>
    void push_flit(int r, std::size_t slot, const Flit& f);
    // Router r's output VC that input VC i's packet holds, -1: none (its head flit has not left).
    int held_vc(int r, int i) const;
    // Input VC i of router r's flits that are ready to leave.
    int matured_count(int r, int i) const;
    void deliver(std::uint64_t c);
    // Source `id` waits for its front message, ready in cycle `ready`.
    void wait(std::uint64_t ready, int id);
    void flush_tallies(int g);
    // Tally `counter` of router 64 g + b since the last flush.
    std::uint64_t tally(int g, int counter, int b) const;
    void build();
    void return_credits(std::uint64_t c);
    // kP, kV, kB: the ports per router, virtual channels and buffer depth when known at compile
    // time (HERMES' and the common counts are instantiated so that loops unroll and the plane
    // layout folds), 0: P_, V_, B_.
    template <int kP, int kV, int kB>
    bool step_cycle(std::uint64_t c, std::vector<Ejection>& ejected);
    template <int kP, int kV, int kB>
    bool inject_from_sources(std::uint64_t c);
    template <int kP, int kV, int kB>
    bool allocate_group(int g, std::uint64_t c, std::vector<Ejection>& ejected);
    template <int kB>
    Flit take_flit(std::size_t slot, int r, int b, Mask& tails);
    void eject(const Flit& f, std::uint64_t c, std::vector<Ejection>& ejected);

    MeshParams params_;
    int V_, B_;
    int P_ = kMeshPorts;  // ports of the router with the most, the stride of per-router tables
    std::vector<Router> routers_;
    std::vector<Coord> coords_;  // by router: (x, y), for routing
    static constexpr int kRouteTable = 1024;
    // By router * endpoints + destination endpoint: the output port (the way, or the endpoint's
    // port at its router).
    std::vector<std::uint8_t> routes_;
    int route_stride_ = 0;
    PlaneLayout layout_{};                     // plane_layout(P_, V_)
    std::size_t plane_stride_ = 0;             // planes per group
    std::vector<Mask> planes_;                 // by group, plane_stride_ each
    std::vector<std::uint32_t> tallied_cycles_;  // by group: cycles counted in its tallies
    std::vector<std::uint32_t> group_flits_;   // flits buffered in each group's routers (counted in per cycle)
    std::uint64_t buffered_ = 0;               // flits buffered in all routers
    int neighbour_[kMeshPorts] = {};           // r + neighbour_[d]: the router next to r towards d
    // By vc_slot(): the output port of the input VC's packet, kNoRoute: none (set when its head
    // flit arrives or becomes the VC's head; cleared when its tail leaves). Bytes, 64 routers side
    // by side, so that the out_is planes are a few vector compares.
    std::vector<std::uint8_t> route_of_;
    static constexpr std::uint8_t kNoRoute = 0xff;
    std::vector<std::uint32_t> router_flits_;  // by router: flits buffered
    std::vector<std::uint64_t> occupancy_;     // by router: flits buffered, summed over cycle ends
    // This cycle's flits sent on mesh output port o, VC w, [(o V + w) G + g], and slots freed in mesh
    // input port p, VC v, [(p V + v) G + g] (G groups): what the neighbours get a link later.
    std::vector<Mask> sent_, freed_;
    std::vector<std::uint64_t> link_flits_;    // by r P + o: flits sent on its link, up to the last flush_tallies()
    std::vector<InputVc> input_vcs_;           // by vc_slot()
    std::vector<std::size_t> down_slot_;       // by r P + o: vc_slot() of VC 0 at the far end of o's link
    std::vector<Flit> flits_;                  // by vc_slot() B + slot
    int credit_bits_ = 1;  // bits of a credit count (0 to buffer_depth), and of a ready-flit count
    int wheel_ = 0;        // cycles ahead that the wheels reach (a power of two > link + router)
    // The wheels, after the counts in each group's planes: due_at_ + (t mod W) NV + i, a flit of
    // VC i becomes ready in cycle t; back_at_ + (t mod W) P V + o V + w, a credit for
    // output VC w of port o arrives in cycle t.
    std::size_t due_at_ = 0, back_at_ = 0;
    std::uint64_t credits_through_ = 0;  // credits due by this cycle are counted in
    bool built_ = false;
    std::vector<Source> sources_;            // by endpoint id (-1 router: not attached)
    std::vector<int> active_sources_;        // sources with a message ready to send
    // Sources whose front message is not ready yet, as (ready cycle, id): in order of ready cycle
    // in waiting_in_order_ while they come so (messages handed over as they are made), else in
    // the heap waiting_ (the earliest on top).
    using Wait = std::pair<std::uint64_t, int>;
    std::deque<Wait> waiting_in_order_;
    std::priority_queue<Wait, std::vector<Wait>, std::greater<Wait>> waiting_;
    std::vector<Mask> blocked_;              // [g P + p]: the source at input port p of the router is blocked
    std::vector<int> source_at_;             // by r P + p: the endpoint whose interface feeds input port p
    std::vector<std::uint32_t> packet_flits_, packet_ejected_;  // by packet handle
    std::uint64_t flits_enqueued_ = 0, flits_ejected_ = 0;
    std::uint64_t last_cycle_ = 0;  // the last cycle simulated
};

}  // namespace aimc
