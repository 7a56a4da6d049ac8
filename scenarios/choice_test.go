package scenarios

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// A scenario without the choice keys gets the logit with its documented
// defaults and a capacity-aware checkout.
func TestChoiceDefaults(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	ch := s.Customers.Choice
	assert.Equal(t, ChoiceLogit, ch.Model)
	assert.Equal(t, DefaultChoiceRadiusKm, ch.RadiusKm)
	assert.Equal(t, DefaultBetaDistance, ch.BetaDistance)
	assert.Equal(t, DefaultPartnerUtility, ch.KindUtility.Partner)
	assert.Equal(t, DefaultHomeBonus, ch.HomeBonus)
	require.NotNil(t, s.Customers.CapacityAware)
	assert.True(t, *s.Customers.CapacityAware)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, sim.ChoiceLogit, cfg.Customers.Choice.Model)
	assert.True(t, cfg.Customers.Choice.CapacityAware)
	assert.Equal(t, DefaultPartnerUtility, cfg.Customers.Choice.KindUtility[model.Partner])
	assert.Equal(t, [7]float64{}, cfg.Calendar.Weekday)
}

func TestChoiceCalendarBuild(t *testing.T) {
	doc := base + `customers:
  choice: {model: nearest, kind_utility: {partner: 0.5}}
  capacity_aware: false
demand_calendar:
  weekday: [1, 1, 1, 1, 1, 1, 0.5]
  peaks:
    - {name: bf, from: 2026-03-03, until: 2026-03-04, factor: 2.5}
`
	doc = strings.Replace(doc, "    counter_capacity: 10\n", "    counter_capacity: 10\n  - {id: U1, kind: popup, lat: 52.5, lng: 13.4, slots: {small: 2}, active: {from: 1d, until: 2d}, demand_uplift: {factor: 2, cells: 0}}\n", 1)
	s, err := Parse("cal.yaml", []byte(doc))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, sim.ChoiceNearest, cfg.Customers.Choice.Model)
	assert.False(t, cfg.Customers.Choice.CapacityAware)
	assert.Equal(t, 0.5, cfg.Customers.Choice.KindUtility[model.Partner])
	assert.Equal(t, 0.5, cfg.Calendar.Weekday[6])
	require.Len(t, cfg.Calendar.Peaks, 1)
	p := cfg.Calendar.Peaks[0]
	assert.Equal(t, s.StartInstant().Add(model.Day), p.From)
	assert.Equal(t, s.StartInstant().Add(3*model.Day), p.Until, "until is included")
	require.Len(t, cfg.Calendar.Uplifts, 1)
	assert.Equal(t, model.NodeIndex(2), cfg.Calendar.Uplifts[0].Node)
	assert.Equal(t, []model.Cell{s.Nodes[2].Cell(8)}, cfg.Calendar.Uplifts[0].Cells, "cells: 0 is the node's own cell")
}

func TestChoiceCalendarBadInputs(t *testing.T) {
	tests := []struct {
		name, add, path, msg string
	}{
		{"model", "customers:\n  choice: {model: gravity}  # <-\n", "customers.choice.model", "must be logit or nearest"},
		{"radius", "customers:\n  choice: {radius_km: -1}  # <-\n", "customers.choice.radius_km", "must be > 0"},
		{"beta", "customers:\n  choice: {beta_distance: 0.5}  # <-\n", "customers.choice.beta_distance", "must be <= 0"},
		{"home bonus", "customers:\n  choice: {home_bonus: -1}  # <-\n", "customers.choice.home_bonus", "must be >= 0"},
		{"unknown kind", "customers:\n  choice: {kind_utility: {kiosk: 1}}  # <-\n", "customers.choice.kind_utility.kiosk", "unknown field"},
		{"weekday length", "demand_calendar:\n  weekday: [1, 1, 1]  # <-\n", "demand_calendar.weekday", "must have 7 factors"},
		{"weekday zero", "demand_calendar:\n  weekday: [0, 0, 0, 0, 0, 0, 0]  # <-\n", "demand_calendar.weekday", "must not all be zero"},
		{"weekday negative", "demand_calendar:\n  weekday: [1, 1, 1, 1, 1, 1,\n    -1]  # <-\n", "demand_calendar.weekday[6]", "must be >= 0"},
		{"peak backwards", "demand_calendar:\n  peaks:\n    - {from: 2026-03-05, until: 2026-03-04, factor: 2}  # <-\n", "demand_calendar.peaks[0].until", "must not be before from"},
		{"peak factor", "demand_calendar:\n  peaks:\n    - {from: 2026-03-03, until: 2026-03-04}  # <-\n", "demand_calendar.peaks[0].factor", "required"},
		{"peak date", "demand_calendar:\n  peaks:\n    - {from: 2026-13-03, until: 2026-03-04, factor: 2}  # <-\n", "demand_calendar.peaks[0].from", "must be a date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := base + tt.add
			_, err := Parse("bad.yaml", []byte(doc))
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			var found *Error
			for i := range errs {
				if errs[i].Path == tt.path {
					found = &errs[i]
				}
			}
			require.NotNil(t, found, "no error at %s in:\n%v", tt.path, err)
			assert.Equal(t, markedLine(t, doc), found.Line)
			assert.Contains(t, found.Msg, tt.msg)
		})
	}
	uplift := func(extra string) string {
		return strings.Replace(base, "    counter_capacity: 10\n", "    counter_capacity: 10\n    demand_uplift: {factor: 2"+extra+"}  # <-\n", 1)
	}
	for name, tt := range map[string]struct{ doc, path, msg string }{
		"uplift on a partner": {uplift(""), "nodes[P1].demand_uplift", "only a node with an active window"},
		"uplift both":         {uplift(", radius_km: 1, cells: 1"), "nodes[P1].demand_uplift", "not both"},
		"uplift cells":        {uplift(", cells: -1"), "nodes[P1].demand_uplift.cells", "between 0 and"},
	} {
		_, err := Parse("bad.yaml", []byte(tt.doc))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tt.path+": ", name)
		assert.Contains(t, err.Error(), tt.msg, name)
	}
}

func warningsOf(t *testing.T, doc string) Errors {
	s, err := Parse("w.yaml", []byte(doc))
	require.NoError(t, err, "warnings never make a scenario invalid")
	return s.Warnings()
}

func TestValidateWarnings(t *testing.T) {
	assert.Empty(t, warningsOf(t, base))
	add := func(n string) string {
		return strings.Replace(base, "skus:\n", "  - "+n+"  # <-\nskus:\n", 1)
	}
	tests := []struct {
		name, doc, path, msg string
	}{
		{"zero zero", add("{id: Z, kind: locker, lat: 0, lng: 0, slots: {small: 1}}"), "nodes[Z]", "at 0,0"},
		{"far", add("{id: Far, kind: locker, lat: 48.1, lng: 11.6, slots: {small: 1}}"), "nodes[Far]", "far from every neighborhood"},
		{"unreachable", add("{id: Out, kind: partner, lat: 52.55, lng: 13.4, counter_capacity: 5}"), "nodes[Out]", "no neighborhood can reach"},
		{"absurd", strings.Replace(base, "orders_per_day: 100", "orders_per_day: 2e7  # <-", 1), "neighborhoods[N1].orders_per_day", "more than 10^7"},
		{"absurd by peak", strings.Replace(base, "orders_per_day: 100", "orders_per_day: 5e6", 1) +
			"demand_calendar:\n  peaks:\n    - {from: 2026-03-03, until: 2026-03-03, factor: 2.5}\n", "neighborhoods[N1].orders_per_day", "largest factor 2.5"},
		{"absurd in all", strings.Replace(base, "    orders_per_day: 100\n", "    orders_per_day: 6e6\n  - {name: N2, center: {lat: 52.51, lng: 13.41}, orders_per_day: 6e6}\n", 1), "neighborhoods", "in all"},
		{"peak outside", base + "demand_calendar:\n  peaks:\n    - {from: 2027-03-03, until: 2027-03-04, factor: 2}  # <-\n", "demand_calendar.peaks[0]", "outside the simulated days"},
		{"nearest never nearest", strings.Replace(base, "    counter_capacity: 10\n", "    counter_capacity: 10\n  - {id: L0, kind: locker, lat: 52.5001, lng: 13.4001, slots: {small: 1}}\n", 1) +
			"customers:\n  choice: {model: nearest}\n", "nodes[L1]", "nearest pickup node of no demand cell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := warningsOf(t, tt.doc)
			var found *Error
			for i := range ws {
				if ws[i].Path == tt.path {
					found = &ws[i]
				}
			}
			require.NotNil(t, found, "no warning at %s in %v", tt.path, ws)
			assert.Contains(t, found.Msg, tt.msg)
			if strings.Contains(tt.doc, "# <-") {
				assert.Equal(t, markedLine(t, tt.doc), found.Line)
			}
			assert.True(t, strings.HasPrefix(found.Warning(), "w.yaml:"), found.Warning())
			assert.Contains(t, found.Warning(), ": warning: "+tt.path+": ")
		})
	}
}

// The nearest rule without capacity awareness or a calendar reproduces the
// per-node orders of the simulator before the choice model existed (the
// pilot's first ten days, replication 0, recorded from that code).
func TestNearestReproducesOldRule(t *testing.T) {
	s, err := Load("pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	s.Horizon = Duration(10 * model.Day)
	s.Customers.Choice.Model = ChoiceNearest
	off := false
	s.Customers.CapacityAware = &off
	s.DemandCalendar = DemandCalendar{}
	for i := range s.Nodes {
		s.Nodes[i].DemandUplift = nil
	}
	cfg, err := s.Config()
	require.NoError(t, err)
	r, err := sim.Run(cfg, 0)
	require.NoError(t, err)
	want := map[string]uint64{"M1": 0, "M2": 0, "L01": 692, "L02": 887, "L03": 2070, "L04": 976, "L05": 923, "L06": 1269,
		"L07": 1428, "L08": 891, "L09": 1745, "P01": 636, "P02": 638, "P03": 549, "P04": 0, "P05": 0, "U1": 0}
	got := map[string]uint64{}
	for _, n := range r.Nodes {
		got[n.ID] = n.Orders
	}
	assert.Equal(t, want, got)
}

// With the pilot's logit every pickup node with a positive choice
// probability receives orders: U1, P04 and P05 (each sharing a cell with a
// lower-id node) included.
func TestPilotNoPickupNodeStarved(t *testing.T) {
	s, err := Load("pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	s.Horizon = Duration(10 * model.Day)
	cfg, err := s.Config()
	require.NoError(t, err)
	r, err := sim.Run(cfg, 0)
	require.NoError(t, err)
	for _, n := range r.Nodes {
		if n.Kind == model.Microstore {
			continue
		}
		assert.Positive(t, n.Orders, "node %s receives no orders", n.ID)
	}
}
