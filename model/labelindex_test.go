package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLabelIndexAgainstMap drives the paged index and a map with the same
// random operations, over dense ids (the drivers' pattern), sparse 64-bit ids
// and ids that land in the map before the pages grow past them.
func TestLabelIndexAgainstMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   func(r *rand.Rand, next *LabelID) LabelID
	}{
		{"dense", func(r *rand.Rand, next *LabelID) LabelID { *next++; return *next }},
		{"sparse", func(r *rand.Rand, next *LabelID) LabelID { return LabelID(r.Uint64()) }},
		{"mixed", func(r *rand.Rand, next *LabelID) LabelID {
			*next += LabelID(r.IntN(3)) // pages grow under ids placed far earlier
			if r.IntN(4) == 0 {
				return *next + LabelID(r.IntN(6*indexMaxGap*indexPageSize))
			}
			return *next
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var x labelIndex
			ref := map[LabelID]int32{}
			var live []LabelID
			var next LabelID
			for op := 0; op < 200_000; op++ {
				if len(live) > 0 && r.IntN(2) == 0 {
					k := r.IntN(len(live))
					id := live[k]
					live[k] = live[len(live)-1]
					live = live[:len(live)-1]
					x.del(id)
					delete(ref, id)
				} else {
					id := tc.id(r, &next)
					if _, dup := ref[id]; dup {
						continue
					}
					s := int32(r.IntN(1 << 20))
					x.set(id, s)
					ref[id] = s
					live = append(live, id)
				}
				if op%1000 == 0 {
					require.Equal(t, len(ref), x.len())
					for id, s := range ref {
						got, ok := x.get(id)
						require.True(t, ok, "id %d", id)
						require.Equal(t, s, got, "id %d", id)
					}
					_, ok := x.get(next + 1)
					require.Equal(t, containsID(ref, next+1), ok)
					// each: every id once, in increasing order, with its slab
					// (ids in the map merged among the pages' ids)
					var ids []LabelID
					x.each(func(id LabelID, s int32) {
						require.Equal(t, ref[id], s, "id %d", id)
						ids = append(ids, id)
					})
					require.Len(t, ids, len(ref))
					require.True(t, slices.IsSorted(ids) && len(slices.Compact(slices.Clone(ids))) == len(ids), "ids in increasing order, each once")
				}
			}
		})
	}
}

func containsID(m map[LabelID]int32, id LabelID) bool { _, ok := m[id]; return ok }

// TestLabelIndexReleasesPages: with dense ids finishing in order, the pages
// in use follow the labels in flight, not the labels ever issued.
func TestLabelIndexReleasesPages(t *testing.T) {
	var x labelIndex
	const inFlight = 3 * indexPageSize
	for id := LabelID(0); id < 100*indexPageSize; id++ {
		x.set(id, int32(id%inFlight))
		if id >= inFlight {
			x.del(id - inFlight)
		}
	}
	held := 0
	for _, p := range x.pages {
		if p != nil {
			held++
		}
	}
	require.LessOrEqual(t, held, inFlight/indexPageSize+1)
	require.Equal(t, inFlight, x.len())
	require.Nil(t, x.far)
}

// TestLabelIndexEachMergesTheMap: an id set in the map before the pages
// grew past it comes out of each between the pages' ids around it.
func TestLabelIndexEachMergesTheMap(t *testing.T) {
	var x labelIndex
	at := func(page int) LabelID { return LabelID(page) * indexPageSize }
	x.set(1, 10)
	x.set(at(indexMaxGap+5), 11) // too far past the one page: the map
	x.set(at(indexMaxGap), 12)   // within reach: the pages grow past the map's id
	x.set(at(indexMaxGap+10)+3, 13)
	require.Len(t, x.far, 1)
	type pair struct {
		id   LabelID
		slab int32
	}
	var got []pair
	x.each(func(id LabelID, s int32) { got = append(got, pair{id, s}) })
	require.Equal(t, []pair{{1, 10}, {at(indexMaxGap), 12}, {at(indexMaxGap + 5), 11}, {at(indexMaxGap+10) + 3, 13}}, got)
}
