package twin_test

import (
	"context"
	"hash/fnv"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// BenchmarkIngestReplay: hwsim's two-day quickstart feed through the whole
// twin (decode, dedup, reorder, core, compare), no journal.
func BenchmarkIngestReplay(b *testing.B) {
	sc := load(b)
	recs, _ := generate(b, sc, hwsim.Faults{Duplicate: 0.01})
	net, err := sc.Network()
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tw, err := twin.New(twin.Config{Network: net, Location: location(b, sc), Window: 10 * model.Minute})
		require.NoError(b, err)
		tw.IngestBatch(recs)
		tw.Finish()
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkIngestJournal: the same through the bbolt journal (batches of 512, no fsync).
func BenchmarkIngestJournal(b *testing.B) {
	sc := load(b)
	recs, _ := generate(b, sc, hwsim.Faults{})
	net, err := sc.Network()
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, err := twin.OpenJournal(b.TempDir(), false)
		require.NoError(b, err)
		tw, err := twin.New(twin.Config{Network: net, Location: location(b, sc), Window: 10 * model.Minute})
		require.NoError(b, err)
		r := twin.NewRunner(tw, j)
		for k := 0; k < len(recs); k += 512 {
			require.NoError(b, r.Accept(recs[k:min(k+512, len(recs))]...))
		}
		tw.Finish()
		require.NoError(b, j.Close())
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkBroker: hwsim's two-day quickstart feed (no faults) published through the
// embedded broker (QoS 1, 32 publishes in flight, per-topic order kept) to
// a live twin with a bbolt journal opened without fsync (--fsync=false).
// The twin runs without a reorder window (Window < 0), so a message is
// applied to the core before its handler returns: msgs/s is the rate the
// twin journals and applies them (first publish to last applied), p99-ms
// the 99th percentile of receipt (handler entry) to applied.
func BenchmarkBroker(b *testing.B) {
	sc := load(b)
	cfg, err := sc.Config()
	require.NoError(b, err)
	cfg.Horizon = 2 * model.Day
	items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: location(b, sc)})
	require.NoError(b, err)
	var recs []wire.CaptureRecord
	for _, it := range items {
		if it.Kind == hwsim.ItemMessage {
			recs = append(recs, wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, RecvAt: it.At, Retain: it.Retain})
		}
	}
	net, err := sc.Network()
	require.NoError(b, err)
	const inflight = 32
	// one publisher goroutine per topic hash: a topic's messages stay in order
	parts := make([][]wire.CaptureRecord, inflight)
	for _, r := range recs {
		h := fnv.New32a()
		_, _ = h.Write([]byte(r.Topic))
		k := h.Sum32() % inflight
		parts[k] = append(parts[k], r)
	}
	var lat []time.Duration
	var elapsed time.Duration
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// a fresh broker each round: the last round's subscriber session
		// would otherwise be kept (and fed) by the broker
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		br, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
		require.NoError(b, err)
		j, err := twin.OpenJournal(b.TempDir(), false)
		require.NoError(b, err)
		tw, err := twin.New(twin.Config{Network: net, Location: location(b, sc), Window: -1, EventClock: true})
		require.NoError(b, err)
		r := twin.NewRunner(tw, j)
		pub, err := transport.Dial(ctx, transport.ClientConfig{URL: br.URL()})
		require.NoError(b, err)
		var mu sync.Mutex
		var got int
		done := make(chan struct{})
		lctx, lcancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			errc <- r.Live(lctx, transport.ClientConfig{URL: br.URL()}, twin.LiveConfig{Observe: func(d time.Duration) {
				mu.Lock()
				if got < len(recs) { // not the sentinel
					lat = append(lat, d)
				}
				got++
				if got == len(recs) {
					close(done)
				}
				mu.Unlock()
			}})
		}()
		require.Eventually(b, r.Ready, 10*time.Second, time.Millisecond)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for _, part := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, rec := range part {
					if err := pub.Publish(ctx, rec.Topic, rec.Payload, wire.QoS, rec.Retain); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case <-done:
		case <-ctx.Done():
			b.Fatalf("applied %d of %d", tw.Counters().Received, len(recs))
		}
		elapsed += time.Since(start)
		total += len(recs)
		b.StopTimer()
		// a sentinel after the feed on the publishers' connection: once the
		// twin has it, nothing more of the feed can come
		require.NoError(b, pub.Publish(ctx, wire.Topics{}.NodeStatus("sentinel"), sentinel(1), wire.QoS, false))
		require.Eventually(b, func() bool { return sentinels(tw) == 1 }, time.Minute, time.Millisecond)
		lcancel()
		require.NoError(b, <-errc)
		require.Equal(b, uint64(len(recs))+1, tw.Counters().Received, "the feed exactly once, and the sentinel")
		require.Equal(b, uint64(len(recs))+1, j.Len())
		require.NoError(b, pub.Close())
		require.NoError(b, j.Close())
		require.NoError(b, br.Close())
		cancel()
		b.StartTimer()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)*99)/100]
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(recs)), "msgs/op")
}

// BenchmarkRestart: restart time with and without a snapshot. The journal
// holds hwsim's feed of the five-neighborhood pilot over four days; "full"
// re-applies all of it, "snapshot" restores the snapshot taken 1 000
// records before the end (the runner's worst case with --snapshot-every
// 1000 is that many) and re-applies the rest. restart-ms is one Restore,
// snapshot-MB the stored snapshot; "take" times one snapshot.
func BenchmarkRestart(b *testing.B) {
	sc, err := scenarios.Load("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(b, err)
	cfg, err := sc.Config()
	require.NoError(b, err)
	cfg.Horizon = 4 * model.Day
	cfg.Warmup = 0
	items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: location(b, sc)})
	require.NoError(b, err)
	var recs []wire.CaptureRecord
	for _, it := range items {
		if it.Kind == hwsim.ItemMessage {
			recs = append(recs, wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, RecvAt: it.At})
		}
	}
	net, err := sc.Network()
	require.NoError(b, err)
	mk := func() *twin.Twin {
		tw, err := twin.New(twin.Config{Network: net, Location: location(b, sc), Window: 10 * model.Minute})
		require.NoError(b, err)
		return tw
	}
	build := func(snapshot bool) string {
		dir := b.TempDir()
		j, err := twin.OpenJournal(dir, false)
		require.NoError(b, err)
		r := twin.NewRunner(mk(), j)
		cut := len(recs) - 1000
		for k := 0; k < cut; k += 512 {
			require.NoError(b, r.Accept(recs[k:min(k+512, cut)]...))
		}
		if snapshot {
			require.NoError(b, r.Snapshot())
		}
		require.NoError(b, r.Accept(recs[cut:]...))
		require.NoError(b, j.Close())
		return dir
	}
	for _, snap := range []bool{false, true} {
		name := map[bool]string{false: "full", true: "snapshot"}[snap]
		b.Run(name, func(b *testing.B) {
			dir := build(snap)
			var reapplied uint64
			var size int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j, err := twin.OpenJournal(dir, false)
				require.NoError(b, err)
				r := twin.NewRunner(mk(), j)
				require.NoError(b, r.Restore())
				require.NoError(b, r.SkippedSnapshot)
				reapplied = r.Restored - r.FromSnapshot
				b.StopTimer()
				if _, state, ok, _ := j.LoadSnapshot(); ok {
					size = len(state)
				}
				require.NoError(b, j.Close())
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "restart-ms")
			b.ReportMetric(float64(len(recs)), "journal-records")
			b.ReportMetric(float64(reapplied), "reapplied-records")
			b.ReportMetric(float64(size)/1e6, "snapshot-MB")
		})
	}
	// take: the pause a snapshot costs ingest (encode the state after the
	// whole journal and write it to bbolt)
	b.Run("take", func(b *testing.B) {
		j, err := twin.OpenJournal(build(false), false)
		require.NoError(b, err)
		defer j.Close()
		r := twin.NewRunner(mk(), j)
		require.NoError(b, r.Restore())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			require.NoError(b, r.Snapshot())
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "snapshot-ms")
	})
}
