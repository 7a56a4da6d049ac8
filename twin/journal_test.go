package twin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

func captureOf(t *testing.T, recs []wire.CaptureRecord) string {
	var b bytes.Buffer
	require.NoError(t, wire.WriteCapture(&b, recs...))
	return b.String()
}

func outputs(t *testing.T, tw *Twin) string {
	var b bytes.Buffer
	require.NoError(t, tw.WriteReport(&b))
	require.NoError(t, tw.WriteStates(&b))
	return b.String()
}

// TestJournalRestart: replaying part of a capture, stopping, restarting on
// the same journal and finishing gives exactly the uninterrupted output,
// for every stop point.
func TestJournalRestart(t *testing.T) {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	for i, l := range []string{"L-1", "L-2", "L-3"} {
		recs = append(recs, f.lifecycle(l, int64(i*3), i != 1)...)
	}
	recs = append(recs, f.msg("prod-core", min_(200), wire.LabelState{LabelID: "L-2", State: wire.LabelRerouting, Node: "L1", RerouteTo: "P1"}))
	recs = append(recs, wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("junk")}, recs[3])
	capture := captureOf(t, recs)

	ref := newTwin(t, time5m)
	_, err := NewRunner(ref, nil).Replay(context.Background(), strings.NewReader(capture), 4)
	require.NoError(t, err)
	ref.Finish()
	want := outputs(t, ref)
	require.Contains(t, want, "reroute_unexpected")

	for _, stop := range []int{1, 7, 20, len(recs) - 1} {
		dir := t.TempDir()
		j, err := OpenJournal(dir, false)
		require.NoError(t, err)
		r := NewRunner(newTwin(t, time5m), j)
		require.NoError(t, r.Restore())
		require.NoError(t, r.Accept(recs[:stop]...))
		require.NoError(t, j.Close()) // "crash": the twin's memory is gone

		j, err = OpenJournal(dir, false)
		require.NoError(t, err)
		assert.Equal(t, uint64(stop), j.Len())
		tw := newTwin(t, time5m)
		r = NewRunner(tw, j)
		require.NoError(t, r.Restore())
		st, err := r.Replay(context.Background(), strings.NewReader(capture), 4)
		require.NoError(t, err)
		assert.Equal(t, uint64(stop), st.Skipped)
		tw.Finish()
		assert.Equal(t, want, outputs(t, tw), "stop after %d", stop)
		assert.Equal(t, uint64(len(recs)), tw.Counters().Received)
		require.NoError(t, j.Close())
	}
}

// TestJournalOversize: the journal keeps a payload over wire.MaxPayload as
// its first 64 KiB, its length and its SHA-256, and a restart that
// re-applies the journal quarantines it exactly as the live twin did.
func TestJournalOversize(t *testing.T) {
	f := newFeed(t)
	recs := f.lifecycle("L-1", 0, true)
	huge := bigPayload(10<<20, 'x')
	status := f.msg("L1", min_(1), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 1})
	status.Retain = true
	recs = append(recs[:3], append([]wire.CaptureRecord{{Topic: "lockstep/v1/lockers/L1/event", Payload: huge, RecvAt: min_(2), Retain: true},
		status}, recs[3:]...)...)

	dir := t.TempDir()
	j, err := OpenJournal(dir, false)
	require.NoError(t, err)
	live := newTwin(t, time5m)
	r := NewRunner(live, j)
	require.NoError(t, r.Restore())
	require.NoError(t, r.Accept(recs...))
	live.Finish()
	want := observeAll(t, live)
	require.Equal(t, map[string]uint64{wire.ReasonTooLarge: 1}, live.Counters().Quarantined)
	require.Equal(t, len(huge), live.Quarantine()[0].Size)

	var got []wire.CaptureRecord
	require.NoError(t, j.ReplayFrom(0, func(r wire.CaptureRecord) { got = append(got, r) }))
	require.Len(t, got, len(recs))
	for i, r := range got {
		want := recs[i]
		if i == 3 {
			want.Payload = huge[:wire.MaxPayload]
		}
		assert.Equal(t, want, r, "record %d", i)
	}
	require.NoError(t, j.Close())
	st, err := os.Stat(filepath.Join(dir, "journal.db"))
	require.NoError(t, err)
	assert.Less(t, st.Size(), int64(2<<20), "the journal holds 64 KiB of the 10 MiB payload")

	j, err = OpenJournal(dir, false)
	require.NoError(t, err)
	defer func() { require.NoError(t, j.Close()) }()
	restarted := newTwin(t, time5m)
	r = NewRunner(restarted, j)
	require.NoError(t, r.Restore())
	require.Zero(t, r.FromSnapshot)
	restarted.Finish()
	assert.Equal(t, want, observeAll(t, restarted), "re-applying the journal quarantines the payload as the live twin did")
}

func TestJournalNetworkCheck(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir, true)
	require.NoError(t, err)
	require.NoError(t, j.CheckNetwork("a"))
	require.NoError(t, j.CheckNetwork("a"))
	assert.Error(t, j.CheckNetwork("b"))
	require.NoError(t, j.Close())
}

func FuzzIngest(f *testing.F) {
	fd := newFeed(f)
	for _, r := range fd.lifecycle("L-A", 0, true) {
		f.Add(r.Topic, r.Payload)
	}
	f.Add("lockstep/v1/lockers/L1/event", []byte(`{"msg_id":"L1-1","source":"L1","seq":1,"at":"2026-03-02T10:00:00Z","type":"slot","v":1,"body":{}}`))
	f.Add("lockstep/v1/nodes/L1/status", []byte("\xff"))
	net := quickstart(f)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		no := false
		tw, err := New(Config{Network: net, Window: time5m, Replenish: &no})
		require.NoError(t, err)
		rec := wire.CaptureRecord{Topic: topic, Payload: payload}
		tw.Ingest(rec)
		tw.Ingest(rec)
		tw.Finish()
		_ = tw.Divergences(Filter{})
		_ = tw.Gaps()
		_ = tw.Labels()
	})
}
