package scenarios

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// repBase is base with a cached microstore, to which the replenishment
// cases add their keys.
var repBase = strings.Replace(base, "nodes:\n", `nodes:
  - id: M1
    kind: microstore
    lat: 52.505
    lng: 13.405
    floor_area_m2: 20
    cache:
      - {sku: S01, capacity: 20, stock: 10}
`, 1)

func TestReplenishmentBadInputs(t *testing.T) {
	tests := []struct {
		name, old, new, path, msg string
	}{
		{"unknown policy", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  policy: lru  # <-\n", "replenishment.policy", "must be heatmap, fill, static or none"},
		{"window not whole days", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  window: 36h  # <-\n", "replenishment.window", "whole days"},
		{"zero cover", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  cover: 0  # <-\n", "replenishment.cover", "must be > 0"},
		{"midnight plan", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  plan_at: \"00:00\"  # <-\n", "replenishment.plan_at", "after 00:00"},
		{"negative lead", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  lead_time: -1h  # <-\n", "replenishment.lead_time", "must not be negative"},
		{"resolution finer than the grid", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  resolution: 9  # <-\n", "replenishment.resolution", "at most geography.resolution"},
		{"vehicle speed", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  vehicle: {speed_kmh: -3}  # <-\n", "replenishment.vehicle.speed_kmh", "must be > 0"},
		{"vehicle trip cost", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  vehicle: {cost_per_trip: -1}  # <-\n", "replenishment.vehicle.cost_per_trip", "must be >= 0"},
		{"vehicle from", "  fleet: 2\n", "  fleet: 2\nreplenishment:\n  vehicle:\n    from: {lat: 95, lng: 13}  # <-\n", "replenishment.vehicle.from.lat", "[-90, 90]"},
		{"holding cost", "  fleet: 2\n", "  fleet: 2\ncosts:\n  holding_per_unit_day: -0.1  # <-\n", "costs.holding_per_unit_day", "must be >= 0"},
		{"space cost", "  fleet: 2\n", "  fleet: 2\ncosts:\n  space_per_m2_day: -1  # <-\n", "costs.space_per_m2_day", "must be >= 0"},
		{"fewer slots than listed", "    floor_area_m2: 20\n", "    floor_area_m2: 20\n    cache_slots: 0\n    shelf_units: 5  # <-\n", "nodes[M1].shelf_units", "more than its 5 shelf units"},
		{"negative slots", "    floor_area_m2: 20\n", "    floor_area_m2: 20\n    cache_slots: -1  # <-\n", "nodes[M1].cache_slots", "must be >= 0"},
		{"slots without a cache", "    counter_capacity: 10\n", "    counter_capacity: 10\n    cache_slots: 3  # <-\n", "nodes[P1].cache_slots", "only used with a cache"},
		{"promotion sku", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - {sku: S99, until: 2d, factor: 2}  # <-\n", "promotions[0].sku", "unknown SKU"},
		{"promotion window", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - {sku: S01, from: 2d, until: 1d, factor: 2}  # <-\n", "promotions[0].until", "must be after from"},
		{"promotion factor", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - {sku: S01, until: 1d}  # <-\n", "promotions[0].factor", "required"},
		{"promotion negative factor", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - {sku: S01, until: 1d, factor: -2}  # <-\n", "promotions[0].factor", "must be >= 0"},
		{"promotion neighborhood", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - sku: S01\n    until: 1d\n    factor: 2\n    neighborhoods: [Nowhere]  # <-\n", "promotions[0].neighborhoods[0]", "unknown neighborhood"},
		{"promotion empty neighborhoods", "  fleet: 2\n", "  fleet: 2\npromotions:\n  - sku: S01\n    until: 1d\n    factor: 2\n    neighborhoods: []  # <-\n", "promotions[0].neighborhoods", "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, repBase, tt.old)
			doc := strings.Replace(repBase, tt.old, tt.new, 1)
			line := markedLine(t, doc)
			_, err := Parse("bad.yaml", []byte(doc))
			found, _ := errorAt(t, err, tt.path)
			assert.Contains(t, found.Msg, tt.msg)
			assert.Equal(t, line, found.Line, "line of %v", found)
		})
	}
}

// errorAt returns the error err (an Errors) holds for path, and all of them.
func errorAt(t *testing.T, err error, path string) (*Error, Errors) {
	t.Helper()
	require.Error(t, err)
	var errs Errors
	require.True(t, errors.As(err, &errs), "error is not Errors: %v", err)
	for i := range errs {
		if errs[i].Path == path {
			return &errs[i], errs
		}
	}
	require.FailNow(t, "no error for path", "%s in:\n%v", path, err)
	return nil, errs
}

// The section reaches the network and the simulator's config.
func TestReplenishmentBuild(t *testing.T) {
	doc := strings.Replace(repBase, "  fleet: 2\n", `  fleet: 2
replenishment:
  policy: fill
  window: 14d
  cover: 2.5
  plan_at: "01:30"
  lead_time: 3h
  resolution: 7
  vehicle: {from: {lat: 52.51, lng: 13.40}, speed_kmh: 30, cost_per_trip: 12, cost_per_km: 0.4}
costs: {holding_per_unit_day: 0.02, space_per_m2_day: 0.9}
promotions:
  - {sku: S01, from: 1d, until: 2d, factor: 3, neighborhoods: [N1]}
`, 1)
	doc = strings.Replace(doc, "      - {sku: S01, capacity: 20, stock: 10}\n", "      - {sku: S01, capacity: 20, stock: 10, pinned: true}\n    cache_slots: 2\n    shelf_units: 30\n", 1)
	s, err := Parse("ok.yaml", []byte(doc))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	p := cfg.Network.Policy
	assert.Equal(t, model.ReplenishFill, p.Replenish)
	assert.Equal(t, 14, p.RestockWindow)
	assert.Equal(t, 2.5, p.RestockCover)
	assert.Equal(t, 7, p.HeatResolution)
	m := cfg.Network.Nodes[0]
	assert.Equal(t, int32(2), m.CacheSlots)
	assert.Equal(t, int32(30), m.ShelfUnits)
	assert.True(t, m.Cache[0].Pinned)
	inv := cfg.Inventory
	assert.Equal(t, 90*model.Minute, inv.ReplenishAt)
	assert.Equal(t, 3*model.Hour, inv.RestockLead)
	assert.Equal(t, &[2]float64{52.51, 13.40}, inv.Vehicle.From)
	assert.Equal(t, 30.0, inv.Vehicle.SpeedKmh)
	assert.Equal(t, 12.0, inv.Vehicle.CostPerTrip)
	assert.Equal(t, 0.4, inv.Vehicle.CostPerKm)
	assert.Equal(t, 0.02, cfg.Costs.HoldingPerUnitDay)
	assert.Equal(t, 0.9, cfg.Costs.SpacePerM2Day)
	require.Len(t, cfg.Promotions, 1)
	pr := cfg.Promotions[0]
	assert.Equal(t, model.SKUIndex(0), pr.SKU)
	assert.Equal(t, cfg.Start.Add(model.Day), pr.From)
	assert.Equal(t, []int{0}, pr.Neighborhoods)
	assert.Equal(t, 3.0, pr.Factor)
}
