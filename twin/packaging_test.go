package twin_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func loadPackaging(t testing.TB) *scenarios.Scenario {
	sc, err := scenarios.Load("../scenarios/examples/reusable-packaging.yaml")
	require.NoError(t, err)
	sc.Warmup = scenarios.Duration(model.Day) // generate simulates two days
	return sc
}

// boxDivergences returns the twin's box_mismatch divergences.
func boxDivergences(tw *twin.Twin) []twin.Divergence {
	return tw.Divergences(twin.Filter{Kind: twin.KindBoxMismatch})
}

// hwsim's feed of the reusable-packaging example, replayed into a twin:
// every box message is applied and the twin's core agrees with production
// on every box.
func TestTwinBoxesClean(t *testing.T) {
	sc := loadPackaging(t)
	recs, truth := generate(t, sc, hwsim.Faults{})
	require.Positive(t, truth.Counts.Boxes)
	events := map[wire.BoxEvent]int{}
	for _, r := range recs {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		if b, ok := env.Body.(wire.Box); ok {
			events[b.Event]++
		}
	}
	t.Logf("box messages by event: %v", events)
	for _, e := range []wire.BoxEvent{wire.BoxPacked, wire.BoxReturned, wire.BoxCollected, wire.BoxHome, wire.BoxKept} {
		assert.Positive(t, events[e], "no %s box message", e)
	}
	tw := replay(t, sc, recs)
	assert.Empty(t, boxDivergences(tw))
	c := tw.Counters()
	assert.Equal(t, uint64(truth.Counts.Boxes), c.ByType["box"])
	assert.Zero(t, c.Ignored["box"])
	assert.Empty(t, c.Rejected, "the twin's core rejects nothing of a clean feed")
}

// A production that packs another box than the core would, or reports a
// box where the core does not have it, is reported as box_mismatch.
func TestTwinBoxMismatch(t *testing.T) {
	sc := loadPackaging(t)
	recs, _ := generate(t, sc, hwsim.Faults{})
	var packed, collected int = -1, -1
	for i, r := range recs {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		b, ok := env.Body.(wire.Box)
		if !ok {
			continue
		}
		if b.Event == wire.BoxPacked && packed < 0 {
			packed = i
		}
		if b.Event == wire.BoxCollected && collected < 0 {
			collected = i
		}
	}
	require.True(t, packed >= 0 && collected >= 0)
	tamper := func(i int, old, new string) {
		s := string(recs[i].Payload)
		require.Contains(t, s, old)
		recs[i].Payload = []byte(strings.Replace(s, old, new, 1))
	}
	env, _ := wire.Decode(recs[packed].Topic, recs[packed].Payload)
	pb := env.Body.(wire.Box)
	tamper(packed, `"box_id":"`+pb.BoxID+`"`, `"box_id":"box-99999"`)
	env, _ = wire.Decode(recs[collected].Topic, recs[collected].Payload)
	cb := env.Body.(wire.Box)
	tamper(collected, `"event":"collected"`, `"event":"home"`)
	tw := replay(t, sc, recs)
	ds := boxDivergences(tw)
	require.NotEmpty(t, ds)
	find := func(label, production string) *twin.Divergence {
		for i := range ds {
			if ds[i].Label == label && ds[i].Production == production {
				return &ds[i]
			}
		}
		return nil
	}
	d := find(pb.LabelID, "packed:box-99999")
	require.NotNil(t, d, "no divergence for the packing claim: %v", ds)
	assert.Equal(t, pb.BoxID, d.Core)
	d = find(cb.BoxID, "home:"+cb.Node)
	require.NotNil(t, d, "no divergence for the impossible home: %v", ds)
	assert.Equal(t, "waiting:"+cb.Node, d.Core)
	// the box's real home later is impossible too: the twin never saw it
	// collected
	assert.NotNil(t, find(cb.BoxID, "home:M1"))
}

// With hwsim's faults the box messages go through the same drops,
// duplicates, delays and reordering. The twin's books of boxes only part
// from production's after a message was lost: no box divergence comes
// before the first dropped or malformed message, and the packing claims
// mostly agree (the core packs the lowest box id in the pool, so one lost
// box event changes only the packings that box would have changed).
func TestTwinBoxesFaults(t *testing.T) {
	sc := loadPackaging(t)
	f := hwsim.Faults{Drop: 0.01, Duplicate: 0.02, Reorder: hwsim.ReorderFault{Rate: 0.02}, Delay: hwsim.DelayFault{Rate: 0.02},
		Malformed: hwsim.MalformedFault{Rate: 0.01}}
	recs, truth := generate(t, sc, f)
	first := ""
	for _, r := range append(append([]hwsim.FaultRecord(nil), truth.Dropped...), truth.Malformed...) {
		if first == "" || r.At < first {
			first = r.At
		}
	}
	require.NotEmpty(t, first)
	var packed, boxes int
	for _, r := range recs {
		if strings.Contains(string(r.Payload), `"type":"box"`) {
			boxes++
			if strings.Contains(string(r.Payload), `"event":"packed"`) {
				packed++
			}
		}
	}
	tw := replayWindow(t, sc, recs, 12*model.Hour)
	ds := boxDivergences(tw)
	claims := 0
	for _, d := range ds {
		at := wire.FormatInstant(d.ProductionAt)
		assert.GreaterOrEqual(t, at, first, "box divergence before anything was lost: %+v", d)
		if strings.HasPrefix(d.Production, "packed:") {
			claims++
		}
	}
	t.Logf("%d box messages (%d packing claims): %d box divergences, %d of them packing claims; first loss %s", boxes, packed, len(ds), claims, first)
}

// One lost box message costs at most one box divergence: the core's books
// follow production's next scan of the box (a lost home: the next packing
// of the box adopts it; a lost collection or return: the next scan, home or
// collection, puts it there). A lost packing claim costs nothing (the core
// chose the same box), nor does a lost "kept" (nothing follows it).
func TestTwinBoxOneLostMessage(t *testing.T) {
	sc := loadPackaging(t)
	clean, _ := generate(t, sc, hwsim.Faults{})
	tests := []struct {
		event wire.BoxEvent
		want  string // the one divergence's production side, "" for none
	}{
		{wire.BoxPacked, ""},
		{wire.BoxReturned, "collected"},
		{wire.BoxCollected, "home"},
		{wire.BoxHome, "packed"},
		{wire.BoxKept, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.event), func(t *testing.T) {
			recs := make([]wire.CaptureRecord, 0, len(clean))
			var lost wire.Box
			for _, r := range clean {
				env, err := wire.Decode(r.Topic, r.Payload)
				require.NoError(t, err)
				if b, ok := env.Body.(wire.Box); ok && b.Event == tc.event && lost.BoxID == "" {
					lost = b
					continue
				}
				recs = append(recs, r)
			}
			require.NotEmpty(t, lost.BoxID)
			ds := boxDivergences(replay(t, sc, recs))
			if tc.want == "" {
				assert.Empty(t, ds)
				return
			}
			require.Len(t, ds, 1, "%+v", ds)
			assert.True(t, strings.HasPrefix(ds[0].Production, tc.want+":"), "%+v", ds[0])
			if tc.want != "packed" {
				assert.Equal(t, lost.BoxID, ds[0].Label)
			} else {
				assert.Equal(t, "packed:"+lost.BoxID, ds[0].Production)
			}
		})
	}
}
