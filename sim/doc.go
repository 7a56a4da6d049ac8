/*
Package sim runs the lockstep core inside a discrete-event simulation of a
city. This file documents its event kernel: the simulated clock, the event
queue, the run loop and the seeded random streams (kernel.go, queue.go,
stream.go). The simulated city itself lives in the same package and is one
Handler of the kernel: world.go (demand, fulfilment, couriers, customers,
node hours, and carrying out the core's effects), connectivity.go (the
cache-first world: connectivity drops and outages, counter sales, the
nightly plan's timer), replenish.go (restock trips by vehicle, their cost,
holding and space costs, SKU promotions), choice.go (where customers
collect: the pickup-point choice, a multinomial logit or the nearest node,
and the capacity-aware checkout), calendar.go (demand over the days: weekday
profile, dated peaks, pop-up uplifts), supply.go (central orders waiting
for their line-haul wave, finite pickers with their FIFO queue and shifts,
line-haul costs), dist.go (the duration distributions: pick and pack times,
pickup delays, up-times and repair times, courier handoff times), trips.go
(reroute and return trips by the courier fleet), cohort.go (the measured
cohort: the drain after the horizon, censoring, courier waits and dwell
times), operator.go (node operators: each parcel's stay at a node as a
pickup-friction episode, collected or right-censored, Kaplan–Meier
quantiles per node and operator, the operator bonus rule), touch.go (the customer touch layer: pickup
windows offered at checkout, windowed orders released before their window, customers keeping
or missing their window, and their response to rewards through an
elasticity), metrics.go (refunds split into late-refund cost and lost revenue,
counter revenue and RSMI over cached m²-days, the results by microstore and
by neighborhood), config.go (Config, what a scenario is built into) and result.go
(Run, RunObserved and what a replication measured). The world runs the
kernel to the horizon, then, for the drain, raises Horizon and runs it
again with a Stop hook that ends the run when the last measured order has
finished.

The kernel knows nothing about parcels or lockers. An Event is a small value:
a time, a Kind defined by the world, and three integers of payload (a label
slot, a node index, a generation for a stale check). Events carry no pointer,
closure or interface, so scheduling one allocates nothing and a year-long run
puts no pressure on the garbage collector.

# Usage

Create a Kernel with a start instant, a warm-up and a horizon, schedule the
first events, and hand Run a Handler. Run calls Handle once per event, with
k.Now set to the event's time, in order of (At, insertion): among events at
the same instant, the one scheduled first runs first. The handler reacts by
scheduling and cancelling further events.

	const (
		Arrival sim.Kind = iota + 1
		Expire
		Pickup
	)

	type world struct {
		arrivals *rand.Rand
		ttl      []sim.Timer // per parcel
		expired  int
	}

	func (w *world) Handle(k *sim.Kernel, ev sim.Event) {
		switch ev.Kind {
		case Arrival:
			p := int32(len(w.ttl))
			w.ttl = append(w.ttl, k.AfterTimer(6*model.Hour, Expire, p, 0, 0))
			k.After(model.Duration(w.arrivals.IntN(int(8*model.Hour))), Pickup, p, 0, 0)
			k.After(model.Duration(w.arrivals.ExpFloat64()*float64(model.Minute)), Arrival, 0, 0, 0)
		case Pickup:
			k.Cancel(w.ttl[ev.A]) // false if the TTL already fired
		case Expire:
			if !k.InWarmup() {
				w.expired++
			}
		}
	}

	k := sim.NewKernel(start, 2*model.Hour, 14*model.Day)
	w := &world{arrivals: sim.NewStreams(seed, rep).Rand("arrivals")}
	k.Schedule(start, Arrival, 0, 0, 0)
	stats := k.Run(w) // stats.Events, stats.End, ...

Run returns when no event is left, when the next one lies after Horizon
(events at exactly Horizon still run; later ones stay queued, so raising
Horizon and calling Run again carries on), or when the Stop hook, polled
after every event, returns true, or a handler calls Halt. A Handler that also
implements WarmupObserver is told once, with Now == WarmupEnd, when the
warm-up ends, before the first event at or after WarmupEnd, which is where
statistics are usually reset. Scheduling an event before Now is a programming
error, but not worth crashing a long run: the event is clamped to Now and
counted in Kernel.Clamped, which tests and reports can check.

# The queue and cancellation

The queue orders 32-byte entries that hold the whole event (time; insertion
order and timer slot; payload), so popping one reads nothing else; only a
timer has a small cell beside them, for its cancellation. The queue has two
tiers. The near tier holds the events up to a moving boundary lim (the last
instant of the range of instants last taken from the far tier) in two parts:
a run, sorted by (time, insertion order) and popped from the front, and a
small 4-ary min-heap; a pop takes the smaller of their heads. The far tier,
for events after lim, is a radix heap in base 64: an event sits in the bucket
given by the highest 6-bit digit in which its time differs from lim and the
value of that digit (11 levels of 64 buckets), so a push is an append to one
of a few hot bucket tails. When the near tier runs dry the lowest non-empty
bucket is taken: a level-0 bucket (a single instant) moves whole into the
near tier; otherwise the bucket's first range of 64^j instants is taken and
the rest drop to lower levels, with j sized to the bucket's density so that
the range holds a few hundred events at most but is at least a block of 64
instants: one block when many events share an instant, a wider range when
events are sparse (about one per instant or fewer, as in continuous time),
rather than one block after another holding a single event each. A bucket is
always in insertion order, so a least-significant-digit radix sort of stable
counting sorts on the range's j lowest 6-bit digits (one pass for a block; a
pass whose digit all the events share is skipped) sorts the range: it becomes
the run, popped in O(1) per event, and an event scheduled at least as late as
the run's last is appended to it. Events scheduled into the current range
earlier than the run's last go to the heap, whose four children of a node
share two cache lines and the smallest is picked with branch-free
comparisons; a pop from it leaves the root vacant, and when the next push
lands there too the entry drops into the root and sifts down, one pass
instead of two. Each event moves a couple of times, by sequential passes,
instead of sifting through a heap larger than the cache, so the cost per
event hardly grows with the number pending. Buckets are lists of 128-entry
chunks from one shared free list, so the far tier holds about the live
entries plus one partial chunk per non-empty bucket. Insertion order is a
32-bit counter; in the rare case it would wrap (every 4 billion events) the
queued entries are renumbered in order, so the tie-break never breaks. Events
travel through the queue's code as scalars or word-sized fields, never as an
Event value copied in memory: Go keeps a struct of more than four fields on
the stack, and copying one just assembled there stalls on store forwarding.
Because the run holds the next events in order, the world can look ahead:
in a large city (8 192 label slots or more) the kernel lets it, before
each event, prefetch the label of the event after next and the chain,
node and timer cells of the next one (prefetch.go), a hint to the CPU
that never changes what is computed.

Timers (ScheduleTimer, AfterTimer, Queue.PushTimer) can be cancelled. A
parcel's TTL timer is cancelled on pickup far more often than it fires, so
cancellation is lazy and O(1): Cancel checks the Timer against its slot
(slot index plus the timer's 64-bit sequence number, so a stale or reused
Timer is recognised and Cancel returns false) and marks the slot cancelled;
the entry stays where it is and is discarded when it reaches the top of the
heap. When cancelled entries are more than a quarter of the live ones both
tiers are compacted in O(n), which is O(1) amortised per Cancel and keeps them
at most 1.25 times the live count plus one right after every Cancel. Compaction also gives memory back
after a peak (the heap and the far tier's chunk slab are reallocated when much
larger than needed; not once KeepArrays says the queue is only draining), so
nothing grows with the length of the run.

# Random streams

Every random process draws from its own stream, a PCG generator from
math/rand/v2 whose two seed words are derived from (scenario seed,
replication index, stream name) with SplitMix64 and FNV-1a (see Streams for
the exact formula; it does not use hash/maphash, which is randomised per
process). A stream therefore depends on nothing else: adding a random process
does not shift the numbers of the others, so two scenarios compared under the
same seed use common random numbers, and a replication gives the same result
whichever machine or goroutine runs it and in whatever order. Streams.Source
returns the *rand.PCG itself, a rand.Source, which gonum's distuv
distributions accept in their Src field. The global generator is never used.

A Kernel, its Queue and its Streams belong to one replication and one
goroutine; run replications in parallel on separate kernels.
*/
package sim
