// Package hwsim is virtual hardware: it turns a simulation run into the
// messages real scanners, lockers, node gateways and the production systems
// would publish, in the feed format of twin/wire, with injected faults, and
// publishes them over MQTT in accelerated wall time.
//
// The Generator is a sim.Observer. It sees every event the simulated world
// hands the core, with the effects the core returned, and emits envelopes:
//
//   - scans (scanners/scn-{node}/scan) at pick, pack, hand-off and delivery;
//   - locker door, slot and pickup events (lockers/{node}/event) when a
//     parcel takes or leaves a compartment or counter space, and occupancy
//     counts with every heartbeat of a node that has slots;
//   - node status (nodes/{node}/status, retained): online/connect at the
//     start, the pre-built last will when connectivity drops, online/reconnect
//     after the node's offline buffer is flushed, offline/shutdown at the end;
//     heartbeats every Config.Heartbeat of simulated time while online;
//   - orders (orders/{node}) and production's label-state decisions
//     (labels/{id}/state) with reroute targets and refunds.
//
// A node that is offline buffers what its devices (its locker controller
// and its scanner) produce and flushes it on reconnect with the original
// instants and sequence numbers. Faults (Faults) are drawn from seeded
// streams, so the same scenario, seed and fault file give the same messages,
// byte for byte. Every deliberate fault is recorded in the Truth, together
// with the final true state of every label.
//
// Run drives the whole pipeline: simulation, pacing, pipelined QoS 1
// publishing (per-source order kept; across sources, no publish starts
// while one due more than RunConfig.MaxSkew earlier is unacknowledged, so
// the feed arrives as a live one would) and an optional capture.
package hwsim
