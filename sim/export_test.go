package sim

// SetPrefetchLabels sets how many label slots turn prefetching on
// (prefetchLabels) and returns a function that restores it.
func SetPrefetchLabels(n int) (restore func()) {
	old := prefetchLabels
	prefetchLabels = n
	return func() { prefetchLabels = old }
}
