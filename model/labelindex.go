package model

import (
	"slices"
	"unsafe"

	"github.com/lockstep-sim/lockstep/internal/prefetch"
)

// labelIndex maps a LabelID to the label's slab in Core.labels.
//
// Drivers number labels densely (the simulator counts orders, the twin
// counts production's label ids as it first sees them), so the index is a
// paged array over the id space: a lookup is a shift and two slice reads
// instead of a map probe, the most frequent operation of Step. A page is
// released when its last label is, so memory follows the labels in flight,
// not the labels ever issued. Ids far beyond the pages in use (an arbitrary
// 64-bit id chosen by a test or a foreign driver) go to a map, so any id
// works.
type labelIndex struct {
	pages []*indexPage
	far   map[LabelID]int32
	n     int
	spare *indexPage // the last page released, reused for the next one opened
}

const (
	indexPageBits = 12
	indexPageSize = 1 << indexPageBits
	// indexMaxGap bounds how many pages past the current end an id may
	// open: further ids go to the map, so one huge id cannot allocate a
	// huge page table.
	indexMaxGap = 1 << 10
)

type indexPage struct {
	slab [indexPageSize]int32 // slab+1; 0: no label
	live int
}

// get returns id's slab. An id beyond the pages when it was set lives in
// the map even after the pages grow past it, so a miss in the pages falls
// through to the map.
func (x *labelIndex) get(id LabelID) (int32, bool) {
	if p := id >> indexPageBits; p < LabelID(len(x.pages)) {
		if pg := x.pages[p]; pg != nil {
			if s := pg.slab[id&(indexPageSize-1)]; s != 0 {
				return s - 1, true
			}
		}
	}
	if x.far == nil {
		return 0, false
	}
	s, ok := x.far[id]
	return s, ok
}

// set records id at slab; id must not be present.
func (x *labelIndex) set(id LabelID, slab int32) {
	x.n++
	p := id >> indexPageBits
	if p >= LabelID(len(x.pages)) {
		if p-LabelID(len(x.pages)) >= indexMaxGap {
			if x.far == nil {
				x.far = make(map[LabelID]int32)
			}
			x.far[id] = slab
			return
		}
		x.pages = append(x.pages, make([]*indexPage, int(p)+1-len(x.pages))...)
	}
	pg := x.pages[p]
	if pg == nil {
		if pg = x.spare; pg != nil {
			x.spare = nil // released pages are all zero
		} else {
			pg = new(indexPage)
		}
		x.pages[p] = pg
	}
	pg.slab[id&(indexPageSize-1)] = slab + 1
	pg.live++
}

// del removes id; it must be present.
// prefetch starts loading id's entry and its page's count, which del
// writes (internal/prefetch); ids in the map are left alone.
func (x *labelIndex) prefetch(id LabelID) {
	if p := id >> indexPageBits; p < LabelID(len(x.pages)) {
		if pg := x.pages[p]; pg != nil {
			prefetch.Line(unsafe.Pointer(&pg.slab[id&(indexPageSize-1)]))
			prefetch.Line(unsafe.Pointer(&pg.live))
		}
	}
}

func (x *labelIndex) del(id LabelID) {
	x.n--
	if p := id >> indexPageBits; p < LabelID(len(x.pages)) {
		if pg := x.pages[p]; pg != nil && pg.slab[id&(indexPageSize-1)] != 0 {
			pg.slab[id&(indexPageSize-1)] = 0
			if pg.live--; pg.live == 0 {
				x.pages[p] = nil
				x.spare = pg
			}
			return
		}
	}
	delete(x.far, id) // an id placed in the map before the pages grew past it
}

func (x *labelIndex) len() int { return x.n }

// each calls fn with every id's slab in increasing id order, without
// allocating unless ids live in the map (then only their sorted list).
// fn must not change the index.
func (x *labelIndex) each(fn func(id LabelID, slab int32)) {
	var far []LabelID
	if len(x.far) > 0 {
		far = make([]LabelID, 0, len(x.far))
		for id := range x.far {
			far = append(far, id)
		}
		slices.Sort(far)
	}
	for p, pg := range x.pages {
		if pg == nil {
			continue
		}
		base := LabelID(p) << indexPageBits
		for k, s := range &pg.slab {
			if s == 0 {
				continue
			}
			id := base | LabelID(k)
			for len(far) > 0 && far[0] < id {
				fn(far[0], x.far[far[0]])
				far = far[1:]
			}
			fn(id, s-1)
		}
	}
	for _, id := range far {
		fn(id, x.far[id])
	}
}
