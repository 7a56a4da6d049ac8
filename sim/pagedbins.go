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
