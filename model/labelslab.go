package model

// labelSlab holds the core's labels by slab number, in pages of labelPage
// labels. It grows a page at a time and never copies: a slice grown by
// append keeps up to a quarter more room than its labels, and the old
// copy until the next collection, while the slab is the core's largest
// array (a 6-day locker-metro: 320 050 labels in a slice of 393 728, 10.6
// MB of empty labels). Here at most one page is partly used. The labels
// do not move, so a *Label stays valid while its slab is in use.
type labelSlab struct {
	pages []*[labelPage]Label
	n     int32
}

const (
	labelPageBits = 11
	labelPage     = 1 << labelPageBits // 2 048 labels, 288 KiB
)

// at returns slab i's label; i must be below len.
func (s *labelSlab) at(i int32) *Label {
	return &s.pages[i>>labelPageBits][i&(labelPage-1)]
}

// len is the number of slabs handed out.
func (s *labelSlab) len() int { return int(s.n) }

// cap is the number of slabs the pages hold. The core keeps its list of
// free slabs this long, so that the list never grows by append: at the
// end of a run every label finishes and frees its slab, and a 6-day
// locker-metro's list grew to 320 000 slabs then, copied five times over
// (6.4 MB) while the world was still live.
func (s *labelSlab) cap() int { return len(s.pages) * labelPage }

// add hands out the next slab, a zero label.
func (s *labelSlab) add() int32 {
	if int(s.n) == s.cap() {
		s.pages = append(s.pages, new([labelPage]Label))
	}
	s.n++
	return s.n - 1
}

// makeLabelSlab returns a slab of n zero labels.
func makeLabelSlab(n int) labelSlab {
	var s labelSlab
	for range n {
		s.add()
	}
	return s
}
