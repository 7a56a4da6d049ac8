package fit

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
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

// writeJournal writes recs into a twin journal in a fresh directory, for the
// network file at network (as `lockstep twin --data` would).
func writeJournal(t *testing.T, network string, recs []wire.CaptureRecord) string {
	t.Helper()
	n := len(recs)
	dir := t.TempDir()
	j, err := twin.OpenJournal(dir, false)
	require.NoError(t, err)
	nw, err := LoadNetwork(network)
	require.NoError(t, err)
	require.NoError(t, j.CheckNetwork(nw.Digest))
	for i := 0; i < min(n, len(recs)); i += 5000 {
		require.NoError(t, j.Append(recs[i:min(i+5000, n, len(recs))]...))
	}
	require.NoError(t, j.Close())
	return dir
}

// prefixCapture writes the first n records of the loop's feed (about a
// week: enough for every fitted value, cheaper to read) as a capture.
func prefixCapture(t *testing.T, n int) (string, []wire.CaptureRecord) {
	t.Helper()
	_, recs := loopCapture(t)
	recs = recs[:min(n, len(recs))]
	p := filepath.Join(t.TempDir(), "prefix.ndjson")
	f, err := os.Create(p)
	require.NoError(t, err)
	w := wire.NewCaptureWriter(f)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return p, recs
}

// TestFitDeterministic: the same feed and window give the same bytes, and
// the journal of a twin that received the feed gives the same scenario as
// the capture (but for the line naming the source).
func TestFitDeterministic(t *testing.T) {
	capture, recs := prefixCapture(t, 32000)
	n, err := LoadNetwork(loopNetwork)
	require.NoError(t, err)
	fitBytes := func(obs *Observations) []byte {
		r, err := Fit(n, obs, Options{})
		require.NoError(t, err)
		out, err := r.YAML()
		require.NoError(t, err)
		return out
	}
	o1, err := ReadCapture(n, capture)
	require.NoError(t, err)
	o2, err := ReadCapture(n, capture)
	require.NoError(t, err)
	a, b := fitBytes(o1), fitBytes(o2)
	require.Equal(t, string(a), string(b), "same capture, same bytes")

	oj, err := ReadJournal(n, writeJournal(t, loopNetwork, recs))
	require.NoError(t, err)
	j := fitBytes(oj)
	strip := func(b []byte) string { _, rest, _ := strings.Cut(string(b), "\n"); return rest }
	assert.Equal(t, strip(a), strip(j), "journal and capture of one feed fit alike")

	// the written scenario loads and validates, and holds the fitted values
	sc, err := scenarios.Parse("fitted.yaml", a)
	require.NoError(t, err)
	require.NoError(t, sc.Validate())
	assert.Equal(t, fmt.Sprintf("%dd", int(oj.last.Sub(oj.first)/model.Day)), sc.Horizon.String())
	assert.Contains(t, string(a), "# fitted: ")
}

// TestFitBadInput: bad input gives a clear error, or keeps the network's
// value with a comment saying why; never a silent default.
func TestFitBadInput(t *testing.T) {
	capture, _ := loopCapture(t)
	n, err := LoadNetwork(loopNetwork)
	require.NoError(t, err)
	obs, err := ReadCapture(n, capture)
	require.NoError(t, err)
	day := model.Instant(model.Day)
	from, _ := obs.DefaultWindow()

	t.Run("empty capture", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "empty.ndjson")
		require.NoError(t, os.WriteFile(p, nil, 0o600))
		o, err := ReadCapture(n, p)
		require.NoError(t, err)
		_, err = Fit(n, o, Options{})
		require.ErrorContains(t, err, "holds no messages")
	})
	t.Run("not a capture", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "junk.ndjson")
		require.NoError(t, os.WriteFile(p, []byte("hello\nworld\n"), 0o600))
		_, err := ReadCapture(n, p)
		require.ErrorContains(t, err, "is a capture record")
	})
	t.Run("empty window", func(t *testing.T) {
		_, err := Fit(n, obs, Options{From: from + 3*day, To: from + 3*day})
		require.ErrorContains(t, err, "is empty")
	})
	t.Run("window not on midnights", func(t *testing.T) {
		_, err := Fit(n, obs, Options{From: from + day/2, To: from + 3*day})
		require.ErrorContains(t, err, "local midnights")
	})
	t.Run("window with no orders", func(t *testing.T) {
		_, err := Fit(n, obs, Options{From: from + 40*day, To: from + 41*day})
		require.ErrorContains(t, err, "no order placed")
	})
	short, recs := prefixCapture(t, 8000)
	for _, other := range []string{"../scenarios/pilot-5-neighborhoods.yaml", "testdata/moved.yaml"} {
		t.Run("capture of another network "+other, func(t *testing.T) {
			capture := short
			nw, err := LoadNetwork(other)
			require.NoError(t, err)
			o, err := ReadCapture(nw, capture)
			require.NoError(t, err)
			_, err = Fit(nw, o, Options{})
			require.ErrorContains(t, err, "looks like a feed of another network")
		})
	}
	t.Run("journal of another network", func(t *testing.T) {
		other, err := LoadNetwork("../scenarios/quickstart.yaml")
		require.NoError(t, err)
		_, err = ReadJournal(other, writeJournal(t, loopNetwork, recs[:100]))
		require.ErrorContains(t, err, "another network file")
	})
	t.Run("too few samples keep the network's values", func(t *testing.T) {
		r, err := Fit(n, obs, Options{From: from, To: from + 2*day, MinSamples: 400, MinFailures: 50})
		require.NoError(t, err)
		out, err := r.YAML()
		require.NoError(t, err)
		s := string(out)
		sc, err := scenarios.Parse("fitted.yaml", out)
		require.NoError(t, err)
		// kept, and said so
		assert.Equal(t, n.Scenario.Neighborhoods[1].OrdersPerDay, sc.Neighborhoods[1].OrdersPerDay)
		assert.Contains(t, s, "kept from the network: the window has 2 days, a weekday profile needs every weekday")
		assert.Contains(t, s, "orders_per_day")
		assert.Regexp(t, `kept from the network: \d+ orders in 2 days, fewer than 400`, s)
		assert.Contains(t, s, "the network's mtbf/mttr kept")
		assert.Equal(t, n.Scenario.Nodes[1].Connectivity.MTBF, sc.Nodes[1].Connectivity.MTBF)
		assert.Equal(t, n.Scenario.DemandCalendar.Weekday, sc.DemandCalendar.Weekday)
	})
}

// TestUpliftExposure: a pop-up's demand_uplift raises demand while it is
// active; the fit counts it in the exposure and recovers the base rate
// within three Poisson SEs, where orders / days would be far off.
func TestUpliftExposure(t *testing.T) {
	n, err := LoadNetwork("testdata/popup.yaml")
	require.NoError(t, err)
	cfg, err := n.Scenario.Config()
	require.NoError(t, err)
	loc, err := n.Scenario.Location()
	require.NoError(t, err)
	items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: loc})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "popup.ndjson")
	f, err := os.Create(p)
	require.NoError(t, err)
	w := wire.NewCaptureWriter(f)
	for _, it := range items {
		if it.Kind == hwsim.ItemMessage {
			require.NoError(t, w.Write(wire.CaptureRecord{Topic: it.Topic, RecvAt: it.At, Retain: it.Retain, Payload: it.Payload}))
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	obs, err := ReadCapture(n, p)
	require.NoError(t, err)
	r, err := Fit(n, obs, Options{})
	require.NoError(t, err)
	up, _ := r.upliftByDay()
	require.NotNil(t, up)
	lifted := false
	for i, h := range r.Hoods {
		truth := n.Scenario.Neighborhoods[i].OrdersPerDay
		se := math.Sqrt(truth*float64(r.Days)) / float64(r.Days)
		assert.InDelta(t, truth, h.OrdersPerDay, 3*se, "%s", h.Name)
		if naive := float64(h.N) / float64(r.Days); naive-truth > 4*se {
			lifted = true
			assert.Contains(t, h.RateNote, "demand_uplift")
		}
	}
	assert.True(t, lifted, "the uplift raises some neighborhood's orders beyond its sampling error")
}
