package results

import "fmt"

// CheckSequential is the whole check of one scenario as lockstep check runs
// it: PlanCheck sizes the first stage from the baseline's variance (at least
// floor replications), grow(n) returns the run with n replications (the
// caller runs replications 0 .. n−1, or adds to the run it has), Check
// judges it, and while some check is INCONCLUSIVE and fewer replications
// than the cap were compared, NextReplications sizes the next stage from the
// observed spread. The report's Stages lists the replications after each
// stage. Errors from grow are returned as they are; Check's (a
// *MismatchError) too.
func CheckSequential(base *Baseline, cfg CheckConfig, floor int, grow func(n int) (*RunResult, error)) (*CheckReport, error) {
	n := PlanCheck(base, cfg, floor).Replications
	var stages []int
	for {
		run, err := grow(n)
		if err != nil {
			return nil, err
		}
		if len(run.Replications) != n {
			return nil, fmt.Errorf("results: asked for a run of %d replications, got %d", n, len(run.Replications))
		}
		stages = append(stages, n)
		rep, err := Check(base, run, cfg)
		if err != nil {
			return nil, err
		}
		rep.Stages = stages
		if n = rep.NextReplications(rep.MaxReplications); n == 0 {
			return rep, nil
		}
	}
}
