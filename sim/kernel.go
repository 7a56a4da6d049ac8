package sim

import "github.com/lockstep-sim/lockstep/model"

// Handler executes events. The kernel calls Handle once per event, in
// (At, insertion) order, with k.Now set to ev.At. Handle may schedule and
// cancel events on k.
type Handler interface {
	Handle(k *Kernel, ev Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(k *Kernel, ev Event)

// Handle calls f(k, ev).
func (f HandlerFunc) Handle(k *Kernel, ev Event) { f(k, ev) }

// WarmupObserver may be implemented by a Handler that wants to know when the
// warm-up period ends (typically to reset its statistics). Run calls
// EndWarmup exactly once per Kernel, with k.Now == k.WarmupEnd, before the
// first event at or after WarmupEnd executes (or before the run ends by
// reaching the horizon or running dry, if WarmupEnd <= Horizon).
type WarmupObserver interface {
	EndWarmup(k *Kernel)
}

// EndReason tells why Run returned.
type EndReason uint8

// Reasons for Run to return.
const (
	EndEmpty   EndReason = iota + 1 // no event left; Now advanced to Horizon
	EndHorizon                      // next event is after Horizon; Now advanced to Horizon
	EndStopped                      // Stop returned true or a handler called Halt
)

// String returns "empty", "horizon" or "stopped".
func (r EndReason) String() string {
	switch r {
	case EndEmpty:
		return "empty"
	case EndHorizon:
		return "horizon"
	case EndStopped:
		return "stopped"
	}
	return "unknown"
}

// RunStats summarises one call of Run.
type RunStats struct {
	Events    uint64        // events executed
	Cancelled uint64        // timers cancelled during the run (events that never executed)
	Clamped   uint64        // events scheduled in the past during the run, clamped to Now
	MaxQueue  int           // largest number of live pending events seen
	End       EndReason     // why the run ended
	Now       model.Instant // simulated time when it ended
}

// Kernel is the discrete-event simulation clock and run loop. Handlers read
// Now and schedule events; Run executes them in order until the queue runs
// dry, the next event lies after Horizon, or the run is stopped.
//
// A Kernel is not safe for concurrent use; run one Kernel per replication.
type Kernel struct {
	// Now is the current simulated time: the At of the event being handled.
	Now model.Instant
	// Start is when the run begins; WarmupEnd ends the warm-up period
	// (statistics before it are usually discarded); events with
	// At > Horizon are never executed.
	Start, WarmupEnd, Horizon model.Instant
	// Stop, if non-nil, is polled after each event; returning true ends the run.
	Stop func() bool
	// Clamped counts events scheduled before Now. Scheduling in the past is a
	// programming error in the world, but not worth crashing a year-long run:
	// the event is clamped to Now (so it runs after the events already
	// queued for Now) and counted here for tests and reports to check.
	Clamped uint64

	q        Queue
	events   uint64
	halted   bool
	warmDone bool
	// pf, when set, is called before each event with the queue, whose next
	// entries it may read to prefetch what they will touch (prefetch.go)
	pf prefetcher
}

// NewKernel returns a kernel whose clock starts at start, whose warm-up ends
// at start+warmup and whose horizon is start+horizon (the horizon is measured
// from start, so it includes the warm-up).
func NewKernel(start model.Instant, warmup, horizon model.Duration) *Kernel {
	return &Kernel{
		Now:       start,
		Start:     start,
		WarmupEnd: start.Add(warmup),
		Horizon:   start.Add(horizon),
	}
}

// Schedule queues an event of the given kind and payload at time at. An at
// before Now is clamped to Now and counted in Clamped.
func (k *Kernel) Schedule(at model.Instant, kind Kind, a, b int32, c uint32) {
	if at < k.Now {
		at = k.Now
		k.Clamped++
	}
	k.q.Push(Event{At: at, Kind: kind, A: a, B: b, C: c})
}

// ScheduleTimer is Schedule for an event that may be cancelled later with
// the returned Timer.
func (k *Kernel) ScheduleTimer(at model.Instant, kind Kind, a, b int32, c uint32) Timer {
	if at < k.Now {
		at = k.Now
		k.Clamped++
	}
	return k.q.PushTimer(Event{At: at, Kind: kind, A: a, B: b, C: c})
}

// After schedules an event d after Now (a negative d is clamped to 0 and
// counted in Clamped).
func (k *Kernel) After(d model.Duration, kind Kind, a, b int32, c uint32) {
	k.Schedule(k.Now.Add(d), kind, a, b, c)
}

// AfterTimer is After for a cancellable event.
func (k *Kernel) AfterTimer(d model.Duration, kind Kind, a, b int32, c uint32) Timer {
	return k.ScheduleTimer(k.Now.Add(d), kind, a, b, c)
}

// Cancel cancels the timer t. It returns false if t is zero, already fired
// or already cancelled.
func (k *Kernel) Cancel(t Timer) bool { return k.q.Cancel(t) }

// Active reports whether timer t is still pending.
func (k *Kernel) Active(t Timer) bool { return k.q.Active(t) }

// InWarmup reports whether Now is before the end of the warm-up period.
func (k *Kernel) InWarmup() bool { return k.Now < k.WarmupEnd }

// Events returns the number of events executed over the kernel's life.
func (k *Kernel) Events() uint64 { return k.events }

// Pending returns the number of live pending events.
func (k *Kernel) Pending() int { return k.q.Len() }

// Halt asks Run to return after the current event, as Stop would. It is
// meant to be called from a handler.
func (k *Kernel) Halt() { k.halted = true }

// Run executes events in (At, insertion) order until none is left, the next
// one is after Horizon, or the run is stopped (Stop returned true, or a
// handler called Halt). Events after Horizon stay queued; Run may be called
// again, e.g. after raising Horizon, and carries on where it stopped.
//
// When the run ends by running dry or reaching the horizon, Now is advanced
// to Horizon (the simulated period is [Start, Horizon]); when it is stopped,
// Now stays at the last executed event.
func (k *Kernel) Run(h Handler) RunStats {
	q := &k.q
	wo, _ := h.(WarmupObserver)
	st := RunStats{MaxQueue: q.Len()}
	cancelled0, clamped0 := q.cancelled, k.Clamped
	k.halted = false
	if !k.warmDone && k.Now >= k.WarmupEnd {
		k.endWarmup(wo)
	}
	for {
		p := q.top()
		if p == nil || p.at > k.Horizon {
			if !k.warmDone && k.WarmupEnd <= k.Horizon {
				k.endWarmup(wo) // may schedule events; look again
				continue
			}
			st.End = EndHorizon
			if p == nil {
				st.End = EndEmpty
			}
			if k.Now < k.Horizon {
				k.Now = k.Horizon
			}
			break
		}
		if !k.warmDone && p.at >= k.WarmupEnd {
			k.endWarmup(wo) // may schedule events; look again
			continue
		}
		at, kind, a, b, c := q.popLive()
		k.Now = at
		if k.pf != nil {
			k.pf.prefetch(q)
		}
		h.Handle(k, Event{At: at, Kind: kind, A: a, B: b, C: c})
		st.Events++
		if n := q.Len(); n > st.MaxQueue {
			st.MaxQueue = n
		}
		if k.halted || (k.Stop != nil && k.Stop()) {
			st.End = EndStopped
			break
		}
	}
	k.halted = false
	k.events += st.Events
	st.Cancelled = q.cancelled - cancelled0
	st.Clamped = k.Clamped - clamped0
	st.Now = k.Now
	return st
}

func (k *Kernel) endWarmup(wo WarmupObserver) {
	k.warmDone = true
	if k.Now < k.WarmupEnd {
		k.Now = k.WarmupEnd
	}
	if wo != nil {
		wo.EndWarmup(k)
	}
}
