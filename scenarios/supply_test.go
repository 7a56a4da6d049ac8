package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// supplyBase is base with a microstore and a supply section.
var supplyBase = strings.Replace(base, "skus:", `  - id: M1
    kind: microstore
    lat: 52.50
    lng: 13.40
skus:`, 1) + `supply:
  depot: {lat: 52.36, lng: 13.32}
  waves: ["06:00", "11:00", "16:00"]
`

func supplyScenario(t *testing.T, edit func(string) string) *Scenario {
	t.Helper()
	doc := supplyBase
	if edit != nil {
		doc = edit(doc)
	}
	s, err := Parse("supply.yaml", []byte(doc))
	require.NoError(t, err)
	return s
}

func TestSupplyDefaultsAndBuild(t *testing.T) {
	s := supplyScenario(t, nil)
	assert.Equal(t, FallbackNextDay, s.SLA.Fallback)
	net, err := s.Network()
	require.NoError(t, err)
	sp := net.Supply
	require.NotNil(t, sp)
	assert.Equal(t, []model.Duration{6 * model.Hour, 11 * model.Hour, 16 * model.Hour}, sp.Waves)
	assert.Equal(t, DefaultSupplyOrderCutoff, sp.OrderCutoff)
	assert.Equal(t, DefaultSupplyLastMile, sp.LastMile)
	assert.Equal(t, DefaultSupplyInboundAt, sp.InboundAt)
	for _, st := range sp.Stock {
		assert.True(t, st.Unlimited, "no stock listed: every SKU unlimited")
	}
	m1, _ := net.NodeIndexOf("M1")
	// ~15.9 km x 1.3 at 30 km/h = ~41 min, plus 30 min handling
	assert.InDelta(t, float64(71*model.Minute), float64(sp.Lead[m1]), float64(2*model.Minute))
	assert.Equal(t, model.FallbackNextDay, sp.Fallback)

	// without a supply section: no tier
	plain, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	pn, err := plain.Network()
	require.NoError(t, err)
	assert.Nil(t, pn.Supply)
}

// Every knob of the lead time acts in its direction; an override wins.
func TestSupplyLeadKnobs(t *testing.T) {
	lead := func(edit string) model.Duration {
		s := supplyScenario(t, func(d string) string { return d + edit })
		net, err := s.Network()
		require.NoError(t, err)
		m1, _ := net.NodeIndexOf("M1")
		return net.Supply.Lead[m1]
	}
	ref := lead("")
	assert.Greater(t, lead("  handling: 1h\n"), ref)
	assert.Less(t, lead("  speed_kmh: 60\n"), ref)
	assert.Greater(t, lead("  road_factor: 2\n"), ref)
	assert.Equal(t, 100*model.Minute, lead("  lead: {M1: 100m}\n"))
	far := supplyScenario(t, func(d string) string {
		return strings.Replace(d, "depot: {lat: 52.36, lng: 13.32}", "depot: {lat: 52.20, lng: 13.32}", 1)
	})
	net, err := far.Network()
	require.NoError(t, err)
	assert.Greater(t, net.Supply.Lead[2], ref, "a farther depot")
}

func TestSupplyKeysReachTheModel(t *testing.T) {
	s := supplyScenario(t, func(d string) string {
		d = strings.Replace(d, "  pickup_window", "  pickup_window", 1)
		return d + `  order_cutoff: 45m
  last_mile: 2h
  inbound_at: "04:00"
  stock: [{sku: S01, units: 12, inbound_per_day: 3}]
  per_parcel: 0.5
  per_wave: 60
sla:
  fallback: miss
fulfilment:
  staff:
    default: 2
    cost_per_hour: 17
    nodes:
      - id: M1
        shifts: [{hours: "08:00-12:00", pickers: 3}, {hours: ["22:00-24:00", "00:00-02:00"], pickers: 1}]
`
	})
	net, err := s.Network()
	require.NoError(t, err)
	sp := net.Supply
	assert.Equal(t, 45*model.Minute, sp.OrderCutoff)
	assert.Equal(t, 2*model.Hour, sp.LastMile)
	assert.Equal(t, 4*model.Hour, sp.InboundAt)
	assert.Equal(t, model.DepotStock{Units: 12, InboundPerDay: 3}, sp.Stock[0])
	assert.Equal(t, model.FallbackMiss, sp.Fallback)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, 0.5, cfg.Supply.PerParcel)
	assert.Equal(t, 60.0, cfg.Supply.PerWave)
	require.NotNil(t, cfg.Fulfilment.Staff)
	assert.Equal(t, 2, cfg.Fulfilment.Staff.Default)
	assert.Equal(t, 17.0, cfg.Fulfilment.Staff.CostPerHour)
	m1, _ := net.NodeIndexOf("M1")
	sh := cfg.Fulfilment.Staff.Nodes[m1]
	require.Len(t, sh, 3, "a shift of two ranges is two spans")
	assert.Equal(t, model.Span{From: 8 * model.Hour, To: 12 * model.Hour}, sh[0].Span)
	assert.Equal(t, 3, sh[0].Pickers)
	assert.ElementsMatch(t, []model.Span{{From: 0, To: 2 * model.Hour}, {From: 22 * model.Hour, To: model.Day}}, []model.Span{sh[1].Span, sh[2].Span})
}

func TestSupplyBadInputs(t *testing.T) {
	tests := []struct {
		name, add, path, msg string
		noSupply             bool
	}{
		{"fallback without supply", "sla:\n  fallback: miss\n", "sla.fallback", "only used with a supply section", true},
		{"bad fallback", "sla:\n  fallback: later\n", "sla.fallback", "next_day or miss", false},
		{"waves out of order", "", "supply.waves[1]", "later than the wave before", false},
		{"unknown lead node", "  lead: {L1: 1h}\n", "supply.lead.L1", "not a microstore", false},
		{"unknown stock sku", "  stock: [{sku: S99, units: 1}]\n", "supply.stock[0].sku", "unknown SKU", false},
		{"negative units", "  stock: [{sku: S01, units: -1}]\n", "supply.stock[0].units", ">= 0", false},
		{"road factor below 1", "  road_factor: 0.5\n", "supply.road_factor", ">= 1", false},
		{"negative per wave", "  per_wave: -1\n", "supply.per_wave", ">= 0", false},
		{"staff without default", "fulfilment:\n  staff:\n    nodes: [{id: M1, shifts: [{hours: \"08:00-12:00\", pickers: 1}]}]\n", "fulfilment.staff.default", "required", false},
		{"staff at a locker", "fulfilment:\n  staff:\n    default: 1\n    nodes: [{id: L1, shifts: [{hours: \"08:00-12:00\", pickers: 1}]}]\n", "fulfilment.staff.nodes[L1].id", "only microstores pick", false},
		{"negative picker cost", "fulfilment:\n  staff:\n    default: 1\n    cost_per_hour: -1\n", "fulfilment.staff.cost_per_hour", ">= 0", false},
		{"negative pickers", "fulfilment:\n  staff:\n    default: 1\n    nodes: [{id: M1, shifts: [{hours: \"08:00-12:00\", pickers: -1}]}]\n", "fulfilment.staff.nodes[M1].shifts[0].pickers", ">= 0", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := supplyBase
			if tc.noSupply {
				doc = base
			}
			if tc.name == "waves out of order" {
				doc = strings.Replace(doc, `["06:00", "11:00", "16:00"]`, `["11:00", "06:00"]`, 1)
			}
			_, err := Parse("bad.yaml", []byte(doc+tc.add))
			require.Error(t, err)
			var found bool
			for _, e := range err.(Errors) {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					found = true
					assert.Positive(t, e.Line, "placed at a line")
				}
			}
			assert.True(t, found, "want %s: %s in %v", tc.path, tc.msg, err)
		})
	}
}
