package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// BaselineVersion is the version of the baseline file layout written by this
// package. Version 2 added each metric's variance (and, through lockstep
// baseline, as many replications as the checks' power needs). ReadBaseline
// also reads version 1 (see Baseline.LegacyNote) and rejects other versions.
const BaselineVersion = 2

// BaselineSuffix ends the name of every baseline file: a scenario named
// "quickstart" has its baseline in quickstart.baseline.json.
const BaselineSuffix = ".baseline.json"

// Baseline is what `lockstep check` compares a new run with: one scenario's
// identity (name, seed, replications, horizon, warm-up, nodes) and, per
// catalog metric, n, the mean, the 95% CI, the variance (for the power
// computation) and the per-replication values (for the paired test). It is
// small enough to commit and review: no histograms, traces or per-node
// tables.
type Baseline struct {
	Version      int              `json:"baseline_version"`
	Scenario     string           `json:"scenario"`
	Seed         uint64           `json:"seed"`
	Replications int              `json:"replications"`
	Horizon      string           `json:"horizon"`
	Warmup       string           `json:"warmup"`
	Nodes        []string         `json:"nodes"` // "id:kind", sorted by id
	Metrics      []BaselineMetric `json:"metrics"`
	// FromVersion is the file version ReadBaseline read, when older than
	// BaselineVersion (0 otherwise); see LegacyNote.
	FromVersion int `json:"-"`
}

// LegacyNote says, for a baseline read from an older file version, what it
// lacks and how to fix it; "" for a current one.
func (b *Baseline) LegacyNote() string {
	if b.FromVersion == 0 || b.FromVersion == BaselineVersion {
		return ""
	}
	return fmt.Sprintf("baseline file version %d records no variance: it was computed from the file's %d values per metric; "+
		"regenerate the baseline with lockstep baseline to record n and the variance (and as many replications as the checks' power needs)",
		b.FromVersion, b.Replications)
}

// BaselineMetric is one metric of a baseline.
type BaselineMetric struct {
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	Better   Better  `json:"better"`
	N        int     `json:"n"` // replications that measured it
	Mean     float64 `json:"mean"`
	CI95Low  float64 `json:"ci95_low"`  // null with n < 2
	CI95High float64 `json:"ci95_high"` // null with n < 2
	// Variance is the unbiased sample variance of the n values (null with
	// n < 2): what lockstep check sizes its replications from.
	Variance float64 `json:"variance"`
	// Values holds one value per replication, in replication order (null
	// where the replication did not measure the metric).
	Values floats `json:"values"`
}

// MarshalJSON writes non-finite fields as null.
func (m BaselineMetric) MarshalJSON() ([]byte, error) { return marshalFinite(m) }

// UnmarshalJSON reads null as NaN.
func (m *BaselineMetric) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, m) }

// floats is a []float64 whose non-finite values are null in JSON.
type floats []float64

func (f floats) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		if !finite(v) {
			b.WriteString("null")
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(enc)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func (f *floats) UnmarshalJSON(data []byte) error {
	var raw []*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(floats, len(raw))
	for i, p := range raw {
		if p == nil {
			out[i] = math.NaN()
		} else {
			out[i] = *p
		}
	}
	*f = out
	return nil
}

// NewBaseline summarizes a finalized run into a baseline: every metric the
// run measured, in catalog order.
func NewBaseline(run *RunResult) *Baseline {
	b := &Baseline{Version: BaselineVersion, Scenario: run.Scenario, Seed: run.Seed,
		Replications: len(run.Replications), Horizon: run.Horizon, Warmup: run.Warmup, Nodes: nodeKeys(run.Nodes)}
	reps := append([]Replication(nil), run.Replications...)
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].Index < reps[j].Index })
	for _, name := range run.MetricNames() {
		d := defOf(name)
		m := BaselineMetric{Metric: name, Unit: d.Unit, Better: d.Better, Values: make(floats, len(reps))}
		var vals []float64
		for i, rep := range reps {
			v, ok := rep.Metrics[name]
			if !ok || !finite(v) {
				v = math.NaN()
			} else {
				vals = append(vals, v)
			}
			m.Values[i] = v
		}
		s := Summarize(vals, 0)
		m.N, m.Mean, m.CI95Low, m.CI95High, m.Variance = s.N, s.Mean, s.CI95Low, s.CI95High, s.StdDev*s.StdDev
		b.Metrics = append(b.Metrics, m)
	}
	return b
}

func nodeKeys(nodes []NodeInfo) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range sortNodes(nodes) {
		out = append(out, n.ID+":"+n.Kind)
	}
	return out
}

// Metric returns the baseline entry of metric name.
func (b *Baseline) Metric(name string) (BaselineMetric, bool) {
	for _, m := range b.Metrics {
		if m.Metric == name {
			return m, true
		}
	}
	return BaselineMetric{}, false
}

// BaselineFileName is the file name of a scenario's baseline inside a
// baseline directory: the scenario name made safe for file names, plus
// BaselineSuffix.
func BaselineFileName(scenario string) string { return slug(scenario) + BaselineSuffix }

// WriteBaseline writes b as JSON with a stable layout meant for diffs: the
// header keys one per line, then one metric per line in catalog order, so a
// changed metric is a one-line change in review. The same Baseline always
// gives the same bytes.
func WriteBaseline(w io.Writer, b *Baseline) error {
	var buf bytes.Buffer
	field := func(key string, v any, last bool) error {
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("results: encoding baseline %s: %w", key, err)
		}
		fmt.Fprintf(&buf, "  %q: %s", key, enc)
		if !last {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		return nil
	}
	buf.WriteString("{\n")
	nodes := b.Nodes
	if nodes == nil {
		nodes = []string{}
	}
	for _, f := range []struct {
		k string
		v any
	}{{"baseline_version", b.Version}, {"scenario", b.Scenario}, {"seed", b.Seed}, {"replications", b.Replications},
		{"horizon", b.Horizon}, {"warmup", b.Warmup}, {"nodes", nodes}} {
		if err := field(f.k, f.v, false); err != nil {
			return err
		}
	}
	buf.WriteString("  \"metrics\": [")
	for i, m := range b.Metrics {
		enc, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("results: encoding baseline metric %s: %w", m.Metric, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(enc)
	}
	if len(b.Metrics) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteString("]\n}\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadBaseline reads a baseline written by WriteBaseline. Unknown fields and
// unknown versions are errors. A version 1 file (no variance) still loads:
// each metric's variance is computed from its values, and FromVersion and
// LegacyNote say so. In a current file, n and the variance must agree with
// the values (a hand-edited baseline that does not is an error).
func ReadBaseline(r io.Reader) (*Baseline, error) {
	var b Baseline
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not a lockstep baseline file: %w", err)
	}
	switch b.Version {
	case 1:
		b.FromVersion = 1
	case BaselineVersion:
	default:
		return nil, fmt.Errorf("baseline file version %d, this build reads versions 1 and %d", b.Version, BaselineVersion)
	}
	if b.Scenario == "" {
		return nil, errors.New("baseline file names no scenario")
	}
	for i := range b.Metrics {
		m := &b.Metrics[i]
		if len(m.Values) != b.Replications {
			return nil, fmt.Errorf("baseline metric %s has %d values for %d replications", m.Metric, len(m.Values), b.Replications)
		}
		var vals []float64
		for _, v := range m.Values {
			if finite(v) {
				vals = append(vals, v)
			}
		}
		s := Summarize(vals, 0)
		variance := s.StdDev * s.StdDev
		if b.FromVersion == 1 {
			m.Variance = variance
			continue
		}
		if m.N != s.N {
			return nil, fmt.Errorf("baseline metric %s: n %d, but %d of its values are numbers", m.Metric, m.N, s.N)
		}
		if !sameVariance(m.Variance, variance) {
			return nil, fmt.Errorf("baseline metric %s: variance %v does not match its values (%v)", m.Metric, m.Variance, variance)
		}
	}
	return &b, nil
}

// sameVariance compares a recorded variance with a recomputed one, up to
// floating-point rounding; both NaN (n < 2) agree.
func sameVariance(recorded, computed float64) bool {
	if math.IsNaN(recorded) || math.IsNaN(computed) {
		return math.IsNaN(recorded) && math.IsNaN(computed)
	}
	return math.Abs(recorded-computed) <= 1e-9*math.Max(1, math.Abs(computed))
}

// ReadBaselineFile reads the baseline file at path.
func ReadBaselineFile(path string) (*Baseline, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := ReadBaseline(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// WriteBaselineFile writes b to dir/BaselineFileName(b.Scenario), creating
// dir, and returns the path.
func WriteBaselineFile(dir string, b *Baseline) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create baseline directory: %w", err)
	}
	var buf bytes.Buffer
	if err := WriteBaseline(&buf, b); err != nil {
		return "", err
	}
	path := filepath.Join(dir, BaselineFileName(b.Scenario))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write baseline: %w", err)
	}
	return path, nil
}
