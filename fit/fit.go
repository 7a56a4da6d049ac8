package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	h3 "github.com/uber/h3-go/v4"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// Options tune a fit.
type Options struct {
	// From and To bound the window [From, To) on the network's local clock;
	// both must be local midnights. Zero: Observations.DefaultWindow.
	From, To model.Instant
	// MinSamples is the fewest observations a fitted value needs (orders of
	// a neighborhood, pickups, courier trips); with fewer the network's value
	// is kept, with a comment saying why. Zero means DefaultMinSamples.
	MinSamples int
	// MinFailures is the fewest random drops (and repairs) a node's
	// MTBF (MTTR) needs. Zero means DefaultMinFailures.
	MinFailures int
}

// Defaults of Options.
const (
	DefaultMinSamples  = 30
	DefaultMinFailures = 5
	// KSLevel is the level of the Kolmogorov–Smirnov check: a family whose
	// p-value is below it is not written (empirical quantiles are).
	KSLevel = 0.05
)

// Result is a fit: every fitted value with the comment the written
// scenario carries beside it, and every value kept with the reason.
type Result struct {
	Net      *Network
	Obs      *Observations
	From, To model.Instant
	Days     int
	Orders   int // orders placed in the window
	Notes    []string

	Hoods       []HoodFit
	Weekday     []float64 // nil: kept
	WeekdayNote string

	Pickup *PickupFit
	Speed  SpeedFit
	Nodes  []NodeFit
}

// HoodFit is one neighborhood's demand.
type HoodFit struct {
	Name         string
	N            int
	OrdersPerDay float64 // 0: kept
	SE           float64
	RateNote     string
	Hourly       []float64 // nil: kept
	HourlyNote   string
	SKUMix       map[string]float64 // nil: kept
	SKUNote      string
}

// PickupFit is the pickup delay from the ready notification, with the
// no-show share.
type PickupFit struct {
	Sample     Sample
	Fits       []*DistFit // every family, best AIC first
	Chosen     *DistFit   // nil: kept
	Empirical  []float64  // hours: written as empirical quantiles (nil: the chosen family is written)
	Note       string
	ByKind     map[string]*DistFit
	KindNote   map[string]string
	NoShowNote string
}

// SpeedFit is the couriers' speed from hand-off to arrival.
type SpeedFit struct {
	N         int
	Kmh, SE   float64 // 0: kept
	Intercept float64 // minutes: service time at a stop (estimate)
	R2        float64
	Note      string
}

// NodeFit is one node's random connectivity drops.
type NodeFit struct {
	ID                 string
	Failures, Repairs  int
	UpHours, DownHours float64
	MTBF, MTTR         float64 // hours; 0: kept
	MTBFFit, MTTRFit   *DistFit
	Note               string
}

// Fit fits the network's inputs to the observations.
func Fit(n *Network, o *Observations, opt Options) (*Result, error) {
	if opt.MinSamples <= 0 {
		opt.MinSamples = DefaultMinSamples
	}
	if opt.MinFailures <= 0 {
		opt.MinFailures = DefaultMinFailures
	}
	if o.Counters.Received == 0 {
		return nil, fmt.Errorf("fit: %s holds no messages", o.Source)
	}
	unknown := o.Quarantine["unknown_node"] + o.Quarantine["unknown_sku"]
	if o.Counters.Accepted == 0 || unknown*10 > o.Counters.Received {
		if unknown > 0 {
			return nil, fmt.Errorf("fit: %s looks like a feed of another network: %d of its %d messages name nodes or SKUs %s lacks (%s)",
				o.Source, unknown, o.Counters.Received, n.Path, strings.Join(o.UnknownIDs, "; "))
		}
		return nil, fmt.Errorf("fit: %s holds no valid message (%d received, quarantined by reason: %v)", o.Source, o.Counters.Received, o.Quarantine)
	}
	r := &Result{Net: n, Obs: o, From: opt.From, To: opt.To}
	df, dt := o.DefaultWindow()
	if r.From == 0 {
		r.From = df
	}
	if r.To == 0 {
		r.To = dt
	}
	if model.TimeOfDay(r.From) != 0 || model.TimeOfDay(r.To) != 0 {
		return nil, errors.New("fit: --from and --to must be local midnights (whole days of the network's time zone): demand is fitted per weekday")
	}
	if r.To <= r.From {
		return nil, fmt.Errorf("fit: the window %s .. %s is empty: the feed in %s covers %s .. %s; fit needs at least one whole local day",
			dateOf(r.From), dateOf(r.To), o.Source, o.first.Time().Format("2006-01-02 15:04"), o.last.Time().Format("2006-01-02 15:04"))
	}
	r.Days = int(r.To.Sub(r.From) / model.Day)
	withCell, outside := 0, 0
	for _, od := range o.orders {
		if od.at >= r.From && od.at < r.To {
			r.Orders++
			if od.cellGiven {
				withCell++
				if od.cell == 0 {
					outside++
				}
			}
		}
	}
	if outside*2 > withCell {
		return nil, fmt.Errorf("fit: %s looks like a feed of another network: %d of its %d orders with a customer_cell come from cells outside every neighborhood of %s",
			o.Source, outside, withCell, n.Path)
	}
	if r.Orders == 0 {
		return nil, fmt.Errorf("fit: no order placed in the window %s .. %s (%d days) of %s", dateOf(r.From), dateOf(r.To), r.Days, o.Source)
	}
	if unknown > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d messages named nodes or SKUs the network lacks and were left out (%s)", unknown, strings.Join(o.UnknownIDs, "; ")))
	}
	r.demand(opt)
	r.pickup(opt)
	r.speed(opt)
	r.connectivity(opt)
	return r, nil
}

func dateOf(t model.Instant) string { return t.Time().Format("2006-01-02") }

// weekdayOf is the weekday index of a local instant, Monday = 0.
func weekdayOf(t model.Instant) int { return (int(t.Time().Weekday()) + 6) % 7 }

// peakFactor is the product of the network's demand peaks on the day of t.
func (r *Result) peakFactor(t model.Instant) float64 {
	f := 1.0
	day := t.Time()
	for _, p := range r.Net.Scenario.DemandCalendar.Peaks {
		if !day.Before(p.From.Time()) && !day.After(p.Until.Time()) {
			f *= p.Factor
		}
	}
	return f
}

func (r *Result) demand(opt Options) {
	sc := r.Net.Scenario
	nh := len(sc.Neighborhoods)
	perDay := make([][]float64, nh) // [hood][day]
	hourly := make([][24]float64, nh)
	skus := make([]map[string]float64, nh)
	for i := range nh {
		perDay[i] = make([]float64, r.Days)
		skus[i] = map[string]float64{}
	}
	resp := r.responsibilities()
	unassigned := 0
	for _, od := range r.Obs.orders {
		if od.at < r.From || od.at >= r.To {
			continue
		}
		if od.cell == 0 {
			unassigned++
			continue
		}
		for _, g := range resp[cellSKU{od.cell, od.sku}] {
			perDay[g.hood][int(od.at.Sub(r.From)/model.Day)] += g.w
			hourly[g.hood][int(model.TimeOfDay(od.at)/model.Hour)] += g.w
			skus[g.hood][od.sku] += g.w
		}
	}
	if unassigned > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d orders carry no customer_cell inside a neighborhood and count for no neighborhood's rate", unassigned, r.Orders))
	}
	// exposure of each day: its weekday factor times the network's peaks
	peak := make([]float64, r.Days)
	wdOf := make([]int, r.Days)
	var wdDays [7]int
	var wdExp, wdN [7]float64
	for d := range r.Days {
		t := r.From.Add(model.Duration(d) * model.Day)
		peak[d], wdOf[d] = r.peakFactor(t), weekdayOf(t)
		wdDays[wdOf[d]]++
		wdExp[wdOf[d]] += peak[d]
		for h := range nh {
			wdN[wdOf[d]] += perDay[h][d]
		}
	}
	w := make([]float64, 7)
	if len(sc.DemandCalendar.Weekday) == 7 {
		copy(w, sc.DemandCalendar.Weekday)
	} else {
		for i := range w {
			w[i] = 1
		}
	}
	normalise(w)
	total := 0.0
	for _, v := range wdN {
		total += v
	}
	switch {
	case r.Days < 7 || slicesMin(wdDays[:]) == 0:
		r.WeekdayNote = fmt.Sprintf("kept from the network: the window has %d days, a weekday profile needs every weekday at least once", r.Days)
	case total < float64(7*opt.MinSamples):
		r.WeekdayNote = fmt.Sprintf("kept from the network: %.0f orders, a weekday profile needs %d (%d a weekday)", total, 7*opt.MinSamples, opt.MinSamples)
	default:
		fw := make([]float64, 7)
		var ns []string
		for i := range fw {
			fw[i] = wdN[i] / wdExp[i]
			ns = append(ns, fmt.Sprintf("%.0f", wdN[i]))
		}
		normalise(fw)
		se := make([]string, 7)
		for i := range fw {
			se[i] = fmt.Sprintf("%.3f", fw[i]/math.Sqrt(math.Max(wdN[i], 1)))
		}
		r.Weekday, w = fw, fw
		r.WeekdayNote = fmt.Sprintf("fitted: orders per weekday (Mon..Sun) %s over %d days, each factor = orders / exposed days (peaks included), normalised to mean 1; Poisson SE %s",
			strings.Join(ns, " "), r.Days, strings.Join(se, " "))
	}
	up, upNote := r.upliftByDay()
	for i, hd := range sc.Neighborhoods {
		// exposure: the days' weekday and peak factors, times the mean
		// uplift of the neighborhood's cells (pop-up demo days) on each day
		exposure := 0.0
		dayExp := make([]float64, r.Days)
		for d := range r.Days {
			dayExp[d] = w[wdOf[d]] * peak[d]
			if up != nil && up[i] != nil {
				dayExp[d] *= up[i][d]
			}
			exposure += dayExp[d]
		}
		f := HoodFit{Name: hd.Name}
		nf := 0.0
		for _, v := range perDay[i] {
			nf += v
		}
		f.N = int(math.Round(nf))
		if f.N < opt.MinSamples {
			f.RateNote = fmt.Sprintf("kept from the network: %d orders in %d days, fewer than %d", f.N, r.Days, opt.MinSamples)
		} else {
			f.OrdersPerDay = nf / exposure
			f.SE = f.OrdersPerDay / math.Sqrt(nf)
			// index of dispersion of the daily counts against the fitted means
			chi := 0.0
			for d, v := range perDay[i] {
				e := f.OrdersPerDay * dayExp[d]
				if e > 0 {
					chi += (v - e) * (v - e) / e
				}
			}
			dof := float64(r.Days - 1)
			p := math.NaN()
			if dof > 0 {
				p = 1 - distuv.ChiSquared{K: dof}.CDF(chi)
			}
			f.RateNote = fmt.Sprintf("fitted: %d orders / %.2f exposed days = %.2f ± %.2f (Poisson SE); daily counts vs Poisson: dispersion χ²(%.0f) = %.1f, p = %.3f",
				f.N, exposure, f.OrdersPerDay, f.SE, dof, chi, p)
			if upNote != nil && upNote[i] != "" {
				f.RateNote += "; " + upNote[i]
			}
		}
		if f.N < 24*opt.MinSamples/3 {
			f.HourlyNote = fmt.Sprintf("kept from the network: %d orders, an hourly profile needs %d", f.N, 24*opt.MinSamples/3)
		} else {
			f.Hourly = make([]float64, 24)
			for h := range 24 {
				f.Hourly[h] = hourly[i][h] / (nf / 24)
			}
			f.HourlyNote = fmt.Sprintf("fitted: orders by local hour of %d orders, mean 1 (SE of an hour's weight ≈ sqrt(weight/%.1f))", f.N, float64(f.N)/24)
		}
		if f.N < opt.MinSamples {
			f.SKUNote = fmt.Sprintf("kept from the network: %d orders, fewer than %d", f.N, opt.MinSamples)
		} else {
			f.SKUMix = map[string]float64{}
			for k, v := range skus[i] {
				f.SKUMix[k] = v / nf
			}
			maxSE := 0.0
			for _, p := range f.SKUMix {
				maxSE = math.Max(maxSE, math.Sqrt(p*(1-p)/float64(f.N)))
			}
			f.SKUNote = fmt.Sprintf("fitted: shares of %d orders (binomial SE at most %.3f); SKUs never ordered here are left out", f.N, maxSE)
			if p, ok := r.mixTest(hd, skus[i], nf); ok {
				f.SKUNote += fmt.Sprintf("; against the network's mix χ² p = %.3f", p)
			}
		}
		r.Hoods = append(r.Hoods, f)
	}
}

// mixTest is the χ² goodness-of-fit p-value of the observed SKU counts
// against the network's mix.
func (r *Result) mixTest(hd scenarios.Neighborhood, counts map[string]float64, n float64) (float64, bool) {
	mix := hd.SKUMix
	if len(mix) == 0 {
		mix = map[string]float64{}
		for _, s := range r.Net.Scenario.SKUs {
			mix[s.ID] = 1
		}
	}
	sum := 0.0
	for _, v := range mix {
		sum += v
	}
	ids := make([]string, 0, len(mix))
	for k := range mix {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	chi, k := 0.0, 0
	for _, id := range ids {
		e := mix[id] / sum * n
		if e <= 0 {
			continue
		}
		chi += (counts[id] - e) * (counts[id] - e) / e
		k++
	}
	if k < 2 {
		return 0, false
	}
	return 1 - distuv.ChiSquared{K: float64(k - 1)}.CDF(chi), true
}

func normalise(w []float64) {
	s := 0.0
	for _, v := range w {
		s += v
	}
	if s <= 0 {
		return
	}
	for i := range w {
		w[i] *= float64(len(w)) / s
	}
}

func slicesMin(v []int) int {
	m := math.MaxInt
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// closedSince is the instant the node closed before the opening instant t
// (t itself when t is not an opening instant of hours).
func closedSince(h model.Hours, t model.Instant) model.Instant {
	if len(h) == 0 || !h.OpenAt(t) || h.OpenAt(t-1) {
		return t
	}
	// walk back over closed time, at most two days, in one-minute steps
	// from the latest span end before t
	day := model.DayStart(t)
	best := model.Instant(0)
	for d := model.Instant(0); d <= 2*model.Instant(model.Day); d += model.Instant(model.Day) {
		for _, s := range h {
			if end := day - d + model.Instant(s.To); end < t && end > best {
				best = end
			}
		}
	}
	if best == 0 {
		return t
	}
	return best
}

func (r *Result) pickup(opt Options) {
	o := r.Obs
	net := r.Net.Net
	kindOf := map[string]string{}
	hoursOf := map[string]model.Hours{}
	for _, nd := range net.Nodes {
		kindOf[nd.ID] = nd.Kind.String()
		hoursOf[nd.ID] = nd.Hours
	}
	pf := &PickupFit{ByKind: map[string]*DistFit{}, KindNote: map[string]string{}}
	known, knownNote := r.subscriberComponent()
	byKind := map[string]*Sample{}
	byNodeHours := &Sample{} // parcels at always-open nodes: no pickup waits for an opening
	for _, id := range o.labelIDs {
		l := o.labels[id]
		if l.ready == 0 || l.ready < r.From || l.ready >= r.To {
			continue
		}
		end := r.To
		if l.endFirst != 0 && l.endFirst < end {
			end = l.endFirst
		}
		k := kindOf[l.readyNode]
		s := byKind[k]
		if s == nil {
			s = &Sample{}
			byKind[k] = s
		}
		hours := func(t model.Instant) float64 { return float64(t.Sub(l.ready)) / float64(model.Hour) }
		alwaysOpen := len(hoursOf[l.readyNode]) == 0
		switch {
		case l.pickedUp != 0 && l.pickedUp <= end && l.pickedUp >= l.ready:
			b := hours(l.pickedUp)
			if a := closedSince(hoursOf[l.pickupNode], l.pickedUp); a < l.pickedUp {
				s.Intervals = append(s.Intervals, [2]float64{hours(max(a, l.ready)), b})
				alwaysOpen = false
			} else {
				s.Events = append(s.Events, math.Max(b, 1e-4))
				if alwaysOpen {
					byNodeHours.Events = append(byNodeHours.Events, math.Max(b, 1e-4))
				}
			}
		default:
			s.Censored = append(s.Censored, math.Max(hours(end), 1e-4))
			if alwaysOpen {
				byNodeHours.Censored = append(byNodeHours.Censored, math.Max(hours(end), 1e-4))
			}
		}
	}
	all := &Sample{}
	open24 := byNodeHours
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s := byKind[k]
		all.Events = append(all.Events, s.Events...)
		all.Intervals = append(all.Intervals, s.Intervals...)
		all.Censored = append(all.Censored, s.Censored...)
		if len(s.Events)+len(s.Intervals) < opt.MinSamples {
			pf.KindNote[k] = fmt.Sprintf("%d pickups: too few to fit (%d needed)", len(s.Events)+len(s.Intervals), opt.MinSamples)
			continue
		}
		s.Known = known
		if fits := ChooseFamily(s, true); len(fits) > 0 {
			b := fits[0]
			pf.ByKind[k] = b
			pf.KindNote[k] = fmt.Sprintf("%s, mean %s ± %s, no-show %.3f ± %.3f (n = %d: %d pickups, %d after a closed spell, %d censored; KS p = %.3f)",
				b.Family, fmtHours(b.Mean), fmtHours(b.MeanSE), b.Q, b.QSE, s.N(), len(s.Events), len(s.Intervals), len(s.Censored), b.KSP)
			if len(s.Intervals) > 0 {
				pf.KindNote[k] += " (this KS takes a pickup at an opening as censored at the closing: low where many are)"
			}
		}
	}
	all.Known, open24.Known = known, known
	pf.Sample = *all
	r.Pickup = pf
	nev := len(all.Events) + len(all.Intervals)
	if nev < opt.MinSamples {
		pf.Note = fmt.Sprintf("kept from the network: %d pickups in the window, fewer than %d", nev, opt.MinSamples)
		pf.NoShowNote = pf.Note
		return
	}
	pf.Fits = ChooseFamily(all, true)
	if len(pf.Fits) == 0 {
		pf.Note = "kept from the network: no family could be fitted"
		pf.NoShowNote = pf.Note
		return
	}
	ksOn := fmt.Sprintf("Kaplan–Meier (all %d parcels) vs fit", all.N())
	if len(open24.Events) >= opt.MinSamples && len(all.Intervals) > 0 {
		// Kaplan–Meier cannot use interval-censored pickups (it takes them
		// as censored at the closing, which is informative censoring): check
		// the fit where no pickup waits for an opening
		for _, f := range pf.Fits {
			f.KSD, f.KSP, f.NEvent = ksCheck(open24, f)
		}
		ksOn = fmt.Sprintf("Kaplan–Meier of the %d parcels at always-open nodes vs fit", open24.N())
	}
	b := pf.Fits[0]
	pf.Chosen = b
	var aics []string
	for _, f := range pf.Fits {
		aics = append(aics, fmt.Sprintf("%s %.1f", f.Family, f.AIC))
	}
	pf.Note = fmt.Sprintf("fitted from the first ready episode of %d parcels (%d pickups, %d after a closed spell: interval-censored, %d still waiting or moved on: right-censored), a mixture with the no-show share; AIC %s; chosen %s, mean %s ± %s; %s: KS D = %.3f, p = %.3f",
		all.N(), len(all.Events), len(all.Intervals), len(all.Censored), strings.Join(aics, ", "), b.Family, fmtHours(b.Mean), fmtHours(b.MeanSE), ksOn, b.KSD, b.KSP)
	if b.KSP < KSLevel {
		pf.Empirical = empiricalQuantiles(all, b.Q, 20, b.Dist)
		pf.Note += fmt.Sprintf("; the best family fails the KS check at %.0f %%: written as Kaplan–Meier quantiles (beyond the follow-up, the %s's)", KSLevel*100, b.Family)
	} else if b.Family == "gamma" || b.Family == "weibull" {
		pf.Empirical = familyQuantiles(b, 40)
		pf.Note += "; scenarios have no " + b.Family + " family: written as its quantiles at 0, 1/40, .., 39/40 and 0.999"
	}
	pf.NoShowNote = fmt.Sprintf("fitted: the mixture's never-come share, %.4f ± %.4f (SE from the observed information; %d parcels, %d censored)",
		b.Q, b.QSE, all.N(), len(all.Censored))
	if knownNote != "" {
		pf.Note += "; " + knownNote
	}
}

// subscriberComponent is the subscribers' share of the parcels and their
// pickup behaviour as the network states it: the feed does not say who is a
// subscriber, so the pickup fit is a mixture with this known component.
func (r *Result) subscriberComponent() (*Known, string) {
	sc := r.Net.Scenario
	if !hasSubscribers(sc) {
		return nil, ""
	}
	var sub, tot float64
	for i, h := range sc.Neighborhoods {
		rate := h.OrdersPerDay
		if i < len(r.Hoods) && r.Hoods[i].OrdersPerDay > 0 {
			rate = r.Hoods[i].OrdersPerDay
		}
		sub += rate * float64(h.SubscriberShare)
		tot += rate
	}
	share := sub / tot
	d := sc.Customers.Subscribers.PickupDelay
	var kd continuous
	switch d.Dist {
	case scenarios.DistExponential:
		kd = distuv.Exponential{Rate: 1 / d.Mean.Model().Hours()}
	case scenarios.DistLognormal:
		kd = distuv.LogNormal{Mu: math.Log(d.Median.Model().Hours()), Sigma: d.Sigma}
	default:
		return nil, fmt.Sprintf("the feed does not say who is a subscriber and the network's subscriber pickup delay (%s) cannot enter the likelihood: subscribers' pickups are pooled into this fit", d.Dist)
	}
	return &Known{Share: share, Dist: kd, Q: float64(sc.Customers.Subscribers.NoShow)},
		fmt.Sprintf("the feed does not say who is a subscriber: the fit is a mixture with the network's subscribers (%.1f %% of parcels by subscriber_share and the fitted rates, their pickup_delay and no_show kept), and these values are the other customers'", share*100)
}

func hasSubscribers(sc *scenarios.Scenario) bool {
	for _, h := range sc.Neighborhoods {
		if h.SubscriberShare > 0 {
			return true
		}
	}
	return false
}

// familyQuantiles are the fitted family's quantiles at 0, 1/n, ..,
// (n-1)/n and, for the last, 0.999 (the family has no finite maximum).
func familyQuantiles(f *DistFit, n int) []float64 {
	out := make([]float64, n+1)
	for i := range out {
		p := float64(i) / float64(n)
		if i == n {
			p = 0.999
		}
		out[i] = f.Dist.Quantile(p)
	}
	return out
}

func (r *Result) speed(opt Options) {
	o := r.Obs
	// the simulator rides between the nodes' H3 cell centres: measuring
	// the same distance makes the fitted speed reproduce the observed rides
	pos := map[string][2]float64{}
	for _, nd := range r.Net.Net.Nodes {
		ll := nd.Cell.LatLng()
		pos[nd.ID] = [2]float64{ll.Lat, ll.Lng}
	}
	type trip struct {
		first float64 // hours to the first arrival
		km    float64
	}
	trips := map[string]*trip{}
	var keys []string
	for _, id := range o.labelIDs {
		l := o.labels[id]
		for _, h := range l.handoffs {
			if h.at < r.From || h.at >= r.To {
				continue
			}
			var arr *stop
			for i := range l.arrivals {
				if l.arrivals[i].at >= h.at {
					arr = &l.arrivals[i]
					break
				}
			}
			a, ok1 := pos[h.node]
			b, ok2 := pos[arr0(arr)]
			if arr == nil || !ok1 || !ok2 {
				continue
			}
			km := model.HaversineKm(a[0], a[1], b[0], b[1])
			dt := float64(arr.at.Sub(h.at)) / float64(model.Hour)
			key := fmt.Sprintf("%s@%d", h.node, h.at)
			t := trips[key]
			if t == nil {
				trips[key] = &trip{dt, km}
				keys = append(keys, key)
			} else if dt < t.first {
				t.first, t.km = dt, km
			}
		}
	}
	sort.Strings(keys)
	var xs, ys []float64
	for _, k := range keys {
		if t := trips[k]; t.km > 0.05 {
			xs = append(xs, t.km)
			ys = append(ys, t.first)
		}
	}
	sp := &r.Speed
	sp.N = len(xs)
	if sp.N < opt.MinSamples {
		sp.Note = fmt.Sprintf("kept from the network: %d courier trips with a first stop in the window, fewer than %d", sp.N, opt.MinSamples)
		return
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	if !(beta > 0) {
		sp.Note = fmt.Sprintf("kept from the network: hand-off to first arrival does not grow with distance over %d trips (slope %.4f h/km)", sp.N, beta)
		return
	}
	// OLS standard error of the slope
	mx := stat.Mean(xs, nil)
	var sxx, sse float64
	for i := range xs {
		e := ys[i] - alpha - beta*xs[i]
		sse += e * e
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	seB := math.Sqrt(sse / float64(sp.N-2) / sxx)
	sp.Kmh, sp.SE = 1/beta, seB/(beta*beta)
	sp.Intercept = alpha * 60
	sp.R2 = stat.RSquared(xs, ys, nil, alpha, beta)
	sp.Note = fmt.Sprintf("fitted: hand-off to first arrival of %d courier trips regressed on the km between the nodes' H3 cell centres: %.2f ± %.2f km/h; intercept %.1f min (the stop's service time; couriers.handoff_time kept), R² = %.3f",
		sp.N, sp.Kmh, sp.SE, sp.Intercept, sp.R2)
}

func arr0(s *stop) string {
	if s == nil {
		return ""
	}
	return s.node
}

// scheduled are the network's scheduled outages of node i, [start, end)
// on the local clock.
func (r *Result) scheduled(i int) [][2]model.Instant {
	sc := r.Net.Scenario
	st := sc.StartInstant()
	var out [][2]model.Instant
	nd := &sc.Nodes[i]
	for _, o := range nd.Connectivity.Outages {
		a := st.Add(o.Start.Model())
		out = append(out, [2]model.Instant{a, a.Add(o.Duration.Model())})
	}
	cell := nd.Cell(sc.Geography.Resolution)
	for j, ao := range sc.Connectivity.AreaOutages {
		cells, err := sc.AreaOutageCells(j)
		if err != nil {
			continue
		}
		for _, c := range cells {
			if c == cell {
				a := st.Add(ao.Start.Model())
				out = append(out, [2]model.Instant{a, a.Add(ao.Duration.Model())})
				break
			}
		}
	}
	return out
}

func (r *Result) connectivity(opt Options) {
	sc := r.Net.Scenario
	const slack = model.Instant(model.Minute)
	for i := range sc.Nodes {
		nd := &sc.Nodes[i]
		nf := NodeFit{ID: nd.ID}
		sched := r.scheduled(i)
		inSched := func(t model.Instant) bool {
			for _, s := range sched {
				if t >= s[0]-slack && t <= s[1]+slack {
					return true
				}
			}
			return false
		}
		up, down := &Sample{}, &Sample{}
		online, known := false, false
		since := r.From
		downSched := false
		for _, s := range r.Obs.statuses[nd.ID] {
			if s.at >= r.To {
				break
			}
			at := max(s.at, r.From)
			switch {
			case s.online && (!known || !online):
				if known && !downSched && s.at >= r.From {
					down.Events = append(down.Events, hoursBetween(since, at))
				}
				online, known, since = true, true, at
			case !s.online && (!known || online):
				if known && s.at >= r.From {
					if s.reason == "lwt" && !inSched(s.at) {
						up.Events = append(up.Events, hoursBetween(since, at))
					} else {
						up.Censored = append(up.Censored, hoursBetween(since, at))
					}
				}
				downSched = s.reason != "lwt" || inSched(s.at)
				online, known, since = false, true, at
			}
		}
		if known && since < r.To {
			if online {
				up.Censored = append(up.Censored, hoursBetween(since, r.To))
			} else if !downSched {
				down.Censored = append(down.Censored, hoursBetween(since, r.To))
			}
		}
		nf.Failures, nf.Repairs = len(up.Events), len(down.Events)
		for _, v := range append(append([]float64{}, up.Events...), up.Censored...) {
			nf.UpHours += v
		}
		for _, v := range append(append([]float64{}, down.Events...), down.Censored...) {
			nf.DownHours += v
		}
		had := nd.Connectivity.MTBF.Given()
		switch {
		case !known:
			nf.Note = "kept from the network: no status message of this node in the window"
		case nf.Failures < opt.MinFailures || nf.Repairs < opt.MinFailures:
			what := "no random drops written"
			if had {
				what = "the network's mtbf/mttr kept"
			}
			nf.Note = fmt.Sprintf("%s: %d random drops and %d repairs in %.0f h up, fewer than %d", what, nf.Failures, nf.Repairs, nf.UpHours, opt.MinFailures)
		default:
			nf.MTBF = nf.UpHours / float64(nf.Failures)
			nf.MTTR = nf.DownHours / float64(nf.Repairs)
			nf.MTBFFit = bestOf(ChooseFamily(up, false))
			nf.MTTRFit = bestOf(ChooseFamily(down, false))
			nf.Note = fmt.Sprintf("fitted (exponential, censored MLE): MTBF %s ± %s from %d drops in %.0f h up; MTTR %s ± %s from %d repairs in %.1f h down%s%s",
				fmtHours(nf.MTBF), fmtHours(nf.MTBF/math.Sqrt(float64(nf.Failures))), nf.Failures, nf.UpHours,
				fmtHours(nf.MTTR), fmtHours(nf.MTTR/math.Sqrt(float64(nf.Repairs))), nf.Repairs, nf.DownHours,
				familyNote("up", nf.MTBFFit), familyNote("repair", nf.MTTRFit))
			if len(sched) > 0 {
				nf.Note += "; the network's scheduled outages are left out"
			}
		}
		r.Nodes = append(r.Nodes, nf)
	}
}

func bestOf(f []*DistFit) *DistFit {
	if len(f) == 0 {
		return nil
	}
	return f[0]
}

func familyNote(what string, f *DistFit) string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("; best %s-time family by AIC %s (KS p = %.3f)", what, f.Family, f.KSP)
}

func hoursBetween(a, b model.Instant) float64 {
	return math.Max(float64(b.Sub(a))/float64(model.Hour), 1e-4)
}

// fmtHours writes hours as a scenario duration: whole seconds, in the
// largest unit that keeps them exact enough to read.
func fmtHours(h float64) string {
	if math.IsNaN(h) || math.IsInf(h, 0) {
		return "n/a"
	}
	s := int64(math.Round(h * 3600))
	switch {
	case s == 0:
		return "0"
	case s >= 3600:
		return trimFloat(float64(s)/3600, 3) + "h"
	case s >= 60:
		return trimFloat(float64(s)/60, 2) + "m"
	default:
		return fmt.Sprintf("%ds", s)
	}
}

func trimFloat(v float64, dec int) string {
	s := fmt.Sprintf("%.*f", dec, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func expf(v float64) float64 { return math.Exp(v) }

type share struct {
	hood int
	w    float64
}

// responsibilities splits the orders of a demand cell among the
// neighborhoods that contain it (neighborhoods may overlap): the simulator
// draws an order's neighborhood by its rate, its cell uniformly among the
// neighborhood's cells and its SKU from the neighborhood's mix, so an order
// of SKU k in a cell of neighborhoods i and j comes from i with probability
// proportional to R_i/|C_i| × mix_i(k). Rates and mixes are the Poisson /
// multinomial maximum-likelihood estimates by EM; each order counts for each
// neighborhood by that probability (1 where neighborhoods do not overlap).
func (r *Result) responsibilities() map[cellSKU][]share {
	n := r.Net
	counts := map[cellSKU]float64{}
	for _, od := range r.Obs.orders {
		if od.at >= r.From && od.at < r.To && od.cell != 0 {
			counts[cellSKU{od.cell, od.sku}]++
		}
	}
	keys := make([]cellSKU, 0, len(counts))
	for c := range counts {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cell != keys[j].cell {
			return keys[i].cell < keys[j].cell
		}
		return keys[i].sku < keys[j].sku
	})
	nh := len(n.hoodCells)
	rate := make([]float64, nh)
	mix := make([]map[string]float64, nh)
	for i := range rate {
		rate[i] = 1
		mix[i] = map[string]float64{}
	}
	weight := func(i int, k cellSKU) float64 {
		m, ok := mix[i][k.sku]
		if !ok {
			m = 1 // first round: uniform
		}
		return rate[i] / float64(max(n.hoodCells[i], 1)) * m
	}
	resp := func(k cellSKU) []share {
		den := 0.0
		for _, i := range n.cellHoods[k.cell] {
			den += weight(i, k)
		}
		var out []share
		for _, i := range n.cellHoods[k.cell] {
			if den > 0 {
				out = append(out, share{i, weight(i, k) / den})
			}
		}
		return out
	}
	for range 1000 {
		next := make([]float64, nh)
		nmix := make([]map[string]float64, nh)
		for i := range nmix {
			nmix[i] = map[string]float64{}
		}
		for _, k := range keys {
			for _, g := range resp(k) {
				next[g.hood] += counts[k] * g.w
				nmix[g.hood][k.sku] += counts[k] * g.w
			}
		}
		diff := 0.0
		for i := range next {
			diff = math.Max(diff, math.Abs(next[i]-rate[i]))
			for sku, v := range nmix[i] {
				if next[i] > 0 {
					nmix[i][sku] = v / next[i]
				}
			}
		}
		rate, mix = next, nmix
		if diff < 1e-6 {
			break
		}
	}
	out := map[cellSKU][]share{}
	for _, k := range keys {
		out[k] = resp(k)
	}
	return out
}

type cellSKU struct {
	cell h3.Cell
	sku  string
}

// upliftByDay is, per neighborhood and day of the window, the mean uplift
// of its cells (the network's pop-up demand_uplift while the pop-up is
// active), weighted over the day by the neighborhood's hourly profile: how
// the simulator scales the neighborhood's rate (sim.Calendar). Nil when the
// network has no uplift.
func (r *Result) upliftByDay() ([][]float64, []string) {
	sc := r.Net.Scenario
	cfg, err := sc.Config()
	if err != nil || len(cfg.Calendar.Uplifts) == 0 {
		return nil, nil
	}
	net := r.Net.Net
	out := make([][]float64, len(sc.Neighborhoods))
	notes := make([]string, len(sc.Neighborhoods))
	for i, hd := range sc.Neighborhoods {
		cells, err := sc.NeighborhoodCells(i)
		if err != nil || len(cells) == 0 {
			continue
		}
		share := make([]float64, 24)
		sum := 0.0
		for h := range share {
			share[h] = 1
			if len(hd.Hourly) == 24 {
				share[h] = hd.Hourly[h]
			}
			sum += share[h]
		}
		out[i] = make([]float64, r.Days)
		touched := false
		for d := range r.Days {
			for h := range 24 {
				t := r.From.Add(model.Duration(d)*model.Day + model.Duration(h)*model.Hour + 30*model.Minute)
				u := 0.0
				for _, c := range cells {
					m := 1.0
					for _, ul := range cfg.Calendar.Uplifts {
						nd := &net.Nodes[ul.Node]
						if (nd.ActiveFrom != 0 || nd.ActiveUntil != 0) && (t < nd.ActiveFrom || t >= nd.ActiveUntil) {
							continue
						}
						for _, uc := range ul.Cells {
							if uc == c {
								m *= ul.Factor
								break
							}
						}
					}
					u += m
				}
				u /= float64(len(cells))
				touched = touched || u != 1
				out[i][d] += u * share[h] / sum
			}
		}
		if touched {
			mean := 0.0
			for _, v := range out[i] {
				mean += v
			}
			notes[i] = fmt.Sprintf("the network's pop-up demand_uplift raises this neighborhood's demand by %.1f %% on average over the window: counted in the exposure", (mean/float64(r.Days)-1)*100)
		}
	}
	return out, notes
}
