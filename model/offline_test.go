package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfflineLocker: a parcel arriving at an offline locker. With
// offline_mode serve the locker still locks a slot (logged locally, so the
// central view falls behind), verifies the pickup code without the central
// service and completes the pickup; the log merges on reconnect. With
// refuse the parcel is rerouted and a customer at the offline locker is
// turned away.
func TestOfflineLocker(t *testing.T) {
	for name, mode := range map[string]OfflineMode{"serve": OfflineServe, "refuse": OfflineRefuse} {
		t.Run(name, func(t *testing.T) {
			n := cacheNet(t, 3, 2, mode)
			n.CodeKey = [2]uint64{7, 11}
			c := New(n)
			drive(t, c, 1, 0, l1, InTransit)
			stepOK(t, c, Event{Type: EvNodeOffline, At: at(10, 30), Node: l1})
			seq := c.Inventory(l1, at(10, 30)).Seq

			effs := stepOK(t, c, Event{Type: EvArrived, At: at(10, 40), Label: 1, Node: l1})
			if mode == OfflineRefuse {
				rr := effectsOf(effs, EffReroute)
				require.Len(t, rr, 1)
				require.Equal(t, ReasonNodeOffline, rr[0].Reason)
				require.NotEqual(t, l1, rr[0].To)
				require.Empty(t, effectsOf(effs, EffSlot))

				// a label already in the locker cannot be collected while it is offline
				c2 := New(n)
				drive(t, c2, 2, 0, l1, ReadyForPickup)
				stepOK(t, c2, Event{Type: EvNodeOffline, At: at(11, 0), Node: l1})
				effs = stepOK(t, c2, Event{Type: EvPickup, At: at(11, 30), Label: 2, Node: l1, Code: PickupCode(n.CodeKey, 2)})
				require.Len(t, effectsOf(effs, EffPickupFailed), 1)
				require.Equal(t, ReadyForPickup, c2.Label(2).State)
				require.Equal(t, uint64(1), c2.Inventory(l1, at(11, 30)).Stats.OfflinePickupsFailed)
				// back online, the customer collects: a pickup delayed by connectivity
				stepOK(t, c2, Event{Type: EvNodeOnline, At: at(12, 0), Node: l1})
				stepOK(t, c2, Event{Type: EvPickup, At: at(12, 30), Label: 2, Node: l1, Code: PickupCode(n.CodeKey, 2)})
				require.Equal(t, uint64(1), c2.Inventory(l1, at(12, 30)).Stats.OfflinePickupsDelayed)
				return
			}
			require.Len(t, effectsOf(effs, EffSlot), 1, "slot locked offline")
			require.Equal(t, ReadyForPickup, c.Label(1).State)
			inv := c.Inventory(l1, at(10, 40))
			require.Equal(t, seq+1, inv.Seq, "the slot lock is logged locally")
			require.Equal(t, 1, inv.Unsynced, "and not yet merged centrally")

			// a wrong code is rejected locally; the right one is verified
			// without the central service
			effs = c.Step(Event{Type: EvPickup, At: at(11, 0), Label: 1, Node: l1, Code: PickupCode(n.CodeKey, 1) + 1})
			require.Len(t, effs, 1)
			require.Equal(t, RejectBadCode, effs[0].Reason)
			stepOK(t, c, Event{Type: EvPickup, At: at(11, 1), Label: 1, Node: l1, Code: PickupCode(n.CodeKey, 1)})
			require.Nil(t, c.Label(1), "picked up and released")
			require.Zero(t, c.Inventory(l1, at(11, 1)).Stats.OfflinePickupsDelayed, "served offline: not delayed")
			require.Equal(t, uint64(1), c.Stats.PickedUp)
			require.Equal(t, 3, c.Inventory(l1, at(11, 1)).Unsynced, "slot lock, pickup and slot release wait for the network")

			stepOK(t, c, Event{Type: EvNodeOnline, At: at(12, 0), Node: l1})
			require.Zero(t, c.Inventory(l1, at(12, 0)).Unsynced, "merged on reconnect")
		})
	}
}

// TestInventoryRejections: events the cache-first inventory refuses, each
// with its reason and without changing anything.
func TestInventoryRejections(t *testing.T) {
	t.Run("pick before the offline microstore confirmed the reservation", func(t *testing.T) {
		c := New(cacheNet(t, 3, 2, OfflineServe))
		stepOK(t, c, Event{Type: EvNodeOffline, At: at(9, 0), Node: m1})
		stepOK(t, c, order(1, at(10, 0)))
		require.Equal(t, 1, c.Inventory(m1, at(10, 0)).Pending, "queued in the central outbox")
		effs := c.Step(Event{Type: EvScanPicked, At: at(10, 5), Label: 1, Node: m1})
		require.Len(t, effs, 1)
		require.Equal(t, RejectNotReserved, effs[0].Reason)
		require.Equal(t, Issued, c.Label(1).State)
	})
	t.Run("counter sale of a SKU the node does not cache", func(t *testing.T) {
		c := New(cacheNet(t, 3, 2, OfflineServe))
		before := c.Inventory(m1, at(10, 0))
		effs := c.Step(Event{Type: EvCounterSale, At: at(10, 0), Node: m1, SKU: 2, Qty: 1})
		require.Len(t, effs, 1)
		require.Equal(t, RejectNotCached, effs[0].Reason)
		require.Equal(t, before.Seq, c.Inventory(m1, at(10, 0)).Seq, "nothing logged")
	})
}
