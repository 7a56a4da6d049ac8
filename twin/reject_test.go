package twin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// rejectedSeries reads lockstep_twin_core_rejected_total by reason.
func rejectedSeries(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "lockstep_twin_core_rejected_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "reason" {
					out[l.GetValue()] = s.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestCoreRejectedReasons: every reason the core rejects an event for is a
// value of lockstep_twin_core_rejected_total's reason label (at 0 from the
// start), and counts, in the metric as in Counters.Rejected, each time it
// happens: from the feed where the feed can cause it, else from an event
// handed to the core the way the driver hands them.
func TestCoreRejectedReasons(t *testing.T) {
	net := *quickstart(t)
	net.CodeKey = [2]uint64{1, 2} // lockers verify pickup codes
	const label = model.LabelID(1)
	l1, _ := net.NodeIndexOf("L1")
	apply := func(d *Driver, recs ...wire.CaptureRecord) {
		for _, m := range messages(t, recs...) {
			d.Apply(m)
		}
	}
	order := func(f *feed, name string) wire.CaptureRecord { return f.lifecycle(name, 0, false)[0] }
	scan := func(f *feed, node string, stage wire.Stage, at int64) wire.CaptureRecord {
		return f.msg("scn-"+node, min_(at), wire.Scan{LabelID: "L-A", OrderID: "OL-A", Node: node, Stage: stage, Symbology: wire.SymQR, Code: "L-A"})
	}
	cases := map[model.Reason]func(d *Driver, f *feed){
		model.RejectDuplicateLabel: func(d *Driver, f *feed) {
			apply(d, order(f, "L-A"), order(f, "L-A")) // the same label ordered twice
		},
		model.RejectIllegalTransition: func(d *Driver, f *feed) {
			apply(d, order(f, "L-A"), scan(f, "M1", wire.StagePack, 1)) // packed before picked
		},
		model.RejectWrongNode: func(d *Driver, f *feed) {
			life := f.lifecycle("L-A", 0, false)
			apply(d, life[0], life[2], life[4], life[6], scan(f, "L2", wire.StageDelivery, 30)) // delivered to L2, not L1
		},
		model.RejectNotReserved: func(d *Driver, f *feed) {
			apply(d, f.msg("M1", min_(0), wire.Status{State: wire.NodeOffline, Reason: wire.ReasonShutdown, Session: 1}),
				order(f, "L-A"), scan(f, "M1", wire.StagePick, 1)) // picked while its unit is still claimed centrally
		},
		model.RejectUnknownLabel: func(d *Driver, f *feed) {
			d.step(model.Event{Type: model.EvScanPicked, At: min_(0), Label: 99})
		},
		model.RejectStaleTimer: func(d *Driver, f *feed) {
			apply(d, order(f, "L-A"))
			d.step(model.Event{Type: model.EvTimer, At: min_(1), Label: label, Timer: model.TimerSLA}) // before the deadline
		},
		model.RejectBadEvent: func(d *Driver, f *feed) {
			apply(d, order(f, "L-A"))
			d.step(model.Event{Type: model.EvTimer, At: min_(1), Label: label, Timer: model.NumTimers})
		},
		model.RejectUnknownNode: func(d *Driver, f *feed) {
			d.step(model.Event{Type: model.EvNodeOffline, At: min_(0), Node: 99})
		},
		model.RejectUnknownSKU: func(d *Driver, f *feed) {
			d.step(model.Event{Type: model.EvOrderPlaced, At: min_(0), Label: 7, Node: 0, Dest: l1, SKU: 99, Size: model.Small})
		},
		model.RejectBadCode: func(d *Driver, f *feed) {
			apply(d, f.lifecycle("L-A", 0, false)...)
			d.step(model.Event{Type: model.EvPickup, At: min_(60), Label: label, Node: l1, Code: 1})
		},
		model.RejectNotCached: func(d *Driver, f *feed) {
			d.step(model.Event{Type: model.EvRestock, At: min_(0), Node: l1, SKU: 0, Qty: 1}) // L1 keeps no stock
		},
	}
	// RejectDuplicateEntry is how an inventory log replica refuses an entry
	// it has (model.Replica.Apply); Core.Step never rejects an event for it
	noEvent := map[model.Reason]bool{model.RejectDuplicateEntry: true}

	var reasons []model.Reason
	for r := range model.Reason(255) {
		if r.Rejection() {
			reasons = append(reasons, r)
		}
	}
	require.Len(t, reasons, 12)
	for _, r := range reasons {
		t.Run(r.String(), func(t *testing.T) {
			m := NewMetrics()
			no := false
			d, err := NewDriver(DriverConfig{Network: &net, Replenish: &no, Metrics: m})
			require.NoError(t, err)
			before := rejectedSeries(t, m)
			for _, r := range reasons {
				assert.Contains(t, before, r.String(), "every reason is a label value from the start")
			}
			if noEvent[r] {
				require.NotContains(t, cases, r)
				return
			}
			run, ok := cases[r]
			require.True(t, ok, "no case makes the core reject for %s", r)
			run(d, newFeed(t))
			assert.Equal(t, map[string]uint64{r.String(): 1}, d.Counters().Rejected)
			after := rejectedSeries(t, m)
			for _, o := range reasons {
				want := 0.0
				if o == r {
					want = 1
				}
				assert.Equal(t, want, after[o.String()], "lockstep_twin_core_rejected_total{reason=%q}", o)
			}
		})
	}
}
