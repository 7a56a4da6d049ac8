package model

import (
	"strconv"
	"time"
)

// Instant is a point in time inside the core: milliseconds since the Unix epoch.
// It is an integer so the event queue stays cheap; the core never reads a clock,
// every Instant comes in on an event.
type Instant int64

// Duration is a span of core time in milliseconds.
type Duration int64

// Common durations.
const (
	Millisecond Duration = 1
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
	Hour                 = 60 * Minute
	Day                  = 24 * Hour
)

// Never is an Instant later than any real one; used for "no deadline".
const Never Instant = 1<<63 - 1

// Add returns t+d.
func (t Instant) Add(d Duration) Instant { return t + Instant(d) }

// Sub returns t-u.
func (t Instant) Sub(u Instant) Duration { return Duration(t - u) }

// Time converts t to a UTC time.Time (for output only; the core never calls time.Now).
func (t Instant) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

// String formats t as RFC 3339 with milliseconds, in UTC.
func (t Instant) String() string { return t.Time().Format("2006-01-02T15:04:05.000Z07:00") }

// InstantOf converts a time.Time to an Instant.
func InstantOf(tm time.Time) Instant { return Instant(tm.UnixMilli()) }

// Std converts d to a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) * time.Millisecond }

// Hours returns d in hours.
func (d Duration) Hours() float64 { return float64(d) / float64(Hour) }

// Minutes returns d in minutes.
func (d Duration) Minutes() float64 { return float64(d) / float64(Minute) }

// String formats d compactly (e.g. "1d2h", "45m", "1.5s").
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	if d%Second != 0 {
		s = strconv.FormatFloat(float64(d)/float64(Second), 'f', -1, 64) + "s"
	} else {
		parts := []struct {
			unit Duration
			tag  string
		}{{Day, "d"}, {Hour, "h"}, {Minute, "m"}, {Second, "s"}}
		for _, p := range parts {
			if d >= p.unit {
				s += strconv.FormatInt(int64(d/p.unit), 10) + p.tag
				d %= p.unit
			}
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// Zone maps real instants (milliseconds since the epoch in UTC, as the feed
// carries them) onto the city's local wall clock, which is what an Instant
// inside the core means, and back. The core has no daylight-saving time: a
// day is always 24 h of local wall clock.
//
// Local is monotone: where the zone's offset drops (the repeated hour of a
// fall-back change) the local clock holds at the change's local instant
// until real time catches up, so an ordered feed never moves the core's
// clock back. Where the offset rises (spring forward) the local clock jumps
// over the hour that does not exist. Real is the inverse: the earliest real
// instant whose local reading is at least the given local instant (a local
// instant in the skipped hour maps to the change itself, the held instant
// to the start of the repeated hour).
//
// A Zone only computes (it never loads zone data: the caller loads the
// *time.Location). It caches the zone period it last used, so it is not
// safe for concurrent use.
type Zone struct {
	loc *time.Location // nil: UTC, the identity
	p   zonePeriod     // the period last used
}

// zonePeriod is a span of real time with one UTC offset.
type zonePeriod struct {
	start, end Instant // [start, end); minInstant / Never when unbounded
	off, prev  Instant // offset in the span, and just before its start (ms)
	ok         bool    // the cache holds a period
}

const minInstant Instant = -1 << 63

// NewZone returns the zone of loc; nil or time.UTC give the identity.
func NewZone(loc *time.Location) *Zone {
	if loc == time.UTC {
		loc = nil
	}
	return &Zone{loc: loc}
}

// Name is the zone's IANA name ("UTC" for the identity).
func (z *Zone) Name() string {
	if z == nil || z.loc == nil {
		return "UTC"
	}
	return z.loc.String()
}

// period returns the zone period that contains the real instant r.
func (z *Zone) period(r Instant) zonePeriod {
	if z.p.ok && r >= z.p.start && r < z.p.end {
		return z.p
	}
	t := time.UnixMilli(int64(r)).In(z.loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	p := zonePeriod{start: minInstant, end: Never, off: Instant(off) * 1000, ok: true}
	p.prev = p.off
	if !s.IsZero() {
		p.start = InstantOf(s)
		_, prev := s.Add(-time.Millisecond).In(z.loc).Zone()
		p.prev = Instant(prev) * 1000
	}
	if !e.IsZero() {
		p.end = InstantOf(e)
	}
	z.p = p
	return p
}

// Local maps the real instant r onto the local wall clock.
func (z *Zone) Local(r Instant) Instant {
	if z == nil || z.loc == nil || r == Never {
		return r
	}
	p := z.period(r)
	if p.prev > p.off && r-p.start < p.prev-p.off {
		return p.start + p.prev // the repeated hour: hold
	}
	return r + p.off
}

// Real maps the local instant l back to real time: the earliest real
// instant whose Local is at least l.
func (z *Zone) Real(l Instant) Instant {
	if z == nil || z.loc == nil || l == Never {
		return l
	}
	// the periods' local spans [start+prev, end+off) tile the local line;
	// start from the period of the real instant l minus its offset and
	// step to a neighbour until l is in the span
	p := z.period(l)
	p = z.period(l - p.off)
	for range 8 {
		switch {
		case p.start != minInstant && l < p.start+p.prev:
			p = z.period(p.start - 1)
			continue
		case p.end != Never && l >= p.end+p.off:
			p = z.period(p.end)
			continue
		}
		break
	}
	if p.prev > p.off && l == p.start+p.prev {
		return p.start // held: the start of the repeated hour
	}
	return max(l-p.off, p.start) // in the skipped hour: the change itself
}
