package hwsim

import (
	"bytes"
	"io/fs"
	"math"
	"testing"
	"time"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

func loadSim(t testing.TB, path string) *sim.Config {
	t.Helper()
	s, err := scenarios.Load(path)
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	return cfg
}

func generate(t testing.TB, cfg Config) ([]Item, *Truth) {
	t.Helper()
	items, truth, _, err := Generate(cfg)
	require.NoError(t, err)
	return items, truth
}

func messages(items []Item) []Item {
	var out []Item
	for _, it := range items {
		if it.Kind == ItemMessage {
			out = append(out, it)
		}
	}
	return out
}

func isWill(env wire.Envelope) bool {
	s, ok := env.Body.(wire.Status)
	return ok && s.Reason == wire.ReasonLWT
}

// checkSeqOrder asserts that every source's messages come in increasing seq
// order (last wills excepted: they carry the seq reserved at connect).
func checkSeqOrder(t *testing.T, envs []wire.Envelope) {
	t.Helper()
	last := map[string]uint64{}
	for _, env := range envs {
		if isWill(env) {
			continue
		}
		require.Greater(t, env.Seq, last[env.Source], "source %s: seq %d after %d", env.Source, env.Seq, last[env.Source])
		last[env.Source] = env.Seq
	}
}

// Without faults every message decodes strictly, each source's seqs come in
// order and without gaps other than the seqs reserved for unused last wills,
// and every message type of the feed is emitted.
func TestGenerateNoFaults(t *testing.T) {
	items, truth := generate(t, Config{Sim: loadSim(t, "../scenarios/quickstart.yaml")})
	msgs := messages(items)
	require.Len(t, msgs, len(items), "no control items without faults")
	byType := map[wire.Type]int{}
	stages := map[wire.Stage]int{}
	reroutes, refunds := 0, 0
	var envs []wire.Envelope
	seen := map[string]bool{}
	for _, it := range msgs {
		env, err := wire.Decode(it.Topic, it.Payload)
		require.NoError(t, err, string(it.Payload))
		require.Equal(t, it.Type, env.Type)
		require.False(t, seen[env.MsgID], "msg_id %s twice", env.MsgID)
		seen[env.MsgID] = true
		require.Equal(t, wire.Retained(env.Type), it.Retain)
		byType[env.Type]++
		switch b := env.Body.(type) {
		case wire.Scan:
			stages[b.Stage]++
		case wire.LabelState:
			if b.RerouteTo != "" {
				reroutes++
			}
			if b.Refund != nil {
				refunds++
			}
		}
		envs = append(envs, env)
	}
	for _, typ := range wire.AllTypes {
		if typ == wire.TypeBox {
			continue // reusable packaging, not in the quickstart: TestBoxMessages
		}
		assert.Positive(t, byType[typ], "no %s message", typ)
	}
	// every scan stage of the forward flow, and production's reroutes and
	// refunds: in the quickstart's three days (seed 7) some parcels are
	// rerouted (ttl_expired, node_closed: ~20) and some orders cancelled
	// out of stock with a refund (2: S01's cache and its short depot
	// allocation both empty)
	t.Logf("scans by stage %v; label_state with reroute_to %d, with refund %d", stages, reroutes, refunds)
	for _, st := range []wire.Stage{wire.StagePick, wire.StagePack, wire.StageHandoff, wire.StageDelivery} {
		assert.Positive(t, stages[st], "no %s scan", st)
	}
	assert.Positive(t, reroutes, "no label_state with reroute_to")
	assert.Positive(t, refunds, "no label_state with a refund")
	checkSeqOrder(t, envs)
	// gaps: only the will reserved right before each online status
	seqs := map[string]map[uint64]bool{}
	wills := map[string]map[uint64]bool{}
	for _, env := range envs {
		if seqs[env.Source] == nil {
			seqs[env.Source], wills[env.Source] = map[uint64]bool{}, map[uint64]bool{}
		}
		seqs[env.Source][env.Seq] = true
		if s, ok := env.Body.(wire.Status); ok && s.State == wire.NodeOnline {
			wills[env.Source][env.Seq-1] = true
		}
	}
	for src, set := range seqs {
		var mx uint64
		for s := range set {
			mx = max(mx, s)
		}
		for s := uint64(1); s <= mx; s++ {
			require.True(t, set[s] || wills[src][s], "source %s: seq %d missing", src, s)
		}
	}
	require.Len(t, truth.Labels, int(byType[wire.TypeOrder]))
	states := map[string]int{}
	for _, l := range truth.Labels {
		states[l.State]++
	}
	assert.Positive(t, states["picked_up"])
	require.Zero(t, truth.Counts.Dropped+truth.Counts.Duplicated+truth.Counts.Malformed)
}

// The fast encoder writes exactly what wire.Encode writes.
func TestEncodeMatchesWire(t *testing.T) {
	cfg := loadSim(t, "../scenarios/examples/offline-serve.yaml")
	cfg.Horizon = 2 * model.Day
	items, _ := generate(t, Config{Sim: cfg})
	for _, it := range messages(items) {
		env, err := wire.Decode(it.Topic, it.Payload)
		require.NoError(t, err)
		want, err := wire.Encode(env)
		require.NoError(t, err)
		require.Equal(t, string(want), string(it.Payload))
	}
}

// A node that loses connectivity: its will goes out, what its devices
// produce meanwhile is buffered and flushed on reconnect with the original
// instants and seqs, before the reconnect status.
func TestOfflineBuffering(t *testing.T) {
	cfg := loadSim(t, "../scenarios/examples/offline-serve.yaml")
	cfg.Horizon = 2 * model.Day
	items, truth := generate(t, Config{Sim: cfg})
	require.Positive(t, truth.Counts.Offline)
	require.Positive(t, truth.Counts.Buffered)
	var envs []wire.Envelope
	late := 0
	offline := map[string]bool{}
	for _, it := range messages(items) {
		env, err := wire.Decode(it.Topic, it.Payload)
		require.NoError(t, err)
		envs = append(envs, env)
		if s, ok := env.Body.(wire.Status); ok {
			switch s.Reason {
			case wire.ReasonLWT:
				require.False(t, offline[env.Source])
				offline[env.Source] = true
				require.Less(t, env.At, it.At, "a will carries its connect instant")
			case wire.ReasonReconnect:
				require.True(t, offline[env.Source])
				offline[env.Source] = false
			}
		}
		if env.At < it.At && !isWill(env) {
			late++ // flushed from an offline buffer
		}
	}
	require.EqualValues(t, truth.Counts.Buffered, late)
	checkSeqOrder(t, envs)
}

func compileSchemas(t *testing.T) (env *jsonschema.Schema, byType map[wire.Type]*jsonschema.Schema) {
	c := jsonschema.NewCompiler()
	entries, err := fs.ReadDir(wire.SchemaFS(), ".")
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := fs.ReadFile(wire.SchemaFS(), e.Name())
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		require.NoError(t, err)
		require.NoError(t, c.AddResource(wire.SchemaBaseURL+e.Name(), doc))
	}
	byType = map[wire.Type]*jsonschema.Schema{}
	for _, typ := range wire.AllTypes {
		s, err := c.Compile(wire.SchemaBaseURL + wire.SchemaFile(typ))
		require.NoError(t, err)
		byType[typ] = s
	}
	env, err = c.Compile(wire.SchemaBaseURL + "envelope.schema.json")
	require.NoError(t, err)
	return env, byType
}

// Every message hwsim emits, in a run with offline periods, reroutes,
// refunds and every fault but malformed, validates against the envelope
// schema and its type's schema; every malformed payload fails wire.Decode
// with the reason its kind promises, and fails the schemas too.
func TestSchemas(t *testing.T) {
	envSchema, schemas := compileSchemas(t)
	cfg := loadSim(t, "../scenarios/examples/offline-serve.yaml")
	cfg.Horizon = 2 * model.Day
	f := Faults{Duplicate: 0.02, Drop: 0.02, Malformed: MalformedFault{Rate: 0.02}, Reorder: ReorderFault{Rate: 0.02},
		Delay: DelayFault{Rate: 0.02}, Skew: SkewFault{Rate: 0.5}, Disconnect: DisconnectFault{Rate: 0.001}}
	items, truth := generate(t, Config{Sim: cfg, Faults: f})
	malformed := map[string]string{}
	for _, r := range truth.Malformed {
		malformed[r.MsgID] = r.Reason
	}
	byType := map[wire.Type]int{}
	reasons := map[string]int{}
	for _, it := range messages(items) {
		_, err := wire.Decode(it.Topic, it.Payload)
		if want, bad := malformed[it.MsgID]; bad {
			require.Error(t, err)
			require.Equal(t, want, wire.ErrorReason(err), string(it.Payload))
			reasons[want]++
			if inst, jerr := jsonschema.UnmarshalJSON(bytes.NewReader(it.Payload)); jerr == nil {
				require.Error(t, envSchema.Validate(inst), "malformed payload passes the envelope schema: %s", it.Payload)
			}
			continue
		}
		require.NoError(t, err, string(it.Payload))
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(it.Payload))
		require.NoError(t, err)
		require.NoError(t, envSchema.Validate(inst), string(it.Payload))
		require.NoError(t, schemas[it.Type].Validate(inst), string(it.Payload))
		byType[it.Type]++
	}
	for _, typ := range wire.AllTypes {
		if typ == wire.TypeBox {
			continue // reusable packaging, not in the quickstart: TestBoxMessages
		}
		assert.Positive(t, byType[typ], "no valid %s message", typ)
	}
	for _, k := range MalformedKinds {
		assert.Positive(t, reasons[MalformedReason(k)], "no %s payload", k)
	}
}

func TestMalform(t *testing.T) {
	env := wire.Envelope{Source: "L1", Seq: 7, At: model.Instant(1_780_000_000_000), Body: wire.Door{Compartment: "S01", State: wire.DoorOpen}}
	raw, err := wire.Encode(env)
	require.NoError(t, err)
	for _, k := range MalformedKinds {
		t.Run(k, func(t *testing.T) {
			_, err := wire.Decode("lockstep/v1/lockers/L1/event", Malform(raw, k))
			require.Equal(t, MalformedReason(k), wire.ErrorReason(err), "%v", err)
		})
	}
}

// Same seed, same faults: the same items, byte for byte, and the same fault
// records; another seed gives another pattern.
func TestFaultsDeterministic(t *testing.T) {
	cfg := loadSim(t, "../scenarios/quickstart.yaml")
	f := Faults{Duplicate: 0.05, Drop: 0.05, Malformed: MalformedFault{Rate: 0.05}, Reorder: ReorderFault{Rate: 0.05},
		Delay: DelayFault{Rate: 0.05}, Skew: SkewFault{Rate: 0.5}, Disconnect: DisconnectFault{Rate: 0.002}}
	a, ta := generate(t, Config{Sim: cfg, Faults: f})
	b, tb := generate(t, Config{Sim: cfg, Faults: f})
	require.Equal(t, a, b)
	require.Equal(t, ta, tb)
	other := *cfg
	other.Seed++
	_, tc := generate(t, Config{Sim: &other, Faults: f})
	require.NotEqual(t, ta.Dropped, tc.Dropped)
	// one fault's pattern does not depend on the others' rates
	_, td := generate(t, Config{Sim: cfg, Faults: Faults{Drop: 0.05}})
	require.Equal(t, ta.Dropped, td.Dropped)
}

// binomialOK: |observed - p| < 4 sigma.
func binomialOK(t *testing.T, name string, k, n uint64, p float64) {
	t.Helper()
	require.Positive(t, n, name)
	obs := float64(k) / float64(n)
	tol := 4 * math.Sqrt(p*(1-p)/float64(n))
	t.Logf("%-10s observed %.4f of %d, configured %.4f, tolerance ±%.4f", name, obs, n, p, tol)
	require.Less(t, math.Abs(obs-p), tol, "%s rate", name)
}

// Fault rates observed in a long run (the quickstart city for 10 days,
// ~37 000 messages) match the configured rates. Drops, duplicates and
// malformed payloads are counted from the published stream itself; the
// dropped seqs are exactly the gaps of the stream and match Truth.Dropped.
func TestFaultRates(t *testing.T) {
	cfg := loadSim(t, "../scenarios/quickstart.yaml")
	cfg.Horizon = 10 * model.Day
	f := Faults{Drop: 0.03, Duplicate: 0.02, Malformed: MalformedFault{Rate: 0.01}, Reorder: ReorderFault{Rate: 0.02},
		Delay: DelayFault{Rate: 0.015}, Skew: SkewFault{Rate: 0.3}, Disconnect: DisconnectFault{Rate: 0.01}}
	items, truth := generate(t, Config{Sim: cfg, Faults: f})
	c := truth.Counts
	// observed from the stream: seqs per source (prod-* and scanners take no
	// reserved will seqs, so every missing seq is a drop)
	type key struct {
		src string
		seq uint64
	}
	seen := map[key]int{}
	maxSeq := map[string]uint64{}
	badSet := map[key]bool{} // duplicates of a malformed message are malformed too
	for _, it := range messages(items) {
		k := key{it.Source, it.Seq}
		seen[k]++
		maxSeq[it.Source] = max(maxSeq[it.Source], it.Seq)
		if _, err := wire.Decode(it.Topic, it.Payload); err != nil {
			badSet[k] = true
		}
	}
	bad := uint64(len(badSet))
	// a source's last messages may all have been dropped: the stream cannot
	// show those, so the truth's highest dropped seq extends the range (and
	// every seq in it must then be a gap)
	for _, r := range truth.Dropped {
		if !isGateway(cfg, r.Source) {
			maxSeq[r.Source] = max(maxSeq[r.Source], r.Seq)
		}
	}
	var sent, gaps, dups, distinct uint64
	gapSet := map[key]bool{}
	for src, mx := range maxSeq {
		for s := uint64(1); s <= mx; s++ {
			n := seen[key{src, s}]
			if n == 0 {
				if !isGateway(cfg, src) {
					gaps++
					gapSet[key{src, s}] = true
				}
				continue
			}
			distinct++
			dups += uint64(n - 1)
		}
		if !isGateway(cfg, src) {
			sent += mx
		}
	}
	binomialOK(t, "drop", gaps, sent, f.Drop)
	tail := 0 // a source's last messages, dropped, leave no gap to see
	for _, r := range truth.Dropped {
		if !isGateway(cfg, r.Source) {
			if r.Seq > maxSeq[r.Source] {
				tail++
				continue
			}
			require.True(t, gapSet[key{r.Source, r.Seq}], "dropped %s is not a gap", r.MsgID)
		}
	}
	require.EqualValues(t, len(gapSet)+tail, countNonGateway(cfg, truth.Dropped))
	require.EqualValues(t, c.Duplicated, dups)
	binomialOK(t, "duplicate", dups, distinct, f.Duplicate)
	require.EqualValues(t, c.Malformed, bad)
	binomialOK(t, "malformed", bad, distinct, f.Malformed.Rate)
	binomialOK(t, "delay", c.Delayed, c.Sent-c.Dropped, f.Delay.Rate)
	binomialOK(t, "reorder", c.Reordered, c.Sent-c.Dropped+c.Duplicated, f.Reorder.Rate)
	binomialOK(t, "drop(all)", c.Dropped, c.Sent, f.Drop)
	// Disconnects: one Bernoulli(rate) trial per message the publisher sends
	// while connected; a message arriving while the connection is down goes
	// to the backlog without a trial. From the stream: every disconnect is
	// an ItemDisconnect, its ItemReconnect follows reconnect_after later,
	// and the flushed backlog right after it carries the reconnect instant
	// (each was held for being earlier). So trials = messages - flushed +
	// disconnects (each disconnect's trigger is flushed but had its trial).
	// A message that triggers the reconnect at exactly that instant would
	// count as flushed: at most one trial per disconnect too few, ~1 % of n,
	// far inside the tolerance. Expected ~360 disconnects in ~36 000
	// trials; 4 binomial sigma (= Poisson for p this small) is ±21 % of the
	// rate, so a rate off by a quarter fails.
	var msgsN, flushed, discs uint64
	reconnectAt, discAt := model.Instant(-1), model.Instant(-1)
	for _, it := range items {
		switch it.Kind {
		case ItemDisconnect:
			discs++
			discAt, reconnectAt = it.At, -1
		case ItemReconnect:
			require.Equal(t, discAt.Add(model.Duration(truth.Faults.Disconnect.ReconnectAfter)), it.At, "reconnect after reconnect_after")
			reconnectAt = it.At
		case ItemMessage:
			msgsN++
			if it.At == reconnectAt {
				flushed++
			} else {
				reconnectAt = -1
			}
		}
	}
	require.Equal(t, c.Disconnects, discs)
	require.EqualValues(t, len(truth.Disconnects), discs)
	binomialOK(t, "disconnect", discs, msgsN-flushed+discs, f.Disconnect.Rate)
	// skew: chosen per device (9 here), too few for a rate check; see TestSkew
	require.Positive(t, len(truth.Skew))
	for d, ms := range truth.Skew {
		require.LessOrEqual(t, math.Abs(float64(ms)), float64(truth.Faults.Skew.Max)/float64(model.Millisecond), d)
	}
	// reordering is visible: some source's seq goes down
	down := 0
	last := map[string]uint64{}
	for _, it := range messages(items) {
		if it.Seq < last[it.Source] {
			down++
		}
		last[it.Source] = max(last[it.Source], it.Seq)
	}
	require.Positive(t, down)
}

// Clock skew is drawn once per device (node gateways and scanners, hub
// scanner included): Bernoulli(rate) whether it is skewed, then an offset
// uniform in [-max, +max]. The quickstart has only 9 devices, so the draws
// of 400 replications (each its own stream; building a generator does not
// run the simulation) are pooled: n = 3 600 trials at rate 0.3, 4 binomial
// sigma = ±0.031 (±10 % of the rate). For the ~1 080 skewed devices the
// offset's mean must be 0 and the mean |offset| max/2, each within 4 sigma
// of the uniform's (sd max/sqrt(3) and max/sqrt(12)) over sqrt(k). A run
// then checks the skew lands in the envelopes: every message of a skewed
// device (its will and offline-buffered messages aside) carries its
// publish instant plus the skew.
func TestSkew(t *testing.T) {
	cfg := loadSim(t, "../scenarios/quickstart.yaml")
	f := Faults{Skew: SkewFault{Rate: 0.3, Max: Duration(20 * model.Second)}}
	maxMs := float64(f.Skew.Max) / float64(model.Millisecond)
	var devices, skewed uint64
	var sum, sumAbs float64
	for rep := range 400 {
		g, err := NewGenerator(Config{Sim: cfg, Replication: rep, Faults: f}, func(Item) {})
		require.NoError(t, err)
		tr := g.Truth()
		devices += uint64(tr.Counts.Devices)
		for d, ms := range tr.Skew {
			require.LessOrEqual(t, math.Abs(float64(ms)), maxMs, d)
			skewed++
			sum += float64(ms) / maxMs
			sumAbs += math.Abs(float64(ms)) / maxMs
		}
	}
	require.EqualValues(t, 400*(2*len(cfg.Network.Nodes)+1), devices)
	binomialOK(t, "skew", skewed, devices, f.Skew.Rate)
	k := float64(skewed)
	mean, meanAbs := sum/k, sumAbs/k
	tolMean, tolAbs := 4/math.Sqrt(3*k), 4/math.Sqrt(12*k)
	t.Logf("skew offset/max: mean %.4f (want 0 ± %.4f), mean |.| %.4f (want 0.5 ± %.4f)", mean, tolMean, meanAbs, tolAbs)
	require.Less(t, math.Abs(mean), tolMean, "skew offsets not centred")
	require.Less(t, math.Abs(meanAbs-0.5), tolAbs, "skew offsets not uniform in [-max, max]")

	items, truth := generate(t, Config{Sim: cfg, Faults: f})
	require.NotEmpty(t, truth.Skew)
	checked, sent := map[string]int{}, map[string]int{}
	for _, it := range messages(items) {
		env, err := wire.Decode(it.Topic, it.Payload)
		require.NoError(t, err)
		sent[env.Source]++
		ms, ok := truth.Skew[env.Source]
		if !ok || isWill(env) {
			continue
		}
		shift := model.Duration(ms) * model.Millisecond
		if env.At.Add(-shift) < it.At {
			continue // produced while its node was offline, flushed later
		}
		require.Equal(t, it.At.Add(shift), env.At, "%s seq %d", env.Source, env.Seq)
		checked[env.Source]++
	}
	for d := range truth.Skew {
		if sent[d] > 0 { // the hub scanner is silent without hub orders
			require.Positive(t, checked[d], "no message of skewed device %s", d)
		}
	}
	require.NotEmpty(t, checked)
}

func isGateway(cfg *sim.Config, src string) bool {
	for _, n := range cfg.Network.Nodes {
		if n.ID == src {
			return true
		}
	}
	return false
}

func countNonGateway(cfg *sim.Config, recs []FaultRecord) int {
	n := 0
	for _, r := range recs {
		if !isGateway(cfg, r.Source) {
			n++
		}
	}
	return n
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("ok", []byte("drop: 0.01\nreorder: {rate: 0.02, window: 3}\ndelay: {rate: 0.1, max: 90s}\nmalformed: {rate: 0.01, kinds: [bad_json]}\n"))
	require.NoError(t, err)
	require.Equal(t, 0.01, f.Drop)
	require.Equal(t, 3, f.Reorder.Window)
	require.Equal(t, Duration(90*model.Second), f.Delay.Max)
	require.Equal(t, Duration(30*model.Second), f.Skew.Max)
	require.Equal(t, []string{"bad_json"}, f.Malformed.Kinds)
	f, err = ParseFaults("empty", nil)
	require.NoError(t, err)
	require.False(t, f.Any())
	for name, src := range map[string]string{
		"unknown field": "dorp: 0.1\n",
		"rate > 1":      "drop: 1.5\n",
		"negative":      "duplicate: -0.1\n",
		"bad kind":      "malformed: {rate: 0.1, kinds: [gibberish]}\n",
		"bad duration":  "delay: {rate: 0.1, max: soon}\n",
		"not a map":     "- 1\n",
	} {
		_, err := ParseFaults(name, []byte(src))
		require.Error(t, err, name)
	}
}

func TestExampleFaultFiles(t *testing.T) {
	for _, p := range []string{"../scenarios/faults/flaky.yaml", "../scenarios/faults/hostile.yaml"} {
		f, err := LoadFaults(p)
		require.NoError(t, err, p)
		require.True(t, f.Any(), p)
	}
}

// dstScenario is the quickstart over two days from the given date, in its
// own zone (Europe/Berlin).
func dstScenario(t testing.TB, year int, month time.Month, day int) (*sim.Config, *time.Location) {
	t.Helper()
	s, err := scenarios.Load("../scenarios/quickstart.yaml")
	require.NoError(t, err)
	s.Start = scenarios.Date{Year: year, Month: month, Day: day}
	cfg, err := s.Config()
	require.NoError(t, err)
	cfg.Horizon = 2 * model.Day
	loc, err := s.Location()
	require.NoError(t, err)
	return cfg, loc
}

// TestRealInstants: hwsim publishes real instants. The same simulation in
// Berlin and in UTC (the simulator runs on local time either way) gives the
// same messages; Berlin's due instants, at, placed_at and sla_deadline are
// the UTC run's read as Berlin wall-clock time and converted to real time,
// across both changes of 2026 (spring forward on 29 March, fall back on 25
// October): monotone per source, the skipped hour mapped onto the change,
// and written with Z.
func TestRealInstants(t *testing.T) {
	for _, tc := range []struct {
		start     time.Time
		realStart string // midnight in Berlin
	}{
		{time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC), "2026-03-27T23:00:00.000Z"},
		{time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC), "2026-10-23T22:00:00.000Z"},
	} {
		t.Run(tc.start.Format("2006-01-02"), func(t *testing.T) {
			cfg, loc := dstScenario(t, tc.start.Year(), tc.start.Month(), tc.start.Day())
			zone := model.NewZone(loc)
			local, _ := generate(t, Config{Sim: cfg})
			real, truth := generate(t, Config{Sim: cfg, Location: loc})
			require.Len(t, real, len(local))
			assert.Equal(t, tc.realStart, truth.Start)
			last := map[string]model.Instant{}
			crossed := false
			for i := range real {
				require.Equal(t, zone.Real(local[i].At), real[i].At, "item %d due", i)
				lenv, err := wire.Decode(local[i].Topic, local[i].Payload)
				require.NoError(t, err)
				env, err := wire.Decode(real[i].Topic, real[i].Payload)
				require.NoError(t, err)
				require.Equal(t, zone.Real(lenv.At), env.At, "%s at", env.MsgID)
				require.Contains(t, string(real[i].Payload), `Z","type"`, "at is written in UTC")
				if o, ok := env.Body.(wire.Order); ok {
					lo := lenv.Body.(wire.Order)
					require.Equal(t, zone.Real(lo.PlacedAt), o.PlacedAt)
					require.Equal(t, zone.Real(lo.SLADeadline), o.SLADeadline)
				}
				if !isWill(env) {
					require.GreaterOrEqual(t, env.At, last[env.Source], "%s: the clock went back", env.MsgID)
					last[env.Source] = env.At
				}
				if zone.Local(env.At)-env.At != zone.Local(real[0].At)-real[0].At {
					crossed = true
				}
			}
			assert.True(t, crossed, "the run crosses a change of offset")
			// the simulator has no daylight saving: in spring its hour
			// from 02:00 does not exist and is published at the change;
			// in autumn its one pass through 02:00-03:00 is the first, and
			// the repeated hour's real instants are never used
			change := model.InstantOf(time.Date(2026, tc.start.Month(), tc.start.Day()+1, 1, 0, 0, 0, time.UTC))
			atChange, inRepeat := 0, 0
			for i := range real {
				if real[i].At == change && local[i].At > model.InstantOf(time.Date(2026, tc.start.Month(), tc.start.Day()+1, 2, 0, 0, 0, time.UTC)) {
					atChange++
				}
				if real[i].At > change && real[i].At < change.Add(model.Hour) {
					inRepeat++
				}
			}
			if tc.start.Month() == time.March {
				assert.Positive(t, atChange, "heartbeats of the skipped hour are published at the change")
			} else {
				assert.Zero(t, inRepeat, "nothing in the repeated hour")
			}
		})
	}
}
