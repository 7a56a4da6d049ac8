package sim_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

const (
	Arrival sim.Kind = iota + 1
	Expire
	Pickup
)

// world is a toy city: parcels arrive, each gets a 6 h TTL timer, and the
// customer comes after 0..8 h; a pickup cancels the TTL.
type world struct {
	arrivals, customers *rand.Rand
	ttl                 []sim.Timer // per parcel
	pickedUp, expired   int
	warmupEndedAt       model.Instant
}

func (w *world) Handle(k *sim.Kernel, ev sim.Event) {
	switch ev.Kind {
	case Arrival:
		p := int32(len(w.ttl))
		w.ttl = append(w.ttl, k.AfterTimer(6*model.Hour, Expire, p, 0, 0))
		k.After(model.Duration(w.customers.Int64N(int64(8*model.Hour))), Pickup, p, 0, 0)
		k.After(model.Duration(w.arrivals.ExpFloat64()*float64(model.Minute)), Arrival, 0, 0, 0)
	case Pickup:
		if k.Cancel(w.ttl[ev.A]) && !k.InWarmup() {
			w.pickedUp++
		}
	case Expire:
		if !k.InWarmup() {
			w.expired++
		}
	}
}

// EndWarmup resets the statistics gathered during the warm-up.
func (w *world) EndWarmup(k *sim.Kernel) {
	w.pickedUp, w.expired = 0, 0
	w.warmupEndedAt = k.Now
}

func Example() {
	start := model.Instant(1_767_225_600_000) // 2026-01-01T00:00:00Z
	streams := sim.NewStreams(2024, 0)
	k := sim.NewKernel(start, 12*model.Hour, 7*model.Day)
	w := &world{arrivals: streams.Rand("arrivals"), customers: streams.Rand("customers")}
	k.Schedule(start, Arrival, 0, 0, 0)
	st := k.Run(w)

	fmt.Println("ended:", st.End, "at", st.Now)
	fmt.Println("warm-up ended at", w.warmupEndedAt)
	fmt.Println("share expired:", fmt.Sprintf("%.2f", float64(w.expired)/float64(w.expired+w.pickedUp)))
	fmt.Println("events:", st.Events) // the same on every run with this seed
	// Output:
	// ended: horizon at 2026-01-08T00:00:00.000Z
	// warm-up ended at 2026-01-01T12:00:00.000Z
	// share expired: 0.25
	// events: 22591
}

// A stream's source plugs into gonum's distributions.
func ExampleStreams() {
	streams := sim.NewStreams(7, 3)
	service := distuv.LogNormal{Mu: 0, Sigma: 0.5, Src: streams.Source("service-time")}
	again := distuv.LogNormal{Mu: 0, Sigma: 0.5, Src: sim.NewStreams(7, 3).Source("service-time")}
	fmt.Println(service.Rand() == again.Rand())
	// Output: true
}
