package sim

import "github.com/lockstep-sim/lockstep/model"

// The per-neighborhood and per-node histograms (pickup friction by
// neighborhood, dwell by node, operator stays by node) take one count per
// collected parcel, each in a page of its own histogram: at city size
// these are tens of MB touched at random, a cache miss each, in the middle
// of the event's other work. The world logs the counts instead and applies
// them a few thousand at a time (flushHists): the loop's updates are
// independent, so the CPU overlaps their misses. They are applied in the
// order they were logged, so every sum is added in the same order as
// before and results are identical. Nothing reads the histograms before
// the run ends: finish flushes first (and operatorsFinish again, after it
// logs the stays still open).

// histOp is one logged count.
type histOp struct {
	v         float64        // minutes (friction, dwell)
	d         model.Duration // stay length (operator stays)
	idx       int32          // neighborhood (friction) or node
	kind      uint8
	collected bool // operator stays: collected, else censored
}

const (
	histFriction uint8 = iota
	histDwell
	histStay
)

// histLogLen is how many counts are logged before they are applied.
const histLogLen = 4096

func (w *world) logHist(op histOp) {
	w.hl = append(w.hl, op)
	if len(w.hl) == histLogLen {
		w.flushHists()
	}
}

// flushHists applies the logged counts, in order.
func (w *world) flushHists() {
	for i := range w.hl {
		op := &w.hl[i]
		switch op.kind {
		case histFriction:
			w.mx.friction[op.idx].add(op.v)
		case histDwell:
			w.co.dwell[op.idx].add(op.v)
		case histStay:
			w.stayAdd(model.NodeIndex(op.idx), op.d, op.collected)
		}
	}
	w.hl = w.hl[:0]
}
