package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/uber/h3-go/v4"
)

// SchemaVersion is the version of the results.json layout written by this
// package. Readers reject other versions.
const SchemaVersion = 2

// TracePoint is one simulated hour from the scenario start (the warm-up
// included, so the trace helps choose it), averaged or counted over
// the hour.
type TracePoint struct {
	Hour               float64 `json:"hour"`                // hours since the scenario start, start of the interval
	Orders             float64 `json:"orders"`              // orders placed in the hour
	Ready              float64 `json:"ready"`               // parcels made ready for pickup in the hour
	Collected          float64 `json:"collected"`           // parcels collected by their customer in the hour
	Occupancy          float64 `json:"occupancy"`           // mean occupied share of locker slots
	CourierUtilization float64 `json:"courier_utilization"` // share of courier time on tasks
	Drift              float64 `json:"drift"`               // Σ |central − real stock| over cache-first nodes, mean over the hour
}

// MarshalJSON writes non-finite fields as null.
func (p TracePoint) MarshalJSON() ([]byte, error) { return marshalFinite(p) }

// UnmarshalJSON reads null as NaN.
func (p *TracePoint) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, p) }

// DailyPoint is one simulated day after warm-up (day 0 is the first).
type DailyPoint struct {
	Day                int     `json:"day"`
	Orders             float64 `json:"orders"`
	CollectedWithinSLA float64 `json:"collected_within_sla"`
	// PickupSuccessRate is the share of the day's orders collected within the
	// SLA (NaN, null in JSON, on a day without orders).
	PickupSuccessRate float64 `json:"pickup_success_rate"`
}

// MarshalJSON writes non-finite fields as null.
func (p DailyPoint) MarshalJSON() ([]byte, error) { return marshalFinite(p) }

// UnmarshalJSON reads null as NaN.
func (p *DailyPoint) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, p) }

// Replication is what one replication measured. Maps are keyed by name; a
// missing key means "not measured". Non-finite map values are dropped when
// written to JSON.
type Replication struct {
	Index   int                           `json:"index"`
	Seed    uint64                        `json:"seed,omitempty"` // derived seed of the replication, if the driver records it
	Metrics map[string]float64            `json:"metrics"`        // catalog name -> value
	PerNode map[string]map[string]float64 `json:"per_node,omitempty"`
	Trace   []TracePoint                  `json:"trace,omitempty"`
	Daily   []DailyPoint                  `json:"daily,omitempty"`
	// PickupDelay is the histogram of minutes from ready notification to
	// verified pickup.
	PickupDelay Histogram `json:"pickup_delay"`
	// CourierWait is the histogram of minutes from packed to the handoff to
	// a courier (the cohort's parcels).
	CourierWait  Histogram          `json:"courier_wait"`
	DemandByCell map[string]float64 `json:"demand_by_cell,omitempty"` // H3 cell -> orders

	// PerOperator: pickup friction, success and bonuses by node operator
	// (operator.go).
	PerOperator map[string]map[string]float64 `json:"per_operator,omitempty"`
	// PerNeighborhood: neighborhood name -> its metrics (orders,
	// collected, pickup success, friction, cost, FCPO, lost revenue).
	PerNeighborhood map[string]map[string]float64 `json:"per_neighborhood,omitempty"`
}

// MarshalJSON drops non-finite map values.
func (r Replication) MarshalJSON() ([]byte, error) {
	type plain Replication
	c := plain(r)
	c.Metrics = finiteMap(r.Metrics)
	c.DemandByCell = finiteMap(r.DemandByCell)
	if r.PerNode != nil {
		c.PerNode = make(map[string]map[string]float64, len(r.PerNode))
		for k, m := range r.PerNode {
			c.PerNode[k] = finiteMap(m)
		}
	}
	c.PerOperator = finiteMaps(r.PerOperator)
	if r.PerNeighborhood != nil {
		c.PerNeighborhood = make(map[string]map[string]float64, len(r.PerNeighborhood))
		for k, m := range r.PerNeighborhood {
			c.PerNeighborhood[k] = finiteMap(m)
		}
	}
	return json.Marshal(c)
}

// NodeInfo places a node on the map.
type NodeInfo struct {
	ID   string  `json:"id"`
	Kind string  `json:"kind"` // locker, partner, popup, microstore ...
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
}

// NeighborhoodInfo names a demand area of the scenario and places it on the
// map: Lat and Lng are the mean of its H3 cells' centres.
type NeighborhoodInfo struct {
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
}

// MetricSummary is the replication statistics of one catalog metric.
type MetricSummary struct {
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	Better Better  `json:"better"`
	Stats  Summary `json:"stats"`
}

// NodeMetricSummary is the replication statistics of one per-node metric.
type NodeMetricSummary struct {
	Node   string  `json:"node"`
	Metric string  `json:"metric"`
	Stats  Summary `json:"stats"`
}

// RunResult is one scenario with all its replications: the content of
// results.json.
type RunResult struct {
	SchemaVersion int    `json:"schema_version"`
	Scenario      string `json:"scenario"`
	Description   string `json:"description,omitempty"`
	Seed          uint64 `json:"seed"`
	Horizon       string `json:"horizon"` // e.g. "7d"
	Warmup        string `json:"warmup"`  // e.g. "1d"
	// Precision is the target relative CI half-width used for the summaries
	// (0 when written means DefaultPrecision was used).
	Precision float64    `json:"precision"`
	Nodes     []NodeInfo `json:"nodes,omitempty"`
	// Neighborhoods are the demand areas in scenario order (the heatmap
	// names them); results.json files written before they were recorded
	// lack them.
	Neighborhoods  []NeighborhoodInfo  `json:"neighborhoods,omitempty"`
	Replications   []Replication       `json:"replications"`
	Summary        []MetricSummary     `json:"summary"`
	PerNodeSummary []NodeMetricSummary `json:"per_node_summary,omitempty"`
	// PerOperatorSummary: the per-operator metrics' statistics (operator.go).
	PerOperatorSummary []OperatorMetricSummary `json:"per_operator_summary,omitempty"`
	// PerNeighborhoodSummary: per neighborhood and metric, the statistics
	// over replications, sorted by neighborhood then metric.
	PerNeighborhoodSummary []NeighborhoodMetricSummary `json:"per_neighborhood_summary,omitempty"`
}

func (r *RunResult) precision() float64 {
	if r.Precision > 0 {
		return r.Precision
	}
	return DefaultPrecision
}

// Values returns metric name over the replications that measured it, in
// replication order, with the matching replication indices.
func (r *RunResult) Values(name string) (values []float64, indices []int) {
	for _, rep := range r.Replications {
		if v, ok := rep.Metrics[name]; ok && finite(v) {
			values = append(values, v)
			indices = append(indices, rep.Index)
		}
	}
	return values, indices
}

// MetricNames lists the metrics measured by at least one replication: catalog
// metrics in catalog order, then any others sorted by name.
func (r *RunResult) MetricNames() []string { return metricNames([]RunResult{*r}) }

func metricNames(runs []RunResult) []string {
	seen := map[string]bool{}
	for _, run := range runs {
		for _, rep := range run.Replications {
			for k, v := range rep.Metrics {
				if finite(v) {
					seen[k] = true
				}
			}
		}
	}
	var out []string
	for _, d := range Catalog {
		if seen[d.Name] {
			out = append(out, d.Name)
			delete(seen, d.Name)
		}
	}
	extra := make([]string, 0, len(seen))
	for k := range seen {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// Finalize sorts the replications by index, fills SchemaVersion and
// Precision, and recomputes Summary and PerNodeSummary from the replications.
// Call it before writing results.json.
func (r *RunResult) Finalize() {
	r.SchemaVersion = SchemaVersion
	r.Precision = r.precision()
	sort.SliceStable(r.Replications, func(i, j int) bool { return r.Replications[i].Index < r.Replications[j].Index })
	sort.SliceStable(r.Nodes, func(i, j int) bool { return r.Nodes[i].ID < r.Nodes[j].ID })
	r.Summary = nil
	for _, name := range r.MetricNames() {
		vals, _ := r.Values(name)
		d := defOf(name)
		r.Summary = append(r.Summary, MetricSummary{Metric: name, Unit: d.Unit, Better: d.Better, Stats: Summarize(vals, r.Precision)})
	}
	r.PerNodeSummary = nil
	for _, g := range groupSummaries(r.Replications, func(rep *Replication) map[string]map[string]float64 { return rep.PerNode }, r.Precision) {
		r.PerNodeSummary = append(r.PerNodeSummary, NodeMetricSummary{Node: g.group, Metric: g.metric, Stats: g.stats})
	}
	r.PerNeighborhoodSummary = nil
	for _, g := range groupSummaries(r.Replications, func(rep *Replication) map[string]map[string]float64 { return rep.PerNeighborhood }, r.Precision) {
		r.PerNeighborhoodSummary = append(r.PerNeighborhoodSummary, NeighborhoodMetricSummary{Neighborhood: g.group, Metric: g.metric, Stats: g.stats})
	}
	r.summarizeOperators()
}

// SummaryOf returns the summary of metric name, if present.
func (r *RunResult) SummaryOf(name string) (MetricSummary, bool) {
	for _, s := range r.Summary {
		if s.Metric == name {
			return s, true
		}
	}
	return MetricSummary{}, false
}

// Validate checks what the simulator can get wrong: unknown metric names
// (typos), duplicate replication indices, invalid H3 cells, histogram widths
// that differ between replications.
func (r *RunResult) Validate() error {
	var errs []error
	if r.Scenario == "" {
		errs = append(errs, errors.New("scenario name is empty"))
	}
	seen := map[int]bool{}
	width := math.NaN()
	for _, rep := range r.Replications {
		if seen[rep.Index] {
			errs = append(errs, fmt.Errorf("replication %d appears twice", rep.Index))
		}
		seen[rep.Index] = true
		for _, name := range sortedKeys(rep.Metrics) {
			if _, ok := Lookup(name); !ok {
				errs = append(errs, fmt.Errorf("replication %d: metric %q is not in the catalog", rep.Index, name))
			}
		}
		for _, cell := range sortedKeys(rep.DemandByCell) {
			if !h3.Cell(h3.IndexFromString(cell)).IsValid() {
				errs = append(errs, fmt.Errorf("replication %d: %q is not a valid H3 cell", rep.Index, cell))
			}
		}
		if h := rep.PickupDelay; h.Total() > 0 {
			if !(h.BinWidth > 0) {
				errs = append(errs, fmt.Errorf("replication %d: pickup delay histogram has bin width %v", rep.Index, h.BinWidth))
			} else if math.IsNaN(width) {
				width = h.BinWidth
			} else if h.BinWidth != width {
				errs = append(errs, fmt.Errorf("replication %d: pickup delay bin width %v differs from %v", rep.Index, h.BinWidth, width))
			}
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteRunJSON writes run as indented JSON with a trailing newline. The same
// RunResult always gives the same bytes.
func WriteRunJSON(w io.Writer, run *RunResult) error {
	return writeJSON(w, run)
}

// ReadRunJSON reads a results.json written by WriteRunJSON. Unknown fields and
// other schema versions are errors.
func ReadRunJSON(r io.Reader) (RunResult, error) {
	var run RunResult
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&run); err != nil {
		return RunResult{}, fmt.Errorf("results: reading results JSON: %w", err)
	}
	if run.SchemaVersion != SchemaVersion {
		return RunResult{}, fmt.Errorf("results: results JSON has schema version %d, this build reads %d", run.SchemaVersion, SchemaVersion)
	}
	return run, nil
}

func sortNodes(n []NodeInfo) []NodeInfo {
	c := append([]NodeInfo(nil), n...)
	sort.Slice(c, func(i, j int) bool { return c[i].ID < c[j].ID })
	return c
}
