package experiment

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// The per-node reroutes and returns behind compare's headline add up to the
// run's reroutes and returns in every replication, and small lockers make
// the lockers refuse and reroute more.
func TestNodeReasonsAddUp(t *testing.T) {
	data, err := os.ReadFile("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	small := strings.ReplaceAll(string(data), "slots: {small: 16, medium: 24, large: 8}", "slots: {small: 3, medium: 4, large: 1}")
	small = strings.Replace(small, "name: quickstart", "name: small-lockers", 1)
	few, err := scenarios.Parse("small-lockers.yaml", []byte(small))
	require.NoError(t, err)
	base, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	runs, cmp, err := Compare(context.Background(), []*scenarios.Scenario{base, few}, Options{Replications: 3})
	require.NoError(t, err)
	for _, run := range runs {
		for _, rep := range run.Replications {
			var rr, rt float64
			for _, m := range rep.PerNode {
				rr += m[NodeReroutes]
				rt += m[NodeReturns]
			}
			assert.Equal(t, rep.Metrics[results.MReroutes], rr, "%s replication %d", run.Scenario, rep.Index)
			assert.Equal(t, rep.Metrics[results.MReturns], rt, "%s replication %d", run.Scenario, rep.Index)
		}
	}
	require.NotNil(t, cmp.Headline)
	require.Len(t, cmp.Headline.Biggest, 1)
	nodes := cmp.Headline.Biggest[0].Nodes
	require.NotEmpty(t, nodes)
	assert.Equal(t, "locker", nodes[0].Kind, "a locker changed most")
	assert.Greater(t, nodes[0].Refused.Diff, 0.0)
	assert.Greater(t, nodes[0].Reroutes.Diff, 0.0)
}
