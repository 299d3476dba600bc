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
// Only routers holding flits are visited, and a network with nothing in it is not stepped.
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
    // next_busy_cycle() did not ask for). Appends the packets whose tail left the network.
    // Returns whether any flit moved.
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
    static constexpr int kMaxPorts = 16;  // 4 mesh ports + endpoints attached to one router
    struct Flit {  // 16 bytes: copied once per hop
        std::uint32_t packet;
        std::uint16_t dst_router;
        std::uint8_t dst_port;  // ejection port at the destination router
        // kHead | kTail, and in the top 4 bits (kRouteShift) the output port of its route at the
        // router holding it (set when it arrives there; used once it is a head flit at the head).
        std::uint8_t flags;
        std::uint64_t ready;    // earliest departure cycle from the router holding it
    };
    static constexpr std::uint8_t kHead = 1, kTail = 2, kRouteShift = 4;
    // One input virtual channel: what allocation asks of it, ready to read without a branch.
    struct InputVc {  // 16 bytes
        static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
        std::uint64_t head_ready = kEmpty;  // the head flit's ready cycle; kEmpty: no flit (never ready)
        std::uint16_t head = 0, count = 0;
        // The output port of the packet at the head: its route while its head flit waits for an
        // output VC, then the allocated one. Always a port of the router, so reading it is safe.
        std::uint16_t out = 0;
        // The router gate (Router::gates) that opens when the head flit can go on: `out` for a
        // head flit waiting for an output VC, kMaxPorts + out * V + w for a packet holding w.
        std::uint16_t gate = 0;
    };
    // The credits sent back in one cycle: returning_[from returning_head_ or the previous batch's
    // end, to end), usable from cycle `due` on.
    struct CreditBatch {
        std::uint64_t due;
        std::size_t end;
    };
    // What a router visit needs of one port, input and output side together. A round-robin
    // start may equal the member count, meaning 0 (in_turn() in the .cpp wraps it; this saves a
    // wrap per grant). 16-bit fields: stores through unsigned char would alias everything.
    struct Port {  // 32 bytes
        std::uint16_t rr_input_vc = 0;   // input side: round-robin start among its VCs
        std::uint16_t rr_output = 0;     // output side: round-robin start among input ports
        std::uint16_t rr_output_vc = 0;  // output side: round-robin start for free output VCs
        std::uint16_t taken_vcs = 0;     // output side: bit v = output VC v held by a packet
        std::uint16_t credited_vcs = 0;  // output side: bit v = output VC v has a credit
        std::uint16_t number = 0;        // its port number at its router
        std::uint16_t down_port = 0;     // output side: port number of link_to at down_router
        std::int32_t credit_to = -1;     // input side: upstream global output port, -1: local
        std::int32_t link_to = -1;       // output side: downstream global input port, -1: none
        std::int32_t down_router = -1;   // output side: router of link_to
        std::uint32_t gates = 0;         // Router::gates of its router
    };
    struct Router {
        std::uint32_t nonempty_ports = 0;  // bit p: input port p holds flits
        std::uint32_t buffered = 0;        // flits
        std::int32_t base = 0;             // first global port
        std::int32_t ports = kMeshPorts;   // 4 mesh + one per attached endpoint
        std::int32_t x = 0, y = 0;
        std::uint32_t active = 0;          // in active_routers_
        // Offset in gates_ of its gates: at port o, 1 when output o has a free VC with a credit
        // (for head flits); at kMaxPorts + o * V + w, the credits of output VC w of port o.
        std::uint32_t gates = 0;
        std::uint64_t occupancy = 0;       // sum over visits of `buffered`
        std::uint64_t stall_cycles = 0;
    };
    struct SourceMessage {
        std::uint32_t packet;
        std::uint32_t flits;
        std::uint16_t dst_router;
        std::uint8_t dst_port;
        std::uint64_t ready;
    };
    struct Source {  // one network interface's injection side
        int router = 0, port = 0;
        int global_port = -1;  // of `port`, once built
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
    int gp(int r, int port) const { return routers_[static_cast<std::size_t>(r)].base + port; }
    const InputVc& ivc(int global_port, int vc) const { return input_vcs_[static_cast<std::size_t>(global_port * V_ + vc)]; }
    int route(int r, const Flit& f) const;
    // The credits of output port `port` of a router with gates g, by VC (kMaxPorts + port * V on).
    std::int16_t* credits(std::int16_t* g, int port) const { return g + kMaxPorts + port * V_; }
    std::int32_t credit(int global_port, int vc) const;
    // kV: the number of virtual channels when known at compile time (the common counts are
    // instantiated so that loops over VCs unroll and indexing folds), 0: V_. kB: likewise the
    // buffer depth (a power of two: slot arithmetic becomes a mask), 0: B_.
    template <int kV, int kB>
    void push_flit(int r, int global_port, int port, int vc, const Flit& f, std::uint64_t ready);
    void build();
    template <int kV>
    void return_credits(std::uint64_t c);
    template <int kV, int kB>
    bool step_cycle(std::uint64_t c, std::vector<Ejection>& ejected);
    template <int kV, int kB>
    bool inject_from_sources(std::uint64_t c);
    template <int kV, int kB>
    bool allocate(int r, std::uint64_t c, std::vector<Ejection>& ejected);

    MeshParams params_;
    int V_, B_;
    std::vector<Router> routers_;
    std::vector<Coord> coords_;  // by router: (x, y), for routing
    static constexpr int kRouteTable = 1024;
    std::vector<std::uint8_t> routes_;  // by router * routers + destination router: the way, 0xff: here
    int route_stride_ = 0;
    std::vector<Port> port_;  // by global port
    std::vector<std::uint64_t> link_flits_;  // by global port: flits sent on its link
    std::vector<InputVc> input_vcs_;  // by global port * V + vc
    std::vector<Flit> flits_;         // by (global port * V + vc) * B + slot
    std::vector<std::int16_t> gates_;  // by Router::gates + gate
    // Credits on their way back, in order of arrival, each the global output port they return to
    // times 16 plus the VC: a ring of power-of-two size from returning_head_ to returning_tail_
    // (counters, taken modulo the size), in batches of one cycle.
    std::vector<std::uint32_t> returning_;
    std::size_t returning_head_ = 0, returning_tail_ = 0;
    std::vector<CreditBatch> batches_;  // FIFO from batches_front_
    std::size_t batches_front_ = 0;
    std::vector<int> active_routers_;
    std::vector<Source> sources_;            // by endpoint id (-1 router: not attached)
    std::vector<int> active_sources_;
    std::vector<std::uint32_t> packet_flits_, packet_ejected_;  // by packet handle
    std::uint64_t flits_enqueued_ = 0, flits_ejected_ = 0;
    std::uint64_t last_cycle_ = 0;  // the last cycle simulated
};

}  // namespace aimc
