package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/sweep"
)

// An explicit --shard 0/1 run writes the same work file a single-machine run
// streams to, and merging it alone gives byte-identical sweep.json and
// sweep.csv (and the plots); giving it twice is an error naming the shard.
func TestMergeOneShardIsTheSingleRun(t *testing.T) {
	single := t.TempDir()
	code, _, errOut := lockstep(t, append(sweepArgs, "--out", single)...)
	require.Equal(t, exitOK, code, errOut)
	want := sweepFiles(t, single)

	shardDir := t.TempDir()
	code, _, errOut = lockstep(t, append(sweepArgs, "--shard", "0/1", "--workers", "1", "--out", shardDir)...)
	require.Equal(t, exitOK, code, errOut)
	entries, err := os.ReadDir(shardDir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "a shard run writes only its shard file")
	shard := filepath.Join(shardDir, "shard-0000-of-0001.json")
	got, err := os.ReadFile(shard)
	require.NoError(t, err)
	work, err := os.ReadFile(filepath.Join(single, "shards", "shard-0000-of-0001.json"))
	require.NoError(t, err)
	assert.Equal(t, string(work), string(got), "the single run's work file is the 1-shard file")

	merged := t.TempDir()
	code, _, errOut = lockstep(t, "merge", shard, "--out", merged, "--quiet")
	require.Equal(t, exitOK, code, errOut)
	for i, b := range sweepFiles(t, merged) {
		assert.Equal(t, string(want[i]), string(b), sweep.OutputFiles[i])
	}
	for _, f := range []string{"sweep-pickup_success_rate-vs-couriers-fleet.png", "sweep-pickup_success_rate-vs-labels-ttl-ready_for_pickup.svg"} {
		assert.FileExists(t, filepath.Join(merged, f))
	}

	code, _, errOut = lockstep(t, "merge", shard, shard, "--out", t.TempDir())
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "shard 0/1 given twice")
}
