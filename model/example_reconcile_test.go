package model_test

import (
	"fmt"

	"github.com/lockstep-sim/lockstep/model"
)

// A microstore goes offline with one unit left; the central catalog sells it
// online while a walk-in customer buys it at the counter. On reconnect the
// counter sale stands and the online order moves to the other microstore.
func ExampleCore_reconciliation() {
	cell := func(lat, lng float64) model.Cell { c, _ := model.CellAt(lat, lng, 8); return c }
	net := &model.Network{
		Resolution: 8,
		Nodes: []model.Node{
			{ID: "M1", Kind: model.Microstore, Cell: cell(52.50, 13.40), Cache: []model.CacheItem{{SKU: 0, Capacity: 5, Stock: 1}}},
			{ID: "M2", Kind: model.Microstore, Cell: cell(52.53, 13.43), Cache: []model.CacheItem{{SKU: 0, Capacity: 5, Stock: 2}}},
			{ID: "L1", Kind: model.Locker, Cell: cell(52.51, 13.41), Slots: [model.NumSizes]int32{4, 0, 0}},
		},
		SKUs:   []model.SKU{{ID: "coffee", Size: model.Small, Price: 4.9}},
		Policy: model.Policy{Cutoff: 14 * model.Hour, ReadyBy: 22 * model.Hour, PickupWindow: 24 * model.Hour},
	}
	c := model.New(net)
	t := model.Instant(1772445600000) // 10:00
	c.Step(model.Event{Type: model.EvNodeOffline, At: t, Node: 0})
	c.Step(model.Event{Type: model.EvOrderPlaced, At: t + 60000, Label: 1, SKU: 0, Node: 0, Dest: 2, Size: model.NoSize})
	c.Step(model.Event{Type: model.EvCounterSale, At: t + 120000, Node: 0, SKU: 0})
	fmt.Println("drift while offline:", c.Inventory(0, t+120000).Drift)
	for _, e := range c.Step(model.Event{Type: model.EvNodeOnline, At: t + 600000, Node: 0}) {
		switch e.Type {
		case model.EffConflict:
			fmt.Println("conflict: label", e.Label, "lost at", net.Nodes[e.Node].ID)
		case model.EffState:
			fmt.Println("label", e.Label, e.Prev, "->", e.State, "at", net.Nodes[e.Node].ID, "reason", e.Reason)
		}
	}
	fmt.Println("drift after merge:", c.Inventory(0, t+600000).Drift, "invariants:", c.CheckInventory())
	// Output:
	// drift while offline: 1
	// conflict: label 1 lost at M1
	// label 1 issued -> issued at M2 reason conflict_lost
	// drift after merge: 0 invariants: <nil>
}
