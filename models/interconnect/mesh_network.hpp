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
    std::uint64_t router_traversals() const { return router_traversals_; }
    std::uint64_t link_traversals() const { return link_traversals_; }

    int routers() const { return params_.cols * params_.rows; }
    const MeshParams& params() const { return params_; }
    // Flits sent by router r on its mesh port d (0 where there is no link).
    std::uint64_t link_flits(int r, Direction d) const;
    bool has_link(int r, Direction d) const;
    // Cycles in which an input port of router r held a flit ready to leave but sent nothing.
    std::uint64_t stall_cycles(int r) const { return routers_[static_cast<std::size_t>(r)].stall_cycles; }
    // Sum over simulated cycles of the flits buffered in router r.
    std::uint64_t occupancy_flit_cycles(int r) const { return routers_[static_cast<std::size_t>(r)].occupancy; }
    // Fault injection: the link leaving router r towards d stops returning credits, so traffic
    // over it stops (for testing the watchdog).
    void fail_link(int r, Direction d);
    // Routers holding flits, what each head flit waits for (for the watchdog).
    std::string stuck_report(std::uint64_t c) const;

private:
    struct Flit {  // 16 bytes: copied once per hop
        std::uint32_t packet;
        std::uint16_t dst_router;
        std::uint8_t dst_port;  // ejection port at the destination router
        std::uint8_t flags;     // kHead | kTail
        std::uint64_t ready;    // earliest departure cycle from the router holding it
    };
    static constexpr std::uint8_t kHead = 1, kTail = 2;
    struct InputVc {  // 16 bytes
        std::uint64_t head_ready = 0;  // the head flit's ready cycle (valid when count > 0)
        std::uint16_t head = 0, count = 0;
        std::int8_t out_port = -1, out_vc = -1;  // of the packet at the head, once allocated
        std::int8_t head_route = -1;             // output port of a head flit at the head
    };
    // An output virtual channel: credits for the downstream buffer (returned credits are counted
    // in at the start of the cycle they arrive in). Whether a packet holds it: Port::taken_vcs.
    struct OutputVc {
        std::int32_t credits = 0;
    };
    // A credit on its way back to output virtual channel `ovc`, usable from cycle `due` on.
    struct ReturningCredit {
        std::uint64_t due;
        std::uint32_t ovc;
    };
    // What a router visit needs of one port, input and output side together (one cache line
    // holds two ports). A round-robin start may equal the member count, meaning 0 (in_turn()
    // in the .cpp wraps it; this saves a wrap per grant).
    struct Port {
        std::uint16_t nonempty_vcs = 0;  // input side: bit v = VC v holds flits
        std::uint8_t rr_input_vc = 0;    // input side: round-robin start among its VCs
        std::uint8_t rr_output = 0;      // output side: round-robin start among input ports
        std::uint8_t rr_output_vc = 0;   // output side: round-robin start for free output VCs
        std::uint8_t down_port = 0;      // output side: port number of link_to at down_router
        std::uint16_t taken_vcs = 0;     // output side: bit v = output VC v held by a packet
        std::int32_t credit_to = -1;     // input side: upstream global output port, -1: local
        std::int32_t link_to = -1;       // output side: downstream global input port, -1: none
        std::int32_t down_router = -1;   // output side: router of link_to
        std::int32_t eject_endpoint = -1;  // output side: endpoint, -1: mesh port
        std::uint64_t link_flits = 0;
    };
    struct Router {
        std::uint32_t nonempty_ports = 0;  // bit p = input port p holds flits
        std::uint32_t buffered = 0;        // flits
        std::int32_t base = 0;             // first global port
        std::int32_t ports = kMeshPorts;   // 4 mesh + one per attached endpoint
        std::int32_t x = 0, y = 0;
        std::uint32_t active = 0;          // in active_routers_
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

    int gp(int r, int port) const { return routers_[static_cast<std::size_t>(r)].base + port; }
    const InputVc& ivc(int global_port, int vc) const { return input_vcs_[static_cast<std::size_t>(global_port * V_ + vc)]; }
    int route(int r, const Flit& f) const;
    // kV: the number of virtual channels when known at compile time (the common counts are
    // instantiated so that indexing and round-robin arithmetic fold), 0: V_. kB: likewise the
    // buffer depth (a power of two: slot arithmetic becomes a mask), 0: B_.
    template <int kV, int kB>
    void push_flit(int r, int global_port, int vc, const Flit& f, std::uint64_t ready);
    void build();
    bool inject_from_sources(std::uint64_t c);
    template <int kV, int kB>
    bool allocate(int r, std::uint64_t c, std::vector<Ejection>& ejected);
    template <int kV, int kB>
    bool visit_routers(std::uint64_t c, std::vector<Ejection>& ejected);

    MeshParams params_;
    int V_, B_;
    std::vector<Router> routers_;
    std::vector<Port> port_;  // by global port
    std::vector<InputVc> input_vcs_;  // by global port * V + vc
    std::vector<Flit> flits_;         // by (global port * V + vc) * B + slot
    std::vector<OutputVc> output_vcs_;  // by global output port * V + vc
    std::vector<ReturningCredit> returning_;  // in order of arrival, from returning_front_
    std::size_t returning_front_ = 0;
    std::vector<int> active_routers_;
    std::vector<Source> sources_;            // by endpoint id (-1 router: not attached)
    std::vector<int> active_sources_;
    std::vector<std::uint32_t> packet_flits_, packet_ejected_;  // by packet handle
    std::uint64_t flits_enqueued_ = 0, flits_ejected_ = 0, router_traversals_ = 0, link_traversals_ = 0;
};

}  // namespace aimc
