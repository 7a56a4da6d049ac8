package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone names validate without a system zoneinfo

	h3 "github.com/uber/h3-go/v4"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
)

// Defaults that are not zero values.
const (
	DefaultVersion      = 1
	DefaultSeed         = 1
	DefaultReplications = 1
	DefaultPrecision    = Fraction(0.05)
	DefaultResolution   = 8
	DefaultRadius       = 1
	DefaultSpeedKmh     = 15
	DefaultBatchSize    = 4
	DefaultMaxHops      = 2
	MaxRadius           = 50 // largest grid-disk radius accepted (7651 cells)
)

// DefaultStart is the first simulated day when start is not given.
var DefaultStart = Date{2026, time.March, 2}

// checker applies defaults and validates one scenario. With node positions (a
// parsed file) it knows which keys were written and where; without them (a
// Scenario built in Go) "given" means "non-zero".
type checker struct {
	s    *Scenario
	file string
	pos  map[string]*yaml.Node
	set  map[string]bool
	bad  map[string]bool // paths that failed to decode: no second error there
	errs Errors
	// warns are valid but suspicious values (warnings.go)
	warns Errors
}

func (c *checker) errf(path, format string, args ...any) {
	// Skip what is already reported as a decode error (wrong type, bad unit) at
	// this path or a parent of it (the root excepted).
	for p := path; c.bad != nil && (p != "" || path == ""); p = parentPath(p) {
		if c.bad[p] {
			return
		}
		if p == "" {
			break
		}
	}
	e := Error{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	for p := path; c.pos != nil; p = parentPath(p) {
		if n, ok := c.pos[p]; ok {
			e.Line, e.Column = n.Line, n.Column
			break
		}
		if p == "" {
			break
		}
	}
	c.errs = append(c.errs, e)
}

// parentPath strips the last ".key" or "[label]" of p.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// has reports whether the key at path was given a value.
func (c *checker) has(path string, nonzero bool) bool {
	if c.set == nil {
		return nonzero
	}
	return c.set[path]
}

func kindHours(kind string) Hours {
	switch kind {
	case KindPartner, KindMicrostore:
		return MustHours("09:00-20:00")
	}
	return AllDay
}

// Default distributions.
var (
	DefaultPickTime    = Dist{Dist: DistLognormal, Median: Duration(4 * model.Minute), Sigma: 0.4}
	DefaultPackTime    = Dist{Dist: DistConstant, Mean: Duration(2 * model.Minute)}
	DefaultPickupDelay = Dist{Dist: DistExponential, Mean: Duration(8 * model.Hour)}
)

func (c *checker) defaults() {
	s := c.s
	if !c.has("version", s.Version != 0) {
		s.Version = DefaultVersion
	}
	if !c.has("seed", s.Seed != 0) {
		s.Seed = DefaultSeed
	}
	if s.Start.IsZero() {
		s.Start = DefaultStart
	}
	if !c.has("replications", s.Replications != 0) {
		s.Replications = DefaultReplications
	}
	if !c.has("precision", s.Precision != 0) {
		s.Precision = DefaultPrecision
	}
	if !c.has("sla.cutoff", s.SLA.Cutoff != 0) {
		s.SLA.Cutoff = Clock(14, 0)
	}
	if !c.has("sla.ready_by", s.SLA.ReadyBy != 0) {
		s.SLA.ReadyBy = Clock(22, 0)
	}
	if !c.has("sla.pickup_window", s.SLA.PickupWindow != 0) {
		s.SLA.PickupWindow = Duration(24 * model.Hour)
	}
	if !c.has("geography.resolution", s.Geography.Resolution != 0) {
		s.Geography.Resolution = DefaultResolution
	}
	nbl := c.neighborhoodLabels()
	for i := range s.Neighborhoods {
		nb := &s.Neighborhoods[i]
		p := elemPath("neighborhoods", nbl[i])
		if nb.Center != nil && !c.has(p+".radius", nb.Radius != 0) {
			nb.Radius = DefaultRadius
		}
		if !c.has(p+".hourly", nb.Hourly != nil) {
			nb.Hourly = make([]float64, 24)
			for h := range nb.Hourly {
				nb.Hourly[h] = 1
			}
		}
		if len(nb.SKUMix) == 0 && !c.has(p+".sku_mix", false) {
			nb.SKUMix = map[string]float64{}
			for _, k := range s.SKUs {
				if k.ID != "" {
					nb.SKUMix[k.ID] = 1
				}
			}
		}
	}
	ndl := c.nodeLabels()
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if !c.has(elemPath("nodes", ndl[i])+".hours", n.Hours != nil) {
			n.Hours = kindHours(n.Kind)
		}
	}
	for i := range s.Connectivity.AreaOutages {
		a := &s.Connectivity.AreaOutages[i]
		if a.Center != nil && !c.has(elemPath("connectivity.area_outages", strconv.Itoa(i))+".radius", a.Radius != 0) {
			a.Radius = DefaultRadius
		}
	}
	if !c.has("fulfilment.pick_time", s.Fulfilment.PickTime.Dist != "") {
		s.Fulfilment.PickTime = DefaultPickTime
	}
	if !c.has("fulfilment.pack_time", s.Fulfilment.PackTime.Dist != "") {
		s.Fulfilment.PackTime = DefaultPackTime
	}
	if !c.has("couriers.speed_kmh", s.Couriers.SpeedKmh != 0) {
		s.Couriers.SpeedKmh = DefaultSpeedKmh
	}
	if !c.has("couriers.shift", s.Couriers.Shift != nil) {
		s.Couriers.Shift = MustHours("07:00-21:00")
	}
	if !c.has("couriers.batch_size", s.Couriers.BatchSize != 0) {
		s.Couriers.BatchSize = DefaultBatchSize
	}
	c.cohortDefaults()
	if !c.has("customers.pickup_delay", s.Customers.PickupDelay.Dist != "") {
		s.Customers.PickupDelay = DefaultPickupDelay
	}
	if !c.has("customers.subscribers.pickup_delay", s.Customers.Subscribers.PickupDelay.Dist != "") {
		s.Customers.Subscribers.PickupDelay = s.Customers.PickupDelay
	}
	if !c.has("customers.subscribers.no_show", s.Customers.Subscribers.NoShow != 0) {
		s.Customers.Subscribers.NoShow = s.Customers.NoShow
	}
	if !c.has("labels.ttl.ready_for_pickup", s.Labels.TTL.ReadyForPickup != 0) {
		s.Labels.TTL.ReadyForPickup = Duration(24 * model.Hour)
	}
	if !c.has("labels.max_hops", s.Labels.MaxHops != 0) {
		s.Labels.MaxHops = DefaultMaxHops
	}
	if s.Labels.Refund.Rule == "" && !c.has("labels.refund.rule", false) {
		s.Labels.Refund.Rule = RefundFull
	}
	c.ttlDefaults()
	if s.Connectivity.OfflineMode == "" && !c.has("connectivity.offline_mode", false) {
		s.Connectivity.OfflineMode = OfflineServe
	}
	if s.Checks.Significance == "" && !c.has("checks.significance", false) {
		s.Checks.Significance = SignificancePaired
	}
	c.choiceDefaults()
	c.replenishDefaults()
	c.supplyDefaults()
	c.operatorDefaults()
	c.touchDefaults()
	c.packagingDefaults()
}

// labelsOf names the elements of a list for error paths, by id where they
// have one (see elemLabels).
func labelsOf[T any](xs []T, id func(T) string) []string {
	ids := make([]string, len(xs))
	for i, x := range xs {
		ids[i] = id(x)
	}
	return elemLabels(ids)
}

func (c *checker) neighborhoodLabels() []string {
	return labelsOf(c.s.Neighborhoods, func(n Neighborhood) string { return n.Name })
}

func (c *checker) nodeLabels() []string {
	return labelsOf(c.s.Nodes, func(n Node) string { return n.ID })
}

func (c *checker) validate() {
	s := c.s
	if s.Version != 1 {
		c.errf("version", "unsupported schema version %d (this program reads version 1)", s.Version)
	}
	if strings.TrimSpace(s.Name) == "" {
		c.errf("name", "required")
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" {
			c.errf("timezone", "unknown time zone %q (want an IANA name like Europe/Berlin)", s.Timezone)
		}
	}
	if s.Horizon <= 0 {
		if c.has("horizon", false) {
			c.errf("horizon", "must be > 0")
		} else {
			c.errf("horizon", "required (e.g. 30d)")
		}
	} else if s.Warmup >= s.Horizon {
		c.errf("warmup", "must be shorter than the horizon %s (got %s)", s.Horizon, s.Warmup)
	}
	if s.Replications < 1 {
		c.errf("replications", "must be >= 1 (got %d)", s.Replications)
	}
	if s.Precision <= 0 {
		c.errf("precision", "must be > 0 (got %s)", s.Precision)
	}
	if s.SLA.ReadyBy <= s.SLA.Cutoff {
		p := "sla.cutoff"
		if !c.has("sla.cutoff", true) {
			p = "sla.ready_by"
		}
		c.errf(p, "sla.cutoff (%s) must be before sla.ready_by (%s)", s.SLA.Cutoff, s.SLA.ReadyBy)
	}
	if s.SLA.PickupWindow <= 0 {
		c.errf("sla.pickup_window", "must be > 0")
	}
	res := s.Geography.Resolution
	if res < 0 || res > 15 {
		c.errf("geography.resolution", "must be an H3 resolution 0..15 (got %d)", res)
		res = -1
	}

	skus := map[string]bool{}
	for _, k := range s.SKUs {
		skus[k.ID] = true
	}
	c.validateNeighborhoods(res, skus)
	c.validateNodes(skus)
	c.validateSKUs()

	c.dist("fulfilment.pick_time", s.Fulfilment.PickTime)
	c.dist("fulfilment.pack_time", s.Fulfilment.PackTime)

	cr := s.Couriers
	if cr.Fleet < 1 {
		if c.has("couriers.fleet", false) {
			c.errf("couriers.fleet", "must be >= 1 (got %d)", cr.Fleet)
		} else {
			c.errf("couriers.fleet", "required (number of couriers, >= 1)")
		}
	}
	c.positive("couriers.speed_kmh", cr.SpeedKmh)
	c.nonNegative("couriers.cost_per_hour", cr.CostPerHour)
	if cr.BatchSize < 1 {
		c.errf("couriers.batch_size", "must be >= 1 (got %d)", cr.BatchSize)
	}
	if len(cr.Shift) == 0 {
		c.errf("couriers.shift", "must list at least one range")
	}

	c.validateCohort()
	c.dist("customers.pickup_delay", s.Customers.PickupDelay)
	c.dist("customers.subscribers.pickup_delay", s.Customers.Subscribers.PickupDelay)

	l := s.Labels
	if l.MaxHops < 0 {
		c.errf("labels.max_hops", "must be >= 0 (got %d)", l.MaxHops)
	}
	c.nonNegative("labels.reroute.cost", l.Reroute.Cost)
	switch l.Refund.Rule {
	case RefundFull:
	case RefundFixed:
		if !c.has("labels.refund.amount", l.Refund.Amount != 0) {
			c.errf("labels.refund.amount", "required with rule: fixed")
		}
	case RefundShare:
		if !c.has("labels.refund.share", l.Refund.Share != 0) {
			c.errf("labels.refund.share", "required with rule: share")
		}
	default:
		c.errf("labels.refund.rule", "must be one of full, fixed, share (got %q)", l.Refund.Rule)
	}
	c.nonNegative("labels.refund.amount", l.Refund.Amount)
	if l.Refund.Amount != 0 && l.Refund.Rule != RefundFixed {
		c.errf("labels.refund.amount", "only used with rule: fixed (rule is %s)", l.Refund.Rule)
	}
	if l.Refund.Share != 0 && l.Refund.Rule != RefundShare {
		c.errf("labels.refund.share", "only used with rule: share (rule is %s)", l.Refund.Rule)
	}

	c.validateTTL()

	c.nonNegative("costs.per_order", s.Costs.PerOrder)
	c.nonNegative("costs.per_return", s.Costs.PerReturn)

	switch s.Connectivity.OfflineMode {
	case OfflineServe, OfflineRefuse:
	default:
		c.errf("connectivity.offline_mode", "must be serve or refuse (got %q)", s.Connectivity.OfflineMode)
	}
	for i, a := range s.Connectivity.AreaOutages {
		p := elemPath("connectivity.area_outages", strconv.Itoa(i))
		c.area(p, a.Center, a.Radius, a.Cells, res)
		c.outage(p, a.Start, a.Duration)
	}
	c.validateChecks()
	c.validateChoiceCalendar()
	c.validateReplenishment(skus, res)
	c.validateSupply(skus)
	c.validateOperators()
	c.validateTouch()
	c.validatePackaging()
	if len(c.errs) == 0 {
		c.warnings()
	}
}

var metricName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// validateChecks checks the form of the checks section. Whether a metric name
// is in the results catalog (and not neutral) is checked where the catalog
// lives, by results.CheckConfig.Validate, when baseline or check runs.
func (c *checker) validateChecks() {
	ch := c.s.Checks
	sig := func(path, v string, allowEmpty bool) {
		switch v {
		case SignificancePaired, SignificanceOverlap, SignificanceNone:
		case "":
			if !allowEmpty {
				c.errf(path, "must be paired, overlap or none (got \"\")")
			}
		default:
			c.errf(path, "must be paired, overlap or none (got %q)", v)
		}
	}
	sig("checks.significance", ch.Significance, false)
	for _, name := range sortedKeys(ch.Metrics) {
		m := ch.Metrics[name]
		p := "checks.metrics." + name
		if !metricName.MatchString(name) {
			c.errf(p, "not a metric name (lower-case snake_case like pickup_success_rate)")
		}
		if m.Absolute != nil && (*m.Absolute < 0 || math.IsNaN(*m.Absolute) || math.IsInf(*m.Absolute, 0)) {
			c.errf(p+".absolute", "must be >= 0 (got %s)", fmtNum(*m.Absolute))
		}
		sig(p+".significance", m.Significance, true)
		if m.Skip && (m.Absolute != nil || m.Relative != nil || m.Significance != "") {
			c.errf(p+".skip", "skip: true takes no tolerance (remove absolute, relative and significance, or the skip)")
		}
		if !m.Skip && m.Absolute == nil && m.Relative == nil && m.Significance == "" {
			c.errf(p, "give absolute, relative, significance or skip: true")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *checker) positive(path string, v float64) {
	if v <= 0 {
		c.errf(path, "must be > 0 (got %s)", fmtNum(v))
	}
}

func (c *checker) nonNegative(path string, v float64) {
	if v < 0 {
		c.errf(path, "must be >= 0 (got %s)", fmtNum(v))
	}
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// area checks a center+radius or cells area at path.
func (c *checker) area(path string, center *LatLng, radius int, cells []h3.Cell, res int) {
	switch {
	case center != nil && len(cells) > 0:
		c.errf(path, "give either center (with radius) or cells, not both")
	case center == nil && len(cells) == 0:
		c.errf(path, "needs a center (with radius) or a list of cells")
	}
	if center != nil {
		c.latLng(path+".center", center.Lat, center.Lng)
		if radius < 0 || radius > MaxRadius {
			c.errf(path+".radius", "must be between 0 and %d cells (got %d)", MaxRadius, radius)
		}
	} else if c.has(path+".radius", radius != 0) {
		c.errf(path+".radius", "only used with center")
	}
	seen := map[h3.Cell]int{}
	for i, cell := range cells {
		cp := elemPath(path+".cells", strconv.Itoa(i))
		if !cell.IsValid() {
			c.errf(cp, "not a valid H3 cell index (got %s)", cell)
			continue
		}
		if res >= 0 && cell.Resolution() != res {
			c.errf(cp, "cell %s has resolution %d, want %d (geography.resolution)", cell, cell.Resolution(), res)
		}
		if j, dup := seen[cell]; dup {
			c.errf(cp, "duplicate cell %s (also cells[%d])", cell, j)
		}
		seen[cell] = i
	}
}

func (c *checker) latLng(path string, lat, lng float64) {
	if !c.has(path+".lat", true) {
		c.errf(path+".lat", "required (latitude in degrees)")
	} else if lat < -90 || lat > 90 || math.IsNaN(lat) {
		c.errf(path+".lat", "latitude must be within [-90, 90] (got %s)", fmtNum(lat))
	}
	if !c.has(path+".lng", true) {
		c.errf(path+".lng", "required (longitude in degrees)")
	} else if lng < -180 || lng > 180 || math.IsNaN(lng) {
		c.errf(path+".lng", "longitude must be within [-180, 180] (got %s)", fmtNum(lng))
	}
}

func (c *checker) outage(path string, start, dur Duration) {
	if c.s.Horizon > 0 && start >= c.s.Horizon {
		c.errf(path+".start", "starts at or after the horizon %s (got %s)", c.s.Horizon, start)
	}
	if dur <= 0 {
		c.errf(path+".duration", "must be > 0")
	}
}

func (c *checker) validateNeighborhoods(res int, skus map[string]bool) {
	s := c.s
	if len(s.Neighborhoods) == 0 {
		c.errf("neighborhoods", "at least one neighborhood is required")
	}
	labels := c.neighborhoodLabels()
	first := map[string]int{}
	for i, nb := range s.Neighborhoods {
		p := elemPath("neighborhoods", labels[i])
		c.uniqueID(first, p+".name", nb.Name, i, "neighborhood name", "neighborhoods")
		c.area(p, nb.Center, nb.Radius, nb.Cells, res)
		if nb.OrdersPerDay <= 0 {
			if c.has(p+".orders_per_day", false) {
				c.errf(p+".orders_per_day", "must be > 0 (got %s)", fmtNum(nb.OrdersPerDay))
			} else {
				c.errf(p+".orders_per_day", "required (orders per day, > 0)")
			}
		}
		if len(nb.Hourly) != 24 {
			c.errf(p+".hourly", "must have 24 values, one per hour from 00:00 (got %d)", len(nb.Hourly))
		} else {
			sum := 0.0
			for h, w := range nb.Hourly {
				if w < 0 {
					c.errf(elemPath(p+".hourly", strconv.Itoa(h)), "must be >= 0 (got %s)", fmtNum(w))
				}
				sum += math.Max(w, 0)
			}
			if sum == 0 {
				c.errf(p+".hourly", "weights must not all be zero")
			}
		}
		keys := make([]string, 0, len(nb.SKUMix))
		for k := range nb.SKUMix {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sum := 0.0
		for _, k := range keys {
			w := nb.SKUMix[k]
			kp := p + ".sku_mix." + k
			if !skus[k] {
				c.errf(kp, "unknown SKU %q (not in skus)", k)
			}
			if w < 0 {
				c.errf(kp, "weight must be >= 0 (got %s)", fmtNum(w))
			}
			sum += math.Max(w, 0)
		}
		if len(keys) > 0 && sum == 0 {
			c.errf(p+".sku_mix", "weights must not all be zero")
		} else if len(keys) == 0 && len(s.SKUs) > 0 {
			c.errf(p+".sku_mix", "must name at least one SKU (leave it out for a uniform mix)")
		}
	}
}

func (c *checker) validateNodes(skus map[string]bool) {
	s := c.s
	if len(s.Nodes) == 0 {
		c.errf("nodes", "at least one node is required")
	}
	labels := c.nodeLabels()
	first := map[string]int{}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		p := elemPath("nodes", labels[i])
		c.uniqueID(first, p+".id", n.ID, i, "node id", "nodes")
		switch n.Kind {
		case KindLocker, KindPartner, KindPopup, KindMicrostore:
		case "":
			c.errf(p+".kind", "required (locker, partner, popup or microstore)")
		default:
			c.errf(p+".kind", "must be locker, partner, popup or microstore (got %q)", n.Kind)
		}
		c.latLng(p, n.Lat, n.Lng)
		for _, f := range []struct {
			k string
			v int
		}{{"small", n.Slots.Small}, {"medium", n.Slots.Medium}, {"large", n.Slots.Large}} {
			if f.v < 0 {
				c.errf(p+".slots."+f.k, "must be >= 0 (got %d)", f.v)
			}
		}
		slotted := n.Kind == KindLocker || n.Kind == KindPopup
		if slotted && n.Slots.Total() <= 0 {
			if c.has(p+".slots", false) {
				c.errf(p+".slots", "a %s needs at least one slot (small + medium + large = %d)", n.Kind, n.Slots.Total())
			} else {
				c.errf(p+".slots", "required for a %s (e.g. {small: 20, medium: 30, large: 10})", n.Kind)
			}
		}
		switch {
		case n.Kind == KindPartner && n.CounterCapacity <= 0:
			if c.has(p+".counter_capacity", false) {
				c.errf(p+".counter_capacity", "must be > 0 for a partner (got %d)", n.CounterCapacity)
			} else {
				c.errf(p+".counter_capacity", "required for a partner (parcels held at the counter, > 0)")
			}
		case slotted && n.CounterCapacity != 0:
			c.errf(p+".counter_capacity", "a %s has no counter (only partners and microstores)", n.Kind)
		case n.CounterCapacity < 0:
			c.errf(p+".counter_capacity", "must be >= 0 (got %d)", n.CounterCapacity)
		}
		if len(n.Hours) == 0 {
			c.errf(p+".hours", "must list at least one range")
		}
		switch {
		case n.Kind == KindPopup && n.Active == nil:
			c.errf(p+".active", "required for a popup (e.g. {from: 7d, until: 21d})")
		case n.Kind != KindPopup && n.Active != nil && n.Kind != "":
			c.errf(p+".active", "only popups have an active window (kind is %s)", n.Kind)
		case n.Active != nil:
			if n.Active.Until <= n.Active.From {
				c.errf(p+".active.until", "must be after active.from %s (got %s)", n.Active.From, n.Active.Until)
			}
			if s.Horizon > 0 && n.Active.From >= s.Horizon {
				c.errf(p+".active.from", "starts at or after the horizon %s (got %s)", s.Horizon, n.Active.From)
			}
		}
		c.nonNegative(p+".floor_area_m2", n.FloorAreaM2)
		c.nonNegative(p+".fixed_cost_per_day", n.FixedCostPerDay)
		c.nonNegative(p+".counter_sales_per_day", n.CounterSalesPerDay)
		cached := map[string]int{}
		for j, e := range n.Cache {
			cp := elemPath(p+".cache", strconv.Itoa(j))
			switch {
			case e.SKU == "":
				c.errf(cp+".sku", "required")
			case !skus[e.SKU]:
				c.errf(cp+".sku", "unknown SKU %q (not in skus)", e.SKU)
			default:
				if k, dup := cached[e.SKU]; dup {
					c.errf(cp+".sku", "SKU %s cached twice (also cache[%d])", e.SKU, k)
				}
				cached[e.SKU] = j
			}
			if e.Capacity < 1 {
				c.errf(cp+".capacity", "must be >= 1 (got %d)", e.Capacity)
			}
			if e.Stock < 0 || e.Stock > e.Capacity && e.Capacity >= 1 {
				c.errf(cp+".stock", "must be between 0 and capacity %d (got %d)", e.Capacity, e.Stock)
			}
		}
		cn := n.Connectivity
		cp := p + ".connectivity"
		mtbf := c.meanOrDist(cp+".mtbf", cn.MTBF)
		mttr := c.meanOrDist(cp+".mttr", cn.MTTR)
		if mtbf && !mttr {
			c.errf(cp+".mttr", "required when mtbf is set (time to repair: a mean duration like 30m, or a distribution)")
		}
		if !mtbf && mttr {
			c.errf(cp+".mttr", "only used with mtbf (set mtbf for random drops)")
		}
		for j, o := range cn.Outages {
			c.outage(elemPath(cp+".outages", strconv.Itoa(j)), o.Start, o.Duration)
		}
	}
}

func (c *checker) validateSKUs() {
	s := c.s
	if len(s.SKUs) == 0 {
		c.errf("skus", "at least one SKU is required")
	}
	tl := labelsOf(s.PackingTemplates, func(t PackingTemplate) string { return t.ID })
	templates := map[string]int{}
	for i, t := range s.PackingTemplates {
		p := elemPath("packing_templates", tl[i])
		c.uniqueID(templates, p+".id", t.ID, i, "packing template id", "packing_templates")
		if t.Shrink < 0 || t.Shrink > 2 {
			c.errf(p+".shrink", "must be 0, 1 or 2 size classes (got %d)", t.Shrink)
		}
	}
	labels := labelsOf(s.SKUs, func(k SKU) string { return k.ID })
	first := map[string]int{}
	for i, k := range s.SKUs {
		p := elemPath("skus", labels[i])
		c.uniqueID(first, p+".id", k.ID, i, "SKU id", "skus")
		switch k.Size {
		case SizeSmall, SizeMedium, SizeLarge:
		case "":
			c.errf(p+".size", "required (small, medium or large)")
		default:
			c.errf(p+".size", "must be small, medium or large (got %q)", k.Size)
		}
		c.nonNegative(p+".price", k.Price)
		if _, ok := templates[k.Packing]; k.Packing != "" && !ok {
			c.errf(p+".packing", "unknown packing template %q (not in packing_templates)", k.Packing)
		}
	}
}

// dist validates a distribution: the fields its kind needs, and no others.
func (c *checker) dist(path string, d Dist) {
	uses := map[string][]string{
		DistExponential: {"mean"},
		DistLognormal:   {"median", "sigma"},
		DistConstant:    {"mean"},
		DistUniform:     {"min", "max"},
		DistEmpirical:   {"quantiles"},
	}
	need, ok := uses[d.Dist]
	if !ok {
		if d.Dist == "" {
			c.errf(path+".dist", "required (exponential, lognormal, constant, uniform or empirical)")
		} else {
			c.errf(path+".dist", "must be exponential, lognormal, constant, uniform or empirical (got %q)", d.Dist)
		}
		return
	}
	// A distribution filled in by default (or copied, for subscribers) was not
	// written in the file: judge its fields by value.
	written := c.set != nil && c.set[path]
	has := func(p string, nonzero bool) bool {
		if !written {
			return nonzero
		}
		return c.set[p]
	}
	given := map[string]bool{
		"mean":      has(path+".mean", d.Mean != 0),
		"median":    has(path+".median", d.Median != 0),
		"sigma":     has(path+".sigma", d.Sigma != 0),
		"min":       has(path+".min", d.Min != 0),
		"max":       has(path+".max", d.Max != 0),
		"quantiles": has(path+".quantiles", len(d.Quantiles) != 0),
	}
	for _, f := range []string{"mean", "median", "sigma", "min", "max", "quantiles"} {
		if given[f] && !contains(need, f) {
			c.errf(path+"."+f, "not used by a %s distribution (it takes %s)", d.Dist, strings.Join(need, " and "))
		}
	}
	switch d.Dist {
	case DistExponential:
		if d.Mean <= 0 {
			c.errf(path+".mean", "required for an exponential distribution, > 0")
		}
	case DistConstant:
		if !given["mean"] && written {
			c.errf(path+".mean", "required for a constant distribution")
		}
	case DistLognormal:
		if d.Median <= 0 {
			c.errf(path+".median", "required for a lognormal distribution, > 0")
		}
		if d.Sigma <= 0 {
			if given["sigma"] {
				c.errf(path+".sigma", "must be > 0 (got %s)", fmtNum(d.Sigma))
			} else {
				c.errf(path+".sigma", "required for a lognormal distribution, > 0")
			}
		}
	case DistUniform:
		if !given["max"] {
			c.errf(path+".max", "required for a uniform distribution")
		} else if d.Max < d.Min {
			c.errf(path+".max", "must be >= min %s (got %s)", d.Min, d.Max)
		}
	case DistEmpirical:
		if len(d.Quantiles) < 2 {
			c.errf(path+".quantiles", "needs at least 2 values (got %d)", len(d.Quantiles))
		}
		for i := 1; i < len(d.Quantiles); i++ {
			if d.Quantiles[i] < d.Quantiles[i-1] {
				c.errf(elemPath(path+".quantiles", strconv.Itoa(i)), "must not be smaller than the value before it (%s < %s)", d.Quantiles[i], d.Quantiles[i-1])
			}
		}
	}
}

// meanOrDist validates an mtbf or mttr: nothing (absent or 0), a plain
// duration, or a distribution mapping checked like any distribution whose
// mean must also be > 0. It reports whether one was given.
func (c *checker) meanOrDist(path string, m MeanOrDist) bool {
	if c.bad[path] {
		return true // written, but not decodable: reported already
	}
	mapping := false
	if n, ok := c.pos[path]; ok {
		mapping = deref(n).Kind == yaml.MappingNode
	}
	if !m.Given() && !mapping {
		return false
	}
	before := len(c.errs)
	c.dist(path, Dist(m))
	if d := dist(Dist(m)); len(c.errs) == before && !d.PositiveMean() {
		c.errf(path, "the distribution's mean must be > 0 (leave %s out for none)", path[strings.LastIndex(path, ".")+1:])
	}
	return true
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// uniqueID reports a missing or repeated identifier of list element i
// (at path) and records it in first.
func (c *checker) uniqueID(first map[string]int, path, id string, i int, what, list string) {
	switch j, dup := first[id]; {
	case strings.TrimSpace(id) == "":
		c.errf(path, "required")
	case dup:
		c.errf(path, "duplicate %s %q (also %s[%d])", what, id, list, j)
	default:
		first[id] = i
	}
}
