package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quickSweep(t testing.TB, reps int, vary ...Vary) *Sweep {
	t.Helper()
	data, err := os.ReadFile("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	if len(vary) == 0 {
		vary = []Vary{{Path: "couriers.fleet", Values: []string{"2", "3"}}, {Path: "labels.ttl.ready_for_pickup", Values: []string{"12h", "24h"}}}
	}
	sw, err := New(Def{BaseName: "quickstart.yaml", Base: data, Vary: vary, Replications: reps})
	require.NoError(t, err)
	return sw
}

func runShards(t *testing.T, sw *Sweep, n, workers int) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < n; i++ {
		p, err := RunShardFile(context.Background(), sw, Shard{i, n}, dir, Options{Workers: workers})
		require.NoError(t, err)
		paths = append(paths, p)
	}
	return paths
}

func readOutputs(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range OutputFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestSweepGrid(t *testing.T) {
	sw := quickSweep(t, 2)
	assert.Equal(t, 4, sw.Info.Points)
	assert.Equal(t, 8, sw.Info.Items())
	assert.Equal(t, []string{"3", "12h"}, sw.Info.PointValues(2), "the last parameter varies fastest")
	s, err := sw.PointScenario(3)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Couriers.Fleet)
	assert.Equal(t, "1d", s.Labels.TTL.ReadyForPickup.String())
	// the hash covers replications, seed and values
	seed := uint64(1)
	for _, other := range []Def{
		{Replications: 3},
		{Replications: 2, Seed: &seed},
		{Replications: 2, Vary: []Vary{{Path: "couriers.fleet", Values: []string{"2", "4"}}}},
	} {
		data, _ := os.ReadFile("../scenarios/quickstart.yaml")
		other.BaseName, other.Base = "q", data
		if other.Vary == nil {
			other.Vary = []Vary{{Path: "couriers.fleet", Values: []string{"2", "3"}}, {Path: "labels.ttl.ready_for_pickup", Values: []string{"12h", "24h"}}}
		}
		o, err := New(other)
		require.NoError(t, err)
		assert.NotEqual(t, sw.Hash, o.Hash)
	}
}

func TestShardItems(t *testing.T) {
	for _, total := range []int{0, 1, 7, 12, 13} {
		for _, n := range []int{1, 2, 4, 7, 20} {
			sum := 0
			for i := 0; i < n; i++ {
				sum += Shard{i, n}.ItemCount(total)
			}
			assert.Equal(t, total, sum, "total %d in %d shards", total, n)
		}
	}
	for _, bad := range []string{"", "3", "a/4", "4/4", "-1/4", "0/0"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, bad)
	}
	sh, err := ParseShard("3/7")
	require.NoError(t, err)
	assert.Equal(t, "shard-0003-of-0007.json", sh.FileName())
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, ok, err := ShardFromEnv(0, env(nil))
	assert.False(t, ok)
	assert.NoError(t, err)
	_, _, err = ShardFromEnv(0, env(map[string]string{EnvShardIndex: "2"}))
	assert.ErrorContains(t, err, "LOCKSTEP_SHARDS")
	sh, ok, err = ShardFromEnv(0, env(map[string]string{EnvShardIndex: "2", EnvShardCount: "5"}))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, Shard{2, 5}, sh)
	sh, _, err = ShardFromEnv(3, env(map[string]string{EnvShardIndex: "2", EnvShardCount: "5"}))
	require.NoError(t, err)
	assert.Equal(t, Shard{2, 3}, sh, "the flag wins over the env")
	_, _, err = ShardFromEnv(2, env(map[string]string{EnvShardIndex: "2"}))
	assert.ErrorContains(t, err, "out of range")
}

// Any split, any worker count: the same bytes as the single-machine run.
func TestSweepShardsMergeIdentical(t *testing.T) {
	sw := quickSweep(t, 3)
	single := t.TempDir()
	out, err := Run(context.Background(), sw, single, Options{Workers: 2})
	require.NoError(t, err)
	require.Len(t, out.Plot, 4)
	want := readOutputs(t, single)
	assert.Contains(t, string(want[0]), `"definition_hash": "`+sw.Hash+`"`)
	for _, c := range []struct{ shards, workers int }{{1, 1}, {3, 2}, {5, 3}, {13, 1}} { // 13 > 12 items: an empty shard
		paths := runShards(t, sw, c.shards, c.workers)
		dir := t.TempDir()
		_, err := MergeShards(paths, dir, "")
		require.NoError(t, err)
		got := readOutputs(t, dir)
		for i := range got {
			assert.Equal(t, string(want[i]), string(got[i]), "%d shards, %s", c.shards, OutputFiles[i])
		}
	}
	for _, f := range out.Files[2:] {
		assert.FileExists(t, f)
	}
}

func TestMergeRejects(t *testing.T) {
	sw := quickSweep(t, 2)
	paths := runShards(t, sw, 4, 2)
	other := runShards(t, quickSweep(t, 3), 4, 2)
	otherSplit := runShards(t, sw, 3, 2)

	trunc := filepath.Join(t.TempDir(), "shard-0002-of-0004.json")
	b, err := os.ReadFile(paths[2])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(trunc, b[:len(b)*2/3], 0o644))
	notShard := filepath.Join(t.TempDir(), "x.json")
	require.NoError(t, os.WriteFile(notShard, []byte(`{"format":"something-else","items":[]}`), 0o644))

	for _, c := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"missing", []string{paths[0], paths[2]}, []string{"missing 2 of 4 shards", "1/4 (shard-0001-of-0004.json)", "3/4 (shard-0003-of-0004.json)"}},
		{"duplicated", []string{paths[0], paths[1], paths[1], paths[2], paths[3]}, []string{"shard 1/4 given twice", paths[1]}},
		{"other definition", []string{paths[0], paths[1], other[2], paths[3]}, []string{other[2], "different sweep definition"}},
		{"other split", []string{paths[0], paths[1], otherSplit[2], paths[3]}, []string{otherSplit[2], "split two ways"}},
		{"truncated", []string{paths[0], paths[1], trunc, paths[3]}, []string{trunc}},
		{"not a shard", []string{notShard}, []string{notShard, "lockstep-sweep-shard/v1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := MergeShards(c.files, dir, "")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NoFileExists(t, filepath.Join(dir, "sweep.json"), "no partial output")
		})
	}
}

func TestSweepPointErrors(t *testing.T) {
	data, err := os.ReadFile("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	for _, c := range []struct {
		vary []Vary
		want []string
	}{
		{[]Vary{{Path: "couriers.fleet", Values: []string{"2", "0"}}}, []string{"grid point 1 (couriers.fleet=0)", "couriers.fleet=0: must be >= 1"}},
		{[]Vary{{Path: "nodes[L1].slots.medium", Values: []string{"-1"}}}, []string{"nodes[L1].slots.medium=-1"}},
		{[]Vary{{Path: "couriers.fleet", Values: []string{"2", "2"}}}, []string{"couriers.fleet=2: value listed twice"}},
		{[]Vary{{Path: "couriers.fleet", Values: []string{"2"}}, {Path: "couriers.fleet", Values: []string{"3"}}}, []string{"couriers.fleet: varied twice"}},
		{nil, []string{"nothing to vary"}},
		{[]Vary{{Path: "seed", Values: []string{"3"}}}, []string{"seed: cannot be varied: the sweep's seed"}},
		{[]Vary{{Path: "replications", Values: []string{"3"}}}, []string{"replications: cannot be varied"}},
	} {
		_, err := New(Def{BaseName: "q.yaml", Base: data, Vary: c.vary})
		require.Error(t, err)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w)
		}
	}
	_, err = New(Def{BaseName: "q.yaml", Base: data, Vary: []Vary{{Path: "couriers.fleet", Values: []string{"2"}}}, Metric: "nope"})
	assert.ErrorContains(t, err, `metric "nope" is not in the catalog`)
	_, err = New(Def{BaseName: "bad.yaml", Base: []byte("name: x\ncolour: red\n"), Vary: []Vary{{Path: "couriers.fleet", Values: []string{"2"}}}})
	assert.ErrorContains(t, err, "bad.yaml:2:1: colour: unknown field")
}

// A sweep over neighborhoods[*].orders_per_day builds one scenario per value
// with every neighborhood's demand set, and rejects a value that fails
// validation naming the path and the value.
func TestSweepOrdersPerDayStar(t *testing.T) {
	data, err := os.ReadFile("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	sw, err := New(Def{BaseName: "pilot-5-neighborhoods.yaml", Base: data, Replications: 1,
		Vary: []Vary{{Path: "neighborhoods[*].orders_per_day", Values: []string{"100", "250.5"}}}})
	require.NoError(t, err)
	require.Equal(t, 2, sw.Info.Points)
	for p, want := range []float64{100, 250.5} {
		s, err := sw.PointScenario(p)
		require.NoError(t, err)
		require.Len(t, s.Neighborhoods, 5)
		for _, n := range s.Neighborhoods {
			assert.Equal(t, want, n.OrdersPerDay, "point %d, %s", p, n.Name)
		}
	}

	_, err = New(Def{BaseName: "pilot-5-neighborhoods.yaml", Base: data, Replications: 1,
		Vary: []Vary{{Path: "neighborhoods[*].orders_per_day", Values: []string{"100", "-5"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neighborhoods[*].orders_per_day=-5")
}

// Work counts a shard's items and their simulated days, per grid point (a
// varied horizon changes them), and a run calls Day exactly that often, in
// order within each item.
func TestWorkCountsDays(t *testing.T) {
	sw := quickSweep(t, 3, Vary{Path: "horizon", Values: []string{"1d", "2d", "36h"}})
	items, days := sw.Work(Shard{0, 1})
	assert.Equal(t, 9, items)
	assert.Equal(t, int64(3*(1+2+2)), days, "36h is two days, the last partial")
	var total, totalDays int
	for i := range 4 {
		n, d := sw.Work(Shard{i, 4})
		assert.Equal(t, Shard{i, 4}.ItemCount(9), n)
		total += n
		totalDays += int(d)
	}
	assert.Equal(t, 9, total)
	assert.Equal(t, 15, totalDays)

	var mu sync.Mutex
	seen := map[int][]int{}
	var done []int
	opt := Options{Workers: 2,
		Day:      func(k, d int) { mu.Lock(); seen[k] = append(seen[k], d); mu.Unlock() },
		Progress: func(n, _ int) { done = append(done, n) }}
	_, err := RunShardFile(context.Background(), sw, Shard{1, 4}, t.TempDir(), opt)
	require.NoError(t, err)
	n, d := sw.Work(Shard{1, 4})
	assert.Equal(t, []int{1, 2}, done)
	require.Len(t, seen, n)
	calls := 0
	for k, ds := range seen {
		assert.Equal(t, 1, k%4, "item %d is not in shard 1/4", k)
		for i, day := range ds {
			assert.Equal(t, i+1, day, "item %d", k)
		}
		calls += len(ds)
	}
	assert.Equal(t, int(d), calls)
}

func TestParseVary(t *testing.T) {
	v, err := ParseVary("labels.ttl.ready_for_pickup=6h, 12h,24h")
	require.NoError(t, err)
	assert.Equal(t, Vary{Path: "labels.ttl.ready_for_pickup", Values: []string{"6h", "12h", "24h"}}, v)
	for _, bad := range []string{"couriers.fleet", "=1,2", "couriers.fleet=", "couriers.fleet=1,,2"} {
		_, err := ParseVary(bad)
		assert.Error(t, err, bad)
	}
}

func TestLoadFile(t *testing.T) {
	def, err := LoadFile("../sweeps/pilot-ttl-fleet.yaml")
	require.NoError(t, err)
	assert.Equal(t, 10, def.Replications)
	assert.Equal(t, "pickup_success_rate", def.Metric)
	require.Len(t, def.Vary, 2)
	assert.Equal(t, []string{"6h", "12h", "24h", "48h"}, def.Vary[0].Values)
	sw, err := New(def)
	require.NoError(t, err)
	assert.Equal(t, 12, sw.Info.Points)

	dir := t.TempDir()
	base, err := filepath.Abs("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	for _, c := range []struct{ body, want string }{
		{"sweep:\n  base: " + base + "\n  vary:\n    - {path: sla.cutoff, values: [\"13:00\", \"14:00\"]}\n", ""},
		{"sweep:\n  base: " + base + "\n  colour: red\n", "field colour not found"},
		{"other: 1\n", "field other not found"},
		{"sweep:\n  vary: []\n", "sweep.base"},
		{"sweep:\n  base: nope.yaml\n", "nope.yaml"},
		{"sweep:\n  base: " + base + "\n  vary:\n    - {path: couriers.fleet, values: [[1]]}\n", "values must be scalars"},
	} {
		p := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(p, []byte(c.body), 0o644))
		def, err := LoadFile(p)
		if c.want == "" {
			require.NoError(t, err)
			assert.Equal(t, []string{`"13:00"`, `"14:00"`}, def.Vary[0].Values)
			sw, err := New(def)
			require.NoError(t, err)
			s, err := sw.PointScenario(0)
			require.NoError(t, err)
			assert.Equal(t, "13:00", s.SLA.Cutoff.String())
			continue
		}
		require.Error(t, err, c.body)
		assert.Contains(t, err.Error(), c.want)
		assert.True(t, strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "nope.yaml"))
	}
}

// The shard file streams: a reader sees items before the shard is done, in
// item order.
func TestShardFileOrder(t *testing.T) {
	sw := quickSweep(t, 3)
	var buf bytes.Buffer
	require.NoError(t, RunShard(context.Background(), sw, Shard{1, 2}, &buf, Options{Workers: 3}))
	s := buf.String()
	assert.True(t, strings.HasPrefix(s, `{"format":"lockstep-sweep-shard/v1"`))
	last := -1
	for _, k := range []string{`"item":1,`, `"item":3,`, `"item":5,`, `"item":7,`, `"item":9,`, `"item":11,`} {
		i := strings.Index(s, k)
		require.Greater(t, i, last, k)
		last = i
	}
	assert.NotContains(t, s, `"item":2,`)
}

// BenchmarkSweepPilot: the 4 × 3 grid of sweeps/pilot-ttl-fleet.yaml × 10
// replications (120 pilot runs) on 1 and 2 workers. Run with
//
//	go test ./sweep/ -run '^$' -bench SweepPilot -benchtime 1x
func BenchmarkSweepPilot(b *testing.B) {
	def, err := LoadFile("../sweeps/pilot-ttl-fleet.yaml")
	require.NoError(b, err)
	def.Replications = 10
	sw, err := New(def)
	require.NoError(b, err)
	require.Equal(b, 12, sw.Info.Points)
	for _, workers := range []int{1, 2} {
		b.Run("workers="+string(rune('0'+workers)), func(b *testing.B) {
			dir := b.TempDir()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), sw, dir, Options{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/sweep")
			b.ReportMetric(float64(sw.Info.Items()*b.N)/b.Elapsed().Seconds(), "replications/s")
		})
	}
}
