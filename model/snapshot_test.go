package model_test

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
	"github.com/stretchr/testify/require"
)

// recording is the event stream the simulator stepped its core with.
type recording struct {
	cfg    *sim.Config
	events []model.Event
}

func (r *recording) Observe(_ *model.Core, ev model.Event, _ []model.Effect) {
	r.events = append(r.events, ev)
}

// newCore is a core set up as the simulator sets up its own.
func (r *recording) newCore(keep bool) *model.Core {
	c := model.New(r.cfg.Network)
	c.MeasureFrom = r.cfg.Start.Add(r.cfg.Warmup)
	c.KeepFinished = keep
	return c
}

var recordings sync.Map // path -> *recording

// record runs the scenario once (cached across tests) and returns the events
// its core was stepped with.
func record(t testing.TB, path string) *recording {
	t.Helper()
	if r, ok := recordings.Load(path); ok {
		return r.(*recording)
	}
	s, err := scenarios.Load(path)
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	rec := &recording{cfg: cfg}
	_, err = sim.RunObserved(cfg, 0, rec)
	require.NoError(t, err)
	require.NotEmpty(t, rec.events)
	r, _ := recordings.LoadOrStore(path, rec)
	return r.(*recording)
}

const (
	quickstart   = "../scenarios/quickstart.yaml"
	offlineServe = "../scenarios/examples/offline-serve.yaml"
	// pickupWindows has live labels with pickup windows (the touch section)
	pickupWindows = "../scenarios/examples/pickup-windows.yaml"
	// reusablePackaging has boxes in every state (packaging_snapshot.go)
	reusablePackaging = "../scenarios/examples/reusable-packaging.yaml"
)

func marshal(t testing.TB, c *model.Core) []byte {
	t.Helper()
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	return b
}

func restore(t testing.TB, net *model.Network, data []byte) *model.Core {
	t.Helper()
	c := model.New(net)
	require.NoError(t, c.UnmarshalBinary(data))
	return c
}

func TestSnapshotRoundTripMidRun(t *testing.T) {
	for _, tc := range []struct {
		path string
		keep bool // KeepFinished, as the twin runs
	}{
		{quickstart, false},
		{quickstart, true},
		{offlineServe, false},
		{offlineServe, true},
		{pickupWindows, false},
		{pickupWindows, true},
		{reusablePackaging, false},
	} {
		t.Run(fmt.Sprintf("%s/keep=%v", tc.path[len("../scenarios/"):], tc.keep), func(t *testing.T) {
			rec := record(t, tc.path)
			evs := rec.events
			n := len(evs)

			// core A steps everything; its effects are the reference. The
			// checkpoints: the ends, fractions of the run, and just before
			// and after reconciliations that find an unmerged log or orders
			// queued for the node (Inventory at instant 0 is a pure read).
			ks := []int{0, 1, n / 7, n / 3, n / 2, 2 * n / 3, n - 1, n}
			unsynced, pending := 0, 0
			a := rec.newCore(tc.keep)
			var effs []model.Effect
			at := make([]int, n+1)
			for i, ev := range evs {
				if ev.Type == model.EvNodeOnline {
					inv := a.Inventory(ev.Node, 0)
					if inv.Unsynced > 0 && unsynced < 3 || inv.Pending > 0 && pending < 3 {
						ks = append(ks, i, i+1)
					}
					unsynced += min(inv.Unsynced, 1)
					pending += min(inv.Pending, 1)
				}
				effs = append(effs, a.Step(ev)...)
				at[i+1] = len(effs)
			}
			if tc.path == offlineServe {
				require.Positive(t, unsynced, "no reconciliation with an unmerged log")
				require.Positive(t, pending, "no reconciliation with queued orders")
			}
			sortInts(ks)
			t.Logf("%d events, %d effects, checkpoints %v", n, len(effs), ks)

			b := rec.newCore(tc.keep)
			done := 0
			for _, k := range ks {
				for ; done < k; done++ {
					b.Step(evs[done])
				}
				snap := marshal(t, b)
				c := restore(t, rec.cfg.Network, snap)
				requireSameState(t, b, c, fmt.Sprintf("k=%d right after restore", k))
				for i := k; i < n; i++ {
					got := c.Step(evs[i])
					want := effs[at[i]:at[i+1]]
					if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
						require.Equal(t, want, got, "k=%d: effects of event %d (%v) differ", k, i, evs[i])
					}
				}
				require.Equal(t, a.Stats, c.Stats, "k=%d", k)
				require.Equal(t, marshal(t, a), marshal(t, c), "k=%d: final snapshots differ", k)
				requireSameState(t, a, c, fmt.Sprintf("k=%d at the end", k))
			}
		})
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// requireSameState compares two cores field by field by reflection, the
// unexported fields included, so a field the snapshot forgets fails here even
// if the encoder and decoder agree on leaving it out. Skipped: Net (same
// pointer), OnFinish, scratch buffers (the spare chains and orderByRings' list among them)
// and the drain's memory hint (Draining), the id index (derived from the live
// labels, which are compared one by one through it), and slab slots on the free list (their
// stale contents are never read). Nil and empty slices compare equal, except
// in the nearest-node cache (nil there means "not computed yet").
func requireSameState(t *testing.T, a, b *model.Core, what string) {
	t.Helper()
	require.Same(t, a.Net, b.Net)
	var diffs []string
	skip := map[string]bool{"Net": true, "OnFinish": true, "out": true, "freeBuf": true, "skuMark": true, "labels": true, "index": true,
		"smallFree": true, "bigFree": true, "draining": true, "nearBuf": true}
	deepDiff("core", reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), skip, &diffs)

	la, lb := reflect.ValueOf(a).Elem().FieldByName("labels"), reflect.ValueOf(b).Elem().FieldByName("labels")
	require.Equal(t, la.FieldByName("n").Int(), lb.FieldByName("n").Int(), "%s: slab length", what)
	var live []*model.Label
	a.EachLabel(func(l *model.Label) { live = append(live, l) })
	require.Equal(t, len(live), b.Live(), "%s: live labels", what)
	for _, l := range live {
		m := b.Label(l.ID)
		require.NotNil(t, m, "%s: label %d missing", what, l.ID)
		deepDiff(fmt.Sprintf("label %d", l.ID), reflect.ValueOf(l).Elem(), reflect.ValueOf(m).Elem(), nil, &diffs)
		require.Equal(t, -1, m.Verify(), "%s: label %d chain", what, l.ID)
	}
	if len(diffs) > 10 {
		diffs = diffs[:10]
	}
	require.Empty(t, diffs, what)
}

func deepDiff(path string, a, b reflect.Value, skip map[string]bool, out *[]string) {
	if len(*out) > 10 {
		return
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			name := a.Type().Field(i).Name
			if !skip[name] {
				deepDiff(path+"."+name, a.Field(i), b.Field(i), nil, out)
			}
		}
	case reflect.Pointer:
		if a.IsNil() != b.IsNil() {
			*out = append(*out, path+": nil differs")
		} else if !a.IsNil() {
			deepDiff(path, a.Elem(), b.Elem(), nil, out)
		}
	case reflect.Slice, reflect.Array:
		if a.Kind() == reflect.Slice && strings.HasPrefix(path, "core.order[") && a.IsNil() != b.IsNil() {
			*out = append(*out, path+": nil differs")
			return
		}
		if a.Len() != b.Len() {
			*out = append(*out, fmt.Sprintf("%s: len %d != %d", path, a.Len(), b.Len()))
			return
		}
		for i := 0; i < a.Len(); i++ {
			deepDiff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), nil, out)
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			*out = append(*out, fmt.Sprintf("%s: len %d != %d", path, a.Len(), b.Len()))
			return
		}
		for it := a.MapRange(); it.Next(); {
			v := b.MapIndex(it.Key())
			if !v.IsValid() {
				*out = append(*out, fmt.Sprintf("%s: key %v missing", path, it.Key()))
				continue
			}
			deepDiff(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value(), v, nil, out)
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, a.Bool(), b.Bool()))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			*out = append(*out, fmt.Sprintf("%s: %d != %d", path, a.Int(), b.Int()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			*out = append(*out, fmt.Sprintf("%s: %d != %d", path, a.Uint(), b.Uint()))
		}
	case reflect.Float32, reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, a.Float(), b.Float()))
		}
	case reflect.String:
		if a.String() != b.String() {
			*out = append(*out, fmt.Sprintf("%s: %q != %q", path, a.String(), b.String()))
		}
	default:
		*out = append(*out, fmt.Sprintf("%s: cannot compare %s", path, a.Kind()))
	}
}

// midRun returns a core of the scenario after k events (k < 0: from the end).
func midRun(t testing.TB, path string, k int, keep bool) (*recording, *model.Core) {
	t.Helper()
	rec := record(t, path)
	if k < 0 {
		k += len(rec.events)
	}
	c := rec.newCore(keep)
	for _, ev := range rec.events[:k] {
		c.Step(ev)
	}
	return rec, c
}

func TestSnapshotDeterministic(t *testing.T) {
	for _, path := range []string{quickstart, offlineServe, pickupWindows} {
		for _, frac := range []int{0, 3, 2} {
			rec := record(t, path)
			k := 0
			if frac > 0 {
				k = len(rec.events) / frac
			}
			_, c := midRun(t, path, k, frac == 2)
			first := marshal(t, c)
			require.Equal(t, first, marshal(t, c), "%s k=%d: marshal twice", path, k)
			again := marshal(t, restore(t, rec.cfg.Network, first))
			require.Equal(t, first, again, "%s k=%d: marshal, unmarshal, marshal", path, k)
			// restoring over a core that already ran replaces all of it
			_, other := midRun(t, path, k/2+1, frac != 2)
			require.NoError(t, other.UnmarshalBinary(first))
			require.Equal(t, first, marshal(t, other), "%s k=%d: restore over a used core", path, k)
		}
	}
}

// The same label stays at the same slab index, so drivers' per-label slices
// stay valid across a restart.
func TestSnapshotKeepsSlabs(t *testing.T) {
	rec, c := midRun(t, offlineServe, -1000, false)
	d := model.New(rec.cfg.Network)
	finished := 0
	d.OnFinish = func(*model.Label) { finished++ }
	require.NoError(t, d.UnmarshalBinary(marshal(t, c)))
	n := 0
	c.EachLabel(func(l *model.Label) {
		require.Equal(t, l.Slab(), d.Label(l.ID).Slab())
		n++
	})
	require.Positive(t, n)
	// OnFinish is the restoring core's own and stays set
	for _, ev := range rec.events[len(rec.events)-1000:] {
		d.Step(ev)
	}
	require.Positive(t, finished)
}

// changed returns a copy of net with f applied to a copy of its nodes.
func changed(net *model.Network, f func([]model.Node) []model.Node) *model.Network {
	cp := *net
	cp.Nodes = f(append([]model.Node(nil), net.Nodes...))
	return &cp
}

func TestSnapshotErrors(t *testing.T) {
	rec, small := midRun(t, quickstart, 60, false)
	net := rec.cfg.Network
	snap := marshal(t, small)
	require.Less(t, len(snap), 8<<10, "the snapshot for the prefix test should be small")

	// the core the bad snapshots are restored onto: another state, which
	// must survive every failed attempt
	_, target := midRun(t, quickstart, 25, true)
	before := marshal(t, target)
	beforeStats := target.Stats
	unchanged := func(what string) {
		require.Equal(t, before, marshal(t, target), "%s: core changed", what)
		require.Equal(t, beforeStats, target.Stats, "%s: stats changed", what)
	}

	flip := func(i int, x byte) []byte {
		b := append([]byte(nil), snap...)
		b[i] ^= x
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, model.ErrSnapshotVersion},
		{"empty", []byte{}, model.ErrSnapshotVersion},
		{"garbage", []byte("this is not a snapshot of anything at all"), model.ErrSnapshotVersion},
		{"magic only", snap[:4], model.ErrSnapshotCorrupt},
		{"version flipped", flip(4, 0xff), model.ErrSnapshotVersion},
		{"version+1", flip(4, 3), model.ErrSnapshotVersion},
		{"fingerprint flipped", flip(7, 1), model.ErrSnapshotNetwork},
		{"body byte flipped", flip(len(snap)/2, 0x10), model.ErrSnapshotCorrupt},
		{"checksum flipped", flip(len(snap)-1, 1), model.ErrSnapshotCorrupt},
		{"trailing byte", append(append([]byte(nil), snap...), 0), model.ErrSnapshotCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := target.UnmarshalBinary(tc.data)
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), "model: snapshot: ")
			unchanged(tc.name)
		})
	}

	t.Run("truncated at every length", func(t *testing.T) {
		for i := 0; i < len(snap); i++ {
			err := target.UnmarshalBinary(snap[:i])
			require.Error(t, err, "prefix of %d bytes", i)
			if i%97 == 0 {
				unchanged(fmt.Sprintf("prefix of %d bytes", i))
			}
		}
		unchanged("prefixes")
	})

	t.Run("wrong network", func(t *testing.T) {
		for name, other := range map[string]*model.Network{
			"one node fewer": changed(net, func(ns []model.Node) []model.Node { return ns[:len(ns)-1] }),
			"slot count": changed(net, func(ns []model.Node) []model.Node {
				ns[0].Slots[model.Small]++
				return ns
			}),
			"sku price": func() *model.Network {
				cp := *net
				cp.SKUs = append([]model.SKU(nil), net.SKUs...)
				cp.SKUs[0].Price += 0.01
				return &cp
			}(),
			"policy": func() *model.Network { cp := *net; cp.Policy.MaxHops++; return &cp }(),
		} {
			require.NotEqual(t, net.Fingerprint(), other.Fingerprint(), name)
			c := model.New(other)
			c2 := model.New(other)
			err := c.UnmarshalBinary(snap)
			require.ErrorIs(t, err, model.ErrSnapshotNetwork, name)
			require.Equal(t, marshal(t, c2), marshal(t, c), "%s: core changed", name)
		}
		// an equal network (another copy) is fine
		require.NoError(t, model.New(changed(net, func(ns []model.Node) []model.Node { return ns })).UnmarshalBinary(snap))
	})

}

// Damage with the checksum fixed up (what a checksum cannot see): the
// decoder must reject it or give a core that steps on without panicking.
func TestSnapshotDamageNeverPanics(t *testing.T) {
	for _, tc := range []struct {
		path  string
		k     int // events before the snapshot (<0: from the end)
		keep  bool
		tries int // damaged positions (0: every byte)
	}{
		{quickstart, 60, false, 0},
		{offlineServe, 1060, true, 800},
		{offlineServe, -1500, false, 800},
	} {
		rec, c := midRun(t, tc.path, tc.k, tc.keep)
		snap := marshal(t, c)
		k := tc.k
		if k < 0 {
			k += len(rec.events)
		}
		next := rec.events[k:min(k+150, len(rec.events))]
		rnd := rand.New(rand.NewPCG(1, uint64(len(snap))))
		accepted, tried := 0, 0
		for i := 13; i < len(snap)-4; i++ {
			pos := i
			if tc.tries > 0 {
				if tried >= 3*tc.tries {
					break
				}
				pos = 13 + rnd.IntN(len(snap)-17)
			}
			for _, x := range []byte{0x01, 0x80, 0xff} {
				tried++
				b := append([]byte(nil), snap...)
				b[pos] ^= x
				fixCRC(b)
				d := model.New(rec.cfg.Network)
				if err := d.UnmarshalBinary(b); err != nil {
					require.ErrorIs(t, err, model.ErrSnapshotCorrupt)
					continue
				}
				accepted++
				for _, ev := range next {
					d.Step(ev)
				}
				_, err := d.MarshalBinary()
				require.NoError(t, err)
			}
		}
		t.Logf("%s k=%d: %d of %d damaged snapshots accepted and stepped %d events", tc.path, k, accepted, tried, len(next))
	}
}

func fixCRC(b []byte) {
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli)))
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	rec := record(f, offlineServe)
	net := rec.cfg.Network
	for _, k := range []int{0, 40, 400} {
		_, c := midRun(f, offlineServe, k, k == 40)
		snap := marshal(f, c)
		f.Add(snap, false)
		f.Add(snap, true)
	}
	f.Add([]byte("LSCS\x01"), false)
	tail := rec.events[400:600]
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if fix {
			// let mutations reach the decoder's checks past the checksum
			data = append([]byte(nil), data...)
			fixCRC(data)
		}
		c := model.New(net)
		fresh := marshal(t, c)
		if err := c.UnmarshalBinary(data); err != nil {
			require.Equal(t, fresh, marshal(t, c), "failed restore changed the core")
			return
		}
		// whatever was accepted round-trips and can be stepped
		snap := marshal(t, c)
		require.Equal(t, snap, marshal(t, restore(t, net, snap)))
		for _, ev := range tail {
			c.Step(ev)
		}
		marshal(t, c)
	})
}

// BenchmarkSnapshot marshals and restores a twin-sized core: the
// offline-serve run replayed with KeepFinished (every label stays, with its
// chain) and its labels copied under new ids until ~100k labels are held.
func BenchmarkSnapshot(b *testing.B) {
	rec := record(b, offlineServe)
	c := rec.newCore(true)
	const want = 100_000
	var id model.LabelID = 1 << 40
	for c.Live() < want {
		for _, ev := range rec.events {
			if c.Live() >= want && ev.Type == model.EvOrderPlaced {
				continue
			}
			if ev.Label != 0 {
				ev.Label += id
			}
			c.Step(ev)
		}
		id += 1 << 40
	}
	snap := marshal(b, c)
	labels := float64(c.Live())
	b.Logf("%d labels, snapshot %.1f MB", c.Live(), float64(len(snap))/1e6)

	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(snap)))
		for b.Loop() {
			if _, err := c.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(snap))/1e6, "MB")
		b.ReportMetric(labels*float64(b.N)/b.Elapsed().Seconds(), "labels/s")
	})
	b.Run("Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(snap)))
		d := model.New(rec.cfg.Network)
		for b.Loop() {
			if err := d.UnmarshalBinary(snap); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(snap))/1e6, "MB")
		b.ReportMetric(labels*float64(b.N)/b.Elapsed().Seconds(), "labels/s")
	})
}
