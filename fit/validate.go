package fit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// ValidateOptions tune a validation.
type ValidateOptions struct {
	// Replications of the fitted scenario (zero: DefaultValidateReplications).
	Replications int
	// Seed of the replications; nil: the fitted scenario's seed XOR
	// ValidateSeedMix, so the replications do not share random numbers with
	// a feed hwsim simulated from the same seed.
	Seed *uint64
	// Workers bounds parallel replications (zero: GOMAXPROCS).
	Workers int
	// Level of the intervals (zero: 0.95).
	Level float64
}

// Defaults of ValidateOptions.
const (
	DefaultValidateReplications = 10
	ValidateSeedMix             = 0x9e3779b97f4a7c15
)

// Check is one metric: what the twin observed in the window and what the
// fitted scenario's replications give over the same window.
type Check struct {
	Metric   string  `json:"metric"`
	Node     string  `json:"node,omitempty"`
	Unit     string  `json:"unit"`
	Observed float64 `json:"observed"`
	Mean     float64 `json:"sim_mean"`
	SD       float64 `json:"sim_sd"`
	// CI is the confidence interval of the simulated mean; PI the
	// prediction interval of one replication, which is what one observed
	// period is: Inside says whether the observation lies in the PI.
	CI     [2]float64 `json:"sim_ci"`
	PI     [2]float64 `json:"sim_pi"`
	InCI   bool       `json:"inside_ci"`
	Inside bool       `json:"inside"`
}

// Validation is the operational-validity check of a fitted scenario.
type Validation struct {
	Scenario     string  `json:"scenario"`
	From         string  `json:"from"`
	To           string  `json:"to"`
	Replications int     `json:"replications"`
	Seed         uint64  `json:"seed"`
	Level        float64 `json:"level"`
	Checks       []Check `json:"checks"`
	Inside       int     `json:"inside"`
}

// Validate simulates the fitted scenario (the bytes Result.YAML wrote)
// over the window with replications, without a drain (the feed stops at
// the window's end, so the simulation does too), and compares its key
// metrics with what the feed shows: orders, pickup success, pickup friction
// p50 and p90, reroutes, and the mean parcels held by each node.
func (r *Result) Validate(ctx context.Context, fitted []byte, opt ValidateOptions) (*Validation, error) {
	sc, err := scenarios.Parse("fitted.yaml", fitted)
	if err != nil {
		return nil, fmt.Errorf("fit: validate: %w", err)
	}
	cfg, err := sc.Config()
	if err != nil {
		return nil, fmt.Errorf("fit: validate: %w", err)
	}
	c := *cfg
	c.Drain = 0
	c.Seed = cfg.Seed ^ ValidateSeedMix
	if opt.Seed != nil {
		c.Seed = *opt.Seed
	}
	n := opt.Replications
	if n <= 0 {
		n = DefaultValidateReplications
	}
	if n < 2 {
		return nil, fmt.Errorf("fit: validate: needs at least 2 replications for an interval (got %d)", n)
	}
	level := opt.Level
	if level <= 0 || level >= 1 {
		level = 0.95
	}
	reps, err := experiment.Replications(ctx, &c, 0, n, experiment.Options{Workers: opt.Workers})
	if err != nil {
		return nil, fmt.Errorf("fit: validate: %w", err)
	}
	v := &Validation{Scenario: sc.Name, From: dateOf(r.From), To: dateOf(r.To), Replications: n, Seed: c.Seed, Level: level}
	obs := r.observed()
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-level)/2)
	add := func(metric, node, unit string, observed float64, sims []float64) {
		m, sd := stat.MeanStdDev(sims, nil)
		ch := Check{Metric: metric, Node: node, Unit: unit, Observed: observed, Mean: m, SD: sd,
			CI: [2]float64{m - t*sd/math.Sqrt(float64(n)), m + t*sd/math.Sqrt(float64(n))},
			PI: [2]float64{m - t*sd*math.Sqrt(1+1/float64(n)), m + t*sd*math.Sqrt(1+1/float64(n))}}
		const eps = 1e-9
		ch.InCI = observed >= ch.CI[0]-eps && observed <= ch.CI[1]+eps
		ch.Inside = observed >= ch.PI[0]-eps && observed <= ch.PI[1]+eps
		if ch.Inside {
			v.Inside++
		}
		v.Checks = append(v.Checks, ch)
	}
	col := func(name string) []float64 {
		out := make([]float64, n)
		for i, rep := range reps {
			out[i] = rep.Metrics[name]
		}
		return out
	}
	add(results.MOrders, "", "count", obs.orders, col(results.MOrders))
	add(results.MPickupSuccessRate, "", "share", obs.success, col(results.MPickupSuccessRate))
	add(results.MPickupFrictionP50, "", "minutes", obs.p50, col(results.MPickupFrictionP50))
	add(results.MPickupFrictionP90, "", "minutes", obs.p90, col(results.MPickupFrictionP90))
	add(results.MReroutes, "", "count", obs.reroutes, col(results.MReroutes))
	for _, nd := range r.Net.Net.Nodes {
		if nd.Slots[0]+nd.Slots[1]+nd.Slots[2] == 0 && nd.Counter == 0 {
			continue
		}
		sims := make([]float64, n)
		for i, rep := range reps {
			sims[i] = rep.PerNode[nd.ID]["occupancy"]
		}
		add("occupancy", nd.ID, "parcels", obs.occupancy[nd.ID], sims)
	}
	return v, nil
}

type observedMetrics struct {
	orders, success, p50, p90, reroutes float64
	occupancy                           map[string]float64
}

// observed computes the validation's metrics from the feed with the
// simulator's definitions (docs/results.md), over the window: the cohort is
// the orders placed in it, followed to the window's end.
func (r *Result) observed() observedMetrics {
	o := r.Obs
	var m observedMetrics
	var friction []float64
	window := r.Net.Net.Policy.PickupWindow
	within := 0
	for _, od := range o.orders {
		if od.at < r.From || od.at >= r.To {
			continue
		}
		m.orders++
		l := o.labels[od.label]
		if l == nil {
			continue
		}
		for range l.reroutes {
			m.reroutes++
		}
		if l.pickedUp != 0 && l.pickedUp < r.To && l.ready != 0 {
			wait := l.pickedUp.Sub(l.ready)
			friction = append(friction, wait.Minutes())
			if !l.late && l.ready <= od.due && wait <= window {
				within++
			}
		}
	}
	if m.orders > 0 {
		m.success = float64(within) / m.orders
	}
	sort.Float64s(friction)
	if len(friction) > 0 {
		m.p50 = stat.Quantile(0.5, stat.Empirical, friction, nil)
		m.p90 = stat.Quantile(0.9, stat.Empirical, friction, nil)
	}
	m.occupancy = map[string]float64{}
	span := float64(r.To.Sub(r.From))
	for id, evs := range o.slots {
		held, area := 0, 0.0
		prev := r.From
		for _, e := range evs {
			at := min(max(e.at, r.From), r.To)
			area += float64(held) * float64(at-prev)
			prev = at
			held += e.delta
		}
		area += float64(held) * float64(r.To-prev)
		m.occupancy[id] = area / span
	}
	return m
}

// Print writes the validation as a table.
func (v *Validation) Print(w io.Writer) error {
	fmt.Fprintf(w, "validation of %s over %s .. %s: %d replications (seed %d), %.0f %% intervals\n", v.Scenario, v.From, v.To, v.Replications, v.Seed, v.Level*100)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tnode\tobserved\tsim mean\tCI of mean\tPI of one period\tinside")
	for _, c := range v.Checks {
		in := "yes"
		if !c.Inside {
			in = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t[%s, %s]\t[%s, %s]\t%s\n", c.Metric, c.Node, g4(c.Observed), g4(c.Mean), g4(c.CI[0]), g4(c.CI[1]), g4(c.PI[0]), g4(c.PI[1]), in)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d observed values inside the prediction interval of one period (expected about %.0f %% when the scenario is right)\n",
		v.Inside, len(v.Checks), v.Level*100)
	return err
}

// WriteJSON writes the validation as indented JSON.
func (v *Validation) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func g4(x float64) string {
	if math.Abs(x) >= 100 {
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.4g", x)
}

var _ = model.Minute

// Floor is the fewest checks inside their intervals that a right scenario
// gives with 99 % probability: the 1 % quantile of Binomial(checks, level).
func (v *Validation) Floor() int {
	m := len(v.Checks)
	for k := 0; k <= m; k++ {
		if (distuv.Binomial{N: float64(m), P: v.Level}).CDF(float64(k)) >= 0.01 {
			return k
		}
	}
	return m
}
