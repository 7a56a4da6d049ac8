// Package model is lockstep's core: the smart-label state machine, locker slot
// allocation, the reroute policy and the SLA and refund rules, over the H3
// geometry of a network of micro-fulfillment nodes.
//
// The core is a pure state machine in the style of etcd's raft package. It
// never reads a clock, starts a goroutine, does I/O or draws random numbers.
// A driver hands it one event at a time, stamped with its Instant, and gets
// back the effects to carry out:
//
//	core := model.New(network)
//	effects := core.Step(model.Event{Type: model.EvOrderPlaced, At: t, Label: 1, SKU: 0, Node: store, Dest: locker})
//	for _, e := range effects {
//		switch e.Type {
//		case model.EffSetTimer: // schedule EvTimer{Label: e.Label, Timer: e.Timer} at e.At
//		case model.EffDispatch: // find a courier for e.Label from e.Node to e.To
//		case model.EffNotify:   // tell the customer the parcel is ready at e.Node
//		case model.EffRefund:   // book e.Amount
//		}
//	}
//
// The simulator (package sim) turns SetTimer into scheduled events and lets
// its simulated world react to the rest; the twin fires timers from a wall
// clock and compares the effects with what production reported. The same
// input sequence gives the same state and the same effects, byte for byte.
// StepEvent(&ev) is Step for a driver's hot path: the event by reference,
// not copied (the simulator uses it).
//
// # Labels
//
// A label carries its parcel's order, SKU, size, fulfilling node, destination,
// SLA deadline, stage TTL deadline, hop count and a provenance chain: every
// transition appends (state, instant, node, reason, hash of the previous
// entry). The hash is a 64-bit splitmix mix computed on append (a few
// multiplications per transition, so the chain costs the simulation nothing
// measurable); Label.Verify recomputes it and also checks every step against
// the transition table. The table is Transitions: an event that has no row
// for the label's state is rejected with a reason, counted in Stats.Rejected
// and reported as an EffReject effect, never a panic.
//
// # Rules
//
//   - Slots: a parcel takes the smallest free locker slot that fits its size,
//     else counter space; pop-ups only exist in their active window; nodes
//     refuse parcels outside their opening hours or while offline.
//   - Reroute: a node that is full, closed, inactive or offline on arrival,
//     or a ready-for-pickup TTL that expires, sends the parcel to the nearest
//     node that can take it (H3 grid distance, ties by node id; TTL expiry
//     goes to partner storefronts only), at most Policy.MaxHops times, then
//     the parcel is returned. Each reroute costs Policy.RerouteCost and takes
//     Policy.RerouteDelay before a courier hands it off.
//   - TTLs (ttl.go): an expired picked, packed or in-transit TTL raises an
//     alert (EffAlert) and escalates by Policy.Escalate (EffRedispatch, or an
//     in-transit diversion to the nearest partner, EffRedirect); the
//     ready-for-pickup TTL is the first matching Policy.ReadyRules entry
//     (node occupancy, subscriber, day of week) or the constant; with
//     Policy.Expiry the customer is reminded (TimerReminder, EffRemind), may
//     get one extension (EvExtend, EffExtended), and an expired parcel is
//     returned to sender instead of rerouted.
//   - SLA: an order placed before Policy.Cutoff must be ready for pickup by
//     Policy.ReadyBy that day (later orders: by ReadyBy the next day). A
//     label not ready at its deadline is refunded (Policy.Refund rule) once,
//     as an EffRefund effect; the label continues. A pickup counts within
//     the SLA when the label was ready on time and picked up within
//     Policy.PickupWindow of the first ready notification.
//   - Replenishment (replenish.go): each EvReplenish (nightly) scores the last
//     forecast, forecasts each cache node's daily demand per SKU from the
//     rolling heatmap (online orders by the customer's H3 cell, counter sales
//     by node), lets Policy.Replenish choose the assortment (rotation within
//     Node.CacheSlots) and the units to send (within capacity and
//     Node.ShelfUnits), withdraws the free units of SKUs that rotated out and
//     emits an EffRestock per SKU to send.
//   - Supply (Network.Supply, supply.go): an online order takes its unit
//     from the fulfilling node's cache when it caches the SKU and has one
//     free, else from the central depot (StockCentral: taken at placement,
//     it rides the next line-haul wave and reaches the node at Label.Arrive,
//     announced by EffLineHaul), else it is cancelled as a stockout. A
//     same-day order whose wave arrives too late falls back by
//     Supply.Fallback (promised for the next day, or kept and missed).
//     Without a supply tier an uncached SKU is served at the fulfilling
//     node from an unlimited back store.
//   - Touch layer (Policy.Touch, touch.go; nil: off): an order may carry the
//     pickup window its customer chose at checkout (Event.SetWindow); its SLA
//     deadline is the window's opening and its ready-for-pickup TTL runs
//     from the window's close. At a verified pickup the core credits
//     rewards (EffReward): for collecting within Touch.RewardWithin of the
//     first ready notification, and for collecting inside an off-peak
//     window; Stats.Touch counts windows kept and missed and the rewards.
//   - Reusable packaging (Network.Packaging, packaging.go): packing takes
//     the lowest-numbered box of the label's reusable template from the
//     fulfilling microstore's pool (Label.Box; none left: single-use, a box
//     stockout); after the pickup the driver reports the box's way back
//     (EvBoxReturn into a slot or counter space, EvBoxCollect, EvBoxHome,
//     EvBoxLost) along BoxTransitions; the twin also feeds production's
//     packing claims (EvBoxPacked) and resyncs (EvBoxSync). Core.BoxStats,
//     BoxesOut and BoxesOutTime give the counters.
//
// # Snapshots
//
// Core.MarshalBinary encodes the core's whole state: the clock, node states,
// every live label with its provenance chain and slab index, the free list,
// Stats with their histograms, KeepFinished, MeasureFrom, the cache-first
// inventory (caches, central replicas, unmerged logs, queued orders, counters)
// and the demand heatmap. The network is not saved, only a fingerprint of it
// (Network.Fingerprint), and neither is OnFinish. Core.UnmarshalBinary
// restores the state onto a core made by New for an equal network; the
// restored core steps exactly as the original would have, and labels keep
// their slab indexes. A snapshot of another network, another format version
// or a damaged one is refused with an error and the core is left as it was:
//
//	data, _ := core.MarshalBinary() // between two Steps
//	// ... restart ...
//	core := model.New(network)
//	core.OnFinish = onFinish
//	if err := core.UnmarshalBinary(data); err != nil { /* replay from the start */ }
//
// Time is an integer Instant (milliseconds since the Unix epoch, read as the
// city's local wall clock, without daylight saving), so event queues stay
// cheap. Zone maps the real instants of the outside world onto it and back.
package model
