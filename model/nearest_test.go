package model

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// fullNearest is Nearest as first written: both passes over the whole
// nearest-first ordering of the other holding nodes. The reference for the
// cached prefix and the scan beyond it.
func fullNearest(c *Core, from NodeIndex, s SizeClass, eta Instant, partners bool) NodeIndex {
	src := c.Net.Nodes[from].Cell
	var ord []NodeIndex
	for j := range c.Net.Nodes {
		if NodeIndex(j) != from && c.Net.Nodes[j].Holds() {
			ord = append(ord, NodeIndex(j))
		}
	}
	sort.Slice(ord, func(a, b int) bool {
		da, db := GridDistance(src, c.Net.Nodes[ord[a]].Cell), GridDistance(src, c.Net.Nodes[ord[b]].Cell)
		if da != db {
			return da < db
		}
		return c.Net.Nodes[ord[a]].ID < c.Net.Nodes[ord[b]].ID
	})
	for pass := 0; pass < 2; pass++ {
		for _, j := range ord {
			if partners && c.Net.Nodes[j].Kind != Partner {
				continue
			}
			if c.CanTake(j, s, eta, pass == 0) {
				return j
			}
		}
	}
	return NoNode
}

// randomNearNet is a network of n nodes on a few H3 cells (many distance
// ties) with random kinds, capacities, opening hours and pop-up windows.
func randomNearNet(t *testing.T, r *rand.Rand, n int) *Network {
	t.Helper()
	net := &Network{Resolution: 8, Policy: Policy{MaxHops: 2, RerouteDelay: 30 * Minute, Offline: OfflineRefuse}}
	spread := 0.002 + 0.05*r.Float64() // degrees: from a handful of cells to hundreds
	for i := 0; i < n; i++ {
		cell, err := CellAt(52.5+spread*r.Float64(), 13.4+spread*r.Float64(), 8)
		require.NoError(t, err)
		nd := Node{ID: fmt.Sprintf("N%03d", r.IntN(10*n)), Cell: cell}
		switch r.IntN(4) {
		case 0:
			nd.Kind = Microstore
			nd.Counter = int32(r.IntN(2))
		case 1:
			nd.Kind = Partner
			nd.Counter = int32(1 + r.IntN(2))
		default:
			nd.Kind = Locker
			nd.Slots = [NumSizes]int32{int32(r.IntN(2)), int32(r.IntN(2)), int32(r.IntN(2))}
		}
		if r.IntN(3) == 0 {
			nd.Hours = Hours{{From: 9 * Hour, To: 20 * Hour}}
		}
		if r.IntN(8) == 0 {
			nd.ActiveFrom, nd.ActiveUntil = day0, day0+Instant(Day)
		}
		net.Nodes = append(net.Nodes, nd)
	}
	seen := map[string]bool{}
	for i := range net.Nodes { // unique ids, in an order unrelated to the index
		for seen[net.Nodes[i].ID] {
			net.Nodes[i].ID += "x"
		}
		seen[net.Nodes[i].ID] = true
	}
	return net
}

// The cached prefix (nearK nodes and nearK partners) and the scan beyond it pick the node the
// whole ordering picks, for random networks larger and smaller than nearK
// and random node states (full, offline, closed, inactive at eta).
func TestNearestMatchesFullOrdering(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2))
	for trial := 0; trial < 60; trial++ {
		n := 2 + r.IntN(3*nearK)
		if trial%3 == 0 { // more than nearK partners: the prefix is cut after the nearK-th
			n = 4*nearK + r.IntN(4*nearK)
		}
		net := randomNearNet(t, r, n)
		c := New(net)
		for q := 0; q < 100; q++ {
			if q%10 == 0 { // new random states: from nearly all free to nearly all full
				full := r.Float64()
				for i := range c.nodes {
					st := &c.nodes[i]
					st.Online = r.IntN(10) > 0
					for k := range st.Free {
						st.Free[k] = net.Nodes[i].Slots[k]
						if r.Float64() < full {
							st.Free[k] = 0
						}
					}
					st.Held = 0
					if r.Float64() < full {
						st.Held = net.Nodes[i].Counter
					}
				}
			}
			from := NodeIndex(r.IntN(n))
			s := SizeClass(r.IntN(int(NumSizes)))
			eta := day0 + Instant(r.IntN(2*int(Day)))
			partners := r.IntN(3) == 0
			want := fullNearest(c, from, s, eta, partners)
			require.Equal(t, want, c.Nearest(from, s, eta, partners), "trial %d query %d: from %d size %d eta %d partners %v", trial, q, from, s, eta, partners)
		}
	}
}

// orderByRings, which walks the H3 grid outwards from a node, gives the
// prefix the grid distance to every node gives (orderByScan), node by node:
// on random networks (a few cells with many ties to hundreds of cells) and
// on the bench cities' layout (a grid of lockers 0.01 degree apart with a
// partner every ten lockers, locker-city's 20 x 25), where it must not fall
// back to the scan.
func TestOrderByRingsMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 3))
	ringsUsed, queries := 0, 0
	for trial := 0; trial < 40; trial++ {
		n := 2 + r.IntN(6*nearK)
		net := randomNearNet(t, r, n)
		c := New(net)
		for from := range net.Nodes {
			queries++
			want := c.orderByScan(NodeIndex(from))
			if got := c.orderByRings(NodeIndex(from)); got != nil {
				ringsUsed++
				require.Equal(t, want, got, "trial %d from %d", trial, from)
			}
			require.Equal(t, want, c.orderFrom(NodeIndex(from)), "trial %d from %d", trial, from)
		}
	}

	// most random queries take the rings (the others: the disk limit)
	require.Greater(t, ringsUsed, queries/2, "rings used for %d of %d", ringsUsed, queries)

	net := &Network{Resolution: 8}
	for row := 0; row < 25; row++ {
		for col := 0; col < 20; col++ {
			i := row*20 + col
			cell, err := CellAt(52.44+0.01*float64(row), 13.28+0.01*float64(col), 8)
			require.NoError(t, err)
			net.Nodes = append(net.Nodes, Node{ID: fmt.Sprintf("L%05d", i+1), Kind: Locker, Cell: cell, Slots: [NumSizes]int32{0, 60, 0}})
			if i%10 == 0 {
				pc, err := CellAt(52.445+0.01*float64(row), 13.285+0.01*float64(col), 8)
				require.NoError(t, err)
				net.Nodes = append(net.Nodes, Node{ID: fmt.Sprintf("P%04d", i/10+1), Kind: Partner, Cell: pc, Counter: 200})
			}
		}
	}
	c := New(net)
	for from := range net.Nodes {
		got := c.orderByRings(NodeIndex(from))
		require.NotNil(t, got, "from %d: the rings must find the prefix on a city grid", from)
		require.Equal(t, c.orderByScan(NodeIndex(from)), got, "from %d", from)
	}
}
