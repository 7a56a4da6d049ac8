package scenarios

import (
	h3 "github.com/uber/h3-go/v4"
	"gopkg.in/yaml.v3"
)

// Scenario is one pilot design, schema version 1. Load or Parse fill it, apply
// the defaults and validate it; docs/scenario.md documents every field.
type Scenario struct {
	Version          int               `yaml:"version"`
	Name             string            `yaml:"name"`
	Description      string            `yaml:"description"`
	Seed             uint64            `yaml:"seed"`
	Start            Date              `yaml:"start"`
	Timezone         string            `yaml:"timezone"`
	Horizon          Duration          `yaml:"horizon"`
	Warmup           Duration          `yaml:"warmup"`
	Drain            Drain             `yaml:"drain"`
	Replications     int               `yaml:"replications"`
	Precision        Fraction          `yaml:"precision"`
	SLA              SLA               `yaml:"sla"`
	Geography        Geography         `yaml:"geography"`
	Neighborhoods    []Neighborhood    `yaml:"neighborhoods"`
	Nodes            []Node            `yaml:"nodes"`
	SKUs             []SKU             `yaml:"skus"`
	PackingTemplates []PackingTemplate `yaml:"packing_templates"`
	Fulfilment       Fulfilment        `yaml:"fulfilment"`
	Couriers         Couriers          `yaml:"couriers"`
	Customers        Customers         `yaml:"customers"`
	Labels           Labels            `yaml:"labels"`
	Costs            Costs             `yaml:"costs"`
	Connectivity     Connectivity      `yaml:"connectivity"`
	Checks           Checks            `yaml:"checks"`
	DemandCalendar   DemandCalendar    `yaml:"demand_calendar"` // choice.go
	Supply           *Supply           `yaml:"supply"`
	Touch            *Touch            `yaml:"touch"`     // touch.go
	Packaging        *Packaging        `yaml:"packaging"` // packaging.go

	warnings      Errors        // what Parse or Validate found suspicious but valid (Warnings)
	Replenishment Replenishment `yaml:"replenishment"`
	Promotions    []Promotion   `yaml:"promotions"`
	Operators     *Operators    `yaml:"operators"` // operator.go
}

// SLA is the same-day promise.
type SLA struct {
	Cutoff       ClockTime `yaml:"cutoff"`
	ReadyBy      ClockTime `yaml:"ready_by"`
	PickupWindow Duration  `yaml:"pickup_window"`
	Fallback     string    `yaml:"fallback"`
}

// Geography fixes the H3 grid used for neighborhoods, nodes and distances.
type Geography struct {
	Resolution int `yaml:"resolution"`
}

// LatLng is a point in degrees (WGS84).
type LatLng struct {
	Lat float64 `yaml:"lat"`
	Lng float64 `yaml:"lng"`
}

// Neighborhood is a demand area: either Center plus Radius (grid-disk of H3 cells)
// or an explicit Cells list.
type Neighborhood struct {
	Name            string             `yaml:"name"`
	Center          *LatLng            `yaml:"center"`
	Radius          int                `yaml:"radius"`
	Cells           []h3.Cell          `yaml:"cells"`
	OrdersPerDay    float64            `yaml:"orders_per_day"`
	Hourly          []float64          `yaml:"hourly"`
	SKUMix          map[string]float64 `yaml:"sku_mix"`
	SubscriberShare Fraction           `yaml:"subscriber_share"`
}

// Node kinds.
const (
	KindLocker     = "locker"
	KindPartner    = "partner"
	KindPopup      = "popup"
	KindMicrostore = "microstore"
)

// Node is a micro-fulfillment node: a parcel locker, a partner storefront, a
// pop-up or a microstore.
type Node struct {
	ID                 string           `yaml:"id"`
	Kind               string           `yaml:"kind"`
	Lat                float64          `yaml:"lat"`
	Lng                float64          `yaml:"lng"`
	Slots              Slots            `yaml:"slots"`
	CounterCapacity    int              `yaml:"counter_capacity"`
	Hours              Hours            `yaml:"hours"`
	Active             *Window          `yaml:"active"`
	FloorAreaM2        float64          `yaml:"floor_area_m2"`
	FixedCostPerDay    float64          `yaml:"fixed_cost_per_day"`
	Cache              []CacheEntry     `yaml:"cache"`
	CounterSalesPerDay float64          `yaml:"counter_sales_per_day"`
	Connectivity       NodeConnectivity `yaml:"connectivity"`
	DemandUplift       *DemandUplift    `yaml:"demand_uplift"` // choice.go
	CacheSlots         int              `yaml:"cache_slots"`
	ShelfUnits         int              `yaml:"shelf_units"`
	Operator           string           `yaml:"operator"` // operator.go; default: the node's id
}

// Slots counts locker compartments per size class.
type Slots struct {
	Small  int `yaml:"small"`
	Medium int `yaml:"medium"`
	Large  int `yaml:"large"`
}

// Total is Small+Medium+Large.
func (s Slots) Total() int { return s.Small + s.Medium + s.Large }

// Window is a span given as offsets from the scenario start.
type Window struct {
	From  Duration `yaml:"from"`
	Until Duration `yaml:"until"`
}

// CacheEntry is one SKU held in a node's local inventory.
type CacheEntry struct {
	SKU      string `yaml:"sku"`
	Capacity int    `yaml:"capacity"`
	Stock    int    `yaml:"stock"`
	Pinned   bool   `yaml:"pinned"`
}

// NodeConnectivity describes random and scheduled connectivity drops of one
// node: up-times drawn from MTBF alternate with drops lasting a time drawn
// from MTTR. An absent (or 0) MTBF means no random drops.
type NodeConnectivity struct {
	MTBF    MeanOrDist `yaml:"mtbf"`
	MTTR    MeanOrDist `yaml:"mttr"`
	Outages []Outage   `yaml:"outages"`
}

// Outage is a scheduled outage, Start being an offset from the scenario start.
type Outage struct {
	Start    Duration `yaml:"start"`
	Duration Duration `yaml:"duration"`
}

// Size classes.
const (
	SizeSmall  = "small"
	SizeMedium = "medium"
	SizeLarge  = "large"
)

// SKU is a product that can be ordered.
type SKU struct {
	ID      string  `yaml:"id"`
	Size    string  `yaml:"size"`
	Price   float64 `yaml:"price"`
	Packing string  `yaml:"packing"`
}

// PackingTemplate shrinks parcels by size classes at the cost of packing time.
type PackingTemplate struct {
	ID            string   `yaml:"id"`
	Shrink        int      `yaml:"shrink"`
	PackTimeExtra Duration `yaml:"pack_time_extra"`
}

// Fulfilment is the picking and packing at the fulfilling node.
type Fulfilment struct {
	PickTime Dist   `yaml:"pick_time"`
	PackTime Dist   `yaml:"pack_time"`
	Staff    *Staff `yaml:"staff"`
}

// Couriers is the bike courier fleet.
type Couriers struct {
	Fleet       int         `yaml:"fleet"`
	SpeedKmh    float64     `yaml:"speed_kmh"`
	Shift       Hours       `yaml:"shift"`
	CostPerHour float64     `yaml:"cost_per_hour"`
	BatchSize   int         `yaml:"batch_size"`
	HandoffTime ConstOrDist `yaml:"handoff_time"`
}

// Customers is the pickup behaviour of customers.
type Customers struct {
	PickupDelay Dist        `yaml:"pickup_delay"`
	NoShow      Fraction    `yaml:"no_show"`
	Subscribers Subscribers `yaml:"subscribers"`
	// Choice and CapacityAware: how customers pick the pickup node (choice.go).
	Choice        Choice `yaml:"choice"`
	CapacityAware *bool  `yaml:"capacity_aware"`
}

// Subscribers is the pickup behaviour of micro-subscribers; after loading, unset
// fields hold the values of Customers.
type Subscribers struct {
	PickupDelay Dist     `yaml:"pickup_delay"`
	NoShow      Fraction `yaml:"no_show"`
}

// Labels are the smart-label rules: TTLs, reroutes, refunds.
type Labels struct {
	TTL     TTL     `yaml:"ttl"`
	MaxHops int     `yaml:"max_hops"`
	Reroute Reroute `yaml:"reroute"`
	Refund  Refund  `yaml:"refund"`
	// stage TTL escalation, dynamic ready TTL, expiry practice (ttl.go)
	Escalation Escalation     `yaml:"escalation"`
	ReadyTTL   []ReadyTTLRule `yaml:"ready_ttl"`
	Expiry     Expiry         `yaml:"expiry"`
}

// TTL is the time-to-live of a label per stage; 0 means none.
type TTL struct {
	Picked         Duration `yaml:"picked"`
	Packed         Duration `yaml:"packed"`
	InTransit      Duration `yaml:"in_transit"`
	ReadyForPickup Duration `yaml:"ready_for_pickup"`
}

// Reroute is the price of one reroute hop.
type Reroute struct {
	Cost  float64  `yaml:"cost"`
	Delay Duration `yaml:"delay"`
}

// Refund rules.
const (
	RefundFull  = "full"
	RefundFixed = "fixed"
	RefundShare = "share"
)

// Refund is what a late or failed order refunds.
type Refund struct {
	Rule   string   `yaml:"rule"`
	Amount float64  `yaml:"amount"`
	Share  Fraction `yaml:"share"`
}

// Costs are per-event costs.
type Costs struct {
	PerOrder          float64 `yaml:"per_order"`
	PerReturn         float64 `yaml:"per_return"`
	HoldingPerUnitDay float64 `yaml:"holding_per_unit_day"`
	SpacePerM2Day     float64 `yaml:"space_per_m2_day"`
}

// Offline modes.
const (
	OfflineServe  = "serve"
	OfflineRefuse = "refuse"
)

// Connectivity is the city-wide connectivity behaviour.
type Connectivity struct {
	OfflineMode string       `yaml:"offline_mode"`
	AreaOutages []AreaOutage `yaml:"area_outages"`
}

// AreaOutage takes down every node within an area (Center plus Radius, or Cells)
// at once.
type AreaOutage struct {
	Center   *LatLng   `yaml:"center"`
	Radius   int       `yaml:"radius"`
	Cells    []h3.Cell `yaml:"cells"`
	Start    Duration  `yaml:"start"`
	Duration Duration  `yaml:"duration"`
}

// Distribution kinds.
const (
	DistExponential = "exponential"
	DistLognormal   = "lognormal"
	DistConstant    = "constant"
	DistUniform     = "uniform"
	DistEmpirical   = "empirical"
)

// Dist is a distribution of durations. Which fields apply depends on Dist:
//
//	exponential: mean (> 0)
//	lognormal:   median (> 0), sigma (> 0, of the underlying normal)
//	constant:    mean (>= 0)
//	uniform:     min, max (0 <= min <= max)
//	empirical:   quantiles (>= 2 non-decreasing values at equally spaced probabilities 0..1)
type Dist struct {
	Dist      string     `yaml:"dist"`
	Mean      Duration   `yaml:"mean"`
	Median    Duration   `yaml:"median"`
	Sigma     float64    `yaml:"sigma"`
	Min       Duration   `yaml:"min"`
	Max       Duration   `yaml:"max"`
	Quantiles []Duration `yaml:"quantiles"`
}

// MeanOrDist is a distribution of durations written either as a plain
// duration, the mean of an exponential distribution ("72h" reads as
// {dist: exponential, mean: 72h}), or as a Dist mapping
// ({dist: lognormal, median: 60h, sigma: 0.5}). The zero value (absent, null
// or a plain 0) is no distribution: Given reports false.
type MeanOrDist Dist

// Exp is the MeanOrDist written as the plain duration mean.
func Exp(mean Duration) MeanOrDist {
	if mean == 0 {
		return MeanOrDist{}
	}
	return MeanOrDist{Dist: DistExponential, Mean: mean}
}

// Given reports whether m holds a distribution.
func (m MeanOrDist) Given() bool { return m.Dist != "" }

// UnmarshalYAML implements yaml.Unmarshaler: a plain duration, or a
// distribution mapping decoded as strictly as Parse decodes one (Parse itself
// decodes MeanOrDist fields with its decoder, to place errors in the mapping).
func (m *MeanOrDist) UnmarshalYAML(n *yaml.Node) error {
	var v MeanOrDist
	if err := decodeValue(n, &v); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalYAML writes an exponential distribution as its mean (the plain
// form), any other as a mapping of the fields its family uses, and no
// distribution as 0.
func (m MeanOrDist) MarshalYAML() (any, error) {
	switch m.Dist {
	case "":
		return "0", nil
	case DistExponential:
		return m.Mean.String(), nil
	}
	out := map[string]any{"dist": m.Dist}
	switch m.Dist {
	case DistLognormal:
		out["median"], out["sigma"] = m.Median.String(), m.Sigma
	case DistConstant:
		out["mean"] = m.Mean.String()
	case DistUniform:
		out["min"], out["max"] = m.Min.String(), m.Max.String()
	case DistEmpirical:
		q := make([]string, len(m.Quantiles))
		for i, x := range m.Quantiles {
			q[i] = x.String()
		}
		out["quantiles"] = q
	}
	return out, nil
}

// Significance rules of checks (see docs/scenario.md and results.Significance).
const (
	SignificancePaired  = "paired"
	SignificanceOverlap = "overlap"
	SignificanceNone    = "none"
)

// Checks are the SLA regression rules `lockstep check` applies when it
// compares a run of this scenario with its baseline. Without a checks section
// the default SLA metrics are checked with their default tolerances.
type Checks struct {
	// Significance is the statistical rule a worsening must also pass:
	// paired (default), overlap or none.
	Significance string `yaml:"significance"`
	// Metrics is keyed by catalog metric name: a listed metric is checked (or
	// skipped) with the given fields; fields left out keep their defaults.
	Metrics map[string]MetricCheck `yaml:"metrics"`
}

// MetricCheck is the tolerance of one metric; nil fields keep the default.
type MetricCheck struct {
	Absolute     *float64  `yaml:"absolute"`
	Relative     *Fraction `yaml:"relative"`
	Significance string    `yaml:"significance"`
	Skip         bool      `yaml:"skip"`
}
