package sim

import "math/rand/v2"

// Streams derives independent, reproducible random streams for one
// replication of one scenario. Each stream is a PCG generator (math/rand/v2)
// seeded from (scenario seed, replication index, stream name) alone, so:
//
//   - the same triple always gives the same numbers, on any machine, whatever
//     GOMAXPROCS or the order in which replications or streams are created;
//   - adding a stream, or drawing more from one, leaves every other stream's
//     numbers unchanged (common random numbers across scenarios);
//   - different names or replications give unrelated streams.
//
// The derivation, with mix the SplitMix64 finaliser and fnv the 64-bit
// FNV-1a hash of the name's bytes:
//
//	r    = mix(mix(seed ^ 0x6c6f636b73746570) ^ mix(uint64(replication) + 0x9e3779b97f4a7c15))
//	hi   = mix(r ^ fnv(name))
//	lo   = mix(hi ^ 0xd1b54a32d192ed03)
//	src  = rand.NewPCG(hi, lo)
//
// Streams is a small value; copy it freely. Name streams after the process
// they feed ("demand", "courier/17/speed"); never share a stream between
// processes, and never use the global generator of math/rand.
type Streams struct {
	seed uint64
	rep  int
	base uint64 // r above
}

// NewStreams returns the streams of replication `replication` of a scenario
// run with seed `seed`.
func NewStreams(seed uint64, replication int) Streams {
	base := mix64(mix64(seed^0x6c6f636b73746570) ^ mix64(uint64(replication)+0x9e3779b97f4a7c15))
	return Streams{seed: seed, rep: replication, base: base}
}

// Seed returns the scenario seed.
func (s Streams) Seed() uint64 { return s.seed }

// Replication returns the replication index.
func (s Streams) Replication() int { return s.rep }

// Source returns a new PCG source for the named stream, positioned at its
// start. *rand.PCG implements rand.Source, so it can be used directly as the
// Src of a gonum distuv distribution:
//
//	exp := distuv.Exponential{Rate: 1, Src: streams.Source("arrivals")}
//
// Each call returns a fresh source at the start of the stream; create it once
// per process and keep it.
func (s Streams) Source(name string) *rand.PCG {
	hi, lo := s.seeds(name)
	return rand.NewPCG(hi, lo)
}

// Rand returns a new *rand.Rand reading the named stream (see Source).
func (s Streams) Rand(name string) *rand.Rand {
	return rand.New(s.Source(name))
}

// stream is a named stream held by value, so a struct can keep the
// generator next to the data it feeds: a *rand.Rand and its *rand.PCG are
// two small allocations of their own, two more cache lines to miss on every
// draw once a city's per-parcel state has pushed them out of cache. r reads
// pcg; a stream must not be copied after seat.
type stream struct {
	pcg rand.PCG
	r   rand.Rand
}

// seat positions x at the start of the named stream: x.r then draws the
// same numbers as Rand(name).
func (s Streams) seat(name string, x *stream) {
	x.pcg.Seed(s.seeds(name))
	x.r = *rand.New(&x.pcg)
}

// seeds returns the two PCG seed words of the named stream.
func (s Streams) seeds(name string) (hi, lo uint64) {
	hi = mix64(s.base ^ fnv1a(name))
	lo = mix64(hi ^ 0xd1b54a32d192ed03)
	return hi, lo
}

// fnv1a is the 64-bit FNV-1a hash of the bytes of s.
func fnv1a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// mix64 is the SplitMix64 finaliser: a bijective avalanche mix of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
