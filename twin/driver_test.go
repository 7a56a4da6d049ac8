package twin

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// The tests of this file exercise the Driver alone: messages are handed to
// it directly (no ingest) and what it hands on is recorded (no comparer).

// recorder is an Observer that writes down what it is told.
type recorder struct {
	events []string
	settle model.Instant // last clock settled at
	final  bool
}

func (r *recorder) Decided(id model.LabelID, d Decision) {
	if d.Refund {
		r.events = append(r.events, fmt.Sprintf("refund %d %d at %s", id, d.Amount, d.At))
		return
	}
	r.events = append(r.events, fmt.Sprintf("reroute %d to %d at %s", id, d.To, d.At))
}

func (r *recorder) Reported(msgID string, b wire.LabelState, at model.Instant) {
	r.events = append(r.events, fmt.Sprintf("report %s %s %s", msgID, b.LabelID, b.State))
}

func (r *recorder) SlotOccupied(id model.LabelID, locker model.NodeIndex, at model.Instant, arrived bool) {
	r.events = append(r.events, fmt.Sprintf("slot %d at %d arrived=%v", id, locker, arrived))
}

func (r *recorder) Settle(clock model.Instant, final bool) { r.settle, r.final = clock, final }

func (r *recorder) Forget(id model.LabelID) {
	r.events = append(r.events, fmt.Sprintf("forget %d", id))
}

// messages decodes records into the driver's input, as ingest would hand
// them on (in the given order).
func messages(t testing.TB, recs ...wire.CaptureRecord) []*Message {
	t.Helper()
	out := make([]*Message, len(recs))
	for i, r := range recs {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		out[i] = &Message{Env: env, At: env.At, Recv: r.RecvAt, Topic: r.Topic}
	}
	return out
}

func newDriver(t testing.TB, cfg DriverConfig) (*Driver, *recorder) {
	t.Helper()
	no := false
	cfg.Network, cfg.Replenish = quickstart(t), &no
	d, err := NewDriver(cfg)
	require.NoError(t, err)
	r := &recorder{}
	d.SetObserver(r)
	return d, r
}

func reports(events []string) []string {
	var out []string
	for _, e := range events {
		if len(e) > 7 && e[:7] == "report " {
			out = append(out, e)
		}
	}
	return out
}

// A label's clean life applied in order: the core follows it to picked_up;
// production's reports are handed on, in order; the locker's slot report
// is handed on after the arrival it caused; nothing is decided.
func TestDriverLifecycle(t *testing.T) {
	f := newFeed(t)
	d, rec := newDriver(t, DriverConfig{})
	for _, m := range messages(t, f.lifecycle("L-A", 0, true)...) {
		d.Apply(m)
	}
	v, ok := d.Label("L-A")
	require.True(t, ok)
	assert.Equal(t, "picked_up", v.State)
	assert.True(t, v.Verified)
	assert.Len(t, v.Chain, 6)
	assert.Equal(t, []string{"prod-oms-1", "scn-M1-1", "scn-M1-2", "scn-M1-3", "scn-L1-1", "L1-1", "L1-2"}, v.Messages)
	assert.Equal(t, []string{"report prod-core-1 L-A issued", "report prod-core-2 L-A picked", "report prod-core-3 L-A packed",
		"report prod-core-4 L-A in_transit", "slot 1 at 1 arrived=false", "report prod-core-5 L-A ready_for_pickup",
		"report prod-core-6 L-A picked_up"}, rec.events, "the delivery scan made it arrive; the slot report confirms")
	assert.Equal(t, min_(90), d.Clock())
	assert.Equal(t, min_(90), rec.settle)
	c := d.Counters()
	assert.Equal(t, uint64(13), c.Applied)
	assert.Empty(t, c.Rejected)
	assert.Equal(t, map[string]uint64{"slot_confirmation": 1}, c.Ignored)
	d.Finish()
	assert.True(t, rec.final)
}

// The core's timers fire as the clock passes them, with or without a
// message: a parcel left ready for pickup past its TTL (24 h) is rerouted,
// and the decision is handed on.
func TestDriverTimers(t *testing.T) {
	f := newFeed(t)
	d, rec := newDriver(t, DriverConfig{})
	assert.False(t, d.Started())
	assert.Zero(t, d.Clock(), "no clock before the first message or AdvanceTo")
	d.AdvanceTo(min_(-60)) // the wall clock at startup starts it
	assert.True(t, d.Started())
	assert.Equal(t, min_(-60), d.Clock())
	for _, m := range messages(t, f.lifecycle("L-A", 0, false)...) {
		d.Apply(m)
	}
	ready := min_(35)
	d.AdvanceTo(ready.Add(24*model.Hour) - 1)
	assert.Zero(t, d.Counters().Timers)
	d.AdvanceTo(ready.Add(24 * model.Hour))
	assert.Equal(t, uint64(1), d.Counters().Timers)
	assert.Equal(t, ready.Add(24*model.Hour), rec.settle)
	v, _ := d.Label("L-A")
	assert.Equal(t, "rerouting", v.State)
	p1, _ := d.net.NodeIndexOf(v.Dest)
	assert.Contains(t, rec.events, fmt.Sprintf("reroute 1 to %d at %s", p1, ready.Add(24*model.Hour)))
}

// A late message is applied without moving the clock back or firing timers.
func TestDriverLate(t *testing.T) {
	f := newFeed(t)
	d, _ := newDriver(t, DriverConfig{})
	ms := messages(t, f.lifecycle("L-A", 0, false)...)
	ms = append(ms, messages(t, heartbeat(f, "L1", min_(600)))...)
	for _, m := range ms {
		d.Apply(m)
	}
	late := messages(t, f.lifecycle("L-B", 0, false)...)[0] // L-B's order, placed at minute 0
	late.Late = true
	d.Apply(late)
	assert.Equal(t, min_(600), d.Clock())
	v, ok := d.Label("L-B")
	require.True(t, ok)
	assert.Equal(t, "issued", v.State)
}

// A partitioned driver applies only its region's orders and ignores what
// happens to others' labels; a locker's last will applies only for its
// current session.
func TestDriverPartitionAndWills(t *testing.T) {
	f := newFeed(t)
	d, rec := newDriver(t, DriverConfig{Nodes: []string{"L2"}})
	for _, m := range messages(t, f.lifecycle("L-A", 0, true)...) { // ordered at M1 for L1: not ours
		d.Apply(m)
	}
	_, ok := d.Label("L-A")
	assert.False(t, ok)
	assert.Empty(t, reports(rec.events), "reports on labels of other regions are not compared")
	assert.Equal(t, uint64(1+4+2+6), d.Counters().Ignored["foreign"], "the order, its four scans, the locker's two events and the six reports")
	assert.Empty(t, d.Anomalies(), "another region's labels are no anomaly")

	_, err := NewDriver(DriverConfig{Network: quickstart(t), Nodes: []string{"nowhere"}})
	require.ErrorContains(t, err, `unknown node "nowhere"`)

	status := func(st wire.NodeState, reason wire.StatusReason, session uint64, at int64) *Message {
		return messages(t, f.msg("L2", min_(at), wire.Status{State: st, Reason: reason, Session: session}))[0]
	}
	online := func() bool { return d.Nodes()[2].Online }
	require.Equal(t, "L2", d.Nodes()[2].ID)
	d.Apply(status(wire.NodeOnline, wire.ReasonConnect, 1, 100))
	d.Apply(status(wire.NodeOffline, wire.ReasonLWT, 1, 110))
	assert.False(t, online(), "the will of the current session")
	d.Apply(status(wire.NodeOnline, wire.ReasonReconnect, 2, 120))
	d.Apply(status(wire.NodeOffline, wire.ReasonLWT, 1, 130))
	assert.True(t, online(), "an old session's will is stale")
	assert.Equal(t, uint64(1), d.Counters().Ignored["stale_will"])
	assert.Equal(t, uint64(2), d.Nodes()[2].Session)
}

// ForgetFinished releases the labels finished more than LabelRetention
// before the clock, and tells the observer.
func TestDriverForgetFinished(t *testing.T) {
	f := newFeed(t)
	d, rec := newDriver(t, DriverConfig{LabelRetention: model.Hour})
	for i := range 3 {
		for _, m := range messages(t, f.lifecycle(fmt.Sprintf("L-%d", i), int64(i*60), true)...) {
			d.Apply(m)
		}
	}
	// picked up at minutes 90, 150, 210; the clock is at 210
	d.ForgetFinished()
	assert.Equal(t, []string{"L-1", "L-2"}, labelNames(d.Labels()), "L-0 finished more than an hour ago")
	assert.Equal(t, "forget 1", rec.events[len(rec.events)-1])
	d.Apply(messages(t, heartbeat(f, "L1", min_(260)))[0])
	assert.Len(t, d.Labels(), 2, "only ForgetFinished forgets")
	d.ForgetFinished()
	assert.Equal(t, []string{"L-2"}, labelNames(d.Labels()))
	assert.Equal(t, "forget 2", rec.events[len(rec.events)-1])
	assert.Equal(t, uint64(2), d.Counters().Forgotten)
	id, ok := d.LabelID("L-0")
	assert.False(t, ok)
	l, _, _ := d.CoreLabel(id)
	assert.Nil(t, l)
}

func labelNames(vs []LabelView) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Label)
	}
	return out
}
