package experiment

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// SelectOptions configure Select.
type SelectOptions struct {
	// Metric is the catalog metric to select on; its direction says which
	// way is better (a neutral metric cannot be selected on).
	Metric string
	// Delta is the indifference zone in the metric's unit: the guarantee
	// holds when the best scenario is better than every other by at least
	// Delta. Must be > 0.
	Delta float64
	// PCS is the probability of correct selection to guarantee, in (1/k, 1);
	// 0 means DefaultPCS.
	PCS float64
	// N0 is the first-stage sample per scenario (>= 2); 0 means DefaultN0.
	N0 int
	// Max caps the replications per scenario; 0 means DefaultSelectMax.
	Max int
}

// Defaults of SelectOptions.
const (
	DefaultPCS       = 0.95
	DefaultN0        = 10
	DefaultSelectMax = 1000
)

// knObserver supplies the observations of the procedure: more(i, first, n)
// returns observations first .. first+n-1 of design i (replications
// first .. first+n-1, so that designs stay paired: common random numbers).
type knObserver func(i, first, n int) ([]float64, error)

// knResult is the pure outcome of the KN procedure.
type knResult struct {
	best         int
	guaranteed   bool
	h2           float64
	used         []int // stage of elimination (or the last stage) per design
	simulated    []int
	means        []float64 // over used
	eliminatedAt []int     // 0 for survivors
	eliminatedBy []int     // -1 for survivors
}

// knH2 is Kim and Nelson's constant h² = 2cη(n0−1) with c = 1 and
// η = ½[(2α/(k−1))^(−2/(n0−1)) − 1] (Kim & Nelson 2001, procedure KN).
func knH2(k, n0 int, alpha float64) float64 {
	eta := 0.5 * (math.Pow(2*alpha/float64(k-1), -2/float64(n0-1)) - 1)
	return 2 * eta * float64(n0-1)
}

// kn runs Kim and Nelson's fully sequential procedure KN for k designs,
// larger is better: first n0 observations of each, the variances S²_il of
// the pairwise differences from them (valid with common random numbers),
// then after each stage r it screens out design i when its mean falls below
// another survivor's mean by more than W_il(r) = max(0, δ/(2r)·(h²S²_il/δ² − r)),
// adding one observation per survivor and stage until one is left. Under
// normal outputs with the best at least δ ahead of the rest it selects the
// best with probability >= 1 − alpha. Observations are requested in batches
// (batch(r) more per survivor at stage r) so a driver can run them in
// parallel; the decisions depend only on the first r observations, so the
// batch size changes what is simulated, never what is selected. It stops at
// maxN per design without a guarantee (the best mean among the survivors).
func kn(k, n0 int, delta, alpha float64, maxN int, more knObserver, batch func(r int) int) (knResult, error) {
	if k < 2 {
		return knResult{}, fmt.Errorf("selection needs at least two designs, got %d", k)
	}
	if n0 < 2 {
		return knResult{}, fmt.Errorf("first stage n0 must be at least 2, got %d", n0)
	}
	if !(delta > 0) || math.IsInf(delta, 0) {
		return knResult{}, fmt.Errorf("indifference zone delta must be a positive number, got %v", delta)
	}
	if !(alpha > 0 && alpha < 1-1/float64(k)) {
		return knResult{}, fmt.Errorf("PCS must be in (1/%d, 1), got %v", k, 1-alpha)
	}
	maxN = max(maxN, n0)
	res := knResult{h2: knH2(k, n0, alpha), used: make([]int, k), simulated: make([]int, k), means: make([]float64, k),
		eliminatedAt: make([]int, k), eliminatedBy: make([]int, k)}
	obs := make([][]float64, k)
	sums := make([][]float64, k) // prefix sums: sums[i][r] = sum of the first r
	add := func(i, n int) error {
		v, err := more(i, len(obs[i]), n)
		if err != nil {
			return err
		}
		if len(v) != n {
			return fmt.Errorf("design %d: got %d observations, want %d", i, len(v), n)
		}
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("design %d: observation %d is not a finite number", i, len(obs[i]))
			}
			if len(sums[i]) == 0 {
				sums[i] = append(sums[i], 0)
			}
			sums[i] = append(sums[i], sums[i][len(sums[i])-1]+x)
			obs[i] = append(obs[i], x)
		}
		res.simulated[i] = len(obs[i])
		return nil
	}
	for i := range k {
		res.eliminatedBy[i] = -1
		if err := add(i, n0); err != nil {
			return knResult{}, err
		}
	}
	// S²_il from the first stage
	s2 := make([][]float64, k)
	for i := range k {
		s2[i] = make([]float64, k)
	}
	for i := range k {
		for l := i + 1; l < k; l++ {
			mi, ml := sums[i][n0]/float64(n0), sums[l][n0]/float64(n0)
			var ss float64
			for j := range n0 {
				d := obs[i][j] - obs[l][j] - (mi - ml)
				ss += d * d
			}
			s2[i][l] = ss / float64(n0-1)
			s2[l][i] = s2[i][l]
		}
	}
	alive := make([]int, k)
	for i := range alive {
		alive[i] = i
	}
	mean := func(i, r int) float64 { return sums[i][r] / float64(r) }
	r := n0
	for {
		var keep []int
		for _, i := range alive {
			out := -1
			for _, l := range alive {
				if l == i {
					continue
				}
				w := math.Max(0, delta/(2*float64(r))*(res.h2*s2[i][l]/(delta*delta)-float64(r)))
				if mean(i, r) < mean(l, r)-w {
					out = l
					break
				}
			}
			if out >= 0 {
				res.eliminatedAt[i], res.eliminatedBy[i], res.used[i] = r, out, r
				continue
			}
			keep = append(keep, i)
		}
		alive = keep
		if len(alive) == 1 {
			res.best, res.guaranteed = alive[0], true
			break
		}
		if len(alive) == 0 { // cannot happen: the largest mean always survives
			return knResult{}, errors.New("selection eliminated every design")
		}
		if r >= maxN {
			res.best = alive[0]
			for _, i := range alive[1:] {
				if mean(i, r) > mean(res.best, r) {
					res.best = i
				}
			}
			break
		}
		if len(obs[alive[0]]) <= r {
			b := min(max(batch(r), 1), maxN-r)
			for _, i := range alive {
				if err := add(i, b); err != nil {
					return knResult{}, err
				}
			}
		}
		r++
	}
	for _, i := range alive {
		res.used[i] = r
	}
	for i := range k {
		res.means[i] = mean(i, res.used[i])
	}
	return res, nil
}

// selectBatch is how many replications each surviving scenario gets at a
// time at stage r: a quarter of r, so at most a quarter of the replications
// are simulated past the point where the procedure stops. It depends on r
// only, so the output is the same for any worker count.
func selectBatch(r int) int { return (r + 3) / 4 }

// Select names the best of the scenarios on opt.Metric with Kim and Nelson's
// procedure KN, with common random numbers: replication i of every scenario
// uses the same seed and replication index. prior holds replications already
// run (by Compare, with the same seed), one RunResult per scenario in order,
// or nil; they are the first observations, and more are simulated as the
// procedure asks. The seed is opt.Seed when set, else the first scenario's.
func Select(ctx context.Context, scs []*scenarios.Scenario, prior []results.RunResult, sopt SelectOptions, opt Options) (*results.Selection, error) {
	def, ok := results.Lookup(sopt.Metric)
	if !ok {
		return nil, fmt.Errorf("--select %s: not a catalog metric (docs/results.md lists them)", sopt.Metric)
	}
	if def.Better == results.Neutral {
		return nil, fmt.Errorf("--select %s: the metric is neutral (neither higher nor lower is better), so no scenario is best on it", sopt.Metric)
	}
	if sopt.PCS == 0 {
		sopt.PCS = DefaultPCS
	}
	if sopt.N0 == 0 {
		sopt.N0 = DefaultN0
	}
	if sopt.Max == 0 {
		sopt.Max = DefaultSelectMax
	}
	if sopt.Max < sopt.N0 {
		return nil, fmt.Errorf("--max-replications %d is below the first stage n0 %d", sopt.Max, sopt.N0)
	}
	opt = compareOptions(scs, opt)
	cfgs := make([]*sim.Config, len(scs))
	for i, s := range scs {
		cfg, err := s.Config()
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		cfg.Seed = *opt.Seed
		cfgs[i] = cfg
	}
	sign := 1.0
	if def.Better == results.LowerIsBetter {
		sign = -1
	}
	// the prior replications, by index, where their seed matches
	have := make([]map[int]float64, len(scs))
	for i := range scs {
		have[i] = map[int]float64{}
		if i < len(prior) && prior[i].Seed == *opt.Seed {
			for _, rep := range prior[i].Replications {
				if v, ok := rep.Metrics[sopt.Metric]; ok {
					have[i][rep.Index] = v
				}
			}
		}
	}
	simulated := 0
	more := func(i, first, n int) ([]float64, error) {
		out := make([]float64, n)
		// reuse what was already run, simulate the rest in one batch
		todo := n
		for todo > 0 {
			if _, ok := have[i][first+n-todo]; !ok {
				break
			}
			todo--
		}
		if todo > 0 {
			o := opt
			o.Trace, o.Progress, o.Day = false, nil, nil
			reps, err := Replications(ctx, cfgs[i], first+n-todo, todo, o)
			if err != nil {
				return nil, fmt.Errorf("scenario %s: %w", scs[i].Name, err)
			}
			simulated += len(reps)
			for _, rep := range reps {
				v, ok := rep.Metrics[sopt.Metric]
				if !ok {
					return nil, fmt.Errorf("scenario %s: replication %d does not measure %s", scs[i].Name, rep.Index, sopt.Metric)
				}
				have[i][rep.Index] = v
			}
		}
		for j := range out {
			v, ok := have[i][first+j]
			if !ok {
				return nil, fmt.Errorf("scenario %s: replication %d does not measure %s", scs[i].Name, first+j, sopt.Metric)
			}
			out[j] = sign * v
		}
		return out, nil
	}
	r, err := kn(len(scs), sopt.N0, sopt.Delta, 1-sopt.PCS, sopt.Max, more, selectBatch)
	if err != nil {
		return nil, fmt.Errorf("--select %s: %w", sopt.Metric, err)
	}
	sel := &results.Selection{Procedure: "kim-nelson-kn", Metric: def.Name, Unit: def.Unit, Better: def.Better,
		Delta: sopt.Delta, PCS: sopt.PCS, N0: sopt.N0, H2: r.h2, Max: sopt.Max, Best: scs[r.best].Name,
		Guaranteed: r.guaranteed, Replications: simulated}
	for i, s := range scs {
		d := results.SelectionDesign{Scenario: s.Name, Used: r.used[i], Simulated: r.simulated[i], Mean: sign * r.means[i],
			EliminatedAt: r.eliminatedAt[i]}
		if b := r.eliminatedBy[i]; b >= 0 {
			d.EliminatedBy = scs[b].Name
		}
		sel.Designs = append(sel.Designs, d)
	}
	sel.Statement = selectionStatement(sel)
	return sel, nil
}

func selectionStatement(s *results.Selection) string {
	if s.Guaranteed {
		return fmt.Sprintf("%s is the best on %s: selected with probability at least %g of being correct whenever the best is better than the others by %g %s or more (Kim–Nelson KN, n0 %d, common random numbers, normal replication outputs assumed)",
			s.Best, s.Metric, s.PCS, s.Delta, s.Unit, s.N0)
	}
	return fmt.Sprintf("no guarantee: the cap of %d replications per scenario was reached with more than one scenario left; %s has the best mean so far. Raise --max-replications or widen --delta",
		s.Max, s.Best)
}
