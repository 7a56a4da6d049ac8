package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
)

// run --trace keeps, in every replication, one trace point per hour of the
// horizon (warm-up included) and of the drain after it (no orders there,
// drain_hours of them) with the fields docs/results.md lists; orders in the
// hours after the warm-up are exactly the orders metric.
func TestRunTraceEndToEnd(t *testing.T) {
	const scenario = "../../scenarios/quickstart.yaml"
	s, err := scenarios.Load(scenario)
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	hours := int(cfg.Horizon / model.Hour)
	warmHours := int(cfg.Warmup / model.Hour)
	require.Equal(t, 72, hours, "quickstart simulates 3 days")
	require.Equal(t, 12, warmHours)

	dir := t.TempDir()
	code, _, errOut := lockstep(t, "run", scenario, "--replications", "3", "--trace", "--out", dir, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)

	// the raw JSON: exactly the documented fields, in every point
	var raw struct {
		Replications []struct {
			Trace []map[string]json.RawMessage `json:"trace"`
		} `json:"replications"`
	}
	require.NoError(t, json.Unmarshal(b, &raw))
	require.Len(t, raw.Replications, 3)
	want := []string{"collected", "courier_utilization", "drift", "hour", "occupancy", "orders", "ready"}
	for i, rep := range raw.Replications {
		require.GreaterOrEqual(t, len(rep.Trace), hours, "replication %d", i)
		for _, p := range rep.Trace {
			keys := make([]string, 0, len(p))
			for k := range p {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			require.Equal(t, want, keys)
		}
	}

	run, err := results.ReadRunJSON(bytes.NewReader(b))
	require.NoError(t, err)
	for _, rep := range run.Replications {
		var measured, all, ready, picked float64
		for h, p := range rep.Trace {
			require.Equal(t, float64(h), p.Hour, "replication %d: hours in order from 0", rep.Index)
			for _, v := range []float64{p.Orders, p.Ready, p.Collected, p.Occupancy, p.CourierUtilization, p.Drift} {
				require.GreaterOrEqual(t, v, 0.0)
			}
			require.LessOrEqual(t, p.Occupancy, 1.0)
			require.LessOrEqual(t, p.CourierUtilization, 1.0)
			all += p.Orders
			ready += p.Ready
			picked += p.Collected
			if h >= warmHours {
				measured += p.Orders
			}
			if h >= hours {
				require.Zero(t, p.Orders, "replication %d: no orders in the drain", rep.Index)
			}
		}
		require.Positive(t, rep.Metrics[results.MDrainHours])
		require.Equal(t, math.Floor(rep.Metrics[results.MDrainHours])+1, float64(len(rep.Trace)-hours),
			"replication %d: one point per hour of the drain, up to the hour it ended in", rep.Index)
		require.Equal(t, rep.Metrics[results.MOrders], measured,
			"replication %d: the orders metric is the trace's orders after the warm-up", rep.Index)
		require.Greater(t, all, measured, "the trace includes the warm-up")
		require.Greater(t, ready, 0.0)
		require.Greater(t, picked, 0.0)
	}

	// without --trace there is none
	bare := t.TempDir()
	code, _, errOut = lockstep(t, "run", scenario, "--replications", "3", "--out", bare, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	nb, err := os.ReadFile(filepath.Join(bare, "results.json"))
	require.NoError(t, err)
	require.NotContains(t, string(nb), `"trace"`)
}
