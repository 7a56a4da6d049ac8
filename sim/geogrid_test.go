package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// gridWorld is a world with just what preferences and logitCell read: n
// random nodes around (lat, lng) within spread degrees, some on shared
// positions (distance ties), some not pickup nodes.
func gridWorld(t *testing.T, r *rand.Rand, n int, lat, lng, spread float64) *world {
	t.Helper()
	net := &model.Network{Resolution: 9}
	w := &world{net: net, cfg: &Config{}}
	w.cfg.Customers.Choice = Choice{Model: ChoiceLogit, RadiusKm: 0.2 + 3*r.Float64(), BetaPerKm: -1}
	for i := 0; i < n; i++ {
		a, b := lat+spread*(r.Float64()-0.5), lng+spread*(r.Float64()-0.5)
		if i > 0 && r.IntN(5) == 0 { // the same position as an earlier node
			j := r.IntN(i)
			a, b = w.nodeLat[j], w.nodeLng[j]
		}
		cell, err := model.CellAt(a, b, 9)
		require.NoError(t, err)
		nd := model.Node{ID: fmt.Sprintf("N%04d", r.IntN(100*n)), Cell: cell, Kind: model.Locker, Slots: [model.NumSizes]int32{1, 0, 0}}
		switch r.IntN(6) {
		case 0:
			nd.Kind = model.Microstore
		case 1:
			nd.Slots = [model.NumSizes]int32{}
		case 2:
			nd.Kind, nd.Slots, nd.Counter = model.Partner, [model.NumSizes]int32{}, 2
		}
		if r.IntN(2) == 0 { // an own position beside the cell's centre
			nd.Lat, nd.Lng = a+0.001*r.Float64(), b
		}
		ll := cell.LatLng()
		w.nodeLat, w.nodeLng = append(w.nodeLat, ll.Lat), append(w.nodeLng, ll.Lng)
		net.Nodes = append(net.Nodes, nd)
	}
	seen := map[string]bool{}
	for i := range net.Nodes {
		for seen[net.Nodes[i].ID] {
			net.Nodes[i].ID += "x"
		}
		seen[net.Nodes[i].ID] = true
	}
	w.pickupGrids()
	return w
}

// Searching the grid gives the lists measuring every node gives: the same
// preferences, the same logit candidates in the same order with the same
// weights, for queries inside, beside and far outside the nodes' area
// (where the grid declines), over networks small and large.
func TestGridSearchMatchesFullScan(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 3))
	places := [][2]float64{{52.5, 13.4}, {-33.9, 151.2}, {0.1, -0.1}, {64, -150}}
	for trial := 0; trial < 40; trial++ {
		p := places[trial%len(places)]
		spread := []float64{0.001, 0.05, 0.5, 3}[r.IntN(4)]
		w := gridWorld(t, r, 1+r.IntN(300), p[0], p[1], spread)
		full := &world{net: w.net, cfg: w.cfg, nodeLat: w.nodeLat, nodeLng: w.nodeLng}
		// full has no grids: every node measured
		for q := 0; q < 50; q++ {
			far := []float64{0, 1, 1, 1, 5, 60}[r.IntN(6)] * spread
			qlat := math.Max(-85, math.Min(85, p[0]+(spread+far)*(r.Float64()-0.5)))
			qlng := math.Max(-179, math.Min(179, p[1]+(spread+far)*(r.Float64()-0.5)))
			c, err := model.CellAt(qlat, qlng, 9)
			require.NoError(t, err)
			require.Equal(t, full.preferences(c), w.preferences(c), "trial %d query %d: preferences", trial, q)
			want, got := full.logitCell(c), w.logitCell(c)
			require.Equal(t, want.cand, got.cand, "trial %d query %d: candidates", trial, q)
			require.Equal(t, len(want.w), len(got.w))
			for k := range want.w {
				require.Equal(t, math.Float64bits(want.w[k]), math.Float64bits(got.w[k]), "trial %d query %d: weight %d", trial, q, k)
			}
		}
	}
}
