package experiment

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

const operatorBonusFile = "../scenarios/examples/operator-bonus.yaml"

func loadOperatorBonus(t *testing.T) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Load(operatorBonusFile)
	require.NoError(t, err)
	require.NotNil(t, s.Operators)
	return s
}

func runScenario(t *testing.T, s *scenarios.Scenario, opt Options) *results.RunResult {
	t.Helper()
	r, err := Run(context.Background(), s, opt)
	require.NoError(t, err)
	return r
}

// The bonus changes no behaviour: with common random numbers the runs with
// and without the rule agree on every metric but bonus_cost, total_cost and
// fcpo, and total_cost differs by exactly bonus_cost, which is the sum of
// the operators' bonuses and of the nodes' extra cost.
func TestOperatorBonusCostsExactlyTheBonus(t *testing.T) {
	s := loadOperatorBonus(t)
	with := runScenario(t, s, Options{})
	s.Operators = nil
	without := runScenario(t, s, Options{})
	require.Len(t, with.Replications, len(without.Replications))
	var paid float64
	for i, rw := range with.Replications {
		ro := without.Replications[i]
		require.Equal(t, rw.Index, ro.Index)
		bonus, ok := rw.Metrics[results.MBonusCost]
		require.True(t, ok, "bonus_cost with a rule")
		assert.NotContains(t, ro.Metrics, results.MBonusCost, "no bonus_cost without a rule")
		for k, v := range ro.Metrics {
			switch k {
			case results.MTotalCost:
				assert.InDelta(t, v+bonus, rw.Metrics[k], 1e-6*v, "replication %d: total_cost", rw.Index)
			case results.MFCPO:
				assert.InDelta(t, rw.Metrics[results.MTotalCost]/rw.Metrics[results.MCollected], rw.Metrics[k], 1e-12)
				if bonus > 0 {
					assert.Greater(t, rw.Metrics[k], v, "replication %d: the bonus raises fcpo", rw.Index)
				}
			default:
				assert.Equal(t, v, rw.Metrics[k], "replication %d: %s", rw.Index, k)
			}
		}
		var ops, nodes float64
		for _, m := range rw.PerOperator {
			ops += m[results.MBonusCost]
		}
		for id, m := range rw.PerNode {
			nodes += m["cost"] - ro.PerNode[id]["cost"]
		}
		assert.InDelta(t, bonus, ops, 1e-9, "operators' bonuses add up")
		assert.InDelta(t, bonus, nodes, 1e-6, "nodes' extra costs add up")
		paid += bonus
	}
	assert.Positive(t, paid, "the example scenario pays bonuses")
}

// With period window the rule is one test per operator and replication:
// the bonus is per_collected × collected exactly when the operator's
// Kaplan–Meier median is below the target, else 0. The target is set
// between the replications' medians so that both outcomes occur.
func TestOperatorBonusPaidExactlyWhenRuleHolds(t *testing.T) {
	s := loadOperatorBonus(t)
	base := runScenario(t, s, Options{})
	var medians []float64
	for _, rep := range base.Replications {
		medians = append(medians, rep.PerOperator["citybox"][results.MFrictionKMP50Min])
	}
	sort.Float64s(medians)
	target := (medians[len(medians)/2-1] + medians[len(medians)/2]) / 2
	require.Less(t, medians[0], target)
	s.Operators.Bonus.Period = scenarios.BonusPeriodWindow
	s.Operators.Bonus.WhenFrictionP50Below = scenarios.Duration(target * float64(model.Minute))
	target = s.Operators.Bonus.WhenFrictionP50Below.Model().Minutes() // as the rule sees it (whole ms)
	r := runScenario(t, s, Options{})
	outcomes := map[bool]int{}
	for _, rep := range r.Replications {
		for op, m := range rep.PerOperator {
			p50, reached := m[results.MFrictionKMP50Min]
			holds := reached && p50 < target
			outcomes[holds]++
			assert.Equal(t, 1.0, m[results.MBonusPeriods], op)
			want := 0.0
			if holds {
				want = s.Operators.Bonus.PerCollected * m[results.MCollected]
				assert.Equal(t, 1.0, m[results.MBonusPeriodsPaid], op)
			} else {
				assert.Equal(t, 0.0, m[results.MBonusPeriodsPaid], op)
			}
			assert.InDelta(t, want, m[results.MBonusCost], 1e-9, "replication %d, %s: median %v, target %v", rep.Index, op, p50, target)
		}
	}
	assert.Positive(t, outcomes[true], "some operator-replications qualify")
	assert.Positive(t, outcomes[false], "some do not")
}

// Direction of each knob: a looser target never pays less (and pays more
// somewhere), per_collected scales the bonus, the period changes it.
func TestOperatorBonusKnobs(t *testing.T) {
	s := loadOperatorBonus(t)
	bonuses := func(mut func(b *scenarios.Bonus)) []float64 {
		c := *s
		b := *s.Operators.Bonus
		mut(&b)
		c.Operators = &scenarios.Operators{Bonus: &b}
		var out []float64
		for _, rep := range runScenario(t, &c, Options{}).Replications {
			out = append(out, rep.Metrics[results.MBonusCost])
		}
		return out
	}
	sum := func(xs []float64) float64 {
		var t float64
		for _, x := range xs {
			t += x
		}
		return t
	}
	var prev []float64
	for _, target := range []model.Duration{model.Hour, 6 * model.Hour, 48 * model.Hour} {
		got := bonuses(func(b *scenarios.Bonus) { b.WhenFrictionP50Below = scenarios.Duration(target) })
		if prev != nil {
			for i := range got {
				assert.GreaterOrEqual(t, got[i], prev[i], "target %v, replication %d", target, i)
			}
			assert.Greater(t, sum(got), sum(prev), "target %v pays more than the tighter one", target)
		}
		prev = got
	}
	one := bonuses(func(*scenarios.Bonus) {})
	two := bonuses(func(b *scenarios.Bonus) { b.PerCollected *= 2 })
	for i := range one {
		assert.InDelta(t, 2*one[i], two[i], 1e-9)
	}
	window := bonuses(func(b *scenarios.Bonus) { b.Period = scenarios.BonusPeriodWindow })
	assert.NotEqual(t, one, window, "the period changes the bonus")
}

// Operators pool their nodes' stays; no-shows are censored, not dropped:
// with 30 % of customers never coming, fewer stays end collected (by far
// more than the binomial standard error) and the 90th percentile of the
// friction is not reached (at most 70 % are ever collected), where
// dropping the no-shows would report one.
func TestOperatorFrictionCensoring(t *testing.T) {
	s := loadOperatorBonus(t)
	base := runScenario(t, s, Options{})
	for _, rep := range base.Replications {
		op := rep.PerOperator["citybox"]
		assert.Equal(t, rep.PerNode["L1"]["collected"]+rep.PerNode["L2"]["collected"], op[results.MCollected])
		assert.Equal(t, rep.PerNode["L1"][results.MReadyEpisodes]+rep.PerNode["L2"][results.MReadyEpisodes], op[results.MReadyEpisodes])
		assert.InDelta(t, op[results.MCollected]/op[results.MReadyEpisodes], op[results.MPickupSuccessShare], 1e-12)
		assert.Contains(t, op, results.MFrictionKMP90Min, "3 %% no-shows: the p90 is reached")
		assert.NotContains(t, rep.PerOperator, "M1", "a microstore that holds no parcels is no pickup operator")
	}
	s.Customers.NoShow = 0.3
	more := runScenario(t, s, Options{})
	pooled := func(r *results.RunResult) (p, n float64) {
		var c float64
		for _, rep := range r.Replications {
			c += rep.PerOperator["citybox"][results.MCollected]
			n += rep.PerOperator["citybox"][results.MReadyEpisodes]
		}
		return c / n, n
	}
	p0, n0 := pooled(base)
	p1, n1 := pooled(more)
	se := math.Sqrt(p0*(1-p0)/n0 + p1*(1-p1)/n1)
	assert.Greater(t, p0-p1, 5*se, "success share %.3f -> %.3f (SE %.4f)", p0, p1, se)
	for _, rep := range more.Replications {
		assert.NotContains(t, rep.PerOperator["citybox"], results.MFrictionKMP90Min, "replication %d", rep.Index)
		assert.Contains(t, rep.PerOperator["citybox"], results.MFrictionKMP50Min)
	}
}

// The per-operator output is deterministic whatever the worker count.
func TestOperatorResultsDeterministic(t *testing.T) {
	s := loadOperatorBonus(t)
	a := runScenario(t, s, Options{Workers: 1, Replications: 4})
	b := runScenario(t, s, Options{Workers: 4, Replications: 4})
	ja, err := json.Marshal(a)
	require.NoError(t, err)
	jb, err := json.Marshal(b)
	require.NoError(t, err)
	assert.Equal(t, string(ja), string(jb))
	assert.Contains(t, string(ja), `"per_operator"`)
	assert.Contains(t, string(ja), `"per_operator_summary"`)
}
