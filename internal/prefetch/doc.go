// Package prefetch asks the CPU to bring a cache line in ahead of its use,
// without waiting for it: a hint, never a load, so it cannot fault and does
// not change what the program computes.
//
// The simulator knows which label the next queued event will touch while it
// still handles the current one; prefetching that label's lines lets the
// miss overlap the current event's work instead of stalling the next.
//
//	prefetch.Line(unsafe.Pointer(&labels[next]))
//
// On amd64 and arm64 Line is one instruction (PREFETCHT0, PRFM PLDL1KEEP)
// behind a call; elsewhere it does nothing.
package prefetch
