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
