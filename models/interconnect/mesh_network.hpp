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
// word per signal, bit b standing for router 64 g + b of group g. Credit counts are bit-sliced on
// the planes as well (bit k of every router's count in one word), so the credits that return or
// are spent in a cycle are a few word additions and subtractions. Only the flits that move cost
// work of their own (a buffer read and write, the updates of their routers' planes).
// Nothing in a cycle depends on the order in which routers are handled: a router's allocation
// reads only its own state as of the start of the cycle, flits written downstream are not ready
// before the next cycle, and credits arrive a link latency later. A group of routers that holds
// no flit is skipped, and a network with nothing in it is not stepped.
#pragma once

#include <cstdint>
#include <optional>
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
    std::uint64_t stall_cycles(int r) const { return routers_[static_cast<std::size_t>(r)].stall_cycles; }
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
    struct Flit {  // 16 bytes: copied once per hop
        std::uint32_t packet;
        std::uint16_t dst_router;
        // The ejection port at the destination router (kPortMask), kHead | kTail, and from
        // kRouteShift on the output port of its route at the router holding it (set when it
        // arrives there; used once it is a head flit at the head).
        std::uint16_t info;
        std::uint64_t ready;    // earliest departure cycle from the router holding it
    };
    static constexpr std::uint16_t kPortMask = 15, kHead = 16, kTail = 32, kRouteShift = 8;
    // One input virtual channel: its buffer (a ring in flits_) and the packet at its head.
    struct InputVc {  // 8 bytes
        std::uint16_t head = 0, count = 0;
        // The output VC it holds, plus kHolds once the packet's head flit has left. (Its output
        // port is in the planes: PlaneLayout::out_is.)
        std::uint16_t held = 0;
        std::uint16_t pad = 0;
    };
    static constexpr std::uint16_t kHolds = 256;
    // One output port: the round-robin start for its free VCs (may equal 16: 0), and its link.
    struct OutputPort {  // 8 bytes
        std::uint16_t rr_vc = 0;
        std::uint16_t down_port = 0;     // port number of the link's far end at down_router
        std::int32_t down_router = -1;   // -1: no link (an edge, or an ejection port)
    };
    struct Router {
        std::int32_t ports = kMeshPorts;  // 4 mesh + one per attached endpoint
        std::int32_t x = 0, y = 0;
        std::uint64_t occupancy = 0;     // flit-cycles of the flits that have left
        std::uint64_t stall_cycles = 0;
    };
    // Where each signal's planes start in a group's block of planes_ (P ports, V VCs; VC i = p V + v
    // of input port p). Each is a Mask with bit b for router b of the group. A function of P and V
    // alone, so that it folds into constants where they are known at compile time; the credit
    // counts (their bits depend on the buffer depth) and the wheels follow at due_at_, back_at_.
    struct PlaneLayout {
        int ready;      // [i]: the head flit of VC i is ready to leave
        int out_is;     // [i P + o]: VC i's packet goes to output port o
        int held_is;    // [i V + w]: VC i's packet holds output VC w (its head flit has left)
        int unlimited;  // [o]: output port o never runs out of credits (an ejection port)
        int failed;     // [o]: output port o's link returns no credits (fail_link())
        int rr_in;      // [p V + u]: input port p's round-robin start among its VCs is <= u
        int rr_out;     // [o P + p]: output port o's round-robin start among inputs is <= p
        int credits;    // [(o V + w) CB + k]: bit k of output VC w's credits (CB: credit_bits_)
    };
    static constexpr PlaneLayout plane_layout(int P, int V) {
        PlaneLayout l{};
        const int NV = P * V;
        l.ready = 0;
        l.out_is = NV;
        l.held_is = l.out_is + NV * P;
        l.unlimited = l.held_is + NV * V;
        l.failed = l.unlimited + P;
        l.rr_in = l.failed + P;
        l.rr_out = l.rr_in + NV;
        l.credits = l.rr_out + P * P;
        return l;
    }
    struct SourceMessage {
        std::uint32_t packet;
        std::uint32_t flits;
        std::uint16_t dst_router;
        std::uint16_t dst_port;
        std::uint64_t ready;
    };
    struct Source {  // one network interface's injection side
        int router = 0, port = 0;
        std::vector<SourceMessage> queue;  // FIFO from `front`
        std::size_t front = 0;
        std::uint32_t sent = 0;  // flits of the front message already written
        int vc = -1;             // virtual channel the front message uses
        int next_vc = 0;         // round-robin start for the next message
        bool active = false;
    };
    struct Coord {
        std::int32_t x, y;
    };

    // The cycle a flit at input port `port` was written into the buffer: its ready cycle less the
    // router pipeline, and less the link for a mesh port.
    std::uint64_t arrival(int port, const Flit& f) const {
        return f.ready - static_cast<std::uint64_t>(params_.router_latency) -
               (port < kMeshPorts ? static_cast<std::uint64_t>(params_.link_latency) : 0);
    }
    std::size_t port_index(int r, int port) const { return static_cast<std::size_t>(r * P_ + port); }
    std::size_t vc_index(int r, int port, int vc) const { return port_index(r, port) * static_cast<std::size_t>(V_) + static_cast<std::size_t>(vc); }
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
    void push_flit(int r, int port, int vc, const Flit& f, std::uint64_t ready);
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
    template <int kP, int kV, int kB>
    void move_flit(Mask* pl, const Mask* credit_ok, const Mask* taken, Mask* spent, int g, int b, int o, int p, int v,
                   std::uint64_t c, std::vector<Ejection>& ejected);

    MeshParams params_;
    int V_, B_;
    int P_ = kMeshPorts;  // ports of the router with the most, the stride of per-router tables
    std::vector<Router> routers_;
    std::vector<Coord> coords_;  // by router: (x, y), for routing
    static constexpr int kRouteTable = 1024;
    std::vector<std::uint8_t> routes_;  // by router * routers + destination router: the way, 0xff: here
    int route_stride_ = 0;
    PlaneLayout layout_{};                     // plane_layout(P_, V_)
    std::size_t plane_stride_ = 0;             // planes per group
    std::vector<Mask> planes_;                 // by group, plane_stride_ each
    std::vector<std::uint32_t> group_flits_;   // flits buffered in each group's routers
    std::uint64_t buffered_ = 0;               // flits buffered in all routers
    std::vector<OutputPort> outputs_;          // by r P + o
    // By r P + p: where input port p's freed slots send their credits, the upstream router's
    // plane of credits coming back on VC 0 in wheel slot 0, and its bit (0: no upstream).
    std::vector<std::size_t> credit_word_;
    std::vector<Mask> credit_bit_;
    std::vector<std::uint64_t> link_flits_;    // by r P + o: flits sent on its link
    std::vector<InputVc> input_vcs_;           // by (r P + p) V + v
    std::vector<Flit> flits_;                  // by ((r P + p) V + v) B + slot
    int credit_bits_ = 1;  // bits of a credit count (0 to buffer_depth)
    int wheel_ = 0;        // cycles ahead that the wheels reach (a power of two > link + router)
    // The wheels, after the credit counts in each group's planes: due_at_ + (t mod W) NV + i, the
    // head flit of VC i becomes ready in cycle t; back_at_ + (t mod W) P V + o V + w, a credit for
    // output VC w of port o arrives in cycle t.
    std::size_t due_at_ = 0, back_at_ = 0;
    std::uint64_t credits_through_ = 0;  // credits due by this cycle are counted in
    bool built_ = false;
    std::vector<Source> sources_;            // by endpoint id (-1 router: not attached)
    std::vector<int> active_sources_;
    std::vector<std::uint32_t> packet_flits_, packet_ejected_;  // by packet handle
    std::uint64_t flits_enqueued_ = 0, flits_ejected_ = 0;
    std::uint64_t last_cycle_ = 0;  // the last cycle simulated
};

}  // namespace aimc
