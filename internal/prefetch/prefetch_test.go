package prefetch

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// A prefetch is a hint: it never faults, whatever the address (nil, far
// past an allocation), and changes no memory.
func TestLineNeverFaultsNorWrites(t *testing.T) {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	for _, q := range []unsafe.Pointer{p, unsafe.Add(p, 64), unsafe.Add(p, 255), nil, unsafe.Add(p, 1<<40)} {
		Line(q)
	}
	for i := range b {
		require.Equal(t, byte(i), b[i])
	}
}

func ExampleLine() {
	labels := make([]struct{ id, state uint64 }, 1024)
	next := 517 // the record the next step will read
	Line(unsafe.Pointer(&labels[next]))
	// ... the current step's work, while the line arrives ...
	_ = labels[next].state
	// Output:
}
