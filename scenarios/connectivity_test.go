package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// withP1Connectivity is base with the partner P1 given the connectivity
// mapping conn (flow style).
func withP1Connectivity(conn string) string {
	return strings.Replace(base, "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: "+conn+"\n", 1)
}

// mtbf and mttr take a plain duration (the mean of an exponential) or any
// distribution mapping; a plain duration and {dist: exponential} build the
// same sim.Dist, so they draw the same drops.
func TestMTBFForms(t *testing.T) {
	h, m := model.Hour, model.Minute
	tests := []struct {
		conn       string
		mtbf, mttr sim.Dist
	}{
		{"{mtbf: 72h, mttr: 30m}", sim.Dist{Kind: sim.Exponential, Mean: 72 * h}, sim.Dist{Kind: sim.Exponential, Mean: 30 * m}},
		{"{mtbf: {dist: exponential, mean: 72h}, mttr: {dist: exponential, mean: 30m}}",
			sim.Dist{Kind: sim.Exponential, Mean: 72 * h}, sim.Dist{Kind: sim.Exponential, Mean: 30 * m}},
		{"{mtbf: {dist: lognormal, median: 60h, sigma: 0.5}, mttr: {dist: constant, mean: 30m}}",
			sim.Dist{Kind: sim.LogNormal, Median: 60 * h, Sigma: 0.5}, sim.Dist{Kind: sim.Constant, Mean: 30 * m}},
		{"{mtbf: {dist: uniform, min: 1d, max: 3d}, mttr: {dist: empirical, quantiles: [10m, 30m, 2h]}}",
			sim.Dist{Kind: sim.Uniform, Min: model.Day, Max: 3 * model.Day},
			sim.Dist{Kind: sim.Empirical, Quantiles: []model.Duration{10 * m, 30 * m, 2 * h}}},
	}
	for _, tt := range tests {
		t.Run(tt.conn, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(withP1Connectivity(tt.conn)))
			require.NoError(t, err)
			require.True(t, s.NodeByID("P1").Connectivity.MTBF.Given())
			require.True(t, s.Edge())
			cfg, err := s.Config()
			require.NoError(t, err)
			assert.Equal(t, tt.mtbf, cfg.Nodes[1].MTBF)
			assert.Equal(t, tt.mttr, cfg.Nodes[1].MTTR)
			assert.Equal(t, sim.NodeWorld{}, cfg.Nodes[0], "L1 has no drops")
		})
	}

	// 0 (or nothing) is no random drops, and needs no mttr
	s, err := Parse("t.yaml", []byte(withP1Connectivity("{mtbf: 0}")))
	require.NoError(t, err)
	assert.False(t, s.NodeByID("P1").Connectivity.MTBF.Given())
	assert.False(t, s.Edge())
}

// The plain form is read by yaml.v3 directly too (sweeps check their values
// that way), strictly, and written back in the form it means.
func TestMeanOrDistYAML(t *testing.T) {
	var m MeanOrDist
	require.NoError(t, yaml.Unmarshal([]byte("12h"), &m))
	assert.Equal(t, Exp(Duration(12*model.Hour)), m)
	require.NoError(t, yaml.Unmarshal([]byte("{dist: lognormal, median: 60h, sigma: 0.5}"), &m))
	assert.Equal(t, MeanOrDist{Dist: DistLognormal, Median: Duration(60 * model.Hour), Sigma: 0.5}, m)
	err := yaml.Unmarshal([]byte("{dist: lognormal, median: 60h, sgima: 0.5}"), &m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `sgima: unknown field (did you mean "sigma"?)`)
	require.Error(t, yaml.Unmarshal([]byte("12"), &m))

	for _, in := range []MeanOrDist{
		Exp(Duration(3 * model.Day)),
		{Dist: DistLognormal, Median: Duration(60 * model.Hour), Sigma: 0.5},
		{Dist: DistConstant, Mean: Duration(30 * model.Minute)},
		{Dist: DistUniform, Min: Duration(model.Hour), Max: Duration(2 * model.Hour)},
		{Dist: DistEmpirical, Quantiles: []Duration{Duration(model.Minute), Duration(model.Hour)}},
		{},
	} {
		out, err := yaml.Marshal(in)
		require.NoError(t, err)
		var back MeanOrDist
		require.NoError(t, yaml.Unmarshal(out, &back), "%s", out)
		assert.Equal(t, in, back, "%s", out)
	}
}

// connTransitions records every EvNodeOffline / EvNodeOnline the simulated
// world hands the core, by node id.
type connTransitions struct {
	ids map[model.NodeIndex]string
	got map[string][]string
}

func (c *connTransitions) Observe(_ *model.Core, ev model.Event, _ []model.Effect) {
	switch ev.Type {
	case model.EvNodeOffline:
		c.got[c.ids[ev.Node]] = append(c.got[c.ids[ev.Node]], "offline "+ev.At.String())
	case model.EvNodeOnline:
		c.got[c.ids[ev.Node]] = append(c.got[c.ids[ev.Node]], "online "+ev.At.String())
	}
}

// Outages written in a scenario reach the simulated nodes at the instants the
// file gives: a node's scheduled outage takes it offline at start + offset
// and back after its duration; an area outage given by H3 cells takes every
// node in those cells offline and back together, and no node outside.
func TestOutagesFromScenario(t *testing.T) {
	type pos struct{ lat, lng float64 }
	at := map[string]pos{"A1": {52.500, 13.400}, "A2": {52.530, 13.450}, "B1": {52.460, 13.340}}
	cells := map[string]string{}
	for id, p := range at {
		c, err := model.CellAt(p.lat, p.lng, DefaultResolution)
		require.NoError(t, err)
		cells[id] = fmt.Sprintf("%x", uint64(c))
	}
	require.Len(t, map[string]bool{cells["A1"]: true, cells["A2"]: true, cells["B1"]: true}, 3, "nodes in distinct cells")
	doc := fmt.Sprintf(`name: outages
horizon: 4d
neighborhoods:
  - {name: N, center: {lat: 52.5, lng: 13.4}, radius: 3, orders_per_day: 20}
nodes:
  - {id: A1, kind: locker, lat: %v, lng: %v, slots: {small: 10, medium: 10}}
  - {id: A2, kind: locker, lat: %v, lng: %v, slots: {small: 10, medium: 10}}
  - id: B1
    kind: locker
    lat: %v
    lng: %v
    slots: {small: 10, medium: 10}
    connectivity:
      outages: [{start: 2d3h, duration: 90m}]
skus:
  - {id: S01, size: small, price: 5}
couriers:
  fleet: 2
connectivity:
  area_outages:
    - {cells: ["%s", "%s"], start: 1d10h, duration: 4h}
`, at["A1"].lat, at["A1"].lng, at["A2"].lat, at["A2"].lng, at["B1"].lat, at["B1"].lng, cells["A1"], cells["A2"])
	s, err := Parse("outages.yaml", []byte(doc))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	require.Len(t, cfg.AreaOutages, 1)
	assert.Equal(t, []model.NodeIndex{0, 1}, cfg.AreaOutages[0].Nodes)

	rec := &connTransitions{ids: map[model.NodeIndex]string{0: "A1", 1: "A2", 2: "B1"}, got: map[string][]string{}}
	_, err = sim.RunObserved(cfg, 0, rec)
	require.NoError(t, err)
	start := s.StartInstant()
	area := []string{
		"offline " + start.Add(model.Day+10*model.Hour).String(),
		"online " + start.Add(model.Day+14*model.Hour).String(),
	}
	assert.Equal(t, map[string][]string{
		"A1": area,
		"A2": area,
		"B1": {
			"offline " + start.Add(2*model.Day+3*model.Hour).String(),
			"online " + start.Add(2*model.Day+4*model.Hour+30*model.Minute).String(),
		},
	}, rec.got)
}
