package model

// The touch section of a core snapshot (format version 4), appended after
// the supply section:
//
//	stats:  Windowed, ReadyLate, BeforeWindow, InWindow, AfterWindow,
//	        QuickRewards, OffPeakRewards, RewardCost (float)
//	labels: n, then for n live labels with a pickup window, in slab order:
//	        slab, the window's opening relative to Placed, its length

func (w *snapWriter) touch(c *Core, freed []bool) {
	s := &c.Stats.Touch
	for _, v := range [...]uint64{s.Windowed, s.ReadyLate, s.BeforeWindow, s.InWindow, s.AfterWindow, s.QuickRewards, s.OffPeakRewards} {
		w.uint(v)
	}
	w.float(s.RewardCost)
	n := 0
	for i := range c.labels.len() {
		if !freed[i] && c.Window(c.labels.at(int32(i))).Has() {
			n++
		}
	}
	w.uint(uint64(n))
	for i := range c.labels.len() {
		l := c.labels.at(int32(i))
		win := c.Window(l)
		if freed[i] || !win.Has() {
			continue
		}
		w.uint(uint64(i))
		w.int(int64(win.Open - l.Placed))
		w.int(int64(win.Close - win.Open))
	}
}

// touch reads the touch section into d, whose labels are decoded.
func (r *snapReader) touch(d *Core) error {
	r.section = "touch"
	s := &d.Stats.Touch
	for _, p := range [...]*uint64{&s.Windowed, &s.ReadyLate, &s.BeforeWindow, &s.InWindow, &s.AfterWindow, &s.QuickRewards, &s.OffPeakRewards} {
		*p = r.uint()
	}
	s.RewardCost = r.float()
	if d.Net.Policy.Touch != nil && d.labels.len() > 0 {
		d.windows = make([]Window, d.labels.len())
	}
	n := r.count(3)
	last := -1
	for k := 0; k < n && r.err == nil; k++ {
		i := r.uint()
		if i >= uint64(d.labels.len()) || int(i) <= last {
			r.fail("touch: bad label slot")
			break
		}
		last = int(i)
		l := d.labels.at(int32(i))
		if s, ok := d.index.get(l.ID); !ok || s != int32(i) {
			r.fail("touch: label slot not live")
			break
		}
		open, length := r.int(), r.int()
		if open < 0 || length <= 0 || d.windows == nil {
			r.fail("touch: bad window")
			break
		}
		d.windows[i] = Window{Open: l.Placed + Instant(open), Close: l.Placed + Instant(open+length)}
	}
	return r.err
}

// touchPolicy adds the touch policy, when there is one, to a network
// fingerprint (a network without one keeps its fingerprint).
func (w *snapWriter) touchPolicy(t *Touch) {
	if t == nil {
		return
	}
	w.uint(0x70)
	w.int(int64(t.RewardWithin))
	w.float(t.RewardAmount)
	w.float(t.OffPeakReward)
	w.uint(uint64(len(t.OffPeak)))
	for _, s := range t.OffPeak {
		w.int(int64(s.From))
		w.int(int64(s.To))
	}
}
