package sim

import (
	"fmt"
	"math"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Calendar shapes demand over the days: a neighborhood's order rate at t is
//
//	orders_per_day * hourly(t) * Weekday[weekday(t)] * (product of the Peaks holding t) * uplift(cell, t)
//
// where Weekday is normalised to mean 1 (orders_per_day stays the mean day
// of a week without peaks) and uplift(cell, t) is the product of the
// factors of the Uplifts whose node is active at t and that serve the cell.
// The order process draws at the largest rate and thins; the cell of an
// order is drawn in proportion to its uplift. The zero Calendar is flat.
type Calendar struct {
	// Weekday holds 7 relative factors, Monday first; all zero means flat.
	Weekday [7]float64
	Peaks   []Peak
	Uplifts []Uplift
}

// Peak multiplies demand by Factor on the days within [From, Until)
// (instants on the simulated clock, local midnights).
type Peak struct {
	Name        string
	From, Until model.Instant
	Factor      float64
}

// Uplift raises demand in Cells by Factor while Node is active (a pop-up's
// demo days).
type Uplift struct {
	Node   model.NodeIndex
	Factor float64
	Cells  []model.Cell
}

func (c *Calendar) validate(net *model.Network) error {
	var sum float64
	for i, v := range c.Weekday {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("calendar: weekday factor %d must be >= 0 (got %v)", i, v)
		}
		sum += v
	}
	if sum == 0 && c.Weekday != [7]float64{} {
		return fmt.Errorf("calendar: weekday factors are all zero")
	}
	for _, p := range c.Peaks {
		if !(p.Factor >= 0) || math.IsInf(p.Factor, 0) || p.Until <= p.From {
			return fmt.Errorf("calendar: peak %q needs factor >= 0 and until after from", p.Name)
		}
	}
	for _, u := range c.Uplifts {
		if u.Node < 0 || int(u.Node) >= len(net.Nodes) {
			return fmt.Errorf("calendar: uplift of unknown node index %d", u.Node)
		}
		if !(u.Factor > 0) || math.IsInf(u.Factor, 0) {
			return fmt.Errorf("calendar: uplift of node %s needs factor > 0 (got %v)", net.Nodes[u.Node].ID, u.Factor)
		}
	}
	return nil
}

// Weekday returns the day of the week of t, Monday 0 .. Sunday 6 (the
// simulated clock counts from the Unix epoch, a Thursday).
func Weekday(t model.Instant) int {
	d := int64(model.DayStart(t)) / int64(model.Day)
	return int(((d+3)%7 + 7) % 7)
}

// DayFactor is the calendar's factor of the day holding t: the normalised
// weekday factor times the peaks holding t (uplifts left out).
func (c *Calendar) DayFactor(t model.Instant) float64 {
	f := 1.0
	if c.Weekday != [7]float64{} {
		var sum float64
		for _, v := range c.Weekday {
			sum += v
		}
		f = c.Weekday[Weekday(t)] * 7 / sum
	}
	for _, p := range c.Peaks {
		if t >= p.From && t < p.Until {
			f *= p.Factor
		}
	}
	return f
}

// upliftSeg is a span of time with one set of active uplifts over a
// neighborhood: the mean of its cells' uplifts and their cumulative sums
// (nil when every cell's uplift is 1).
type upliftSeg struct {
	until model.Instant
	mean  float64
	cum   []float64
}

type calHood struct {
	segs []upliftSeg
	at   int // current segment (time only moves forward)
}

// calendarState is the world's demand calendar, precomputed.
type calendarState struct {
	day0  model.Instant
	days  []float64 // DayFactor by day since the start's midnight
	hoods []calHood
}

// calendarInit precomputes the day factors and the uplift segments and
// raises each neighborhood's thinning rate by its largest factor.
func (w *world) calendarInit() {
	c := &w.cfg.Calendar
	cs := &w.cal
	cs.day0 = model.DayStart(w.cfg.Start)
	maxDay := 0.0
	for d := cs.day0; d < w.cfg.Start.Add(w.cfg.Horizon); d += model.Instant(model.Day) {
		f := c.DayFactor(d)
		cs.days = append(cs.days, f)
		maxDay = math.Max(maxDay, f)
	}
	cs.hoods = make([]calHood, len(w.hoods))
	for hi := range w.hoods {
		h := &w.hoods[hi]
		segs := w.upliftSegments(h)
		cs.hoods[hi].segs = segs
		maxUp := 0.0
		for _, s := range segs {
			maxUp = math.Max(maxUp, s.mean)
		}
		if f := maxDay * maxUp; f != 1 {
			h.maxRate *= f
		}
	}
}

// upliftSegments splits time at the start and end of every uplift serving
// one of h's cells.
func (w *world) upliftSegments(h *hood) []upliftSeg {
	type up struct {
		from, until model.Instant
		factor      float64
		in          map[model.Cell]bool
	}
	var ups []up
	cuts := []model.Instant{}
	for _, u := range w.cfg.Calendar.Uplifts {
		in := map[model.Cell]bool{}
		for _, c := range u.Cells {
			in[c] = true
		}
		hit := false
		for _, ci := range h.cells {
			hit = hit || in[ci.cell]
		}
		if !hit {
			continue
		}
		nd := &w.net.Nodes[u.Node]
		from, until := nd.ActiveFrom, nd.ActiveUntil
		if from == 0 && until == 0 {
			from, until = math.MinInt64, math.MaxInt64
		}
		ups = append(ups, up{from, until, u.Factor, in})
		cuts = append(cuts, from, until)
	}
	sort.Slice(cuts, func(a, b int) bool { return cuts[a] < cuts[b] })
	cuts = append(cuts, math.MaxInt64)
	var segs []upliftSeg
	at := model.Instant(math.MinInt64)
	for _, until := range cuts {
		if until <= at && until != math.MaxInt64 {
			continue
		}
		seg := upliftSeg{until: until, mean: 1}
		var cum []float64
		var acc float64
		flat := true
		for _, ci := range h.cells {
			m := 1.0
			for _, u := range ups {
				if at >= u.from && at < u.until && u.in[ci.cell] {
					m *= u.factor
				}
			}
			flat = flat && m == 1
			acc += m
			cum = append(cum, acc)
		}
		if !flat {
			seg.cum, seg.mean = cum, acc/float64(len(h.cells))
		}
		segs = append(segs, seg)
		at = until
		if until == math.MaxInt64 {
			break
		}
	}
	return segs
}

// segment returns neighborhood hi's uplift segment holding t (t never
// decreases between calls).
func (cs *calendarState) segment(hi int, t model.Instant) *upliftSeg {
	if hi >= len(cs.hoods) {
		return nil
	}
	ch := &cs.hoods[hi]
	for ch.at < len(ch.segs)-1 && t >= ch.segs[ch.at].until {
		ch.at++
	}
	return &ch.segs[ch.at]
}

// demandFactor is the calendar's factor on neighborhood hi's order rate now:
// the day's factor times the mean uplift over its cells.
func (w *world) demandFactor(hi int) float64 {
	cs := &w.cal
	f := 1.0
	if d := int((w.k.Now - cs.day0) / model.Instant(model.Day)); d >= 0 && d < len(cs.days) {
		f = cs.days[d]
	}
	if s := cs.segment(hi, w.k.Now); s != nil {
		f *= s.mean
	}
	return f
}

// validateChoiceCalendar checks the customers' choice and the calendar.
func (c *Config) validateChoiceCalendar() error {
	if err := c.Customers.Choice.validate(); err != nil {
		return err
	}
	return c.Calendar.validate(c.Network)
}
