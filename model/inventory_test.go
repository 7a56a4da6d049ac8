package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// cacheNet is testNet plus a second microstore; both microstores cache S1
// and S2 with the given S1 stock.
func cacheNet(t testing.TB, m1Stock, m2Stock int32, mode OfflineMode) *Network {
	n := testNet(t)
	c, err := CellAt(52.53, 13.43, 8)
	require.NoError(t, err)
	n.Nodes = append(n.Nodes, Node{ID: "M2", Kind: Microstore, Cell: c})
	n.Nodes[m1].Cache = []CacheItem{{SKU: 0, Capacity: 10, Stock: m1Stock}, {SKU: 1, Capacity: 10, Stock: 5}}
	n.Nodes[m2].Cache = []CacheItem{{SKU: 0, Capacity: 10, Stock: m2Stock}, {SKU: 1, Capacity: 10, Stock: 5}}
	n.Policy.Offline = mode
	n.EdgeLog = true
	require.NoError(t, n.Validate())
	return n
}

const m2 NodeIndex = 4

func order(id LabelID, t Instant) Event {
	return Event{Type: EvOrderPlaced, At: t, Label: id, SKU: 0, Node: m1, Dest: l1, Size: NoSize, Measured: true}
}

func stepOK(t *testing.T, c *Core, ev Event) []Effect {
	t.Helper()
	effs := c.Step(ev)
	require.Empty(t, effectsOf(effs, EffReject), "event %v", ev.Type)
	require.NoError(t, c.CheckInventory())
	return effs
}

// The conflict rule: the last unit sold online (central view, node offline)
// and at the counter. The counter sale stands; the order moves to another
// microstore with stock, or is cancelled and refunded.
func TestConflictRule(t *testing.T) {
	tests := []struct {
		name       string
		m2Stock    int32
		restock    int32 // units restocked at M1 while offline
		wantState  State
		wantFrom   NodeIndex
		conflicts  uint64
		cancelledN uint64
	}{
		{"moved to the other microstore", 1, 0, Issued, m2, 1, 0},
		{"cancelled when no microstore has stock", 0, 0, Cancelled, NoNode, 1, 1},
		{"no conflict when a restock covers both", 0, 1, Issued, m1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(cacheNet(t, 1, tc.m2Stock, OfflineServe))
			stepOK(t, c, Event{Type: EvNodeOffline, At: at(9, 0), Node: m1})
			stepOK(t, c, order(1, at(9, 10)))
			require.Equal(t, StockPending, c.Label(1).Stock)
			stepOK(t, c, Event{Type: EvCounterSale, At: at(9, 20), Node: m1, SKU: 0})
			if tc.restock > 0 {
				stepOK(t, c, Event{Type: EvRestock, At: at(9, 30), Node: m1, SKU: 0, Qty: tc.restock})
			}
			inv := c.Inventory(m1, at(10, 0))
			require.Equal(t, int64(1-tc.restock), inv.Drift, "central view still shows the sold unit")
			effs := stepOK(t, c, Event{Type: EvNodeOnline, At: at(10, 0), Node: m1})
			require.Len(t, effectsOf(effs, EffConflict), int(tc.conflicts))
			require.Zero(t, c.Inventory(m1, at(10, 0)).Drift)
			st := c.Inventory(m1, at(10, 0)).Stats
			require.Equal(t, tc.conflicts, st.Conflicts)
			require.Equal(t, tc.cancelledN, st.CancelledConflict)
			if tc.wantState == Cancelled {
				require.Nil(t, c.Label(1))
				require.Equal(t, uint64(1), c.Stats.Cancelled)
				require.Len(t, effectsOf(effs, EffRefund), 1)
				return
			}
			l := c.Label(1)
			require.Equal(t, tc.wantState, l.State)
			require.Equal(t, tc.wantFrom, l.From)
			require.Equal(t, StockReserved, l.Stock)
			require.Equal(t, -1, l.Verify())
		})
	}
}

// Earliest order wins the last units; the result does not depend on the
// order the claims are listed in.
func TestAllotOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(12)
		claims := make([]Claim, n)
		for i := range claims {
			claims[i] = Claim{Label: LabelID(r.IntN(50)), SKU: SKUIndex(r.IntN(3)), At: Instant(r.IntN(5))}
		}
		free := []int32{int32(r.IntN(4)), int32(r.IntN(4)), int32(r.IntN(4))}
		run := func(cs []Claim) map[Claim]int {
			f := append([]int32(nil), free...)
			cs = append([]Claim(nil), cs...)
			won := Allot(f, cs, nil)
			out := map[Claim]int{}
			for i, c := range cs {
				if won[i] {
					out[c]++
				}
			}
			return out
		}
		want := run(claims)
		r.Shuffle(n, func(i, j int) { claims[i], claims[j] = claims[j], claims[i] })
		require.Equal(t, want, run(claims))
	}
}

// genLog is a seeded generator of one node's log over 3 SKUs.
func genLog(r *rand.Rand, n int) []LogEntry {
	out := make([]LogEntry, n)
	for i := range out {
		out[i] = LogEntry{Node: 2, Seq: uint64(i + 1), Op: LogOp(1 + r.IntN(int(numLogOps)-1)), SKU: SKUIndex(r.IntN(3)),
			Qty: int32(r.IntN(4)), Label: LabelID(r.IntN(100)), At: Instant(i)}
		if out[i].Op >= OpSlotLock {
			out[i].Qty = int32(r.IntN(3)) - 1
		}
	}
	return out
}

// Property: merging the same set of log entries in any order, with
// duplicates and in any number of batches, gives the same final state.
func TestReplicaMergeAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 300; trial++ {
		log := genLog(r, 1+r.IntN(60))
		ref := NewReplica(2, []int32{5, 5, 5})
		require.Equal(t, len(log), ref.Merge(log))
		// shuffled, with duplicates, in random batches
		mixed := append([]LogEntry(nil), log...)
		for i := r.IntN(len(log) + 1); i > 0; i-- {
			mixed = append(mixed, log[r.IntN(len(log))])
		}
		r.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		got := NewReplica(2, []int32{5, 5, 5})
		for len(mixed) > 0 {
			k := 1 + r.IntN(len(mixed))
			got.Merge(mixed[:k])
			mixed = mixed[k:]
		}
		require.True(t, ref.Equal(got), "trial %d: %+v vs %+v", trial, ref, got)
		require.Equal(t, uint64(len(log)), got.Acked)
		require.Zero(t, got.Pending())
		// idempotent: the whole log again changes nothing
		require.Zero(t, got.Merge(log))
		require.True(t, ref.Equal(got))
	}
}

func TestReplicaRejectsBadEntries(t *testing.T) {
	tests := []struct {
		name string
		e    LogEntry
		want Reason
	}{
		{"other node", LogEntry{Node: 1, Seq: 1, Op: OpRestock, Qty: 1}, RejectWrongNode},
		{"seq 0", LogEntry{Node: 2, Seq: 0, Op: OpRestock, Qty: 1}, RejectBadEvent},
		{"unknown op", LogEntry{Node: 2, Seq: 1, Op: 99, Qty: 1}, RejectBadEvent},
		{"negative stock qty", LogEntry{Node: 2, Seq: 1, Op: OpRestock, Qty: -3}, RejectBadEvent},
		{"unknown sku", LogEntry{Node: 2, Seq: 1, Op: OpCounterSale, SKU: 7, Qty: 1}, RejectUnknownSKU},
		{"ok", LogEntry{Node: 2, Seq: 1, Op: OpCounterSale, SKU: 1, Qty: 1}, ReasonNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReplica(2, []int32{1, 1})
			require.Equal(t, tc.want, r.Apply(tc.e))
			if tc.want == ReasonNone {
				require.Equal(t, RejectDuplicateEntry, r.Apply(tc.e))
				require.Equal(t, []int32{1, 0}, r.Shelf)
			} else {
				require.Equal(t, []int32{1, 1}, r.Shelf)
			}
		})
	}
}

// FuzzReplicaMerge: arbitrary log entries (any order, duplicates, garbage)
// never panic; a forward merge and a backward merge of the same bytes agree;
// re-merging changes nothing; Acked plus the out-of-order set covers exactly
// the valid distinct sequence numbers.
func FuzzReplicaMerge(f *testing.F) {
	f.Add([]byte{1, 1, 5, 0, 2, 2, 2, 4, 0, 1, 1, 1, 5, 0, 2})
	f.Add([]byte{3, 2, 1, 0, 1, 1, 4, 0, 1, 9, 9, 9, 9, 9, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		// (node, seq) names one entry: a later entry with the same seq
		// is a true duplicate of the first
		var log []LogEntry
		first := map[[2]uint64]LogEntry{}
		for len(b) >= 5 {
			e := LogEntry{Node: NodeIndex(b[0] % 3), Seq: uint64(b[1] % 32), Op: LogOp(b[2] % 12),
				SKU: SKUIndex(int(b[3]%5) - 1), Qty: int32(int8(b[4])), At: Instant(len(log))}
			key := [2]uint64{uint64(e.Node), e.Seq}
			if f, ok := first[key]; ok {
				e = f
			} else {
				first[key] = e
			}
			log = append(log, e)
			b = b[5:]
		}
		fwd := NewReplica(1, []int32{3, 3, 3})
		fwd.Merge(log)
		bwd := NewReplica(1, []int32{3, 3, 3})
		for i := len(log) - 1; i >= 0; i-- {
			bwd.Apply(log[i])
		}
		require.True(t, fwd.Equal(bwd))
		before := *fwd
		require.Zero(t, fwd.Merge(log))
		require.True(t, fwd.Equal(&before))
		valid := map[uint64]bool{}
		chk := NewReplica(1, []int32{3, 3, 3})
		for _, e := range log {
			if chk.Check(e) == ReasonNone {
				valid[e.Seq] = true
				chk.Apply(e)
			}
		}
		require.Equal(t, uint64(len(valid)), fwd.Applied)
		for s := range valid {
			require.True(t, fwd.Seen(s))
		}
	})
}

// A seeded random mix of orders, picks, cancels, counter sales, restocks,
// replenishment and connectivity drops: after every step the stock is
// conserved per SKU and node, never negative, and an online node's central
// view equals its shelf; once all nodes are back the drift is zero.
// invEvent draws one event of the inventory workload (orders, picks,
// cancels, counter sales, restocks, connectivity changes, replenishment)
// from pick, which returns a number in [0, n). id is the last label issued.
func invEvent(pick func(n int) int, now Instant, id *LabelID) Event {
	node := func() NodeIndex { return []NodeIndex{m1, m2}[pick(2)] }
	switch x := pick(10); {
	case x < 3:
		*id++
		return Event{Type: EvOrderPlaced, At: now, Label: *id, SKU: SKUIndex(pick(2)), Node: node(), Dest: l1, Size: NoSize}
	case x < 5:
		lid := LabelID(1 + pick(int(*id)+1))
		return Event{Type: []EventType{EvScanPicked, EvCancel}[pick(2)], At: now, Label: lid}
	case x < 7:
		return Event{Type: EvCounterSale, At: now, Node: node(), SKU: SKUIndex(pick(2)), Qty: int32(pick(3))}
	case x < 8:
		return Event{Type: EvRestock, At: now, Node: node(), SKU: SKUIndex(pick(2)), Qty: int32(pick(6))}
	case x < 9:
		return Event{Type: []EventType{EvNodeOffline, EvNodeOnline}[pick(2)], At: now, Node: node()}
	}
	return Event{Type: EvReplenish, At: now}
}

// checkReconciled brings every node online and requires the two views to
// agree, no drift, and no negative shelf.
func checkReconciled(t *testing.T, c *Core, now Instant) {
	t.Helper()
	for _, n := range []NodeIndex{m1, m2} {
		c.Step(Event{Type: EvNodeOnline, At: now, Node: n})
		require.Zero(t, c.Inventory(n, now).Drift)
		for _, s := range c.Inventory(n, now).SKUs {
			require.Equal(t, s.Shelf, s.CentralShelf)
			require.GreaterOrEqual(t, s.Shelf, int32(0))
		}
	}
	require.NoError(t, c.CheckInventory())
}

func TestInventoryInvariantsRandom(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 3))
			mode := OfflineMode(seed % 2)
			c := New(cacheNet(t, 3, 2, mode))
			now := at(8, 0)
			var id LabelID
			for i := 0; i < 400; i++ {
				now += Instant(r.IntN(int(10 * Minute)))
				ev := invEvent(r.IntN, now, &id)
				c.Step(ev) // rejections (unknown labels, illegal moves) are fine
				require.NoError(t, c.CheckInventory(), "step %d %v", i, ev.Type)
			}
			checkReconciled(t, c, now)
		})
	}
}

// FuzzReconcile drives the whole core (reservations, counter sales,
// restocks, drops and reconnects, so reconciliation and the conflict rule)
// from fuzz bytes: no panic, the inventory invariants (conservation, no
// negative physical stock) hold after every step, and after reconnecting
// every node the two views agree.
//
//	go test -run '^$' -fuzz FuzzReconcile -fuzztime 30s ./model/
func FuzzReconcile(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 0, 5, 0, 0, 0, 0, 8, 1, 1, 3})
	f.Add([]byte{8, 0, 0, 0, 1, 0, 6, 0, 0, 2, 8, 1, 0, 4, 0, 9, 7, 1, 0, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{data: data}
		pick := fb.pick
		c := New(cacheNet(t, 3, 2, OfflineMode(pick(2))))
		now := at(8, 0)
		var id LabelID
		for step := 0; fb.more() && step < 500; step++ {
			now += Instant(pick(60)) * Instant(Minute)
			ev := invEvent(pick, now, &id)
			c.Step(ev)
			require.NoError(t, c.CheckInventory(), "step %d %v", step, ev.Type)
		}
		checkReconciled(t, c, now)
	})
}

func TestPickupCodes(t *testing.T) {
	key := [2]uint64{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	// SipHash-2-4 reference vector: key 00..0f, message 00..07
	require.Equal(t, uint64(0x93f5f5799a932462), PickupCode(key, LabelID(0x0706050403020100)))
	require.True(t, VerifyPickupCode(key, 42, PickupCode(key, 42)))
	require.False(t, VerifyPickupCode(key, 43, PickupCode(key, 42)))
	require.False(t, VerifyPickupCode([2]uint64{1, 2}, 42, PickupCode(key, 42)))

	tests := []struct {
		name   string
		mode   OfflineMode
		online bool
		code   func(LabelID) uint64
		want   State
		effect EffectType
	}{
		{"online, right code", OfflineServe, true, func(id LabelID) uint64 { return PickupCode(key, id) }, PickedUp, EffState},
		{"wrong code rejected", OfflineServe, true, func(id LabelID) uint64 { return 1 }, ReadyForPickup, EffReject},
		{"offline serve verifies locally", OfflineServe, false, func(id LabelID) uint64 { return PickupCode(key, id) }, PickedUp, EffState},
		{"offline refuse fails", OfflineRefuse, false, func(id LabelID) uint64 { return PickupCode(key, id) }, ReadyForPickup, EffPickupFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := cacheNet(t, 3, 3, tc.mode)
			n.CodeKey = key
			c := New(n)
			drive(t, c, 1, 1, l1, ReadyForPickup)
			if !tc.online {
				stepOK(t, c, Event{Type: EvNodeOffline, At: at(11, 0), Node: l1})
			}
			effs := c.Step(Event{Type: EvPickup, At: at(12, 0), Label: 1, Node: l1, Code: tc.code(1)})
			require.NotEmpty(t, effectsOf(effs, tc.effect))
			if l := c.Label(1); l != nil {
				require.Equal(t, tc.want, l.State)
			} else {
				require.Equal(t, PickedUp, tc.want)
			}
		})
	}
}

func TestInventoryAllocationFree(t *testing.T) {
	c := New(cacheNet(t, 10, 10, OfflineServe))
	id := LabelID(0)
	run := func() {
		id++
		for _, ev := range []Event{
			order(id, at(10, 0)),
			{Type: EvScanPicked, At: at(10, 5), Label: id}, {Type: EvScanPacked, At: at(10, 10), Label: id},
			{Type: EvHandoff, At: at(10, 15), Label: id, Node: m1}, {Type: EvArrived, At: at(10, 40), Label: id, Node: l1},
			{Type: EvPickup, At: at(12, 0), Label: id, Node: l1},
			{Type: EvCounterSale, At: at(12, 0), Node: m2, SKU: 1},
			{Type: EvRestock, At: at(12, 1), Node: m1, SKU: 0, Qty: 1},
			{Type: EvRestock, At: at(12, 1), Node: m2, SKU: 1, Qty: 1},
			{Type: EvNodeOffline, At: at(12, 2), Node: m2}, {Type: EvCounterSale, At: at(12, 3), Node: m2, SKU: 1},
			{Type: EvRestock, At: at(12, 4), Node: m2, SKU: 1, Qty: 1}, {Type: EvNodeOnline, At: at(12, 5), Node: m2},
		} {
			c.Step(ev)
		}
	}
	for i := 0; i < 100; i++ {
		run()
	}
	require.NoError(t, c.CheckInventory())
	require.Zero(t, testing.AllocsPerRun(1000, run))
}

// fuzzBytes turns fuzz input into choices: pick(n) is the next byte mod n
// (0 once the input is used up, or for n <= 1).
type fuzzBytes struct {
	data []byte
	i    int
}

func (f *fuzzBytes) pick(n int) int {
	if n <= 1 || f.i >= len(f.data) {
		return 0
	}
	f.i++
	return int(f.data[f.i-1]) % n
}

// more reports whether input is left.
func (f *fuzzBytes) more() bool { return f.i < len(f.data) }
