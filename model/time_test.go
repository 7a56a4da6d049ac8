package model

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // zone names without a system zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zone(t testing.TB, name string) *Zone {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return NewZone(loc)
}

// rfc parses an RFC 3339 instant (a real one with its offset, or a local
// wall-clock reading written with Z).
func rfc(t testing.TB, s string) Instant {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return InstantOf(tm)
}

func TestZoneOffsets(t *testing.T) {
	for _, tc := range []struct {
		zone, real, local string
	}{
		{"UTC", "2026-03-02T09:30:00Z", "2026-03-02T09:30:00Z"},
		{"Europe/Berlin", "2026-03-02T08:30:00Z", "2026-03-02T09:30:00Z"}, // CET
		{"Europe/Berlin", "2026-07-01T08:30:00Z", "2026-07-01T10:30:00Z"}, // CEST
		{"Asia/Tokyo", "2026-03-02T08:30:00Z", "2026-03-02T17:30:00Z"},
		{"America/New_York", "2026-03-02T13:00:00Z", "2026-03-02T08:00:00Z"},
		{"Australia/Lord_Howe", "2026-01-10T00:00:00Z", "2026-01-10T11:00:00Z"}, // +11 in its summer
		{"Australia/Lord_Howe", "2026-07-10T00:00:00Z", "2026-07-10T10:30:00Z"}, // +10:30
	} {
		z := zone(t, tc.zone)
		r, l := rfc(t, tc.real), rfc(t, tc.local)
		assert.Equal(t, l, z.Local(r), "%s: local of %s", tc.zone, tc.real)
		assert.Equal(t, r, z.Real(l), "%s: real of %s", tc.zone, tc.local)
	}
	var nilZone *Zone
	assert.Equal(t, Instant(42), nilZone.Local(42))
	assert.Equal(t, Instant(42), NewZone(nil).Real(42))
	assert.Equal(t, "UTC", NewZone(time.UTC).Name())
	assert.Equal(t, "Europe/Berlin", zone(t, "Europe/Berlin").Name())
	assert.Equal(t, Never, zone(t, "Europe/Berlin").Local(Never))
}

// TestZoneBerlinChanges pins the two rules at Berlin's changes of 2026:
// spring forward on 29 March at 01:00Z (02:00 CET -> 03:00 CEST), fall back
// on 25 October at 01:00Z (03:00 CEST -> 02:00 CET).
func TestZoneBerlinChanges(t *testing.T) {
	z := zone(t, "Europe/Berlin")
	for _, tc := range []struct {
		real, local string
	}{
		// spring forward: the local clock jumps from 02:00 to 03:00
		{"2026-03-29T00:59:59.999Z", "2026-03-29T01:59:59.999Z"},
		{"2026-03-29T01:00:00Z", "2026-03-29T03:00:00Z"},
		{"2026-03-29T01:00:00.001Z", "2026-03-29T03:00:00.001Z"},
		// fall back: the first pass through 02:00-03:00 reads as it is...
		{"2026-10-25T00:30:00Z", "2026-10-25T02:30:00Z"},
		{"2026-10-25T00:59:59.999Z", "2026-10-25T02:59:59.999Z"},
		// ...the repeated hour holds at 03:00 until real time catches up
		{"2026-10-25T01:00:00Z", "2026-10-25T03:00:00Z"},
		{"2026-10-25T01:30:00Z", "2026-10-25T03:00:00Z"},
		{"2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"},
		{"2026-10-25T02:00:00.001Z", "2026-10-25T03:00:00.001Z"},
	} {
		assert.Equal(t, rfc(t, tc.local), z.Local(rfc(t, tc.real)), "local of %s", tc.real)
	}
	for _, tc := range []struct {
		local, real string
	}{
		{"2026-03-29T01:59:59.999Z", "2026-03-29T00:59:59.999Z"},
		{"2026-03-29T02:00:00Z", "2026-03-29T01:00:00Z"}, // does not exist: the change
		{"2026-03-29T02:30:00Z", "2026-03-29T01:00:00Z"},
		{"2026-03-29T03:00:00Z", "2026-03-29T01:00:00Z"},
		{"2026-10-25T02:30:00Z", "2026-10-25T00:30:00Z"}, // the first pass
		{"2026-10-25T03:00:00Z", "2026-10-25T01:00:00Z"}, // held: the repeated hour's start
		{"2026-10-25T03:00:00.001Z", "2026-10-25T02:00:00.001Z"},
	} {
		assert.Equal(t, rfc(t, tc.real), z.Real(rfc(t, tc.local)), "real of %s", tc.local)
	}
}

// TestZoneProperties checks, minute by minute over the days around every
// change of a year in zones with and without daylight saving (Lord Howe's
// is 30 minutes), that Local never goes back, and that Real is the
// earliest real instant whose Local reaches the given local instant
// (against a binary search), whatever order the Zone is asked in.
func TestZoneProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Tokyo", "UTC"} {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		z, fresh := NewZone(loc), func() *Zone { return NewZone(loc) }
		from, to := rfc(t, "2026-01-01T00:00:00Z"), rfc(t, "2027-01-01T00:00:00Z")
		var days []Instant // the days around each change (and one ordinary day)
		days = append(days, from)
		for d := from; d < to; d = d.Add(Day) {
			_, o1 := d.Time().In(loc).Zone()
			if _, o2 := d.Add(Day).Time().In(loc).Zone(); o1 != o2 {
				days = append(days, d.Add(-Day), d, d.Add(Day))
			}
		}
		for _, d := range days {
			prev := z.Local(d)
			for r := d; r < d.Add(Day); r = r.Add(Minute) {
				l := z.Local(r)
				require.GreaterOrEqual(t, l, prev, "%s: the local clock went back at %s", name, r)
				prev = l
				require.LessOrEqual(t, z.Real(l), r, "%s: Real(Local(%s))", name, r)
				require.Equal(t, l, z.Local(z.Real(l)), "%s: Local(Real(Local(%s)))", name, r)
			}
		}
		// Real against a binary search over Local, in random order, with
		// a zone whose cache is cold each time and one that is shared
		for range 3000 {
			d := days[rng.IntN(len(days))]
			l := d.Add(Duration(rng.Int64N(int64(Day))))
			lo, hi := l.Add(-15*Hour), l.Add(15*Hour) // Local(lo) < l <= Local(hi)
			ref := fresh()
			for lo+1 < hi {
				mid := lo + (hi-lo)/2
				if ref.Local(mid) >= l {
					hi = mid
				} else {
					lo = mid
				}
			}
			require.Equal(t, hi, z.Real(l), "%s: Real(%s)", name, l)
			require.Equal(t, hi, fresh().Real(l), "%s: Real(%s), cold", name, l)
			require.Equal(t, fresh().Local(hi), z.Local(hi), "%s: Local(%s)", name, hi)
		}
	}
}
