package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math"
)

// Snapshot format (all integers are varints unless noted, signed ones
// zigzag-encoded):
//
//	magic "LSCS", version byte, network fingerprint (8 bytes, little endian)
//	core:      now, MeasureFrom, KeepFinished, Stats
//	nodes:     one NodeState per network node
//	order:     per node, 0 (not computed yet) or 1+n followed by n node indexes
//	           (the first n of its nearest-first ordering: Core.orderFrom)
//	labels:    slab length, free list, total chain entries, then every live
//	           slab slot in slab order (free slots carry nothing)
//	inventory: 0, or 1 and per node its caches, central replica, unmerged
//	           log, outbox and counters, then the demand heatmap, then
//	replenish: (within inventory) the planner's state: the last plan, per
//	           node its SKUs' assortment flags and rotated-out units, its
//	           unit count and integral, forecast and WAPE sums
//	ttl:       the TTL stats and per-label expiry state (ttl_snapshot.go)
//	supply:    0, or 1, the source counters per fulfilling node (hub last),
//	           then 0, or 1 and the depot (per SKU: held and its counters,
//	           the next inbound instant) and the arrival of every live
//	           central label (count, then slab and instant)
//	touch:     (version 4) the touch layer's stats and the pickup windows of
//	           live labels (touch_snapshot.go)
//	packaging: 0, or 1 and the reusable boxes (packaging_snapshot.go; v4)
//	CRC-32C of everything before it (4 bytes, little endian)
//
// The index map is not stored: it is rebuilt from the live slots.
const (
	snapMagic   = "LSCS"
	snapVersion = 4
)

// Snapshot errors, wrapped by UnmarshalBinary's error.
var (
	// ErrSnapshotVersion: not a core snapshot, or a format version this
	// build does not read.
	ErrSnapshotVersion = errors.New("unsupported snapshot format")
	// ErrSnapshotNetwork: the snapshot was taken from a core on another network.
	ErrSnapshotNetwork = errors.New("snapshot of a different network")
	// ErrSnapshotCorrupt: truncated, malformed or damaged data.
	ErrSnapshotCorrupt = errors.New("corrupt snapshot")
)

var snapCRC = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the core's whole state (encoding.BinaryMarshaler):
// the clock, node states, every label with its provenance chain and slab
// index, the free list, Stats with their histograms, KeepFinished,
// MeasureFrom, the cache-first inventory (caches, central replicas, unmerged
// logs, outboxes, counters) and the demand heatmap. The network is not
// included, only a fingerprint of it; OnFinish is not included either. The
// same state always gives the same bytes.
func (c *Core) MarshalBinary() ([]byte, error) {
	freed := make([]bool, c.labels.len())
	for _, s := range c.free {
		freed[s] = true
	}
	chains := 0
	for i := range c.labels.len() {
		if !freed[i] {
			chains += len(c.labels.at(int32(i)).Chain)
		}
	}
	w := snapWriter{buf: make([]byte, 0, 256+len(c.nodes)*64+c.labels.len()*48+chains*8+len(c.heat)+len(c.counterHeat))}
	w.buf = append(w.buf, snapMagic...)
	w.buf = append(w.buf, snapVersion)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, c.Net.Fingerprint())

	w.int(int64(c.now))
	w.int(int64(c.MeasureFrom))
	w.bool(c.KeepFinished)
	w.stats(&c.Stats)

	w.uint(uint64(len(c.nodes)))
	for i := range c.nodes {
		w.nodeState(&c.nodes[i])
	}

	w.uint(uint64(len(c.order)))
	for _, o := range c.order {
		if o == nil {
			w.uint(0)
			continue
		}
		w.uint(uint64(len(o)) + 1)
		for _, j := range o {
			w.uint(uint64(j))
		}
	}

	w.uint(uint64(c.labels.len()))
	w.uint(uint64(len(c.free)))
	for _, s := range c.free {
		w.uint(uint64(s))
	}
	w.uint(uint64(chains))
	for i := range c.labels.len() {
		if !freed[i] {
			w.label(c.labels.at(int32(i)))
		}
	}

	w.bool(c.inv != nil)
	if c.inv != nil {
		w.uint(uint64(len(c.inv)))
		for i := range c.inv {
			w.nodeInv(&c.inv[i])
		}
		w.uint(uint64(len(c.rp.cells)))
		for _, cl := range c.rp.cells {
			w.uint(uint64(cl))
		}
		w.int32s(c.heat)
		w.int32s(c.counterHeat)
		w.int(int64(c.window))
		w.int(int64(c.heatDay))
		w.int(int64(c.heatDays))
		w.replenish(c)
	}
	w.ttl(c, freed)
	c.encodeSupply(&w, freed)
	w.touch(c, freed)
	w.packaging(c, freed)
	w.buf = binary.LittleEndian.AppendUint32(w.buf, crc32.Checksum(w.buf, snapCRC))
	return w.buf, nil
}

// UnmarshalBinary replaces the state of c, which must have been made by New
// with a network equal to the one the snapshot was taken from, with the
// state MarshalBinary encoded (encoding.BinaryUnmarshaler). Labels keep
// their slab indexes. Net and OnFinish are kept. On error (another network,
// another format version, truncated or corrupt data) c is left unchanged and
// the error wraps ErrSnapshotNetwork, ErrSnapshotVersion or
// ErrSnapshotCorrupt.
func (c *Core) UnmarshalBinary(data []byte) error {
	const head = len(snapMagic) + 1 + 8
	switch {
	case len(data) < len(snapMagic) || string(data[:len(snapMagic)]) != snapMagic:
		return fmt.Errorf("model: snapshot: header: not a core snapshot: %w", ErrSnapshotVersion)
	case len(data) == len(snapMagic):
		return fmt.Errorf("model: snapshot: header: truncated: %w", ErrSnapshotCorrupt)
	case data[len(snapMagic)] != snapVersion:
		return fmt.Errorf("model: snapshot: header: version %d, want %d: %w", data[len(snapMagic)], snapVersion, ErrSnapshotVersion)
	case len(data) < head+4:
		return fmt.Errorf("model: snapshot: header: truncated: %w", ErrSnapshotCorrupt)
	}
	if fp, want := binary.LittleEndian.Uint64(data[len(snapMagic)+1:]), c.Net.Fingerprint(); fp != want {
		return fmt.Errorf("model: snapshot: network fingerprint %016x, this core's network has %016x: %w", fp, want, ErrSnapshotNetwork)
	}
	body := data[:len(data)-4]
	r := snapReader{data: body, off: head}
	d, err := c.decode(&r)
	if err == nil {
		err = r.ttl(d)
	}
	if err == nil {
		err = c.decodeSupply(&r, d)
	}
	if err == nil {
		err = r.touch(d)
	}
	if err == nil {
		err = c.decodePackaging(&r, d)
	}
	if err != nil {
		return fmt.Errorf("model: snapshot: %s: %w", r.section, err)
	}
	if r.off != len(body) {
		return fmt.Errorf("model: snapshot: %d trailing bytes: %w", len(body)-r.off, ErrSnapshotCorrupt)
	}
	if crc32.Checksum(body, snapCRC) != binary.LittleEndian.Uint32(data[len(body):]) {
		return fmt.Errorf("model: snapshot: checksum mismatch: %w", ErrSnapshotCorrupt)
	}
	d.OnFinish = c.OnFinish
	*c = *d
	return nil
}

// decode reads the body into a fresh core shaped like c (same network).
func (c *Core) decode(r *snapReader) (*Core, error) {
	net := c.Net
	nn, ns := len(net.Nodes), len(net.SKUs)
	validNode := func(v int64) bool { return v >= 0 && v < int64(nn) }
	nodeOrNone := func(v int64) bool { return v >= -1 && v < int64(nn) }
	d := &Core{Net: net, out: make([]Effect, 0, 16), logging: c.logging, cellNodes: c.cellNodes, holders: c.holders, idRank: c.idRank} // derived from the same network, read-only

	r.section = "core"
	d.now = Instant(r.int())
	d.MeasureFrom = Instant(r.int())
	d.KeepFinished = r.bool()
	r.section = "stats"
	r.stats(&d.Stats)

	r.section = "nodes"
	d.nodes = make([]NodeState, r.expect(nn))
	for i := range d.nodes {
		r.nodeState(&d.nodes[i])
	}

	r.section = "order"
	d.order = make([][]NodeIndex, r.expect(nn))
	for i := range d.order {
		n := r.count(1)
		if n == 0 {
			continue
		}
		o := make([]NodeIndex, n-1)
		for k := range o {
			if v := r.uint(); v < uint64(nn) {
				o[k] = NodeIndex(v)
			} else {
				r.fail("node index out of range")
			}
		}
		d.order[i] = o
	}

	r.section = "labels"
	nl := r.count(1)
	d.labels = makeLabelSlab(nl)
	freed := make([]bool, nl)
	d.free = make([]int32, r.count(1))
	for k := range d.free {
		s := r.uint()
		if s >= uint64(nl) || freed[s] {
			r.fail("bad free slot")
			break
		}
		freed[s] = true
		d.free[k] = int32(s)
	}
	chains := make([]Entry, r.count(4))
	d.index = labelIndex{}
	for i := range d.labels.len() {
		if r.err != nil {
			break
		}
		l := d.labels.at(int32(i))
		l.slab = int32(i)
		if freed[i] {
			continue
		}
		chains = r.label(l, chains)
		switch {
		case l.SKU < 0 || int(l.SKU) >= ns, l.Size >= NumSizes, l.State >= numStates,
			!nodeOrNone(int64(l.From)), !validNode(int64(l.Dest)), !validNode(int64(l.Home)), !nodeOrNone(int64(l.At)),
			l.SlotSize >= NumSizes && l.SlotSize != NoSize, l.Stock > StockCentral, l.Hops < 0,
			l.Stock != StockNone && l.Stock != StockCentral && (c.inv == nil || l.From == NoNode),
			l.Stock == StockCentral && c.Net.Supply == nil:
			r.fail("label field out of range")
		case (l.At != NoNode) != (l.State == ReadyForPickup), l.At == NoNode && l.SlotSize != NoSize:
			r.fail("label held at a node while not ready for pickup")
		}
		if _, dup := d.index.get(l.ID); dup {
			r.fail("duplicate label id")
			continue
		}
		d.index.set(l.ID, int32(i))
	}
	if r.err == nil && len(chains) != 0 {
		r.fail("chain entry count mismatch")
	}

	r.section = "inventory"
	if r.bool() != (c.inv != nil) {
		r.fail("inventory presence differs from the network's")
	}
	if r.err != nil || c.inv == nil {
		return d, r.err
	}
	d.inv = make([]nodeInv, r.expect(nn))
	for i := range d.inv {
		r.nodeInv(&d.inv[i], NodeIndex(i), ns)
	}
	r.section = "heatmap"
	d.rp = replState{res: c.rp.res, cellIdx: map[Cell]int32{}}
	for k, n := 0, r.count(1); k < n && r.err == nil; k++ {
		cl := Cell(r.uint())
		if _, dup := d.rp.cellIdx[cl]; dup || !cl.IsValid() || cl.Resolution() != d.rp.res {
			r.fail("bad heatmap cell")
			break
		}
		d.rp.cellIdx[cl] = int32(k)
		d.rp.cells = append(d.rp.cells, cl)
	}
	d.heat = r.int32s(len(d.rp.cells) * ns * c.window)
	d.counterHeat = r.int32s(len(c.counterHeat))
	d.window = int(r.int())
	d.heatDay = int(r.int())
	d.heatDays = int(r.int())
	if r.err == nil && (d.window != c.window || d.heatDay < 0 || d.heatDay >= d.window || d.heatDays < 0) {
		r.fail("bad heatmap window")
	}
	if r.err == nil {
		for _, cl := range d.rp.cells {
			d.rp.owner = append(d.rp.owner, d.ownerOf(cl))
		}
	}
	r.replenish(c, d)
	return d, r.err
}

// Fingerprint is a 64-bit FNV-1a hash of everything in the network the core
// depends on: nodes (id, kind, position, cell, slots, counter, hours, active
// window, costs, cache), SKUs, the policy, the resolution, EdgeLog and
// whether pickup codes are checked (the key itself is not hashed). Snapshots
// carry it so that one is only restored onto the network it was taken from.
func (n *Network) Fingerprint() uint64 {
	w := snapWriter{buf: make([]byte, 0, 256+len(n.Nodes)*96+len(n.SKUs)*32)}
	str := func(s string) { w.uint(uint64(len(s))); w.buf = append(w.buf, s...) }
	w.uint(uint64(len(n.Nodes)))
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		str(nd.ID)
		w.uint(uint64(nd.Kind))
		w.float(nd.Lat)
		w.float(nd.Lng)
		w.uint(uint64(nd.Cell))
		for _, s := range nd.Slots {
			w.int(int64(s))
		}
		w.int(int64(nd.Counter))
		w.uint(uint64(len(nd.Hours)))
		for _, s := range nd.Hours {
			w.int(int64(s.From))
			w.int(int64(s.To))
		}
		w.int(int64(nd.ActiveFrom))
		w.int(int64(nd.ActiveUntil))
		w.float(nd.FloorArea)
		w.float(nd.FixedCostPerDay)
		w.uint(uint64(len(nd.Cache)))
		for _, it := range nd.Cache {
			w.int(int64(it.SKU))
			w.int(int64(it.Capacity))
			w.int(int64(it.Stock))
		}
	}
	w.uint(uint64(len(n.SKUs)))
	for _, s := range n.SKUs {
		str(s.ID)
		w.uint(uint64(s.Size))
		w.float(s.Price)
	}
	p := &n.Policy
	w.uint(uint64(len(p.TTL)))
	for _, d := range p.TTL {
		w.int(int64(d))
	}
	w.int(int64(p.MaxHops))
	w.float(p.RerouteCost)
	w.int(int64(p.RerouteDelay))
	w.uint(uint64(p.Refund))
	w.float(p.RefundAmount)
	w.float(p.RefundShare)
	w.int(int64(p.Cutoff))
	w.int(int64(p.ReadyBy))
	w.int(int64(p.PickupWindow))
	w.uint(uint64(p.Offline))
	w.int(int64(p.RestockWindow))
	w.float(p.RestockCover)
	w.uint(uint64(p.Replenish))
	w.int(int64(p.HeatResolution))
	for i := range n.Nodes {
		nd := &n.Nodes[i]
		w.int(int64(nd.CacheSlots))
		w.int(int64(nd.ShelfUnits))
		for _, it := range nd.Cache {
			w.bool(it.Pinned)
		}
	}
	w.int(int64(n.Resolution))
	w.bool(n.EdgeLog)
	w.bool(n.CodeKey != [2]uint64{})
	w.ttlPolicy(p)
	if n.Supply != nil {
		n.Supply.hash(&w)
	}
	w.touchPolicy(p.Touch)
	if n.Packaging != nil {
		n.Packaging.hash(&w)
	}
	h := fnv.New64a()
	h.Write(w.buf)
	return h.Sum64()
}

// snapWriter appends the encoding of values to buf.
type snapWriter struct{ buf []byte }

func (w *snapWriter) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *snapWriter) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *snapWriter) byte(v uint8)  { w.buf = append(w.buf, v) }
func (w *snapWriter) float(v float64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(v))
}

func (w *snapWriter) bool(v bool) {
	if v {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

func (w *snapWriter) int32s(a []int32) {
	w.uint(uint64(len(a)))
	for _, v := range a {
		w.int(int64(v))
	}
}

func (w *snapWriter) histogram(h *Histogram) {
	w.uint(uint64(len(h.Counts)))
	nz := 0
	for _, v := range h.Counts {
		if v != 0 {
			nz++
		}
	}
	w.uint(uint64(nz))
	last := -1
	for i, v := range h.Counts {
		if v != 0 {
			w.uint(uint64(i - last - 1))
			w.uint(v)
			last = i
		}
	}
	w.uint(h.N)
	w.float(h.Sum)
}

func (w *snapWriter) stats(s *Stats) {
	w.uint(s.Events)
	w.uint(s.Transitions)
	w.uint(uint64(len(s.Rejected)))
	for _, v := range s.Rejected {
		w.uint(v)
	}
	for _, v := range [...]uint64{s.Orders, s.SameDay, s.Ready, s.ReadyOnTime, s.PickedUp, s.PickedUpWithinSLA,
		s.Returned, s.Cancelled, s.Reroutes, s.Refunds, s.Alerts} {
		w.uint(v)
	}
	w.float(s.RefundAmount)
	w.float(s.RerouteCost)
	w.histogram(&s.Friction)
	w.histogram(&s.ReconcileLag)
}

func (w *snapWriter) nodeState(n *NodeState) {
	w.bool(n.Online)
	for _, v := range n.Free {
		w.int(int64(v))
	}
	w.int(int64(n.Held))
	w.int(int64(n.Occupied))
	w.int(n.OccupiedTime)
	w.int(int64(n.Since))
	w.uint(n.Arrivals)
	w.uint(n.Refused)
	w.uint(n.Entered)
}

// label flags
const (
	lfSameDay = 1 << iota
	lfLate
	lfMeasured
	lfSubscriber
	lfTurnedAway
	// lfLinked: every Prev is the hash of the entry before (0 for the
	// first) and Head the hash of the last, as Label.append leaves them;
	// the hashes are then recomputed on decode instead of stored.
	lfLinked
)

func (w *snapWriter) label(l *Label) {
	w.uint(uint64(l.ID))
	w.uint(l.Order)
	w.int(int64(l.SKU))
	w.byte(uint8(l.Size))
	w.int(int64(l.From))
	w.int(int64(l.Dest))
	w.int(int64(l.Home))
	w.int(int64(l.Placed))
	// instants relative to Placed: short varints
	w.int(int64(l.Due - l.Placed))
	w.int(int64(l.ReadyAt - l.Placed))
	w.int(int64(l.TTLAt - l.Placed))
	w.byte(uint8(l.State))
	w.int(int64(l.Hops))
	w.int(int64(l.At))
	w.byte(uint8(l.SlotSize))
	w.byte(uint8(l.Stock))
	var f uint8
	for _, b := range [...]struct {
		on  bool
		bit uint8
	}{{l.SameDay, lfSameDay}, {l.Late, lfLate}, {l.Measured, lfMeasured}, {l.Subscriber, lfSubscriber}, {l.TurnedAway, lfTurnedAway}, {linked(l.Chain, l.Head), lfLinked}} {
		if b.on {
			f |= b.bit
		}
	}
	w.byte(f)
	w.uint(uint64(len(l.Chain)))
	at := l.Placed
	for _, e := range l.Chain {
		w.byte(uint8(e.State))
		w.int(int64(e.At - at))
		at = e.At
		w.int(int64(e.Node))
		w.byte(uint8(e.Reason))
		if f&lfLinked == 0 {
			w.buf = binary.LittleEndian.AppendUint64(w.buf, e.Prev)
		}
	}
	if f&lfLinked == 0 {
		w.buf = binary.LittleEndian.AppendUint64(w.buf, l.Head)
	}
}

// linked reports whether the chain's hashes are the ones Label.append computes.
func linked(chain []Entry, head uint64) bool {
	var prev uint64
	for _, e := range chain {
		if e.Prev != prev {
			return false
		}
		prev = e.Hash()
	}
	return head == prev
}

func (w *snapWriter) nodeInv(iv *nodeInv) {
	w.uint(uint64(len(iv.sku)))
	for k := range iv.sku {
		s := &iv.sku[k]
		w.bool(s.tracked)
		for _, v := range [...]int32{s.capacity, s.shelf, s.held, s.pend} {
			w.int(int64(v))
		}
		for _, v := range [...]int64{s.initial, s.restocked, s.returned, s.sold, s.picked, s.restockRefused} {
			w.int(v)
		}
	}
	w.bool(iv.cached)
	r := &iv.central
	w.int(int64(r.Node))
	w.int32s(r.Shelf)
	w.int32s(r.Held)
	w.uint(r.Acked)
	w.uint(uint64(len(r.seen)))
	for _, v := range r.seen {
		w.uint(v)
	}
	w.uint(r.Applied)
	w.uint(r.Duplicates)
	w.uint(uint64(len(iv.log)))
	for _, e := range iv.log {
		w.int(int64(e.Node))
		w.uint(e.Seq)
		w.byte(uint8(e.Op))
		w.int(int64(e.SKU))
		w.int(int64(e.Qty))
		w.uint(uint64(e.Label))
		w.int(int64(e.At))
	}
	w.uint(iv.seq)
	w.uint(uint64(len(iv.outbox)))
	for _, cl := range iv.outbox {
		w.uint(uint64(cl.Label))
		w.int(int64(cl.SKU))
		w.int(int64(cl.At))
	}
	w.uint(uint64(len(iv.won)))
	for _, v := range iv.won {
		w.bool(v)
	}
	st := &iv.stats
	for _, v := range [...]uint64{st.Conflicts, st.Oversells, st.Stockouts, st.CounterStockouts, st.CounterSales, st.CounterRefused,
		st.OfflinePickups, st.OfflinePickupsFailed, st.OfflinePickupsDelayed, st.Reconciliations, st.Rerouted, st.CancelledConflict} {
		w.uint(v)
	}
	w.int(st.DriftTime)
	w.int(st.DriftMax)
	w.int(iv.drift)
	w.int(int64(iv.since))
	w.int(iv.driftAll)
}

// snapReader decodes what snapWriter wrote. The first error sticks: later
// reads return zero values, so decoding code checks r.err only where it
// matters (before allocating, at the end).
type snapReader struct {
	data    []byte
	off     int
	err     error
	section string
}

func (r *snapReader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at byte %d: %w", msg, r.off, ErrSnapshotCorrupt)
	}
}

func (r *snapReader) uint() uint64 { return varint(r, binary.Uvarint) }

func (r *snapReader) int() int64 { return varint(r, binary.Varint) }

// varint reads one signed or unsigned varint with dec.
func varint[T int64 | uint64](r *snapReader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.data[r.off:])
	if n <= 0 {
		r.fail("truncated or bad varint")
		return 0
	}
	r.off += n
	return v
}

func (r *snapReader) byte() uint8 {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.data) {
		r.fail("truncated")
		return 0
	}
	r.off++
	return r.data[r.off-1]
}

func (r *snapReader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.data)-r.off < 8 {
		r.fail("truncated")
		return 0
	}
	r.off += 8
	return binary.LittleEndian.Uint64(r.data[r.off-8:])
}

func (r *snapReader) float() float64 { return math.Float64frombits(r.u64()) }

func (r *snapReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bad bool")
	return false
}

// count reads a length whose elements take at least min bytes each and
// checks the rest of the input can hold them, so a corrupt length cannot
// make the decoder allocate more than the input's size.
func (r *snapReader) count(min int) int {
	v := r.uint()
	if rest := uint64(len(r.data) - r.off); v > rest/uint64(min) {
		r.fail("length exceeds input")
		return 0
	}
	return int(v)
}

// expect reads a length that must be n (a size fixed by the network).
func (r *snapReader) expect(n int) int {
	if v := r.uint(); r.err == nil && v != uint64(n) {
		r.fail(fmt.Sprintf("length %d, want %d", v, n))
	}
	if r.err != nil {
		return 0
	}
	return n
}

func (r *snapReader) int32s(n int) []int32 {
	if n = r.expect(n); r.err != nil {
		return nil
	}
	a := make([]int32, n)
	for k := range a {
		a[k] = r.i32()
	}
	return a
}

func (r *snapReader) i32() int32 {
	v := r.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("int32 out of range")
		return 0
	}
	return int32(v)
}

func (r *snapReader) histogram(h *Histogram) {
	n := r.uint()
	if n != 0 && n != HistogramBins+1 {
		r.fail("bad histogram size")
		return
	}
	nz := r.count(2)
	if r.err != nil || n == 0 && nz != 0 {
		r.fail("bad histogram")
		return
	}
	if n != 0 {
		h.Counts = make([]uint64, n)
	}
	i := -1
	for range nz {
		i += int(min(r.uint(), n)) + 1
		v := r.uint()
		if i >= int(n) || v == 0 {
			r.fail("bad histogram bin")
			return
		}
		h.Counts[i] = v
	}
	h.N = r.uint()
	h.Sum = r.float()
}

func (r *snapReader) stats(s *Stats) {
	s.Events = r.uint()
	s.Transitions = r.uint()
	r.expect(len(s.Rejected))
	for k := range s.Rejected {
		s.Rejected[k] = r.uint()
	}
	for _, p := range [...]*uint64{&s.Orders, &s.SameDay, &s.Ready, &s.ReadyOnTime, &s.PickedUp, &s.PickedUpWithinSLA,
		&s.Returned, &s.Cancelled, &s.Reroutes, &s.Refunds, &s.Alerts} {
		*p = r.uint()
	}
	s.RefundAmount = r.float()
	s.RerouteCost = r.float()
	r.histogram(&s.Friction)
	r.histogram(&s.ReconcileLag)
}

func (r *snapReader) nodeState(n *NodeState) {
	n.Online = r.bool()
	for k := range n.Free {
		n.Free[k] = r.i32()
	}
	n.Held = r.i32()
	n.Occupied = r.i32()
	n.OccupiedTime = r.int()
	n.Since = Instant(r.int())
	n.Arrivals = r.uint()
	n.Refused = r.uint()
	n.Entered = r.uint()
}

// label decodes one live label; its chain takes the front of chains (one
// allocation for all labels, capacity-limited so appends never overlap the
// next label's entries) and the rest is returned.
func (r *snapReader) label(l *Label, chains []Entry) []Entry {
	l.ID = LabelID(r.uint())
	l.Order = r.uint()
	l.SKU = SKUIndex(r.i32())
	l.Size = SizeClass(r.byte())
	l.From = NodeIndex(r.i32())
	l.Dest = NodeIndex(r.i32())
	l.Home = NodeIndex(r.i32())
	l.Placed = Instant(r.int())
	l.Due = l.Placed + Instant(r.int())
	l.ReadyAt = l.Placed + Instant(r.int())
	l.TTLAt = l.Placed + Instant(r.int())
	l.State = State(r.byte())
	l.Hops = int(r.int())
	l.At = NodeIndex(r.i32())
	l.SlotSize = SizeClass(r.byte())
	l.Stock = StockState(r.byte())
	f := r.byte()
	l.SameDay, l.Late, l.Measured, l.Subscriber = f&lfSameDay != 0, f&lfLate != 0, f&lfMeasured != 0, f&lfSubscriber != 0
	l.TurnedAway = f&lfTurnedAway != 0
	n := r.count(4)
	if r.err != nil || n > len(chains) || f >= lfLinked<<1 {
		r.fail("bad chain")
		return chains
	}
	l.Chain = chains[:n:n]
	at := l.Placed
	var prev uint64
	for k := range l.Chain {
		e := &l.Chain[k]
		e.State = State(r.byte())
		at += Instant(r.int())
		e.At = at
		e.Node = NodeIndex(r.i32())
		e.Reason = Reason(r.byte())
		if e.State >= numStates {
			r.fail("bad chain state")
		}
		if f&lfLinked != 0 {
			e.Prev = prev
			prev = e.Hash()
		} else {
			e.Prev = r.u64()
		}
	}
	if f&lfLinked != 0 {
		l.Head = prev
	} else {
		l.Head = r.u64()
	}
	if n == 0 {
		l.Chain = nil
	}
	return chains[n:]
}

func (r *snapReader) nodeInv(iv *nodeInv, node NodeIndex, ns int) {
	iv.sku = make([]skuInv, r.expect(ns))
	for k := range iv.sku {
		s := &iv.sku[k]
		s.tracked = r.bool()
		for _, p := range [...]*int32{&s.capacity, &s.shelf, &s.held, &s.pend} {
			*p = r.i32()
		}
		for _, p := range [...]*int64{&s.initial, &s.restocked, &s.returned, &s.sold, &s.picked, &s.restockRefused} {
			*p = r.int()
		}
	}
	iv.cached = r.bool()
	rp := &iv.central
	if rp.Node = NodeIndex(r.int()); rp.Node != node {
		r.fail("replica of another node")
	}
	rp.Shelf = r.int32s(ns)
	rp.Held = r.int32s(ns)
	rp.Acked = r.uint()
	if n := r.count(1); n > 0 {
		rp.seen = make([]uint64, n)
		last := rp.Acked
		for k := range rp.seen {
			if rp.seen[k] = r.uint(); rp.seen[k] <= last {
				r.fail("replica: seen not ascending above acked")
			}
			last = rp.seen[k]
		}
	}
	rp.Applied = r.uint()
	rp.Duplicates = r.uint()
	if n := r.count(7); n > 0 {
		iv.log = make([]LogEntry, n)
		for k := range iv.log {
			e := &iv.log[k]
			e.Node = NodeIndex(r.i32())
			e.Seq = r.uint()
			e.Op = LogOp(r.byte())
			e.SKU = SKUIndex(r.i32())
			e.Qty = r.i32()
			e.Label = LabelID(r.uint())
			e.At = Instant(r.int())
		}
	}
	iv.seq = r.uint()
	if n := r.count(3); n > 0 {
		iv.outbox = make([]Claim, n)
		for k := range iv.outbox {
			cl := &iv.outbox[k]
			cl.Label = LabelID(r.uint())
			cl.SKU = SKUIndex(r.i32())
			cl.At = Instant(r.int())
			if cl.SKU < 0 || int(cl.SKU) >= ns {
				r.fail("outbox: SKU out of range")
			}
		}
	}
	if n := r.count(1); n > 0 {
		iv.won = make([]bool, n)
		for k := range iv.won {
			iv.won[k] = r.bool()
		}
	}
	st := &iv.stats
	for _, p := range [...]*uint64{&st.Conflicts, &st.Oversells, &st.Stockouts, &st.CounterStockouts, &st.CounterSales, &st.CounterRefused,
		&st.OfflinePickups, &st.OfflinePickupsFailed, &st.OfflinePickupsDelayed, &st.Reconciliations, &st.Rerouted, &st.CancelledConflict} {
		*p = r.uint()
	}
	st.DriftTime = r.int()
	st.DriftMax = r.int()
	iv.drift = r.int()
	iv.since = Instant(r.int())
	iv.driftAll = r.int()
}
