package experiment

import (
	"context"
	"fmt"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// Compare runs every scenario with the same seed and replication indices, so
// replication i of each draws the same random numbers from streams of the
// same name (common random numbers), and compares each with the first. The
// seed is opt.Seed when set, else the first scenario's.
func Compare(ctx context.Context, scs []*scenarios.Scenario, opt Options) ([]results.RunResult, *results.Comparison, error) {
	if len(scs) < 2 {
		return nil, nil, fmt.Errorf("compare needs at least two scenarios, got %d", len(scs))
	}
	opt = compareOptions(scs, opt)
	runs := make([]results.RunResult, 0, len(scs))
	for _, s := range scs {
		run, err := Run(ctx, s, opt)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, *run)
	}
	cmp, err := results.CompareRuns(runs)
	if err != nil {
		return nil, nil, err
	}
	return runs, &cmp, nil
}

// compareOptions fills in what Compare takes from the first scenario: the
// seed and the number of replications.
func compareOptions(scs []*scenarios.Scenario, opt Options) Options {
	if opt.Seed == nil {
		seed := scs[0].Seed
		opt.Seed = &seed
	}
	if opt.Replications <= 0 {
		opt.Replications = scs[0].Replications
	}
	return opt
}

// CompareWork is how much Compare(ctx, scs, opt) simulates: the replications
// and simulated days (the number of Day calls) over all the scenarios.
func CompareWork(scs []*scenarios.Scenario, opt Options) (replications int, days int64, err error) {
	if len(scs) == 0 {
		return 0, 0, nil
	}
	opt = compareOptions(scs, opt)
	for _, s := range scs {
		n, d, err := Work(s, opt)
		if err != nil {
			return 0, 0, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		replications += n
		days += d
	}
	return replications, days, nil
}

// Per-node metrics behind compare's headline: why parcels did not stay where
// the customer chose ("refused" is recorded with the node's other counts).
const (
	NodeReroutes = "reroutes" // the cohort's parcels rerouted away from the node
	NodeReturns  = "returns"  // the cohort's parcels returned from the node
)

// nodeReasonMetrics adds each node's reroutes and returns to rep.PerNode.
func nodeReasonMetrics(rep *results.Replication, r *sim.Result) {
	for _, n := range r.Nodes {
		pn := rep.PerNode[n.ID]
		if pn == nil {
			continue
		}
		pn[NodeReroutes] = float64(n.Reroutes)
		pn[NodeReturns] = float64(n.Returns)
	}
}
