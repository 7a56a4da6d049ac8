package twin

import (
	"bytes"
	"encoding/gob"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

var update = flag.Bool("update", false, "rewrite the golden snapshot of the current version (testdata/snapshot-v*.bin)")

// goldenContent, if set, names what the current snapshot version added in
// the golden file's name (testdata/snapshot-v2-ingest.bin), so that two
// branches that each bump the version do not write the same file; merged,
// they become one version with one golden file.
const goldenContent = ""

// goldenFeed is a small feed that leaves every part of the twin's state
// non-empty at goldenCut: sequence gaps, duplicates and conflicts, the
// quarantine, anomalies, late messages and the reorder buffer, core timers,
// pending reports and core decisions, divergences.
func goldenFeed(t testing.TB) []wire.CaptureRecord {
	f := newFeed(t)
	var recs []wire.CaptureRecord
	recs = append(recs, f.msg("L1", min_(0), wire.Status{State: wire.NodeOnline, Reason: wire.ReasonConnect, Session: 3}))
	recs = append(recs, f.lifecycle("L-A", 0, true)...)
	b := f.lifecycle("L-B", 2, false)
	recs = append(recs, b[:3]...)
	recs = append(recs, b[3], b[3]) // a duplicate
	conflict := b[4]
	conflict.Payload = bytes.Replace(conflict.Payload, []byte(`"msg_id":"`), []byte(`"msg_id":"x`), 1)
	recs = append(recs, b[4], conflict)
	recs = append(recs, b[6:]...) // b[5] (production's "packed") never arrives: a gap
	recs = append(recs, wire.CaptureRecord{Topic: "lockstep/v1/lockers/L1/event", Payload: []byte("not json"), RecvAt: min_(40)})
	idConflict := b[6] // its msg_id with another payload
	idConflict.Payload = bytes.Replace(idConflict.Payload, []byte(`"code":"L-B"`), []byte(`"code":"L-b"`), 1)
	recs = append(recs, idConflict,
		f.msg("scn-M1", min_(41), wire.Scan{LabelID: "L-Y", OrderID: "O-Y", Node: "M1", Stage: wire.StagePick, Symbology: wire.SymQR, Code: "L-Y"}),
		f.msg("prod-oms", min_(42), wire.Order{OrderID: "O-X", LabelID: "L-X", SKU: "S99", Size: wire.SizeS, Node: "M1", Destination: "L1",
			PlacedAt: min_(42), SLADeadline: min_(600)}))
	recs = append(recs, f.lifecycle("L-C", 30, true)...)
	recs = append(recs,
		f.msg("prod-core", min_(2+35+60), wire.LabelState{LabelID: "L-B", State: wire.LabelRerouting, Node: "L1", Reason: "ttl_expired", RerouteTo: "P1"}),
		f.msg("prod-core", min_(110), wire.LabelState{LabelID: "L-C", State: wire.LabelReadyForPickup, Node: "L1",
			Refund: &wire.Refund{Amount: 990, Currency: "EUR"}}),
		f.msg("L2", min_(112), wire.Slot{Compartment: "S02", Size: wire.SizeS, State: wire.SlotOccupied, LabelID: "L-B"}),
		f.msg("prod-core", min_(113), wire.LabelState{LabelID: "L-Z", State: wire.LabelIssued, Node: "M1"}),
		f.msg("L1", min_(115), wire.Heartbeat{Session: 3}),
	)
	// a day later L-B's ready TTL (24 h) expires: the core reroutes it, and
	// so does production
	recs = append(recs,
		f.msg("L1", min_(1480), wire.Heartbeat{Session: 3}),
		f.msg("prod-core", min_(1479), wire.LabelState{LabelID: "L-B", State: wire.LabelRerouting, Node: "L1", Reason: "ttl_expired", RerouteTo: "P1"}))
	d := f.lifecycle("L-D", 1481, true)
	recs = append(recs, d[:3]...)
	recs = append(recs, f.msg("L1", min_(1490), wire.Heartbeat{Session: 3}))
	// goldenCut: here
	recs = append(recs, d[3:]...)
	recs = append(recs, f.msg("L1", min_(3*24*60), wire.Heartbeat{Session: 3}))
	return recs
}

// goldenCut is where the golden snapshot is taken: with L-D's order and
// first messages in the reorder buffer, production's reroute of L-B pending
// and the core's own reroute of it waiting for its check.
func goldenCut(recs []wire.CaptureRecord) int { return len(recs) - 11 }

func goldenTwin(t testing.TB) *Twin {
	no := false
	tw, err := New(Config{Network: quickstart(t), Location: zone(t, "Europe/Berlin"), Window: 10 * model.Minute, Replenish: &no})
	require.NoError(t, err)
	return tw
}

// TestSnapshotGolden keeps snapshots compatible across code changes: the
// snapshot a twin of the current snapshot version wrote (testdata, made
// with -update) restores, gives the same bytes again, and fed the rest of
// the feed ends exactly where a twin that saw the whole feed ends. A
// snapshot of an older version is refused with ErrSnapshotMismatch, and a
// runner whose journal holds it re-applies the journal instead, to the same
// end. Change the snapshot's layout or the meaning of the state only with a
// new snapshotVersion (and goldenContent) and -update.
func TestSnapshotGolden(t *testing.T) {
	recs := goldenFeed(t)
	cut := goldenCut(recs)
	current := filepath.Join("testdata", fmt.Sprintf("snapshot-v%d%s.bin", snapshotVersion, goldenContent))
	if *update {
		tw := goldenTwin(t)
		for _, r := range recs[:cut] {
			tw.Ingest(r)
		}
		snap, err := tw.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(current, snap, 0o644))
	}
	ref := goldenTwin(t)
	for _, r := range recs {
		ref.Ingest(r)
	}
	ref.Finish()
	want := observeAll(t, ref)
	for _, k := range []string{KindRerouteUnexpected, KindRefundUnexpected, KindSlotMismatch, KindUnknownLabel, `"conflicts":2`, `"timers_fired":1`,
		`"anomalies":{"unknown_label":1}`, ReasonMsgIDConflict, ReasonSeqConflict, ReasonUnknownSKU} {
		require.Contains(t, want, k, "the golden feed exercises %s", k)
	}

	files, err := filepath.Glob(filepath.Join("testdata", "snapshot-v*.bin"))
	require.NoError(t, err)
	require.Contains(t, files, current, "no golden snapshot of version %d: run go test ./twin -run TestSnapshotGolden -update", snapshotVersion)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			golden, err := os.ReadFile(path)
			require.NoError(t, err)
			// a runner with the feed's first cut records journaled and this
			// snapshot stored after them restores from it, or (an older
			// version) re-applies the journal; either way it ends as the
			// twin that saw the whole feed
			j, err := OpenJournal(t.TempDir(), false)
			require.NoError(t, err)
			defer func() { require.NoError(t, j.Close()) }()
			require.NoError(t, j.Append(recs[:cut]...))
			require.NoError(t, j.SaveSnapshot(uint64(cut), golden))
			r := NewRunner(goldenTwin(t), j)
			require.NoError(t, r.Restore())
			assert.Equal(t, uint64(cut), r.Restored)
			if path == current {
				require.NoError(t, r.SkippedSnapshot)
				assert.Equal(t, uint64(cut), r.FromSnapshot)
			} else {
				require.ErrorIs(t, r.SkippedSnapshot, ErrSnapshotMismatch, "an older snapshot version is refused")
				assert.Zero(t, r.FromSnapshot, "the whole journal is re-applied instead")
			}
			require.NoError(t, r.Accept(recs[cut:]...))
			r.Twin.Finish()
			assert.Equal(t, want, observeAll(t, r.Twin))

			tw := goldenTwin(t)
			err = tw.UnmarshalBinary(golden)
			if path != current {
				require.ErrorIs(t, err, ErrSnapshotMismatch, "an older snapshot version is refused")
				assert.ErrorContains(t, err, fmt.Sprintf("want %d", snapshotVersion))
				refusedByRunner(t, golden, recs, cut, want)
				return
			}
			require.NoError(t, err)
			var s snapState
			require.NoError(t, gob.NewDecoder(bytes.NewReader(golden[len(snapshotMagic):len(golden)-4])).Decode(&s))
			require.NotEmpty(t, s.Buf, "the golden snapshot holds buffered messages")
			require.NotEmpty(t, s.Pending, "the golden snapshot holds pending reports")
			require.NotEmpty(t, s.CoreQ, "the golden snapshot holds pending checks of core decisions")
			require.NotEmpty(t, s.Timers, "the golden snapshot holds timers")
			require.NotEmpty(t, s.Anoms, "the golden snapshot holds anomalies")
			again, err := tw.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, golden, again, "restore then snapshot gives the same bytes")
			for _, r := range recs[cut:] {
				tw.Ingest(r)
			}
			tw.Finish()
			assert.Equal(t, want, observeAll(t, tw))
		})
	}
}

// refusedByRunner: a journal whose stored snapshot is of an older version
// restores by re-applying the whole journal (the runner says why), and
// ends where a twin that saw the whole feed ends.
func refusedByRunner(t *testing.T, old []byte, recs []wire.CaptureRecord, cut int, want string) {
	t.Helper()
	dir := t.TempDir()
	j, err := OpenJournal(dir, false)
	require.NoError(t, err)
	require.NoError(t, j.Append(recs[:cut]...))
	require.NoError(t, j.SaveSnapshot(uint64(cut), old))
	require.NoError(t, j.Close())

	j, err = OpenJournal(dir, false)
	require.NoError(t, err)
	defer j.Close()
	tw := goldenTwin(t)
	r := NewRunner(tw, j)
	require.NoError(t, r.Restore())
	require.ErrorIs(t, r.SkippedSnapshot, ErrSnapshotMismatch)
	assert.Zero(t, r.FromSnapshot, "the old snapshot is not used")
	assert.Equal(t, uint64(cut), r.Restored, "the whole journal is re-applied")
	for _, rec := range recs[cut:] {
		tw.Ingest(rec)
	}
	tw.Finish()
	assert.Equal(t, want, observeAll(t, tw))
}
