package twin_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin"
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
		tw, err := twin.New(twin.Config{Network: net, Window: 10 * model.Minute})
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
		tw, err := twin.New(twin.Config{Network: net, Window: 10 * model.Minute})
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
