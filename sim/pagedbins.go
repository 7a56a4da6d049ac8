package sim

// pagedBins is a histogram's bins allocated a page at a time, on the first
// count that lands in the page. Histograms kept per node or per
// neighborhood cover a long range (a week of minutes) that their values
// rarely reach: dense bins of the whole range cost 8–10 kB per node and
// put every count in a different cache line, pages of 64 bins cost what the
// values use. Reading an untouched bin gives the zero value.
type pagedBins[E any] struct {
	pages []*[binPage]E
}

const (
	binPageBits = 6
	binPage     = 1 << binPageBits
)

// at returns bin i, allocating its page if needed.
func (p *pagedBins[E]) at(i int) *E {
	pi := i >> binPageBits
	if pi >= len(p.pages) {
		p.pages = append(p.pages, make([]*[binPage]E, pi+1-len(p.pages))...)
	}
	pg := p.pages[pi]
	if pg == nil {
		pg = new([binPage]E)
		p.pages[pi] = pg
	}
	return &pg[i&(binPage-1)]
}

// get returns bin i (the zero value when its page was never touched).
func (p *pagedBins[E]) get(i int) E {
	var zero E
	pi := i >> binPageBits
	if pi >= len(p.pages) || p.pages[pi] == nil {
		return zero
	}
	return p.pages[pi][i&(binPage-1)]
}

// each calls fn for every bin of every allocated page, in order, with the
// bin's index; bins in pages never touched are skipped (they are zero).
func (p *pagedBins[E]) each(fn func(i int, v *E)) {
	for pi, pg := range p.pages {
		if pg == nil {
			continue
		}
		for k := range pg {
			fn(pi<<binPageBits|k, &pg[k])
		}
	}
}

// binCounts is a histogram's counts, one byte a bin in pagedBins (a page of
// 64 bins is one cache line): a bin's count is its byte plus the multiples
// of 256 carried out of it, which a map keeps for the few bins that get
// that far. The histograms kept per node and per neighborhood are mostly
// single digits a bin (a locker's 160 parcels a day spread over a day and
// a half of one-minute bins), so four-byte counts were three quarters zeros:
// at locker-city they were 11 of a 37 MB live heap, and every pickup
// touched three of them.
type binCounts struct {
	bins  pagedBins[uint8]
	carry map[int]uint64 // per bin, the multiples of 256 carried out of its byte (nil: none)
}

// inc counts one in bin i.
func (c *binCounts) inc(i int) {
	p := c.bins.at(i)
	if *p++; *p == 0 {
		c.carryOut(i, 1<<8)
	}
}

// add counts n in bin i.
func (c *binCounts) add(i int, n uint64) {
	p := c.bins.at(i)
	v := uint64(*p) + n
	*p = uint8(v)
	if v >= 1<<8 {
		c.carryOut(i, v&^(1<<8-1))
	}
}

func (c *binCounts) carryOut(i int, n uint64) {
	if c.carry == nil {
		c.carry = map[int]uint64{}
	}
	c.carry[i] += n
}

// get returns the count of bin i.
func (c *binCounts) get(i int) uint64 {
	v := uint64(c.bins.get(i))
	if c.carry != nil {
		v += c.carry[i]
	}
	return v
}

// each calls fn with the count of every bin of every allocated page, in
// order (bins of pages never touched are zero and skipped).
func (c *binCounts) each(fn func(i int, n uint64)) {
	c.bins.each(func(i int, v *uint8) {
		n := uint64(*v)
		if c.carry != nil {
			n += c.carry[i]
		}
		fn(i, n)
	})
}
