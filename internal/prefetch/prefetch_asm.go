//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line hints the CPU to load the cache line holding p. p may be any
// address, even an invalid one: a prefetch never faults.
//
//go:noescape
func Line(p unsafe.Pointer)
