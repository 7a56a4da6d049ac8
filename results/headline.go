package results

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// Headline is what compare leads with: the decision before the detail.
type Headline struct {
	// Warnings say when the scenarios are not measured alike (horizons or
	// warm-ups differ), so their differences mix design and measurement.
	Warnings []string `json:"warnings,omitempty"`
	// KeyMetrics are the winner of each key metric with its paired CI.
	KeyMetrics []MetricWinner `json:"key_metrics"`
	// Parameters are the scenario parameters that differ (structural diff
	// of the YAML files), one value per scenario ("" where a file does not
	// set it and the default applies).
	// Nil when the files were not at hand (CompareRuns alone).
	Parameters []ParamDiff `json:"parameters,omitempty"`
	// Biggest are, per scenario after the base, its largest significant
	// differences against the base and the nodes behind them.
	Biggest []BiggestDifferences `json:"biggest_differences"`
	// Selection is compare --select's outcome, when asked for.
	Selection *Selection `json:"selection,omitempty"`
}

// ParamDiff is one scenario parameter that differs, by YAML path.
type ParamDiff struct {
	Path   string   `json:"path"`
	Values []string `json:"values"` // per scenario, in order; "" = not set (default)
}

// MetricWinner is one key metric's verdict across the scenarios.
type MetricWinner struct {
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	Better Better `json:"better"`
	// Means per scenario, in order.
	Means []ScenarioMean `json:"means"`
	// Winner has the best mean (in the metric's direction; none for a
	// neutral metric); RunnerUp the next best. Diff is the paired
	// difference Winner − RunnerUp and Significant says its 95% CI
	// excludes zero.
	Winner      string     `json:"winner,omitempty"`
	RunnerUp    string     `json:"runner_up,omitempty"`
	Diff        Difference `json:"diff"`
	Significant bool       `json:"significant"`
}

// ScenarioMean is one scenario's mean of a metric.
type ScenarioMean struct {
	Scenario string  `json:"scenario"`
	Mean     float64 `json:"mean"`
}

// MarshalJSON writes a non-finite mean as null.
func (m ScenarioMean) MarshalJSON() ([]byte, error) { return marshalFinite(m) }

// UnmarshalJSON reads null as NaN.
func (m *ScenarioMean) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, m) }

// BiggestDifferences are one scenario's largest significant differences
// against the base (by relative size) and the nodes whose refusals,
// reroutes and returns changed most.
type BiggestDifferences struct {
	Scenario string         `json:"scenario"`
	Metrics  []MetricChange `json:"metrics"`
	Nodes    []NodeReason   `json:"nodes"`
}

// MetricChange is a metric's paired difference scenario − base.
type MetricChange struct {
	Metric  string     `json:"metric"`
	Unit    string     `json:"unit"`
	Better  Better     `json:"better"`
	Diff    Difference `json:"diff"`
	Verdict Verdict    `json:"verdict"`
}

// NodeReason is one node's change in the parcels it refused, rerouted away
// and returned (means per replication, scenario − base, paired).
type NodeReason struct {
	Node     string     `json:"node"`
	Kind     string     `json:"kind"`
	Refused  NodeChange `json:"refused"`
	Reroutes NodeChange `json:"reroutes"`
	Returns  NodeChange `json:"returns"`
}

// NodeChange is a per-node count in the base and the scenario and their
// paired mean difference.
type NodeChange struct {
	Base     float64 `json:"base"`
	Scenario float64 `json:"scenario"`
	Diff     float64 `json:"diff"`
}

// MarshalJSON writes non-finite numbers as null.
func (c NodeChange) MarshalJSON() ([]byte, error) { return marshalFinite(c) }

// UnmarshalJSON reads null as NaN.
func (c *NodeChange) UnmarshalJSON(b []byte) error { return unmarshalFinite(b, c) }

// Node reason metrics (per node, recorded by the experiment package).
const (
	nodeRefused  = "refused"
	nodeReroutes = "reroutes"
	nodeReturns  = "returns"
)

// headlineMetrics and headlineNodes bound the lists of BiggestDifferences.
const (
	headlineMetrics = 3
	headlineNodes   = 5
)

// NewHeadline builds the headline of cmp over runs (the runs cmp compares,
// in order) with the parameters that differ between their scenario files.
func NewHeadline(runs []RunResult, cmp *Comparison, params []ParamDiff) *Headline {
	h := &Headline{Parameters: params}
	if len(runs) == 0 {
		return h
	}
	base := &runs[0]
	for _, r := range runs[1:] {
		if r.Horizon != base.Horizon {
			h.Warnings = append(h.Warnings, fmt.Sprintf("horizons differ: %s %s, %s %s — totals (orders, costs, counts) are not comparable, and rates cover different periods", base.Scenario, base.Horizon, r.Scenario, r.Horizon))
		}
		if r.Warmup != base.Warmup {
			h.Warnings = append(h.Warnings, fmt.Sprintf("warm-ups differ: %s %s, %s %s — the measured windows start at different times", base.Scenario, base.Warmup, r.Scenario, r.Warmup))
		}
	}
	for _, name := range KeyMetrics {
		if mw, ok := metricWinner(runs, name); ok {
			h.KeyMetrics = append(h.KeyMetrics, mw)
		}
	}
	for i := 1; i < len(runs); i++ {
		h.Biggest = append(h.Biggest, biggest(runs, cmp, i))
	}
	return h
}

// metricWinner finds the best scenario on name and its paired difference
// with the runner-up.
func metricWinner(runs []RunResult, name string) (MetricWinner, bool) {
	d := defOf(name)
	mw := MetricWinner{Metric: name, Unit: d.Unit, Better: d.Better, Diff: Difference{Mean: math.NaN(), StdDev: math.NaN(),
		CI95Low: math.NaN(), CI95High: math.NaN(), HalfWidth: math.NaN(), RelChange: math.NaN(), Verdict: VerdictNotApplicable}}
	type cand struct {
		i    int
		mean float64
	}
	var cs []cand
	for i := range runs {
		v, _ := runs[i].Values(name)
		m := math.NaN()
		if len(v) > 0 {
			m = Summarize(v, 0).Mean
			cs = append(cs, cand{i, m})
		}
		mw.Means = append(mw.Means, ScenarioMean{Scenario: runs[i].Scenario, Mean: m})
	}
	if len(cs) == 0 {
		return mw, false
	}
	if d.Better == Neutral || len(cs) < 2 {
		return mw, true
	}
	sign := 1.0
	if d.Better == LowerIsBetter {
		sign = -1
	}
	sort.SliceStable(cs, func(a, b int) bool { return sign*cs[a].mean > sign*cs[b].mean })
	w, r := &runs[cs[0].i], &runs[cs[1].i]
	mw.Winner, mw.RunnerUp = w.Scenario, r.Scenario
	rv, ridx := r.Values(name)
	wv, widx := w.Values(name)
	b, o := pairUp(rv, ridx, wv, widx)
	mw.Diff = Compare(b, o, d)
	mw.Significant = mw.Diff.Verdict == VerdictBetter || mw.Diff.Verdict == VerdictWorse
	return mw, true
}

// biggest lists scenario i's largest significant differences from the base
// and the nodes behind them.
func biggest(runs []RunResult, cmp *Comparison, i int) BiggestDifferences {
	bd := BiggestDifferences{Scenario: runs[i].Scenario, Metrics: []MetricChange{}, Nodes: []NodeReason{}}
	var all []MetricChange
	if cmp != nil {
		for _, m := range cmp.Metrics {
			if i-1 >= len(m.Differences) {
				continue
			}
			d := m.Differences[i-1].Diff
			significant := d.N >= 2 && finite(d.CI95Low) && finite(d.CI95High) && (d.CI95Low > 0 || d.CI95High < 0)
			if !significant || !finite(d.RelChange) {
				continue
			}
			all = append(all, MetricChange{Metric: m.Metric, Unit: m.Unit, Better: m.Better, Diff: d, Verdict: d.Verdict})
		}
	}
	sort.SliceStable(all, func(a, b int) bool {
		// judged metrics before neutral ones, then by relative size
		ja, jb := all[a].Better != Neutral, all[b].Better != Neutral
		if ja != jb {
			return ja
		}
		return math.Abs(all[a].Diff.RelChange) > math.Abs(all[b].Diff.RelChange)
	})
	bd.Metrics = append(bd.Metrics, all[:min(len(all), headlineMetrics)]...)
	bd.Nodes = nodeReasons(&runs[0], &runs[i])
	return bd
}

// nodeReasons compares the per-node refusals, reroutes and returns of run o
// against base b over paired replications and keeps the nodes that changed
// most.
func nodeReasons(b, o *RunResult) []NodeReason {
	bi := map[int]*Replication{}
	for j := range b.Replications {
		bi[b.Replications[j].Index] = &b.Replications[j]
	}
	kinds := map[string]string{}
	for _, n := range append(append([]NodeInfo{}, b.Nodes...), o.Nodes...) {
		kinds[n.ID] = n.Kind
	}
	type acc struct{ base, other [3]float64 }
	sums := map[string]*acc{}
	pairs := 0
	for j := range o.Replications {
		or := &o.Replications[j]
		br, ok := bi[or.Index]
		if !ok {
			continue
		}
		pairs++
		for _, side := range []struct {
			rep   *Replication
			other bool
		}{{br, false}, {or, true}} {
			for node, m := range side.rep.PerNode {
				a := sums[node]
				if a == nil {
					a = &acc{}
					sums[node] = a
				}
				for k, name := range []string{nodeRefused, nodeReroutes, nodeReturns} {
					if v, ok := m[name]; ok && finite(v) {
						if side.other {
							a.other[k] += v
						} else {
							a.base[k] += v
						}
					}
				}
			}
		}
	}
	out := []NodeReason{}
	if pairs == 0 {
		return out
	}
	type scored struct {
		r     NodeReason
		score float64
	}
	var ss []scored
	for node, a := range sums {
		ch := func(k int) NodeChange {
			bm, om := a.base[k]/float64(pairs), a.other[k]/float64(pairs)
			return NodeChange{Base: bm, Scenario: om, Diff: om - bm}
		}
		r := NodeReason{Node: node, Kind: kinds[node], Refused: ch(0), Reroutes: ch(1), Returns: ch(2)}
		score := math.Abs(r.Refused.Diff) + math.Abs(r.Reroutes.Diff) + math.Abs(r.Returns.Diff)
		if score == 0 {
			continue
		}
		ss = append(ss, scored{r, score})
	}
	sort.Slice(ss, func(a, b int) bool {
		if ss[a].score != ss[b].score {
			return ss[a].score > ss[b].score
		}
		return ss[a].r.Node < ss[b].r.Node
	})
	for _, s := range ss[:min(len(ss), headlineNodes)] {
		out = append(out, s.r)
	}
	return out
}

// FormatHeadline writes cmp's headline as text (nothing when it has none):
// warnings, the key metrics' winners, the parameters that differ, the
// biggest differences with their nodes, and the selection.
func FormatHeadline(w io.Writer, cmp *Comparison) error {
	h := cmp.Headline
	if h == nil {
		return nil
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "DECISION  %s; 95%% CIs on paired replications (common random numbers)\n", strings.Join(cmp.Scenarios, " vs "))
	for _, wn := range h.Warnings {
		fmt.Fprintf(&out, "WARNING: %s\n", wn)
	}
	if h.Selection != nil {
		fmt.Fprintf(&out, "selection on %s: %s\n", h.Selection.Metric, h.Selection.Statement)
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "key metric\t\tunit\twinner\twinner − runner-up\t95% CI\tsignificance\t")
	for _, m := range h.KeyMetrics {
		winner, by, ci, sig := winnerCells(m)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Metric, m.Better.Arrow(), m.Unit, winner, by, ci, sig)
	}
	if err := flushTrimmed(&out, tw, &buf); err != nil {
		return err
	}
	if h.Parameters == nil {
		// the scenario files were not at hand
	} else if len(h.Parameters) == 0 {
		out.WriteString("parameters that differ: none (the scenario files set the same values)\n")
	} else {
		fmt.Fprintf(&out, "parameters that differ (%s):\n", strings.Join(cmp.Scenarios, " | "))
		for _, p := range h.Parameters {
			vals := make([]string, len(p.Values))
			for i, v := range p.Values {
				vals[i] = paramValue(v)
			}
			fmt.Fprintf(&out, "  %s: %s\n", p.Path, strings.Join(vals, " | "))
		}
	}
	for _, b := range h.Biggest {
		fmt.Fprintf(&out, "%s vs %s, biggest differences: %s\n", b.Scenario, cmp.Base, changeList(b.Metrics))
		if len(b.Nodes) > 0 {
			fmt.Fprintf(&out, "  by node (%s − %s, per replication):\n", b.Scenario, cmp.Base)
			for _, n := range b.Nodes {
				fmt.Fprintf(&out, "    %s (%s): %s\n", n.Node, n.Kind, nodeReasonText(n))
			}
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}

// winnerCells are the winner, its lead, the lead's CI and its significance.
func winnerCells(m MetricWinner) (winner, by, ci, sig string) {
	if m.Better == Neutral {
		parts := make([]string, len(m.Means))
		for i, s := range m.Means {
			parts[i] = fmtNum(s.Mean)
		}
		return "(neutral)", strings.Join(parts, " | "), "", "not judged"
	}
	if m.Winner == "" {
		return "–", "", "", "one scenario measured it"
	}
	d := m.Diff
	dec := statDecimals(d.Mean, d.HalfWidth)
	by = fmtSigned(d.Mean, dec) + " vs " + m.RunnerUp
	ci = fmtCI(d.CI95Low, d.CI95High, dec)
	switch {
	case m.Significant:
		sig = "significant"
	case d.Verdict == VerdictInsufficientData:
		sig = "too few replications"
	default:
		sig = "not significant"
	}
	return m.Winner, by, ci, sig
}

func paramValue(v string) string {
	if v == "" {
		return "(default)"
	}
	return v
}

func changeList(ms []MetricChange) string {
	if len(ms) == 0 {
		return "none significant"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		d := m.Diff
		dec := statDecimals(d.Mean, d.HalfWidth)
		parts[i] = fmt.Sprintf("%s %s (%s%%) %s", m.Metric, fmtSigned(d.Mean, dec), fmtSigned(100*d.RelChange, 1), fmtCI(d.CI95Low, d.CI95High, dec))
		if m.Verdict == VerdictBetter || m.Verdict == VerdictWorse {
			parts[i] += " " + string(m.Verdict)
		}
	}
	return strings.Join(parts, "; ")
}

func nodeReasonText(n NodeReason) string {
	f := func(name string, c NodeChange) string {
		return fmt.Sprintf("%s %s→%s (%s)", name, fmtDec(c.Base, 1), fmtDec(c.Scenario, 1), fmtSigned(c.Diff, 1))
	}
	return f("refused", n.Refused) + ", " + f("rerouted away", n.Reroutes) + ", " + f("returned", n.Returns)
}
