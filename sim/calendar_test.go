package sim

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/model"
)

func TestWeekday(t *testing.T) {
	assert.Equal(t, 0, Weekday(testStart), "2026-03-02 is a Monday")
	assert.Equal(t, 6, Weekday(testStart.Add(6*model.Day+23*model.Hour)))
	assert.Equal(t, 0, Weekday(testStart.Add(7*model.Day)))
	assert.Equal(t, 3, Weekday(0), "the epoch was a Thursday")
}

// calendarConfig: 28 days of flat demand from one cell (or two) around
// choiceConfig's nodes, nothing measured away.
func calendarConfig(t testing.TB, perDay float64) *Config {
	c := choiceConfig(t)
	c.Horizon = 28 * model.Day
	c.Neighborhoods[0].OrdersPerDay = perDay
	return c
}

// checkDaily compares the realised orders of each day with their expected
// values: every day within 4.5 Poisson standard deviations, and the
// chi-square over the days below its 99.99 % quantile.
func checkDaily(t *testing.T, r *Result, want func(day int) float64) {
	t.Helper()
	require.Len(t, r.Daily, 28)
	var chi2 float64
	for _, d := range r.Daily {
		e := want(d.Day)
		got := float64(d.Orders)
		assert.InDelta(t, e, got, 4.5*math.Sqrt(e), "day %d: %v orders, want about %.0f", d.Day, got, e)
		chi2 += (got - e) * (got - e) / e
	}
	crit := distuv.ChiSquared{K: float64(len(r.Daily))}.Quantile(0.9999)
	assert.Less(t, chi2, crit)
}

// The weekday profile (normalised to mean 1) and a dated peak shape the
// realised daily totals.
func TestCalendarDailyTotals(t *testing.T) {
	const perDay = 600
	c := calendarConfig(t, perDay)
	week := [7]float64{1, 1, 1, 1.1, 1.4, 1.2, 0.3}
	c.Calendar.Weekday = week
	peakFrom := testStart.Add(10 * model.Day)
	c.Calendar.Peaks = []Peak{{Name: "sale", From: peakFrom, Until: peakFrom.Add(3 * model.Day), Factor: 2.5}}
	r, err := Run(c, 0)
	require.NoError(t, err)
	var sum float64
	for _, v := range week {
		sum += v
	}
	checkDaily(t, r, func(day int) float64 {
		f := week[day%7] * 7 / sum
		if day >= 10 && day < 13 {
			f *= 2.5
		}
		return perDay * f
	})
	// the Sunday is quieter than the Friday, every week
	for wk := 0; wk < 4; wk++ {
		assert.Less(t, r.Daily[wk*7+6].Orders, r.Daily[wk*7+4].Orders)
	}
}

// A pop-up's uplift raises demand in the cells it serves while it is
// active, and only there.
func TestCalendarPopupUplift(t *testing.T) {
	const perDay = 600
	c := calendarConfig(t, perDay)
	a := c.Neighborhoods[0].Cells[0]
	b := mustCell(t, 52.53, 13.40)
	require.NotEqual(t, a, b)
	c.Neighborhoods[0].Cells = []model.Cell{a, b}
	pop := &c.Network.Nodes[2]
	pop.Kind = model.Popup
	pop.ActiveFrom, pop.ActiveUntil = testStart.Add(7*model.Day), testStart.Add(14*model.Day)
	c.Calendar.Uplifts = []Uplift{{Node: 2, Factor: 3, Cells: []model.Cell{a}}}
	r, err := Run(c, 0)
	require.NoError(t, err)
	checkDaily(t, r, func(day int) float64 {
		if day >= 7 && day < 14 {
			return perDay * (3 + 1) / 2
		}
		return perDay
	})
	wantA, wantB := perDay/2*(21+3*7.0), perDay/2*28.0
	assert.InDelta(t, wantA, float64(r.DemandByCell[a]), 4.5*math.Sqrt(wantA))
	assert.InDelta(t, wantB, float64(r.DemandByCell[b]), 4.5*math.Sqrt(wantB))
}

// Without a calendar the order stream is the flat one: a zero Calendar and
// an explicit flat weekday give identical runs.
func TestCalendarFlatIsIdentity(t *testing.T) {
	c := calendarConfig(t, 300)
	r0, err := Run(c, 0)
	require.NoError(t, err)
	c.Calendar.Weekday = [7]float64{2, 2, 2, 2, 2, 2, 2}
	r1, err := Run(c, 0)
	require.NoError(t, err)
	assert.Equal(t, r0.Daily, r1.Daily)
	assert.Equal(t, r0.Stats.Orders, r1.Stats.Orders)
}

func TestCalendarValidate(t *testing.T) {
	for name, cal := range map[string]Calendar{
		"negative weekday": {Weekday: [7]float64{1, 1, 1, 1, 1, 1, -1}},
		"peak backwards":   {Peaks: []Peak{{From: 10, Until: 5, Factor: 2}}},
		"uplift node":      {Uplifts: []Uplift{{Node: 99, Factor: 2}}},
		"uplift factor":    {Uplifts: []Uplift{{Node: 0, Factor: 0}}},
	} {
		c := calendarConfig(t, 10)
		c.Calendar = cal
		assert.Error(t, c.Validate(), name)
	}
}
