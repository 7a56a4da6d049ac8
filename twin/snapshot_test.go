package twin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// snapFeed is a faulty hwsim feed of a scenario: drops, duplicates,
// reordering, delays, malformed payloads and publisher disconnects, so the
// snapshot has to carry gaps, the reorder buffer, late messages, the
// quarantine and pending comparisons.
func snapFeed(t *testing.T, path string) (*model.Network, []wire.CaptureRecord) {
	t.Helper()
	sc, err := scenarios.Load(path)
	require.NoError(t, err)
	f := hwsim.Faults{Drop: 0.01, Duplicate: 0.02, Reorder: hwsim.ReorderFault{Rate: 0.03}, Delay: hwsim.DelayFault{Rate: 0.02},
		Malformed: hwsim.MalformedFault{Rate: 0.01}, Disconnect: hwsim.DisconnectFault{Rate: 0.001}}
	recs, _ := generate(t, sc, f)
	net, err := sc.Network()
	require.NoError(t, err)
	return net, recs
}

func newSnapTwin(t *testing.T, net *model.Network, window model.Duration) *twin.Twin {
	berlin, err := time.LoadLocation("Europe/Berlin") // the zone of snapFeed's scenarios
	require.NoError(t, err)
	tw, err := twin.New(twin.Config{Network: net, Location: berlin, Window: window})
	require.NoError(t, err)
	return tw
}

// TestSnapshotRoundTrip: a twin restored from a snapshot taken after any
// prefix of a faulty feed, fed the rest, ends exactly where the twin that
// saw the whole feed ends; and the snapshot bytes are a function of the
// state.
func TestSnapshotRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		path   string
		window model.Duration
	}{
		{"../scenarios/quickstart.yaml", 10 * model.Minute}, // some messages late
		{"../scenarios/examples/offline-serve.yaml", 12 * model.Hour},
	} {
		t.Run(tc.path, func(t *testing.T) {
			net, recs := snapFeed(t, tc.path)
			ref := newSnapTwin(t, net, tc.window)
			for _, r := range recs {
				ref.Ingest(r)
			}
			ref.Finish()
			want := twin.ObserveAll(t, ref)
			require.Contains(t, want, `"kind"`, "the feed makes divergences")

			for _, cut := range []int{0, 1, len(recs) / 7, len(recs) / 2, len(recs) - 3, len(recs)} {
				a := newSnapTwin(t, net, tc.window)
				for _, r := range recs[:cut] {
					a.Ingest(r)
				}
				snap, err := a.MarshalBinary()
				require.NoError(t, err)
				again, err := a.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, snap, again, "same state, same bytes")

				b := newSnapTwin(t, net, tc.window)
				require.NoError(t, b.UnmarshalBinary(snap))
				resnap, err := b.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, snap, resnap, "restore then snapshot gives the same bytes (cut %d)", cut)
				for _, r := range recs[cut:] {
					b.Ingest(r)
				}
				b.Finish()
				assert.Equal(t, want, twin.ObserveAll(t, b), "restored after %d of %d records", cut, len(recs))
			}
		})
	}
}

// TestSnapshotRestart: a runner snapshotting every k records, "crashed"
// after any number of records and restarted on the same journal, re-applies
// fewer than k records and finishes with exactly the uninterrupted output.
func TestSnapshotRestart(t *testing.T) {
	net, recs := snapFeed(t, "../scenarios/quickstart.yaml")
	var cb bytes.Buffer
	require.NoError(t, wire.WriteCapture(&cb, recs...))
	capture := cb.String()
	const window = 10 * model.Minute
	ref := newSnapTwin(t, net, window)
	_, err := twin.NewRunner(ref, nil).Replay(context.Background(), strings.NewReader(capture), 64)
	require.NoError(t, err)
	ref.Finish()
	want := twin.ObserveAll(t, ref)

	const every = 997
	for _, stop := range []int{500, every, 3*every + 11, len(recs) - 1} {
		dir := t.TempDir()
		j, err := twin.OpenJournal(dir, false)
		require.NoError(t, err)
		r := twin.NewRunner(newSnapTwin(t, net, window), j)
		r.SnapshotEvery = every
		require.NoError(t, r.Restore())
		for i := 0; i < stop; i += 100 { // batches, as a live client delivers
			require.NoError(t, r.Accept(recs[i:min(i+100, stop)]...))
		}
		require.NoError(t, j.Close()) // "crash"

		j, err = twin.OpenJournal(dir, false)
		require.NoError(t, err)
		tw := newSnapTwin(t, net, window)
		r = twin.NewRunner(tw, j)
		r.SnapshotEvery = every
		require.NoError(t, r.Restore())
		require.NoError(t, r.SkippedSnapshot)
		assert.Equal(t, uint64(stop), r.Restored)
		if stop >= every {
			assert.Positive(t, r.FromSnapshot, "stop %d", stop)
		}
		assert.Less(t, r.Restored-r.FromSnapshot, uint64(every+100), "re-applied records are bounded by the snapshot interval (+ one batch)")
		st, err := r.Replay(context.Background(), strings.NewReader(capture), 64)
		require.NoError(t, err)
		assert.Equal(t, uint64(stop), st.Skipped)
		tw.Finish()
		assert.Equal(t, want, twin.ObserveAll(t, tw), "stop after %d", stop)
		require.NoError(t, j.Close())
	}
}

// TestSnapshotMismatch: a snapshot taken with another configuration is not
// used (its state is not what this configuration reaches); the runner says
// why and re-applies the whole journal instead, with the right result.
func TestSnapshotMismatch(t *testing.T) {
	net, recs := snapFeed(t, "../scenarios/quickstart.yaml")
	recs = recs[:2000]
	dir := t.TempDir()
	j, err := twin.OpenJournal(dir, false)
	require.NoError(t, err)
	r := twin.NewRunner(newSnapTwin(t, net, 10*model.Minute), j)
	require.NoError(t, r.Accept(recs...))
	require.NoError(t, r.Snapshot())
	require.NoError(t, j.Close())

	ref := newSnapTwin(t, net, 30*model.Minute)
	for _, rec := range recs {
		ref.Ingest(rec)
	}
	ref.Finish()

	j, err = twin.OpenJournal(dir, false)
	require.NoError(t, err)
	defer j.Close()
	tw := newSnapTwin(t, net, 30*model.Minute)
	r = twin.NewRunner(tw, j)
	require.NoError(t, r.Restore())
	require.ErrorIs(t, r.SkippedSnapshot, twin.ErrSnapshotMismatch)
	assert.Zero(t, r.FromSnapshot)
	assert.Equal(t, uint64(len(recs)), r.Restored)
	tw.Finish()
	assert.Equal(t, twin.ObserveAll(t, ref), twin.ObserveAll(t, tw))
}

// TestSnapshotCorrupt: a damaged snapshot is an error and leaves the twin
// as it was.
func TestSnapshotCorrupt(t *testing.T) {
	net, recs := snapFeed(t, "../scenarios/quickstart.yaml")
	a := newSnapTwin(t, net, 10*model.Minute)
	for _, r := range recs[:3000] {
		a.Ingest(r)
	}
	snap, err := a.MarshalBinary()
	require.NoError(t, err)

	b := newSnapTwin(t, net, 10*model.Minute)
	for _, r := range recs[:100] {
		b.Ingest(r)
	}
	before, err := b.MarshalBinary()
	require.NoError(t, err)
	for _, bad := range [][]byte{nil, []byte("junk"), snap[:len(snap)/2], snap[:len(snap)-1], append(append([]byte{}, snap[:40]...), 0xff)} {
		require.Error(t, b.UnmarshalBinary(bad))
		after, err := b.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, before, after, "a failed restore changes nothing")
	}
	for _, at := range []int{len(snap) / 3, len(snap) / 2, len(snap) - 2} {
		flip := append([]byte{}, snap...)
		flip[at] ^= 0x5a
		require.Error(t, b.UnmarshalBinary(flip), "flipped byte %d", at)
	}
}

// TestSnapshotMetrics: each snapshot is counted and its position, size and
// duration exported; a restored twin's counters carry the snapshot's counts.
func TestSnapshotMetrics(t *testing.T) {
	net, recs := snapFeed(t, "../scenarios/quickstart.yaml")
	recs = recs[:2500]
	dir := t.TempDir()
	j, err := twin.OpenJournal(dir, false)
	require.NoError(t, err)
	m := twin.NewMetrics()
	tw, err := twin.New(twin.Config{Network: net, Window: 10 * model.Minute, Metrics: m})
	require.NoError(t, err)
	r := twin.NewRunner(tw, j)
	r.SnapshotEvery = 1000
	for i := 0; i < len(recs); i += 100 {
		require.NoError(t, r.Accept(recs[i:i+100]...))
	}
	assert.Equal(t, 2.0, twin.MetricValue(t, m.Snapshots.WithLabelValues("ok")))
	assert.Equal(t, 2000.0, twin.MetricValue(t, m.SnapshotPosition))
	assert.Positive(t, twin.MetricValue(t, m.SnapshotBytes))
	require.NoError(t, j.Close())

	j, err = twin.OpenJournal(dir, false)
	require.NoError(t, err)
	defer j.Close()
	m2 := twin.NewMetrics()
	tw2, err := twin.New(twin.Config{Network: net, Window: 10 * model.Minute, Metrics: m2})
	require.NoError(t, err)
	r2 := twin.NewRunner(tw2, j)
	require.NoError(t, r2.Restore())
	assert.Equal(t, uint64(2000), r2.FromSnapshot)
	for _, typ := range []string{"scan", "order", "label_state"} {
		assert.Equal(t, twin.MetricValue(t, m.In.WithLabelValues(typ)), twin.MetricValue(t, m2.In.WithLabelValues(typ)), typ)
	}
	assert.Equal(t, twin.MetricValue(t, m.Duplicates), twin.MetricValue(t, m2.Duplicates))
}
