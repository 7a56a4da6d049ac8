package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
)

// Duration is a span of simulated time written the way people write it:
// "45m", "24h", "7d", "1h30m", "90s", "3d12h", "500ms", "1.5h", or a bare 0.
// Units: ms, s, m, h, d (a day is always 24h). Negative durations are rejected.
type Duration model.Duration

// Model returns d as a model.Duration (milliseconds).
func (d Duration) Model() model.Duration { return model.Duration(d) }

// String formats d compactly, e.g. "1d2h" (see model.Duration.String).
func (d Duration) String() string { return model.Duration(d).String() }

// MarshalYAML writes d in the same syntax it is read in.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "a duration like 45m, 24h or 1h30m"); err != nil {
		return err
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var durationUnits = []struct {
	tag  string
	unit model.Duration
}{ // "ms" before "m" so the longest match wins
	{"ms", model.Millisecond}, {"s", model.Second}, {"m", model.Minute}, {"h", model.Hour}, {"d", model.Day},
}

// ParseDuration parses the Duration syntax ("45m", "1h30m", "7d", "0", ...).
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("must be a duration like 45m, 24h or 1h30m (got an empty value)")
	}
	if in == "0" {
		return 0, nil
	}
	if strings.HasPrefix(in, "-") {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	var total float64
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q: expected a number at %q", s, rest)
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: bad number %q", s, rest[:i])
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if j == 0 {
			return 0, fmt.Errorf("invalid duration %q: missing unit after %s (use ms, s, m, h or d, e.g. %sm)", s, rest0(num), rest0(num))
		}
		tag := strings.TrimSpace(rest[:j])
		var unit model.Duration
		for _, u := range durationUnits {
			if tag == u.tag {
				unit = u.unit
				break
			}
		}
		if unit == 0 {
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use ms, s, m, h or d)", s, tag)
		}
		total += num * float64(unit)
		rest = rest[j:]
	}
	if total > float64(100*365*model.Day) {
		return 0, fmt.Errorf("invalid duration %q: longer than 100 years", s)
	}
	return Duration(math.Round(total)), nil
}

func rest0(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ClockTime is a time of day on the simulated (local wall) clock, in milliseconds
// since midnight. Written "14:00", "07:30", "07:30:15" or "24:00" (end of day).
type ClockTime model.Duration

// Clock returns the ClockTime for h:m.
func Clock(h, m int) ClockTime {
	return ClockTime(model.Duration(h)*model.Hour + model.Duration(m)*model.Minute)
}

// Duration returns the offset of c from midnight.
func (c ClockTime) Duration() model.Duration { return model.Duration(c) }

// String formats c as HH:MM (HH:MM:SS when it has seconds).
func (c ClockTime) String() string {
	d := model.Duration(c)
	h, m, s := d/model.Hour, d%model.Hour/model.Minute, d%model.Minute/model.Second
	if s != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", h, m)
}

// MarshalYAML writes c as HH:MM.
func (c ClockTime) MarshalYAML() (any, error) { return c.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *ClockTime) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, `a clock time like "14:00"`); err != nil {
		return err
	}
	v, err := ParseClockTime(n.Value)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseClockTime parses "HH:MM" or "HH:MM:SS" in 00:00..24:00.
func ParseClockTime(s string) (ClockTime, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	bad := fmt.Errorf(`invalid clock time %q: want HH:MM between 00:00 and 24:00, e.g. "14:00"`, s)
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	var v [3]int
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 || (i > 0 && len(p) != 2) {
			return 0, bad
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, bad
		}
		v[i] = n
	}
	if v[0] > 24 || v[1] > 59 || v[2] > 59 || (v[0] == 24 && (v[1] != 0 || v[2] != 0)) {
		return 0, bad
	}
	return ClockTime(model.Duration(v[0])*model.Hour + model.Duration(v[1])*model.Minute + model.Duration(v[2])*model.Second), nil
}

// Fraction is a share in [0, 1], written as a number ("0.2") or a percentage ("20%").
type Fraction float64

// MarshalYAML writes f as a percentage.
func (f Fraction) MarshalYAML() (any, error) { return f.String(), nil }

// String formats f as a percentage, e.g. "20%".
func (f Fraction) String() string { return strconv.FormatFloat(float64(f)*100, 'f', -1, 64) + "%" }

// UnmarshalYAML implements yaml.Unmarshaler.
func (f *Fraction) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "a share like 0.2 or 20%"); err != nil {
		return err
	}
	v, err := ParseFraction(n.Value)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// ParseFraction parses "0.2" or "20%" and checks the range [0, 1].
func ParseFraction(s string) (Fraction, error) {
	in := strings.TrimSpace(s)
	pct := strings.HasSuffix(in, "%")
	num := strings.TrimSpace(strings.TrimSuffix(in, "%"))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("must be a share like 0.2 or 20%% (got %q)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		hint := ""
		if !pct && v > 1 && v <= 100 {
			hint = fmt.Sprintf("; write %s%% for a percentage", num)
		}
		return 0, fmt.Errorf("must be between 0 and 1 (0%% to 100%%) (got %s%s)", in, hint)
	}
	return Fraction(v), nil
}

// ClockRange is a half-open interval [From, To) of clock time within one day.
type ClockRange struct {
	From, To ClockTime
}

// String formats r as "HH:MM-HH:MM".
func (r ClockRange) String() string { return r.From.String() + "-" + r.To.String() }

// Hours are opening hours (or a courier shift): "24h", "08:00-20:00", or a list of
// ranges ["07:00-12:00", "14:00-20:00"]. Ranges are within one day, sorted and do
// not overlap; to cover midnight write two ranges ending/starting at 24:00/00:00.
// A nil Hours means "not given" (the default applies).
type Hours []ClockRange

// AllDay are the opening hours "24h".
var AllDay = Hours{{0, ClockTime(model.Day)}}

// MustHours parses s as Hours and panics on error (for defaults and tests).
func MustHours(s string) Hours {
	h, err := ParseHours(s)
	if err != nil {
		panic(err)
	}
	return h
}

// IsAllDay reports whether h covers the whole day.
func (h Hours) IsAllDay() bool {
	return len(h) == 1 && h[0].From == 0 && h[0].To == ClockTime(model.Day)
}

// Open reports whether t (time of day) falls into one of the ranges.
func (h Hours) Open(t ClockTime) bool {
	for _, r := range h {
		if t >= r.From && t < r.To {
			return true
		}
	}
	return false
}

// String formats h in the YAML syntax.
func (h Hours) String() string {
	if h.IsAllDay() {
		return "24h"
	}
	s := make([]string, len(h))
	for i, r := range h {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// MarshalYAML writes h in the YAML syntax.
func (h Hours) MarshalYAML() (any, error) {
	if len(h) == 1 {
		return h.String(), nil
	}
	s := make([]string, len(h))
	for i, r := range h {
		s[i] = r.String()
	}
	return s, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (h *Hours) UnmarshalYAML(n *yaml.Node) error {
	var parts []string
	switch n.Kind {
	case yaml.ScalarNode:
		parts = []string{n.Value}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.AliasNode {
				c = c.Alias
			}
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf(`must be hours like "08:00-20:00" or "24h", or a list of such ranges`)
			}
			parts = append(parts, c.Value)
		}
		if len(parts) == 0 {
			return fmt.Errorf("must list at least one range")
		}
	default:
		return fmt.Errorf(`must be hours like "08:00-20:00" or "24h" (got %s)`, kindName(n))
	}
	v, err := ParseHours(strings.Join(parts, ","))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseHours parses "24h", "08:00-20:00" or comma-separated ranges.
func ParseHours(s string) (Hours, error) {
	var h Hours
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "24h" {
			h = append(h, AllDay[0])
			continue
		}
		from, to, ok := strings.Cut(p, "-")
		if !ok {
			return nil, fmt.Errorf(`invalid hours %q: want "HH:MM-HH:MM" or "24h"`, p)
		}
		f, err := ParseClockTime(from)
		if err != nil {
			return nil, fmt.Errorf("invalid hours %q: %v", p, err)
		}
		t, err := ParseClockTime(to)
		if err != nil {
			return nil, fmt.Errorf("invalid hours %q: %v", p, err)
		}
		if t <= f {
			return nil, fmt.Errorf("invalid hours %q: end must be after start (split ranges that cross midnight: \"22:00-24:00\", \"00:00-06:00\")", p)
		}
		h = append(h, ClockRange{f, t})
	}
	sort.Slice(h, func(i, j int) bool { return h[i].From < h[j].From })
	for i := 1; i < len(h); i++ {
		if h[i].From < h[i-1].To {
			return nil, fmt.Errorf("invalid hours: ranges %s and %s overlap", h[i-1], h[i])
		}
	}
	return h, nil
}

// Date is a calendar date ("2026-03-02") on the simulated local clock.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight of d as a UTC time.Time. The simulated clock is local wall
// time without a zone, encoded as UTC.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// MarshalYAML writes d as YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if err := wantScalar(n, "a date like 2026-03-02"); err != nil {
		return err
	}
	t, err := time.Parse("2006-01-02", strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("must be a date like 2026-03-02 (got %q)", n.Value)
	}
	*d = Date{t.Year(), t.Month(), t.Day()}
	return nil
}

func wantScalar(n *yaml.Node, what string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be %s (got %s)", what, kindName(n))
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
