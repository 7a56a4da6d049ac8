//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Line hints the CPU to load the cache line holding p; on this
// architecture it does nothing.
func Line(p unsafe.Pointer) {}
