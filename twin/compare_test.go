package twin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The tests of this file exercise the Comparer alone: the core's labels are
// written by hand (no core, no driver) and decisions, reports and clock
// moves handed to it directly.

// fakeCore is a CoreView over hand-made labels; nodes are named N0, N1, ...
type fakeCore struct {
	labels map[model.LabelID]*model.Label
	names  map[model.LabelID]string
}

func (f *fakeCore) LabelID(name string) (model.LabelID, bool) {
	for id, n := range f.names {
		if n == name {
			return id, true
		}
	}
	return 0, false
}

func (f *fakeCore) CoreLabel(id model.LabelID) (*model.Label, string, []string) {
	l := f.labels[id]
	if l == nil {
		return nil, "", nil
	}
	return l, f.names[id], []string{"m-" + f.names[id]}
}

func (f *fakeCore) NodeName(i model.NodeIndex) string { return "N" + string(rune('0'+i)) }

// chain builds a label whose provenance chain is the given (state, minute,
// node) steps; its state and place are the last step's.
func chain(steps ...any) *model.Label {
	l := &model.Label{}
	for i := 0; i < len(steps); i += 3 {
		e := model.Entry{State: steps[i].(model.State), At: min_(int64(steps[i+1].(int))), Node: model.NodeIndex(steps[i+2].(int))}
		l.Chain = append(l.Chain, e)
		l.State, l.At = e.State, e.Node
	}
	return l
}

func newComparer(labels map[string]*model.Label) (*Comparer, *fakeCore) {
	fc := &fakeCore{labels: map[model.LabelID]*model.Label{}, names: map[model.LabelID]string{}}
	id := model.LabelID(0)
	for name, l := range labels {
		id++
		fc.labels[id], fc.names[id] = l, name
	}
	return NewComparer(CompareConfig{Tolerance: 2 * model.Minute}, fc), fc
}

func kinds(ds []Divergence) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind+" "+d.Label)
	}
	return out
}

func TestComparerReports(t *testing.T) {
	ready := chain(model.Issued, 0, 0, model.InTransit, 20, 0, model.ReadyForPickup, 35, 1)
	rerouted := chain(model.Issued, 0, 0, model.InTransit, 20, 0, model.ReadyForPickup, 35, 1, model.Rerouting, 95, 1)
	type rep struct {
		state wire.LabelStatus
		at    int
		node  string
		to    string
	}
	tests := []struct {
		name    string
		label   *model.Label
		reroute bool // the core decided the reroute in the chain
		reports []rep
		want    []string
	}{
		{"same transitions within the tolerance", ready, false,
			[]rep{{wire.LabelIssued, 1, "N0", ""}, {wire.LabelInTransit, 18, "N0", ""}, {wire.LabelReadyForPickup, 37, "N1", ""}}, nil},
		{"a repeat of the state held", ready, false, []rep{{wire.LabelReadyForPickup, 50, "N1", ""}}, nil},
		{"too early to match", ready, false, []rep{{wire.LabelInTransit, 16, "N0", ""}}, []string{"state_mismatch L"}},
		{"another node", ready, false, []rep{{wire.LabelReadyForPickup, 35, "N2", ""}}, []string{"node_mismatch L"}},
		{"production rerouted, the core did not", ready, false, []rep{{wire.LabelRerouting, 95, "N1", "N3"}},
			[]string{"reroute_unexpected L"}},
		{"both rerouted, elsewhere", rerouted, true, []rep{{wire.LabelRerouting, 96, "N1", "N4"}}, []string{"reroute_target L"}},
		{"both rerouted, same target", rerouted, true, []rep{{wire.LabelRerouting, 96, "N1", "N3"}}, nil},
		{"the core rerouted, production did not", rerouted, true, nil, []string{"reroute_missing L"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newComparer(map[string]*model.Label{"L": tc.label})
			if tc.reroute {
				c.Decided(1, Decision{At: min_(95), To: 3})
			}
			for i, r := range tc.reports {
				c.Reported("r"+string(rune('0'+i)), wire.LabelState{LabelID: "L", State: r.state, Node: r.node, RerouteTo: r.to}, min_(int64(r.at)))
			}
			c.Settle(min_(98), false) // the tolerance has passed for every report, not twice for the core's reroute
			if tc.reroute && len(tc.reports) == 0 {
				assert.Empty(t, c.Divergences(Filter{}), "the core's reroute is checked only after twice the tolerance")
			}
			c.Settle(min_(99), false)
			assert.Equal(t, tc.want, kinds(c.Divergences(Filter{})))
			c.Settle(min_(99), true)
			assert.Equal(t, tc.want, kinds(c.Divergences(Filter{})), "nothing more at the end")
		})
	}
}

// A report is compared only once the clock has passed its instant plus the
// tolerance: a core transition made meanwhile still matches it.
func TestComparerWaitsForTolerance(t *testing.T) {
	l := chain(model.Issued, 0, 0)
	c, _ := newComparer(map[string]*model.Label{"L": l})
	c.Reported("r", wire.LabelState{LabelID: "L", State: wire.LabelPicked, Node: "N0"}, min_(5))
	c.Settle(min_(6), false)
	l.Chain = append(l.Chain, model.Entry{State: model.Picked, At: min_(6)})
	l.State = model.Picked
	c.Settle(min_(7), false)
	assert.Empty(t, c.Divergences(Filter{}))
}

func TestComparerRefunds(t *testing.T) {
	l := chain(model.Issued, 0, 0, model.ReadyForPickup, 35, 1)
	tests := []struct {
		name   string
		core   uint64 // 0: no refund
		report uint64 // 0: no refund
		want   []string
	}{
		{"same refund", 499, 499, nil},
		{"another amount", 499, 990, []string{"refund_amount L"}},
		{"production refunded, the core did not", 0, 990, []string{"refund_unexpected L"}},
		{"the core refunded, production did not", 499, 0, []string{"refund_missing L"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newComparer(map[string]*model.Label{"L": l})
			if tc.core > 0 {
				c.Decided(1, Decision{At: min_(35), Refund: true, Amount: tc.core})
			}
			b := wire.LabelState{LabelID: "L", State: wire.LabelReadyForPickup, Node: "N1"}
			if tc.report > 0 {
				b.Refund = &wire.Refund{Amount: tc.report, Currency: "EUR"}
			}
			c.Reported("r", b, min_(36))
			c.Settle(min_(60), false)
			assert.Equal(t, tc.want, kinds(c.Divergences(Filter{})))
		})
	}
}

func TestComparerSlotsUnknownAndForget(t *testing.T) {
	c, _ := newComparer(map[string]*model.Label{"A": chain(model.ReadyForPickup, 35, 1), "B": chain(model.InTransit, 20, 0)})
	idA, _ := c.core.LabelID("A")
	idB, _ := c.core.LabelID("B")
	c.SlotOccupied(idA, 1, min_(40), false) // held there: a confirmation
	c.SlotOccupied(idA, 2, min_(41), false) // another locker says it holds it
	c.SlotOccupied(idB, 1, min_(42), true)  // arrived, but the core did not make it ready
	c.Reported("r", wire.LabelState{LabelID: "Z", State: wire.LabelIssued, Node: "N0"}, min_(43))
	c.Decided(idB, Decision{At: min_(44), To: 3})
	c.Forget(idB)
	c.Settle(min_(60), true)
	ds := c.Divergences(Filter{})
	require.Equal(t, []string{"slot_mismatch A", "slot_mismatch B", "unknown_label Z"}, kinds(ds),
		"no reroute_missing for a forgotten label")
	assert.Equal(t, Divergence{Label: "A", Kind: KindSlotMismatch, Node: "N2", Production: "occupied:N2", Core: "ready_for_pickup:N1",
		ProductionAt: min_(41), CoreAt: min_(35), Messages: []string{"m-A"}}, ds[0])
	assert.Equal(t, "in_transit", ds[1].Core)
	assert.Equal(t, []string{"r"}, ds[2].Messages)
	assert.Equal(t, map[string]uint64{KindSlotMismatch: 2, KindUnknownLabel: 1}, c.Counts())
	assert.Len(t, c.Divergences(Filter{Node: "N1"}), 1)
	assert.Len(t, c.Divergences(Filter{Since: min_(42)}), 2)
	assert.Len(t, c.Divergences(Filter{Kind: KindUnknownLabel}), 1)
}
