package twin_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// TestHwsimWindowsTwin: hwsim sends the pickup windows of the
// pickup-windows example in its orders; the twin hands them to the core,
// whose deadlines (the windows' openings) and rewards agree with
// production's: no divergence. Orders whose sla_deadline production moved
// an hour are each one deadline_mismatch, and nothing else.
func TestHwsimWindowsTwin(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/examples/pickup-windows.yaml")
	require.NoError(t, err)
	sc.Warmup = 0 // generate runs two days
	recs, _ := generate(t, sc, hwsim.Faults{})
	windowed := 0
	var shifted []string
	tampered := make([]wire.CaptureRecord, len(recs))
	for i, r := range recs {
		tampered[i] = r
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		o, ok := env.Body.(wire.Order)
		if !ok || o.Window == nil {
			continue
		}
		windowed++
		require.Equal(t, o.Window.Opens, o.SLADeadline, "a windowed order is due when its window opens")
		require.Equal(t, 2*model.Hour, model.Duration(o.Window.Closes-o.Window.Opens))
		if windowed%10 == 0 {
			o.SLADeadline += model.Instant(model.Hour)
			env.Body = o
			p, err := wire.Encode(env)
			require.NoError(t, err)
			tampered[i].Payload = p
			shifted = append(shifted, o.LabelID)
		}
	}
	require.Greater(t, windowed, 100, "the example's customers choose windows")

	tw := replay(t, sc, recs)
	assert.Empty(t, tw.Divergences(twin.Filter{}))
	assert.Positive(t, tw.Counters().Accepted)

	tw = replay(t, sc, tampered)
	ds := tw.Divergences(twin.Filter{})
	var got []string
	for _, d := range ds {
		require.Equal(t, twin.KindDeadlineMismatch, d.Kind, "%+v", d)
		require.Equal(t, model.Duration(model.Hour), model.Duration(d.ProductionAt-d.CoreAt))
		got = append(got, d.Label)
	}
	assert.ElementsMatch(t, shifted, got)
}

// Without a touch section the twin's core ignores windows, so production's
// window deadlines differ from the core's cutoff rule: every windowed
// order whose deadlines differ is reported.
func TestTwinWindowsWithoutTouchPolicy(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/examples/pickup-windows.yaml")
	require.NoError(t, err)
	sc.Warmup = 0 // generate runs two days
	recs, _ := generate(t, sc, hwsim.Faults{})
	sc.Touch = nil
	tw := replay(t, sc, recs)
	kinds := map[string]int{}
	for _, d := range tw.Divergences(twin.Filter{}) {
		kinds[d.Kind]++
	}
	assert.Positive(t, kinds[twin.KindDeadlineMismatch])
}

// TestHwsimRewardsTwin: hwsim reports the core's rewards with the
// picked_up state; the twin's core credits the same: no divergence. A
// report without its reward, with another amount, or with a reward the core
// did not credit, is reward_missing, reward_amount or reward_unexpected.
func TestHwsimRewardsTwin(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/examples/pickup-windows.yaml")
	require.NoError(t, err)
	sc.Warmup = 0
	recs, _ := generate(t, sc, hwsim.Faults{})
	want := map[string]string{}
	tampered := make([]wire.CaptureRecord, len(recs))
	rewarded, plain := 0, 0
	for i, r := range recs {
		tampered[i] = r
		env, err := wire.Decode(r.Topic, r.Payload)
		require.NoError(t, err)
		b, ok := env.Body.(wire.LabelState)
		if !ok || b.State != wire.LabelPickedUp {
			continue
		}
		switch {
		case b.Reward != nil:
			rewarded++
			require.Equal(t, uint64(100), b.Reward.Amount, "1 unit, in cents")
			switch rewarded % 20 {
			case 0:
				b.Reward = nil
				want[b.LabelID] = twin.KindRewardMissing
			case 10:
				b.Reward = &wire.Reward{Amount: 150, Currency: "EUR"}
				want[b.LabelID] = twin.KindRewardAmount
			default:
				continue
			}
		default:
			plain++
			if plain%5 != 0 {
				continue
			}
			b.Reward = &wire.Reward{Amount: 100, Currency: "EUR"}
			want[b.LabelID] = twin.KindRewardUnexpected
		}
		env.Body = b
		p, err := wire.Encode(env)
		require.NoError(t, err)
		tampered[i].Payload = p
	}
	require.Greater(t, rewarded, 100)
	require.Positive(t, plain)

	tw := replay(t, sc, recs)
	assert.Empty(t, tw.Divergences(twin.Filter{}))

	tw = replay(t, sc, tampered)
	got := map[string]string{}
	for _, d := range tw.Divergences(twin.Filter{}) {
		got[d.Label] = d.Kind
	}
	assert.Equal(t, want, got)
}
