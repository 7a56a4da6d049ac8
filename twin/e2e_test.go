package twin_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func load(t testing.TB) *scenarios.Scenario {
	sc, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	return sc
}

// location is the scenario's time zone: hwsim publishes real instants with
// it, the twin maps them back onto the local clock with it.
func location(t testing.TB, sc *scenarios.Scenario) *time.Location {
	t.Helper()
	loc, err := sc.Location()
	require.NoError(t, err)
	return loc
}

func generate(t testing.TB, sc *scenarios.Scenario, f hwsim.Faults) ([]wire.CaptureRecord, *hwsim.Truth) {
	cfg, err := sc.Config()
	require.NoError(t, err)
	cfg.Horizon = 2 * model.Day
	items, truth, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Faults: f, Location: location(t, sc)})
	require.NoError(t, err)
	var recs []wire.CaptureRecord
	for _, it := range items {
		if it.Kind == hwsim.ItemMessage {
			recs = append(recs, wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, RecvAt: it.At, Retain: it.Retain})
		}
	}
	return recs, truth
}

func replay(t testing.TB, sc *scenarios.Scenario, recs []wire.CaptureRecord) *twin.Twin {
	return replayWindow(t, sc, recs, 10*model.Minute)
}

func replayWindow(t testing.TB, sc *scenarios.Scenario, recs []wire.CaptureRecord, window model.Duration) *twin.Twin {
	net, err := sc.Network()
	require.NoError(t, err)
	tw, err := twin.New(twin.Config{Network: net, Location: location(t, sc), Window: window})
	require.NoError(t, err)
	for _, r := range recs {
		tw.Ingest(r)
	}
	tw.Finish()
	return tw
}

func report(t testing.TB, tw *twin.Twin) string {
	var b bytes.Buffer
	require.NoError(t, tw.WriteReport(&b))
	return b.String()
}

// TestHwsimFaults: hwsim with drops, duplicates, reordering, delays and
// malformed payloads -> twin. Every label none of whose messages was
// dropped or malformed ends in the truth's state; every dropped message is
// a sequence gap; duplicates and malformed payloads are counted.
func TestHwsimFaults(t *testing.T) {
	sc := load(t)
	clean, _ := generate(t, sc, hwsim.Faults{})
	f := hwsim.Faults{Drop: 0.01, Duplicate: 0.02, Reorder: hwsim.ReorderFault{Rate: 0.02}, Delay: hwsim.DelayFault{Rate: 0.02},
		Malformed: hwsim.MalformedFault{Rate: 0.01}}
	recs, truth := generate(t, sc, f)
	require.NotEmpty(t, truth.Dropped)
	// hwsim's reorder fault holds a message behind the next 1..5 of its
	// source, which at night can be hours of event time: the window must
	// cover the feed's disorder (messages later than it are applied late)
	tw := replayWindow(t, sc, recs, 12*model.Hour)
	assert.Zero(t, tw.Counters().Late)
	checkTruth(t, tw, clean, truth)
}

// checkTruth: every label none of whose messages was dropped or malformed
// ends in the truth's state; every dropped message is a sequence gap;
// duplicates and malformed payloads are counted. clean is the same feed
// without faults (to know what a lost message was about).
func checkTruth(t *testing.T, tw *twin.Twin, clean []wire.CaptureRecord, truth *hwsim.Truth) {
	t.Helper()
	// the labels a lost message was about (from the clean run's payloads)
	byID := map[string]wire.Envelope{}
	for _, r := range clean {
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		byID[env.MsgID] = env
	}
	hit, orderLost := map[string]bool{}, map[string]bool{}
	lostOrder := false
	for _, fr := range append(append([]hwsim.FaultRecord{}, truth.Dropped...), truth.Malformed...) {
		if env, ok := byID[fr.MsgID]; ok {
			switch b := env.Body.(type) {
			case wire.Order:
				hit[b.LabelID] = true
				orderLost[b.LabelID] = true
				lostOrder = true
			case wire.Scan:
				hit[b.LabelID] = true
			case wire.Slot:
				hit[b.LabelID] = true
			case wire.Pickup:
				hit[b.LabelID] = true
			case wire.Status:
				t.Fatalf("a status message was lost (%s): choose another seed", fr.MsgID)
			}
		}
	}
	states := map[string]string{}
	for _, v := range tw.Labels() {
		states[v.Label] = v.State
	}
	checked := 0
	for _, l := range truth.Labels {
		if hit[l.LabelID] {
			continue
		}
		if lostOrder && l.Reason == "out_of_stock" {
			// a lost order never reserved its unit in the twin: stock is
			// shared, so a later stockout may not happen there
			continue
		}
		checked++
		assert.Equal(t, l.State, states[l.LabelID], "label %s", l.LabelID)
	}
	assert.Greater(t, checked, len(truth.Labels)*3/4)

	gaps := map[string]map[uint64]bool{}
	for _, g := range tw.Gaps() {
		if gaps[g.Source] == nil {
			gaps[g.Source] = map[uint64]bool{}
		}
		for q := g.From; q <= g.To; q++ {
			gaps[g.Source][q] = true
		}
	}
	for _, d := range truth.Dropped {
		assert.True(t, gaps[d.Source][d.Seq], "dropped %s is not a gap", d.MsgID)
	}
	c := tw.Counters()
	malformed := map[string]bool{}
	for _, m := range truth.Malformed {
		malformed[m.MsgID] = true
	}
	dupMalformed := 0
	for _, d := range truth.Duplicated {
		if malformed[d.MsgID] {
			dupMalformed++ // a broken payload twice: quarantined twice
		}
	}
	assert.Equal(t, uint64(len(truth.Duplicated)-dupMalformed), c.Duplicates)
	var quarantined uint64
	for _, n := range c.Quarantined {
		quarantined += n
	}
	assert.Equal(t, uint64(len(truth.Malformed)+dupMalformed), quarantined)
	// the twin meets a label it never saw ordered only when its order was lost
	for _, a := range tw.Anomalies() {
		assert.Equal(t, twin.AnomalyUnknownLabel, a.Reason)
		assert.True(t, orderLost[a.Label], "anomaly %+v: the label's order was not lost", a)
	}
}

// TestHwsimProductionBug: production reroutes with a shorter ready TTL than
// the network file says (2 h). With room for every parcel at every node and
// stock for every order, an early reroute frees a slot nobody needs and an
// early return restocks a shelf that is not short, so the bug cannot spread:
// the labels that diverge are exactly the labels production took out of
// ready_for_pickup without a pickup, and without the bug nothing diverges.
// With the real capacities a freed slot or an early restock changes what
// happens to other parcels; those knock-on divergences are reported too
// (they are real differences), and every early-rerouted label still
// diverges.
func TestHwsimProductionBug(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roomy bool
	}{{"room and stock for every parcel", true}, {"real capacities", false}} {
		t.Run(tc.name, func(t *testing.T) {
			sc := load(t)
			network := func(ttl model.Duration) *sim.Config {
				cfg, err := sc.Config()
				require.NoError(t, err)
				cfg.Horizon = 2 * model.Day
				if tc.roomy {
					for i := range cfg.Network.Nodes {
						n := &cfg.Network.Nodes[i]
						for k := range n.Slots {
							n.Slots[k] *= 50
						}
						n.Counter *= 50
						for c := range n.Cache {
							n.Cache[c].Capacity *= 50
							n.Cache[c].Stock *= 50
						}
					}
				}
				if ttl > 0 {
					cfg.Network.Policy.TTL[model.ReadyForPickup] = ttl
				}
				return cfg
			}
			feed := func(cfg *sim.Config) ([]wire.CaptureRecord, map[string]bool) {
				items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: location(t, sc)})
				require.NoError(t, err)
				var recs []wire.CaptureRecord
				// early: production took the label out of ready_for_pickup
				// without a pickup (rerouted on TTL expiry, or returned when
				// its hops were used up)
				early := map[string]bool{}
				last := map[string]wire.LabelStatus{}
				for _, it := range items {
					if it.Kind != hwsim.ItemMessage {
						continue
					}
					recs = append(recs, wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, RecvAt: it.At})
					env, err := wire.Decode(it.Topic, it.Payload)
					require.NoError(t, err)
					if b, ok := env.Body.(wire.LabelState); ok {
						if last[b.LabelID] == wire.LabelReadyForPickup && (b.State == wire.LabelRerouting || b.State == wire.LabelReturned) {
							early[b.LabelID] = true
						}
						last[b.LabelID] = b.State
					}
				}
				return recs, early
			}
			twinNet := network(0).Network // what the twin is told: the real TTL
			shadow := func(recs []wire.CaptureRecord) map[string]bool {
				tw, err := twin.New(twin.Config{Network: twinNet, Location: location(t, sc), Window: 10 * model.Minute})
				require.NoError(t, err)
				for _, r := range recs {
					tw.Ingest(r)
				}
				tw.Finish()
				c := tw.Counters()
				assert.Empty(t, c.Quarantined, "hwsim's feed is valid for its network")
				assert.Empty(t, c.Anomalies, "the twin saw every label's order")
				diverged := map[string]bool{}
				for _, d := range tw.Divergences(twin.Filter{}) {
					diverged[d.Label] = true
				}
				return diverged
			}

			clean, _ := feed(network(0))
			assert.Empty(t, shadow(clean), "no bug, no divergence")

			recs, early := feed(network(2 * model.Hour))
			require.NotEmpty(t, early)
			diverged := shadow(recs)
			if tc.roomy {
				assert.Equal(t, sortedSet(early), sortedSet(diverged), "diverged labels = labels production moved on its short TTL")
				return
			}
			for l := range early {
				assert.True(t, diverged[l], "label %s was rerouted early by production but did not diverge", l)
			}
			var others []string
			for l := range diverged {
				if !early[l] {
					others = append(others, l)
				}
			}
			t.Logf("%d labels rerouted early by production, %d diverged, %d by knock-on effects", len(early), len(diverged), len(others))
		})
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestReplayDeterminism: the same capture gives a byte-identical report.
func TestReplayDeterminism(t *testing.T) {
	sc := load(t)
	recs, _ := generate(t, sc, hwsim.Faults{Drop: 0.02, Duplicate: 0.02, Reorder: hwsim.ReorderFault{Rate: 0.05}})
	a, b := report(t, replay(t, sc, recs)), report(t, replay(t, sc, recs))
	require.NotEmpty(t, a)
	assert.Equal(t, a, b)
}

// TestLiveEqualsReplay: hwsim with every fault (drops, duplicates,
// reordering, delays, malformed payloads, broker disconnects) publishes
// through the embedded broker to a live twin: its final states match hwsim's
// truth (checkTruth), and its report and states equal the replay of hwsim's
// capture, byte for byte.
func TestLiveEqualsReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("broker test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, sc, net := brokerAndNetwork(ctx, t)
	// at full speed hwsim's sources run hours of event time apart: a
	// window longer than the run makes the order independent of arrival
	mk := func() *twin.Twin {
		tw, err := twin.New(twin.Config{Network: net, Location: location(t, sc), Window: 3 * model.Day, EventClock: true})
		require.NoError(t, err)
		return tw
	}
	live := twin.NewRunner(mk(), nil)
	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- live.Live(lctx, transport.ClientConfig{URL: b.URL()}, twin.LiveConfig{}) }()
	require.Eventually(t, live.Ready, 10*time.Second, 10*time.Millisecond)

	cfg, err := sc.Config()
	require.NoError(t, err)
	cfg.Horizon = 2 * model.Day // as generate's, for the clean feed
	clean, _ := generate(t, sc, hwsim.Faults{})
	f := hwsim.Faults{Drop: 0.01, Duplicate: 0.02, Reorder: hwsim.ReorderFault{Rate: 0.02}, Delay: hwsim.DelayFault{Rate: 0.02},
		Malformed: hwsim.MalformedFault{Rate: 0.01}, Disconnect: hwsim.DisconnectFault{Rate: 0.001}}
	var capture bytes.Buffer
	cw := wire.NewCaptureWriter(&capture)
	truth, st, err := hwsim.Run(ctx, hwsim.RunConfig{Gen: hwsim.Config{Sim: cfg, Faults: f, Location: location(t, sc)}, Capture: cw,
		Dial: func(ctx context.Context) (hwsim.Conn, error) {
			return transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
		}})
	require.NoError(t, err)
	require.Positive(t, truth.Counts.Disconnects)
	require.NotEmpty(t, truth.Dropped)
	require.Eventually(t, func() bool { return live.Twin.Counters().Received >= st.Published }, 20*time.Second, 20*time.Millisecond)
	lcancel()
	require.NoError(t, <-done)
	live.Twin.Finish()
	checkTruth(t, live.Twin, clean, truth)

	rep := twin.NewRunner(mk(), nil)
	_, err = rep.Replay(ctx, strings.NewReader(capture.String()), 256)
	require.NoError(t, err)
	rep.Twin.Finish()
	assert.Equal(t, report(t, rep.Twin), report(t, live.Twin))
	var ls, rs bytes.Buffer
	require.NoError(t, live.Twin.WriteStates(&ls))
	require.NoError(t, rep.Twin.WriteStates(&rs))
	assert.Equal(t, rs.String(), ls.String())
	assert.NotEmpty(t, rs.String())
}

// TestSharedSubscription: two twin instances in one $share group on the
// embedded broker split the feed: every message reaches exactly one.
func TestSharedSubscription(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, _, net := brokerAndNetwork(ctx, t)
	var runners []*twin.Runner
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	for i := 0; i < 2; i++ {
		tw, err := twin.New(twin.Config{Network: net, EventClock: true})
		require.NoError(t, err)
		r := twin.NewRunner(tw, nil)
		go func() { _ = r.Live(lctx, transport.ClientConfig{URL: b.URL()}, twin.LiveConfig{ShareGroup: "twins"}) }()
		require.Eventually(t, r.Ready, 10*time.Second, 10*time.Millisecond)
		runners = append(runners, r)
	}
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	const n = 400
	for i := 1; i <= n; i++ {
		env := wire.Envelope{Source: "L1", Seq: uint64(i), At: model.Instant(1772445600000 + int64(i)*1000), Body: wire.Heartbeat{Session: 1}}
		p, err := wire.Encode(env)
		require.NoError(t, err)
		require.NoError(t, pub.Publish(ctx, wire.Topics{}.NodeStatus("L1"), p, wire.QoS, false))
	}
	// sentinels on the same topic until each instance has one: then each
	// has all the group gave it of the n before them
	k := 0
	require.Eventually(t, func() bool {
		k++
		if err := pub.Publish(ctx, wire.Topics{}.NodeStatus("L1"), sentinel(k), wire.QoS, false); err != nil {
			return false
		}
		return sentinels(runners[0].Twin) > 0 && sentinels(runners[1].Twin) > 0
	}, 10*time.Second, 20*time.Millisecond)
	var total uint64
	for i, r := range runners {
		c := r.Twin.Counters()
		assert.NotZero(t, c.ByType["heartbeat"], "instance %d got nothing", i)
		// sentinels may still arrive: count them in the same snapshot of the counters
		assert.Equal(t, c.ByType["heartbeat"]+c.Quarantined[wire.ReasonBadJSON], c.Received, "instance %d got nothing else", i)
		total += c.ByType["heartbeat"]
	}
	assert.Equal(t, uint64(n), total, "every message reached exactly one instance")
}

// sentinel is a payload no twin accepts (it is quarantined as bad_json).
// Published after a test's messages, it tells when an instance has them
// all: the broker forwards one connection's messages in the order it
// reads them.
func sentinel(i int) []byte { return fmt.Appendf(nil, "sentinel %d", i) }

// sentinels is the number of sentinels tw has received.
func sentinels(tw *twin.Twin) int {
	n := 0
	for _, q := range tw.Quarantine() {
		if bytes.HasPrefix(q.Payload, []byte("sentinel ")) {
			n++
		}
	}
	return n
}

// twoTowns are the closed regions of testdata/two-towns.yaml: Kreuzberg
// and Potsdam, ~28 km apart.
var twoTowns = [][]string{{"M1", "L1", "L2", "P1", "P3"}, {"M2", "L3", "L4", "P2", "P4"}}

// checkClosed asserts that the feed never crosses between regions: every
// order's fulfilling node and destination, and every node a label is
// scanned, held, picked up or rerouted to, lie in the label's region (that
// of its order). It returns the number of labels per region and of
// reroutes, so that the caller can check the feed exercises both.
func checkClosed(t *testing.T, recs []wire.CaptureRecord, regions [][]string) (labels []int, reroutes int) {
	t.Helper()
	region := map[string]int{}
	for i, nodes := range regions {
		for _, n := range nodes {
			region[n] = i
		}
	}
	in := func(label, node, what string, lr map[string]int) {
		t.Helper()
		r, ok := lr[label]
		if !assert.True(t, ok, "%s of label %s before its order", what, label) {
			return
		}
		nr, ok := region[node]
		assert.True(t, ok && nr == r, "label %s of region %d: %s at node %q (region %d)", label, r, what, node, nr)
	}
	lr := map[string]int{} // label -> region of its order
	labels = make([]int, len(regions))
	for _, rec := range recs {
		env, err := wire.Decode(rec.Topic, rec.Payload)
		require.NoError(t, err)
		switch b := env.Body.(type) {
		case wire.Order:
			r, ok := region[b.Node]
			require.True(t, ok, "order %s at unknown node %q", b.LabelID, b.Node)
			lr[b.LabelID] = r
			labels[r]++
			in(b.LabelID, b.Destination, "destination", lr)
		case wire.Scan:
			in(b.LabelID, b.Node, "scan "+string(b.Stage), lr)
		case wire.Slot:
			if b.LabelID != "" {
				_, locker, err := wire.Topics{}.ParseTopic(rec.Topic)
				require.NoError(t, err)
				in(b.LabelID, locker, "slot", lr)
			}
		case wire.Pickup:
			_, locker, err := wire.Topics{}.ParseTopic(rec.Topic)
			require.NoError(t, err)
			in(b.LabelID, locker, "pickup", lr)
		case wire.LabelState:
			if b.Node != "" {
				in(b.LabelID, b.Node, "state "+string(b.State), lr)
			}
			if b.RerouteTo != "" {
				reroutes++
				in(b.LabelID, b.RerouteTo, "reroute target", lr)
			}
		}
	}
	return labels, reroutes
}

// TestNodePartitions: two twin instances on the embedded broker, each
// owning one town of testdata/two-towns.yaml (a closed region: its own
// microstore, lockers, partners and neighborhood), fed by one publisher with
// hwsim's two-day feed. The feed is checked to be closed (nothing crosses
// between the towns). Each instance receives exactly its region's per-node
// topics (plus the unpartitionable scans and label states); together they
// cover every per-node message; each label is processed (ordered into a
// core) by exactly one of them, each a substantial share; and together their
// final label states and divergence reports equal those of one
// unpartitioned twin replaying the same capture.
func TestNodePartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("broker test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b, sc, net := brokerAndScenario(ctx, t, "testdata/two-towns.yaml")
	recs, _ := generate(t, sc, hwsim.Faults{})
	regions := twoTowns
	perRegion, reroutes := checkClosed(t, recs, regions)
	t.Logf("labels per town %v, %d reroutes", perRegion, reroutes)
	require.Positive(t, reroutes, "the feed has no reroute: closure of reroutes is untested")

	const window = 3 * model.Day // longer than the run: the order of arrival does not matter
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	var runners []*twin.Runner
	var cfgs []twin.LiveConfig
	done := make(chan error, len(regions))
	for _, nodes := range regions {
		tw, err := twin.New(twin.Config{Network: net, Location: location(t, sc), Window: window, Nodes: nodes, EventClock: true})
		require.NoError(t, err)
		r := twin.NewRunner(tw, nil)
		lc := twin.LiveConfig{Nodes: nodes}
		go func() { done <- r.Live(lctx, transport.ClientConfig{URL: b.URL()}, lc) }()
		require.Eventually(t, r.Ready, 10*time.Second, 10*time.Millisecond)
		runners = append(runners, r)
		cfgs = append(cfgs, lc)
	}
	// what each instance must receive: the capture's topics its filters match
	matches := func(lc twin.LiveConfig, topic string) bool {
		for _, f := range lc.Filters() {
			if transport.MatchTopic(f, topic) {
				return true
			}
		}
		return false
	}
	perNode := func(topic string) bool {
		k, _, err := wire.Topics{}.ParseTopic(topic)
		require.NoError(t, err)
		return k != wire.KindScan && k != wire.KindLabelState && topic != (wire.Topics{}).Orders("hub")
	}
	want := make([]uint64, len(regions))
	nodeMsgs, covered := 0, 0
	for _, r := range recs {
		n := 0
		for i, lc := range cfgs {
			if matches(lc, r.Topic) {
				want[i]++
				if perNode(r.Topic) {
					n++
				}
			}
		}
		if perNode(r.Topic) {
			nodeMsgs++
			assert.LessOrEqual(t, n, 1, "per-node message %s reaches both instances", r.Topic)
			if n == 1 {
				covered++
			}
		}
	}
	assert.Equal(t, nodeMsgs, covered, "every per-node message reaches one instance")
	pub, err := transport.Dial(ctx, transport.ClientConfig{URL: b.URL()})
	require.NoError(t, err)
	defer pub.Close()
	for _, r := range recs {
		require.NoError(t, pub.Publish(ctx, r.Topic, r.Payload, wire.QoS, r.Retain))
	}
	// a sentinel on a topic both subscribe to, after the feed: once an
	// instance has it, it has everything it will get of the feed
	require.NoError(t, pub.Publish(ctx, wire.Topics{}.Scan("sentinel"), sentinel(1), wire.QoS, false))
	for _, r := range runners {
		require.Eventually(t, func() bool { return sentinels(r.Twin) == 1 }, 60*time.Second, 10*time.Millisecond)
	}
	lcancel()
	for range runners {
		require.NoError(t, <-done)
	}
	ordered := 0
	for _, r := range recs {
		if env, err := wire.Decode(r.Topic, r.Payload); err == nil {
			if _, ok := env.Body.(wire.Order); ok {
				ordered++
			}
		}
	}

	// one unpartitioned twin replaying the same capture
	single, err := twin.New(twin.Config{Network: net, Location: location(t, sc), Window: window, EventClock: true})
	require.NoError(t, err)
	for _, r := range recs {
		single.Ingest(r)
	}
	single.Finish()

	seen := map[string]int{}
	var union []twin.LabelView
	var divs []twin.Divergence
	for i, r := range runners {
		assert.Equal(t, want[i]+1, r.Twin.Counters().Received, "instance %d received exactly its subscriptions (and the sentinel)", i)
		r.Twin.Finish()
		labels := r.Twin.Labels()
		t.Logf("instance %d (%v): %d msgs, %d labels, ignored %v", i, regions[i], want[i], len(labels), r.Twin.Counters().Ignored)
		assert.Greater(t, len(labels), ordered/4, "instance %d owns too few labels", i)
		assert.Equal(t, perRegion[i], len(labels), "instance %d processes exactly its town's orders", i)
		for _, v := range labels {
			seen[v.Label]++
			assert.Equal(t, 1, seen[v.Label], "label %s processed by both instances", v.Label)
		}
		union = append(union, labels...)
		divs = append(divs, r.Twin.Divergences(twin.Filter{})...)
	}
	// every order was placed at a node of exactly one region: together the
	// instances process every label, each exactly once
	assert.Equal(t, ordered, len(seen))

	// together they decide what one twin decides, label by label
	sort.Slice(union, func(i, j int) bool { return union[i].Label < union[j].Label })
	want1 := single.Labels()
	require.Equal(t, len(want1), len(union))
	for i := range want1 {
		assert.Equal(t, want1[i], union[i], "label %s", want1[i].Label)
	}
	divs = append([]twin.Divergence{}, divs...)
	twin.SortDivergences(divs)
	wantDivs := single.Divergences(twin.Filter{})
	assert.Equal(t, wantDivs, divs, "divergences: partitioned = unpartitioned")
	assert.Empty(t, wantDivs, "a clean feed diverges nowhere")
}

// brokerAndNetwork starts an embedded broker on a free loopback port (closed
// when the test ends) and loads the quickstart scenario and its network.
func brokerAndNetwork(ctx context.Context, t *testing.T) (*transport.Broker, *scenarios.Scenario, *model.Network) {
	t.Helper()
	return brokerAndScenario(ctx, t, "../scenarios/quickstart.yaml")
}

// brokerAndScenario starts an embedded broker on a free loopback port (closed
// when the test ends) and loads the scenario at path and its network.
func brokerAndScenario(ctx context.Context, t *testing.T, path string) (*transport.Broker, *scenarios.Scenario, *model.Network) {
	t.Helper()
	b, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	sc, err := scenarios.Load(path)
	require.NoError(t, err)
	net, err := sc.Network()
	require.NoError(t, err)
	return b, sc, net
}
