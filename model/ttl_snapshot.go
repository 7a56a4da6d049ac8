package model

// The TTL section of a core snapshot (format version 3), appended after the
// inventory section:
//
//	stats:  len(TTLStats.Alerts), the alerts by stage, Redispatches,
//	        Diversions, ReadyExpired, Reminders, Extensions
//	labels: n, then for n live labels with a pending reminder or an
//	        extension, in slab order: slab, flags (1 extended, 2 reminder
//	        pending), and with a reminder its instant relative to Placed

const (
	ttlExtended = 1 << iota
	ttlReminder
)

func (w *snapWriter) ttl(c *Core, freed []bool) {
	s := &c.Stats.TTL
	w.uint(uint64(len(s.Alerts)))
	for _, v := range s.Alerts {
		w.uint(v)
	}
	for _, v := range [...]uint64{s.Redispatches, s.Diversions, s.ReadyExpired, s.Reminders, s.Extensions} {
		w.uint(v)
	}
	n := 0
	for i := range c.labels.len() {
		if l := c.labels.at(int32(i)); !freed[i] && (l.Extended || l.RemindAt != 0) {
			n++
		}
	}
	w.uint(uint64(n))
	for i := range c.labels.len() {
		l := c.labels.at(int32(i))
		if freed[i] || (!l.Extended && l.RemindAt == 0) {
			continue
		}
		w.uint(uint64(i))
		var f uint8
		if l.Extended {
			f |= ttlExtended
		}
		if l.RemindAt != 0 {
			f |= ttlReminder
		}
		w.byte(f)
		if l.RemindAt != 0 {
			w.int(int64(l.RemindAt - l.Placed))
		}
	}
}

// ttl reads the TTL section into d, whose labels are decoded.
func (r *snapReader) ttl(d *Core) error {
	r.section = "ttl"
	s := &d.Stats.TTL
	r.expect(len(s.Alerts))
	for k := range s.Alerts {
		s.Alerts[k] = r.uint()
	}
	for _, p := range [...]*uint64{&s.Redispatches, &s.Diversions, &s.ReadyExpired, &s.Reminders, &s.Extensions} {
		*p = r.uint()
	}
	n := r.count(2)
	last := -1
	for k := 0; k < n && r.err == nil; k++ {
		i := r.uint()
		if i >= uint64(d.labels.len()) || int(i) <= last {
			r.fail("ttl: bad label slot")
			break
		}
		last = int(i)
		l := d.labels.at(int32(i))
		if s, ok := d.index.get(l.ID); !ok || s != int32(i) {
			r.fail("ttl: label slot not live")
			break
		}
		f := r.byte()
		if f == 0 || f >= ttlReminder<<1 {
			r.fail("ttl: bad flags")
			break
		}
		l.Extended = f&ttlExtended != 0
		if f&ttlReminder != 0 {
			l.RemindAt = l.Placed + Instant(r.int())
			if l.State != ReadyForPickup || l.RemindAt <= l.Placed {
				r.fail("ttl: reminder on a label not ready for pickup")
			}
		}
	}
	return r.err
}

// ttlPolicy adds the TTL rules of the policy to a network fingerprint.
func (w *snapWriter) ttlPolicy(p *Policy) {
	w.uint(uint64(len(p.Escalate)))
	for _, e := range p.Escalate {
		w.uint(uint64(e))
	}
	w.uint(uint64(len(p.ReadyRules)))
	for _, r := range p.ReadyRules {
		w.float(r.OccupancyAbove)
		w.int(int64(r.Subscriber))
		w.uint(uint64(r.Weekdays))
		w.int(int64(r.TTL))
	}
	w.bool(p.Expiry.Return)
	w.int(int64(p.Expiry.Reminder))
	w.int(int64(p.Expiry.Extension))
}
