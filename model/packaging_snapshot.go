package model

// Snapshot section of reusable packaging (snapshot format version 4, after
// the supply section): 0, or 1 and the box table (per box its state,
// template, space, node, label and the instant it left its pool), the pool
// heaps, boxes waiting per node, the boxes-out count and integral, the
// BoxStats, then the box of every live label packed in one (count, then
// slab and box).

func (w *snapWriter) packaging(c *Core, freed []bool) {
	ps := c.pk
	w.bool(ps != nil)
	if ps == nil {
		return
	}
	w.uint(uint64(len(ps.boxes)))
	for i := range ps.boxes {
		b := &ps.boxes[i]
		w.byte(uint8(b.state))
		w.byte(uint8(b.typ))
		w.byte(uint8(b.slot))
		w.int(int64(b.node))
		w.uint(uint64(b.label))
		w.int(int64(b.out))
	}
	w.uint(uint64(len(ps.pools)))
	for _, q := range ps.pools {
		w.uint(uint64(len(q)))
		for _, id := range q {
			w.uint(uint64(id))
		}
	}
	for _, n := range ps.waiting {
		w.int(int64(n))
	}
	w.int(ps.out)
	w.int(ps.outTime)
	w.int(int64(ps.since))
	st := &ps.stats
	for _, v := range []uint64{st.Packed, st.Reusable, st.Stockouts, st.Returned, st.Collected, st.Home, st.Departures} {
		w.uint(v)
	}
	w.float(st.AvoidedKg)
	for _, v := range st.Retired {
		w.uint(v)
	}
	w.histogram(&st.Cycle)
	n := 0
	for i := range c.labels.len() {
		if !freed[i] && c.labels.at(int32(i)).Box != 0 {
			n++
		}
	}
	w.uint(uint64(n))
	for i := range c.labels.len() {
		if !freed[i] && c.labels.at(int32(i)).Box != 0 {
			w.uint(uint64(i))
			w.uint(uint64(c.labels.at(int32(i)).Box))
		}
	}
}

// decodePackaging reads the packaging section into d, a core decoded from
// the snapshot for c's network.
func (c *Core) decodePackaging(r *snapReader, d *Core) error {
	r.section = "packaging"
	if r.bool() != (c.pk != nil) {
		r.fail("packaging presence differs from the network's")
	}
	if r.err != nil || c.pk == nil {
		return r.err
	}
	p := c.Net.Packaging
	nn := len(c.Net.Nodes)
	ps := &packState{p: p, boxes: make([]box, r.expect(len(c.pk.boxes)))}
	for i := range ps.boxes {
		b := &ps.boxes[i]
		b.state, b.typ, b.slot = BoxState(r.byte()), int8(r.byte()), SizeClass(r.byte())
		b.node, b.label, b.out = NodeIndex(r.int()), LabelID(r.uint()), Instant(r.int())
		if r.err == nil && (b.state == BoxNone || b.state >= numBoxStates || int(b.typ) >= len(p.Types) || b.typ < 0 ||
			(b.slot >= NumSizes && b.slot != NoSize && b.slot != noSpace) || b.node < NoNode || int(b.node) >= nn) {
			r.fail("box field out of range")
		}
	}
	ps.pools = make([][]BoxID, r.expect(len(c.pk.pools)))
	for k := range ps.pools {
		q := make([]BoxID, r.count(1))
		for j := range q {
			if id := r.uint(); r.err == nil && (id == 0 || id > uint64(len(ps.boxes))) {
				r.fail("pool box out of range")
			} else {
				q[j] = BoxID(id)
			}
		}
		ps.pools[k] = q
	}
	ps.waiting = make([]int32, nn)
	for i := range ps.waiting {
		ps.waiting[i] = r.i32()
	}
	ps.out, ps.outTime, ps.since = r.int(), r.int(), Instant(r.int())
	st := &ps.stats
	for _, v := range []*uint64{&st.Packed, &st.Reusable, &st.Stockouts, &st.Returned, &st.Collected, &st.Home, &st.Departures} {
		*v = r.uint()
	}
	st.AvoidedKg = r.float()
	for k := range st.Retired {
		st.Retired[k] = r.uint()
	}
	r.histogram(&st.Cycle)
	for n := r.count(2); n > 0 && r.err == nil; n-- {
		s, b := r.uint(), r.uint()
		if s >= uint64(d.labels.len()) || b == 0 || b > uint64(len(ps.boxes)) {
			r.fail("label box out of range")
			break
		}
		d.labels.at(int32(s)).Box = BoxID(b)
	}
	d.pk = ps
	return r.err
}

// hash adds the packaging to a network fingerprint.
func (p *Packaging) hash(w *snapWriter) {
	w.uint(uint64(len(p.Types)))
	for _, t := range p.Types {
		w.uint(uint64(len(t.ID)))
		w.buf = append(w.buf, t.ID...)
		w.uint(uint64(t.Size))
		w.int(int64(t.Pool))
		w.float(t.MassKg)
	}
	w.uint(uint64(len(p.SKUType)))
	for _, t := range p.SKUType {
		w.int(int64(t))
	}
}
