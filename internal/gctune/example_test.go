package gctune_test

import (
	"fmt"

	"github.com/lockstep-sim/lockstep/internal/gctune"
)

// How much headroom the default tuner leaves a heap of each size.
func ExampleTuner_Percent() {
	for _, mib := range []uint64{16, 32, 64, 128, 256, 1024} {
		p := gctune.Default.Percent(mib << 20)
		fmt.Printf("%4d MiB live: GOGC=%d, collect at %d MiB\n", mib, p, mib+mib*uint64(p)/100)
	}
	// Output:
	//   16 MiB live: GOGC=100, collect at 32 MiB
	//   32 MiB live: GOGC=50, collect at 48 MiB
	//   64 MiB live: GOGC=25, collect at 80 MiB
	//  128 MiB live: GOGC=13, collect at 144 MiB
	//  256 MiB live: GOGC=10, collect at 281 MiB
	// 1024 MiB live: GOGC=10, collect at 1126 MiB
}
