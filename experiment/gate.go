package experiment

import (
	"context"
	"fmt"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// Extend adds replications to a finalized run of s until it has total: it
// runs replications len(run.Replications) .. total−1 with the run's seed (the
// ones already there are not re-run) and finalizes the run again. Because
// replication i depends only on (seed, i), the result is the run that Run
// with Replications: total would have produced. A sequential check (lockstep
// check) uses it to add replications in stages. opt.Seed and
// opt.Replications are ignored; total ≤ the replications there is a no-op.
func Extend(ctx context.Context, s *scenarios.Scenario, run *results.RunResult, total int, opt Options) error {
	have := len(run.Replications)
	if total <= have {
		return nil
	}
	cfg, err := s.Config()
	if err != nil {
		return err
	}
	cfg.Seed = run.Seed
	reps, err := Replications(ctx, cfg, have, total-have, opt)
	if err != nil {
		return err
	}
	run.Replications = append(run.Replications, reps...)
	run.Finalize()
	if err := run.Validate(); err != nil {
		return fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return nil
}
