package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is a minimal valid scenario. Bad-input cases replace one snippet of it;
// the replacement marks the line the error must point at with "# <-".
const base = `name: t
horizon: 3d
neighborhoods:
  - name: N1
    center: {lat: 52.5, lng: 13.4}
    orders_per_day: 100
nodes:
  - id: L1
    kind: locker
    lat: 52.5
    lng: 13.4
    slots: {small: 1, medium: 2, large: 3}
  - id: P1
    kind: partner
    lat: 52.51
    lng: 13.41
    counter_capacity: 10
skus:
  - {id: S01, size: small, price: 5}
couriers:
  fleet: 2
`

func TestBaseIsValid(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	assert.Equal(t, "t", s.Name)
}

// markedLine returns the 1-based line that carries the "# <-" marker.
func markedLine(t *testing.T, doc string) int {
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, "# <-") {
			return i + 1
		}
	}
	t.Fatal("no # <- marker in document")
	return 0
}

func TestBadInputs(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old by new in base
		path     string
		msg      string // substring of the message
	}{
		{"unknown field", "    kind: locker\n", "    kind: locker\n    colour: red  # <-\n",
			"nodes[L1].colour", "unknown field"},
		{"unknown field with suggestion", "  fleet: 2\n", "  fleet: 2\n  batchsize: 3  # <-\n",
			"couriers.batchsize", `did you mean "batch_size"?`},
		{"wrong type", "orders_per_day: 100", "orders_per_day: lots  # <-",
			"neighborhoods[N1].orders_per_day", `must be a number (got "lots")`},
		{"wrong type mapping for list", "skus:\n  - {id: S01, size: small, price: 5}\n", "skus: {id: S01}  # <-\n",
			"skus", "must be a list"},
		{"negative rate", "orders_per_day: 100", "orders_per_day: -5  # <-",
			"neighborhoods[N1].orders_per_day", "must be > 0 (got -5)"},
		{"negative counter sales", "    counter_capacity: 10\n", "    counter_capacity: 10\n    counter_sales_per_day: -1  # <-\n",
			"nodes[P1].counter_sales_per_day", "must be >= 0 (got -1)"},
		{"zero slots on a locker", "slots: {small: 1, medium: 2, large: 3}", "slots: {small: 0, medium: 0, large: 0}  # <-",
			"nodes[L1].slots", "needs at least one slot"},
		{"negative slots", "slots: {small: 1, medium: 2, large: 3}", "slots: {small: 1, medium: -2, large: 3}  # <-",
			"nodes[L1].slots.medium", "must be >= 0 (got -2)"},
		{"latitude 95", "    lat: 52.5\n", "    lat: 95  # <-\n",
			"nodes[L1].lat", "latitude must be within [-90, 90] (got 95)"},
		{"center latitude -91", "center: {lat: 52.5, lng: 13.4}", "center: {lat: -91, lng: 13.4}  # <-",
			"neighborhoods[N1].center.lat", "latitude must be within [-90, 90]"},
		{"hourly with 23 values", "    orders_per_day: 100\n", "    orders_per_day: 100\n    hourly: [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]  # <-\n",
			"neighborhoods[N1].hourly", "must have 24 values, one per hour from 00:00 (got 23)"},
		{"hourly all zero", "    orders_per_day: 100\n", "    orders_per_day: 100\n    hourly: [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]  # <-\n",
			"neighborhoods[N1].hourly", "must not all be zero"},
		{"unknown SKU in sku_mix", "    orders_per_day: 100\n", "    orders_per_day: 100\n    sku_mix:\n      S01: 1\n      S99: 2  # <-\n",
			"neighborhoods[N1].sku_mix.S99", `unknown SKU "S99"`},
		{"unknown SKU in cache", "    counter_capacity: 10\n", "    counter_capacity: 10\n    cache:\n      - {sku: S02, capacity: 5, stock: 1}  # <-\n",
			"nodes[P1].cache[0].sku", `unknown SKU "S02"`},
		{"stock above capacity", "    counter_capacity: 10\n", "    counter_capacity: 10\n    cache:\n      - {sku: S01, capacity: 5, stock: 6}  # <-\n",
			"nodes[P1].cache[0].stock", "must be between 0 and capacity 5 (got 6)"},
		{"unknown packing template", "{id: S01, size: small, price: 5}", "{id: S01, size: small, price: 5, packing: slim}  # <-",
			"skus[S01].packing", `unknown packing template "slim"`},
		{"warm-up longer than horizon", "horizon: 3d\n", "horizon: 3d\nwarmup: 5d  # <-\n",
			"warmup", "must be shorter than the horizon 3d (got 5d)"},
		{"bad duration 45x", "horizon: 3d\n", "horizon: 45x  # <-\n",
			"horizon", `invalid duration "45x": unknown unit "x"`},
		{"duration without unit", "horizon: 3d\n", "horizon: 90  # <-\n",
			"horizon", "missing unit"},
		{"bad percentage 120%", "    orders_per_day: 100\n", "    orders_per_day: 100\n    subscriber_share: 120%  # <-\n",
			"neighborhoods[N1].subscriber_share", "must be between 0 and 1 (0% to 100%) (got 120%)"},
		{"duplicate node id", "  - id: P1\n", "  - id: L1  # <-\n",
			"nodes[1].id", `duplicate node id "L1"`},
		{"duplicate key", "    lng: 13.41\n", "    lng: 13.41\n    lng: 13.42  # <-\n",
			"nodes[P1].lng", "duplicate field (first at line 16)"},
		{"popup without active window", "  - id: L1\n    kind: locker\n", "  - id: L1  # <-\n    kind: popup\n",
			"nodes[L1].active", "required for a popup"},
		{"active window on a locker", "    kind: locker\n", "    kind: locker\n    active: {from: 1d, until: 2d}  # <-\n",
			"nodes[L1].active", "only popups have an active window"},
		{"partner without counter", "    counter_capacity: 10\n", "    counter_capacity: 0  # <-\n",
			"nodes[P1].counter_capacity", "must be > 0 for a partner"},
		{"bad node kind", "    kind: locker\n", "    kind: kiosk  # <-\n",
			"nodes[L1].kind", `must be locker, partner, popup or microstore (got "kiosk")`},
		{"invalid H3 cell string", "center: {lat: 52.5, lng: 13.4}", `cells: ["zzz"]  # <-`,
			"neighborhoods[N1].cells[0]", `not a valid H3 cell index (got "zzz")`},
		{"H3 cell at wrong resolution", "center: {lat: 52.5, lng: 13.4}", `cells: ["891f1d48877ffff"]  # <-`,
			"neighborhoods[N1].cells[0]", "has resolution 9, want 8"},
		{"center and cells", "  - name: N1\n", "  - name: N1  # <-\n    cells: [\"881f1d4887fffff\"]\n",
			"neighborhoods[N1]", "either center (with radius) or cells, not both"},
		{"lognormal without sigma", "couriers:\n", "fulfilment:\n  pick_time: {dist: lognormal, median: 4m}  # <-\ncouriers:\n",
			"fulfilment.pick_time.sigma", "required for a lognormal distribution"},
		{"field a distribution does not use", "couriers:\n", "customers:\n  pickup_delay: {dist: exponential, mean: 8h, sigma: 0.3}  # <-\ncouriers:\n",
			"customers.pickup_delay.sigma", "not used by a exponential distribution"},
		{"empirical quantiles decreasing", "couriers:\n", "fulfilment:\n  pack_time:\n    dist: empirical\n    quantiles: [1m, 3m, 2m]  # <-\ncouriers:\n",
			"fulfilment.pack_time.quantiles[2]", "must not be smaller than the value before it"},
		{"cutoff after ready_by", "couriers:\n", "sla: {cutoff: \"23:00\", ready_by: \"22:00\"}  # <-\ncouriers:\n",
			"sla.cutoff", "sla.cutoff (23:00) must be before sla.ready_by (22:00)"},
		{"bad clock time", "couriers:\n", "sla:\n  cutoff: \"25:00\"  # <-\ncouriers:\n",
			"sla.cutoff", `invalid clock time "25:00"`},
		{"unsupported version", "name: t\n", "version: 2  # <-\nname: t\n",
			"version", "unsupported schema version 2"},
		{"missing name", "name: t\n", "# <-\ndescription: no name\n",
			"name", "required"},
		{"unknown time zone", "name: t\n", "name: t\ntimezone: Europe/Atlantis  # <-\n",
			"timezone", `unknown time zone "Europe/Atlantis"`},
		{"mtbf without mttr", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: 72h}  # <-\n",
			"nodes[P1].connectivity.mttr", "required when mtbf is set"},
		{"mtbf of an unknown distribution family", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: {dist: weibull, mean: 72h}, mttr: 30m}  # <-\n",
			"nodes[P1].connectivity.mtbf.dist", `must be exponential, lognormal, constant, uniform or empirical (got "weibull")`},
		{"mtbf lognormal without sigma", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity:\n      mtbf: {dist: lognormal, median: 60h}  # <-\n      mttr: 30m\n",
			"nodes[P1].connectivity.mtbf.sigma", "required for a lognormal distribution"},
		{"mttr uniform without max", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity:\n      mtbf: 72h\n      mttr:\n        dist: uniform  # <-\n        min: 10m\n",
			"nodes[P1].connectivity.mttr.max", "required for a uniform distribution"},
		{"mtbf with a field its family does not use", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity:\n      mtbf:\n        dist: constant\n        mean: 72h\n        sigma: 0.5  # <-\n      mttr: 30m\n",
			"nodes[P1].connectivity.mtbf.sigma", "not used by a constant distribution"},
		{"mtbf with an unknown field", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: {dist: exponential, mean: 72h, mode: 3h}, mttr: 30m}  # <-\n",
			"nodes[P1].connectivity.mtbf.mode", "unknown field"},
		{"mtbf distribution with mean 0", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: {dist: uniform, min: 0, max: 0}, mttr: 30m}  # <-\n",
			"nodes[P1].connectivity.mtbf", "mean must be > 0"},
		{"mtbf neither duration nor mapping", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: [72h], mttr: 30m}  # <-\n",
			"nodes[P1].connectivity.mtbf", "must be a duration like 72h (the mean of an exponential distribution) or a distribution"},
		{"mtbf bad duration", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mtbf: 72, mttr: 30m}  # <-\n",
			"nodes[P1].connectivity.mtbf", "missing unit"},
		{"mttr distribution without mtbf", "    counter_capacity: 10\n", "    counter_capacity: 10\n    connectivity: {mttr: {dist: constant, mean: 30m}}  # <-\n",
			"nodes[P1].connectivity.mttr", "only used with mtbf"},
		{"outage after horizon", "  fleet: 2\n", "  fleet: 2\nconnectivity:\n  area_outages:\n    - {center: {lat: 52.5, lng: 13.4}, start: 4d, duration: 1h}  # <-\n",
			"connectivity.area_outages[0].start", "starts at or after the horizon 3d"},
		{"zero couriers", "  fleet: 2\n", "  fleet: 0  # <-\n",
			"couriers.fleet", "must be >= 1 (got 0)"},
		{"seed negative", "name: t\n", "name: t\nseed: -1  # <-\n",
			"seed", "must be a non-negative integer"},
		{"refund amount with rule full", "  fleet: 2\n", "  fleet: 2\nlabels:\n  refund: {rule: full, amount: 5}  # <-\n",
			"labels.refund.amount", "only used with rule: fixed"},
		{"bad hours", "    counter_capacity: 10\n", "    counter_capacity: 10\n    hours: \"20:00-09:00\"  # <-\n",
			"nodes[P1].hours", "end must be after start"},
		{"bad date", "name: t\n", "name: t\nstart: 2026-02-30  # <-\n",
			"start", "must be a date like 2026-03-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, base, tt.old, "bad test: snippet not in base")
			doc := strings.Replace(base, tt.old, tt.new, 1)
			line := markedLine(t, doc)
			if strings.HasPrefix(tt.new, "# <-") {
				line = 1 // a missing top-level field is reported at the document's first key
				doc = strings.Replace(doc, "# <-\n", "", 1)
			}
			errs, found := parseErrorAt(t, doc, tt.path)
			assert.Equal(t, line, found.Line, "line of %v", found)
			assert.Contains(t, found.Msg, tt.msg)
			assert.Equal(t, "bad.yaml", found.File)
			assert.Positive(t, found.Column)
			assert.True(t, strings.HasPrefix(found.Error(), "bad.yaml:"), found.Error())
			paths := map[string]bool{}
			for _, e := range errs {
				assert.False(t, paths[e.Path], "two errors for %s:\n%v", e.Path, errs)
				paths[e.Path] = true
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	doc := strings.Replace(base, "slots: {small: 1, medium: 2, large: 3}", "slots: {small: 1, medium: -2, large: 3}", 1)
	_, err := Parse("scenarios/pilot.yaml", []byte(doc))
	require.Error(t, err)
	assert.Equal(t, "scenarios/pilot.yaml:12:31: nodes[L1].slots.medium: must be >= 0 (got -2)", err.Error())
}

func TestAllErrorsAtOnceSortedByLine(t *testing.T) {
	doc := `name: many
horizon: 2d
warmup: 3d
replications: 0
neighborhoods:
  - name: N1
    center: {lat: 95, lng: 13.4}
    orders_per_day: 0
    bogus: 1
nodes:
  - id: L1
    kind: locker
    lat: 52.5
    lng: 13.4
  - id: L1
    kind: popup
    lat: 52.5
    lng: 13.4
    slots: {medium: 4}
skus:
  - {id: S01, size: huge}
couriers: {fleet: 1, speed_kmh: 0}
labels:
  ttl: {picked: 45x}
`
	_, err := Parse("many.yaml", []byte(doc))
	require.Error(t, err)
	var errs Errors
	require.ErrorAs(t, err, &errs)
	type got struct {
		Line int
		Path string
	}
	var gs []got
	for _, e := range errs {
		gs = append(gs, got{e.Line, e.Path})
	}
	assert.Equal(t, []got{
		{3, "warmup"},
		{4, "replications"},
		{7, "neighborhoods[N1].center.lat"},
		{8, "neighborhoods[N1].orders_per_day"},
		{9, "neighborhoods[N1].bogus"},
		{11, "nodes[L1].slots"},
		{15, "nodes[1].active"}, // same line: ordered by column
		{15, "nodes[1].id"},
		{21, "skus[S01].size"},
		{22, "couriers.speed_kmh"},
		{24, "labels.ttl.picked"},
	}, gs, "all errors:\n%v", err)
	for i := 1; i < len(errs); i++ {
		assert.LessOrEqual(t, errs[i-1].Line, errs[i].Line)
	}
	// Each line of the message is one error.
	assert.Len(t, strings.Split(err.Error(), "\n"), len(errs))
}

func TestSyntaxAndDocumentErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"syntax", "name: t\nnodes: [\n  - x\n", 0, "invalid YAML"},
		{"empty", "", 1, "empty scenario file"},
		{"not a mapping", "- 1\n- 2\n", 1, "must be a mapping"},
		{"two documents", "name: a\n---\nname: b\n", 2, "only one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.doc))
			var errs Errors
			require.ErrorAs(t, err, &errs)
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Msg, tt.msg)
			if tt.line > 0 {
				assert.Equal(t, tt.line, errs[0].Line)
			} else {
				assert.Positive(t, errs[0].Line)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Version)
	assert.Equal(t, uint64(1), s.Seed)
	assert.Equal(t, "2026-03-02", s.Start.String())
	assert.Equal(t, Duration(0), s.Warmup)
	assert.Equal(t, 1, s.Replications)
	assert.InDelta(t, 0.05, float64(s.Precision), 1e-12)
	assert.Equal(t, "14:00", s.SLA.Cutoff.String())
	assert.Equal(t, "22:00", s.SLA.ReadyBy.String())
	assert.Equal(t, "1d", s.SLA.PickupWindow.String())
	assert.Equal(t, 8, s.Geography.Resolution)
	nb := s.Neighborhoods[0]
	assert.Equal(t, 1, nb.Radius)
	assert.Len(t, nb.Hourly, 24)
	assert.Equal(t, map[string]float64{"S01": 1}, nb.SKUMix)
	assert.True(t, s.NodeByID("L1").Hours.IsAllDay())
	assert.Equal(t, "09:00-20:00", s.NodeByID("P1").Hours.String())
	assert.Equal(t, DefaultPickTime, s.Fulfilment.PickTime)
	assert.Equal(t, DefaultPackTime, s.Fulfilment.PackTime)
	assert.Equal(t, 15.0, s.Couriers.SpeedKmh)
	assert.Equal(t, "07:00-21:00", s.Couriers.Shift.String())
	assert.Equal(t, 4, s.Couriers.BatchSize)
	assert.Equal(t, DefaultHandoffTime, s.Couriers.HandoffTime)
	assert.Equal(t, DefaultPickupDelay, s.Customers.PickupDelay)
	assert.Equal(t, DefaultPickupDelay, s.Customers.Subscribers.PickupDelay)
	assert.Equal(t, "1d", s.Labels.TTL.ReadyForPickup.String())
	assert.Equal(t, Duration(0), s.Labels.TTL.Picked)
	assert.Equal(t, 2, s.Labels.MaxHops)
	assert.Equal(t, RefundFull, s.Labels.Refund.Rule)
	assert.Equal(t, OfflineServe, s.Connectivity.OfflineMode)
	assert.Equal(t, "2026-03-02T00:00:00.000Z", s.StartInstant().String())
}

func TestExplicitZeroBeatsDefault(t *testing.T) {
	doc := base + "labels:\n  ttl: {ready_for_pickup: 0}\n  max_hops: 0\nseed: 0\ngeography: {resolution: 0}\n"
	doc = strings.Replace(doc, "center: {lat: 52.5, lng: 13.4}", "center: {lat: 52.5, lng: 13.4}\n    radius: 0", 1)
	s, err := Parse("zero.yaml", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, Duration(0), s.Labels.TTL.ReadyForPickup)
	assert.Equal(t, 0, s.Labels.MaxHops)
	assert.Equal(t, uint64(0), s.Seed)
	assert.Equal(t, 0, s.Geography.Resolution)
	assert.Equal(t, 0, s.Neighborhoods[0].Radius)
	cells, err := s.NeighborhoodCells(0)
	require.NoError(t, err)
	assert.Len(t, cells, 1)
}

func TestSubscribersInheritCustomers(t *testing.T) {
	doc := base + "customers:\n  pickup_delay: {dist: exponential, mean: 6h}\n  no_show: 4%\n  subscribers: {no_show: 1%}\n"
	s, err := Parse("subs.yaml", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "6h", s.Customers.Subscribers.PickupDelay.Mean.String())
	assert.InDelta(t, 0.01, float64(s.Customers.Subscribers.NoShow), 1e-12)
	assert.InDelta(t, 0.04, float64(s.Customers.NoShow), 1e-12)
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	doc := strings.Replace(base, "nodes:\n", `x-locker: &locker
  kind: locker
  slots: {small: 1, medium: 2, large: 3}
nodes:
  - <<: *locker
    id: L9
    lat: 52.49
    lng: 13.39
`, 1)
	// x-locker is not a schema field: it must be reported.
	_, err := Parse("anchors.yaml", []byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "anchors.yaml:7:1: x-locker: unknown field")

	// Anchors defined inside a known field work.
	doc = strings.Replace(base, "  - id: L1\n    kind: locker\n", "  - &l1\n    id: L1\n    kind: locker\n", 1)
	doc = strings.Replace(doc, "skus:", "  - <<: *l1\n    id: L2\n    lat: 52.52\nskus:", 1)
	s, err := Parse("anchors.yaml", []byte(doc))
	require.NoError(t, err)
	l2 := s.NodeByID("L2")
	require.NotNil(t, l2)
	assert.Equal(t, KindLocker, l2.Kind)
	assert.Equal(t, 52.52, l2.Lat)
	assert.Equal(t, 13.4, l2.Lng)
	assert.Equal(t, 2, l2.Slots.Medium)
}

func TestMergeCycleIsAnError(t *testing.T) {
	_, err := Parse("cycle.yaml", []byte("sla: &a {cutoff: '10:00', <<: *a}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cycle.yaml:1:6: sla: merge keys (<<) nested too deeply or in a cycle")
}

func TestHelpers(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	cells, err := s.NeighborhoodCells(0)
	require.NoError(t, err)
	assert.Len(t, cells, 7) // grid disk of radius 1
	l1 := s.NodeByID("L1")
	require.NotNil(t, l1)
	assert.Contains(t, cells, l1.Cell(8))
	assert.Equal(t, 8, l1.Cell(8).Resolution())
	assert.Nil(t, s.NodeByID("nope"))
	require.NotNil(t, s.SKUByID("S01"))
	assert.Nil(t, s.SKUByID("S02"))
	_, err = s.NeighborhoodCells(5)
	assert.Error(t, err)
	assert.Equal(t, s.StartInstant().Add(s.Horizon.Model()), s.EndInstant())
}

func TestValidateProgrammatic(t *testing.T) {
	s, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	s.Nodes[0].Slots = Slots{}
	s.Warmup = s.Horizon
	err = s.Validate()
	require.Error(t, err)
	assert.Equal(t, "warmup: must be shorter than the horizon 3d (got 3d)\nnodes[L1].slots: required for a locker (e.g. {small: 20, medium: 30, large: 10})", err.Error())
}
