package experiment

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// Options.Day is called once per simulated day of every replication, days
// 1..horizon in order per replication, as many times as Work says, and does
// not change the results.
func TestDayCallback(t *testing.T) {
	s, err := scenarios.Load("../scenarios/quickstart.yaml") // horizon 3d
	require.NoError(t, err)
	ctx := context.Background()
	opt := Options{Replications: 3, Workers: 2}
	reps, days, err := Work(s, opt)
	require.NoError(t, err)
	require.Equal(t, 3, reps)
	require.Equal(t, int64(3*3), days, "replications × horizon days")

	var mu sync.Mutex
	seen := map[int][]int{}
	calls := int64(0)
	withDays := opt
	withDays.Day = func(rep, day int) {
		mu.Lock()
		defer mu.Unlock()
		seen[rep] = append(seen[rep], day)
		calls++
	}
	got, err := Run(ctx, s, withDays)
	require.NoError(t, err)
	require.Equal(t, days, calls)
	require.Equal(t, map[int][]int{0: {1, 2, 3}, 1: {1, 2, 3}, 2: {1, 2, 3}}, seen)

	want, err := Run(ctx, s, opt)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, results.WriteRunJSON(&a, want))
	require.NoError(t, results.WriteRunJSON(&b, got))
	require.Equal(t, a.String(), b.String(), "the day callback does not change the results")
}

// CompareWork counts every scenario's replications (the first scenario's
// count) and days.
func TestCompareWork(t *testing.T) {
	a, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	b, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	b.Name, b.Replications = "b", 9
	reps, days, err := CompareWork([]*scenarios.Scenario{a, b}, Options{})
	require.NoError(t, err)
	require.Equal(t, 2*a.Replications, reps)
	require.Equal(t, int64(2*a.Replications*3), days)
	reps, days, err = CompareWork([]*scenarios.Scenario{a, b}, Options{Replications: 4})
	require.NoError(t, err)
	require.Equal(t, 8, reps)
	require.Equal(t, int64(8*3), days)
}
