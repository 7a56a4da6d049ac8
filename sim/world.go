package sim

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lockstep-sim/lockstep/model"
)

// Event kinds of the simulated city.
const (
	kOrder          Kind = iota + 1 // A: neighborhood
	kPicked                         // A: label
	kPacked                         // A: label
	kStop                           // A: courier, B: stop index
	kBack                           // A: courier
	kRerouteHandoff                 // A: label, B: node it leaves (ready for a courier to collect)
	kRerouteArrive                  // B: tripCollect or tripDrop (A: courier on a trip), tripTakeBack (A: label, C: node)
	kPickup                         // A: label, B: hops when notified, C: pickupC(reminder, slab)
	kTimer                          // A: label, B: timer kind, C: slab+1 (a hint, model.Event.SetSlab)
	kHour                           // trace tick
	kShift                          // courier shift opens
	kReposition                     // A: courier arriving at its new base
	kConn                           // A: node, B: connFail, connRepair, connDown, connUp
	kCounter                        // A: node (next walk-in customer)
	kReplenish                      // nightly replenishment planning
	kRestock                        // A: node, B: SKU, C: units
	kPromo                          // a promotion starts or ends
)

type hood struct {
	// The fields an order reads come first, so that they share cache
	// lines: a city's hoods fall out of cache between two of its orders.
	maxRate  float64
	arrive   stream  // "demand/<name>": order arrivals
	subShare float64 // cfg.SubscriberShare
	skuCum   []float64
	cells    []cellInfo
	mix      stream      // "mix/<name>": SKU, cell and subscriber draws
	rate     [24]float64 // orders per ms by hour of day
	cfg      *Neighborhood
}

type cellInfo struct {
	cell   model.Cell
	prefer []model.NodeIndex // pickup nodes nearest first (great-circle, ties by id)
	choice choiceCell        // the logit's candidates (choice.go)
	// orders counts the measured orders placed from the cell; finish folds
	// them into Result.DemandByCell (a map update per order cost 3 % of
	// locker-day).
	orders uint64
}

type base struct {
	node   model.NodeIndex // model.NoNode: the hub
	lat    float64
	lng    float64
	pos    point
	queue  []int32 // label ids waiting for a courier, FIFO from head
	head   int
	idle   []int32
	queued bool // already in the pending dispatch list
	// incoming counts couriers riding over from other bases
	incoming int
	// near lists the other bases, nearest first
	near []int32
}

type courier struct {
	base   int32
	load   []int32           // label ids in visiting order
	dest   []model.NodeIndex // their destinations
	depart model.Instant
}

type wlabel struct {
	timers   [model.NumTimers]Timer
	sku      model.SKUIndex
	measured bool
	noShow   int8  // 0 undecided, 1 comes, 2 never comes
	hood     int16 // the neighborhood that placed it (metrics.go)
	day      int32
	visit    model.Instant // the customer's planned visit (0: none)
	prio     bool          // a packed-TTL redispatch: first on its courier's route
	// the capacity-aware checkout's commitment (choice.go), in what was
	// padding: node+1 where the parcel counts as committed (0: none) and
	// its size class
	commitSize model.SizeClass
	commitNode int32
	mark       model.Instant // when it was packed, or made ready at its node (cohort.go)
}

type nodeAcc struct {
	orders, pickedUp                 uint64
	reroutes, returns                uint64 // the cohort's, away from / at the node
	cost                             float64
	arrivals, refused, entered, occT int64
	// metrics.go: collected orders' prices, counter sales, lost revenue
	revenue, counterRev, lost float64
}

type world struct {
	hl    []histOp // histogram counts not applied yet (histlog.go)
	cfg   *Config
	k     *Kernel
	core  *model.Core
	net   *model.Network
	hoods []hood
	bases []base
	cour  []courier
	labs  []wlabel
	// per node
	nodeLat, nodeLng []float64
	pos              []point // node positions on the city plane
	msPerKm          float64
	baseOf           []int32
	fulfil           []model.NodeIndex // per pickup node: the fulfilling node
	accs             []nodeAcc
	warm             []model.NodeState // node counters at warm-up end
	lockerSlots      int64
	lockerNodes      []model.NodeIndex

	pick, pack, cust *rand.Rand
	next             int32
	pending          []int32 // bases to dispatch after the current step
	busy             int64   // couriers on a trip
	busySince        model.Instant
	busyInt          int64 // courier-ms on trips
	busyWarm         int64
	occWarm          int64

	ch   choiceState   // pickup-point choice (choice.go)
	cal  calendarState // demand calendar (calendar.go)
	res  *Result
	obs  Observer
	edge edge
	repl replenishing
	// hourly trace bookkeeping
	hourBusy, hourOcc int64
	// onDay, if set, is called once per simulated day (RunDaily); daysDone
	// is the last day reported
	onDay    func(day int)
	daysDone int
	ttl      ttlState
	// supply side: pickers and line haul
	sup supplyWorld
	ops opState // friction stays per node (operator.go)

	co cohort     // cohort.go: the measured window, the drain, waits and dwell times
	tr trips      // trips.go: reroute and return trips by the courier fleet
	tc touchState // touch.go: pickup windows and reward responses (cfg nil: off)

	mx metricsState // metrics.go: refunds, revenue, neighborhoods

	// packaging.go: reusable boxes (nil: none)
	pk *packWorld
}

func (w *world) lab(slab int32) *wlabel {
	for int(slab) >= len(w.labs) {
		w.labs = append(w.labs, wlabel{})
	}
	return &w.labs[slab]
}

// point is a position on the local tangent plane of the city, in km.
type point struct{ x, y float64 }

// plane projects lat/lng onto the tangent plane at the network's centroid.
// Within a city (tens of km) distances on it match the great-circle distance
// to better than 0.1 %, and cost no trigonometry on the hot path.
type plane struct{ lat0, lng0, kx, ky float64 }

const earthKm = 6371.0088

func newPlane(lat0, lng0 float64) plane {
	ky := earthKm * math.Pi / 180
	return plane{lat0, lng0, ky * math.Cos(lat0*math.Pi/180), ky}
}

func (p plane) at(lat, lng float64) point { return point{(lng - p.lng0) * p.kx, (lat - p.lat0) * p.ky} }

func dist2(a, b point) float64 { dx, dy := a.x-b.x, a.y-b.y; return dx*dx + dy*dy }

func (w *world) travel(a, b point) model.Duration {
	return model.Duration(math.Sqrt(dist2(a, b)) * w.msPerKm)
}

func newWorld(cfg *Config, rep int) *world {
	net := cfg.Network
	k := NewKernel(cfg.Start, cfg.Warmup, cfg.Horizon)
	st := NewStreams(cfg.Seed, rep)
	w := &world{cfg: cfg, k: k, net: net, core: model.New(net),
		pick: st.Rand("fulfilment/pick"), pack: st.Rand("fulfilment/pack"), cust: st.Rand("customers"), next: 1}
	w.core.OnFinish = w.finished
	w.core.MeasureFrom = cfg.Start.Add(cfg.Warmup)
	n := len(net.Nodes)
	w.nodeLat, w.nodeLng = make([]float64, n), make([]float64, n)
	w.accs = make([]nodeAcc, n)
	for i := range net.Nodes {
		ll := net.Nodes[i].Cell.LatLng()
		w.nodeLat[i], w.nodeLng[i] = ll.Lat, ll.Lng
		if s := net.Nodes[i].Slots; s[0]+s[1]+s[2] > 0 {
			w.lockerSlots += int64(s[0] + s[1] + s[2])
			w.lockerNodes = append(w.lockerNodes, model.NodeIndex(i))
		}
	}
	// bases: every microstore, else one hub at the centroid of the nodes
	w.baseOf = make([]int32, n)
	for i := range w.baseOf {
		w.baseOf[i] = -1
	}
	for i := range net.Nodes {
		if net.Nodes[i].Kind == model.Microstore {
			w.baseOf[i] = int32(len(w.bases))
			w.bases = append(w.bases, base{node: model.NodeIndex(i), lat: w.nodeLat[i], lng: w.nodeLng[i]})
		}
	}
	if len(w.bases) == 0 {
		var lat, lng float64
		for i := range net.Nodes {
			lat += w.nodeLat[i]
			lng += w.nodeLng[i]
		}
		w.bases = append(w.bases, base{node: model.NoNode, lat: lat / float64(n), lng: lng / float64(n)})
	}
	for i := range w.bases {
		for j := range w.bases {
			if i != j {
				w.bases[i].near = append(w.bases[i].near, int32(j))
			}
		}
		bi := &w.bases[i]
		sort.SliceStable(bi.near, func(a, b int) bool {
			x, y := &w.bases[bi.near[a]], &w.bases[bi.near[b]]
			return model.HaversineKm(bi.lat, bi.lng, x.lat, x.lng) < model.HaversineKm(bi.lat, bi.lng, y.lat, y.lng)
		})
	}
	var lat0, lng0 float64
	for i := range net.Nodes {
		lat0 += w.nodeLat[i] / float64(n)
		lng0 += w.nodeLng[i] / float64(n)
	}
	pl := newPlane(lat0, lng0)
	w.msPerKm = float64(model.Hour) / cfg.Couriers.SpeedKmh
	w.pos = make([]point, n)
	for i := range net.Nodes {
		w.pos[i] = pl.at(w.nodeLat[i], w.nodeLng[i])
	}
	for i := range w.bases {
		w.bases[i].pos = pl.at(w.bases[i].lat, w.bases[i].lng)
	}
	w.fulfil = make([]model.NodeIndex, n)
	for i := range w.fulfil {
		w.fulfil[i], _ = w.fulfilFrom(model.NodeIndex(i))
	}
	w.cour = make([]courier, cfg.Couriers.Fleet)
	for i := range w.cour {
		b := int32(i % len(w.bases))
		w.cour[i] = courier{base: b} // its route's buffers come with its first trip (courierRoom)
		w.bases[b].idle = append(w.bases[b].idle, int32(i))
	}
	w.pickupGrids() // choice.go
	// neighborhoods
	w.hoods = make([]hood, len(cfg.Neighborhoods))
	for i := range cfg.Neighborhoods {
		nb := &cfg.Neighborhoods[i]
		h := &w.hoods[i]
		h.cfg, h.subShare = nb, nb.SubscriberShare
		st.seat("demand/"+nb.Name, &h.arrive)
		st.seat("mix/"+nb.Name, &h.mix)
		var sum float64
		for _, v := range nb.Hourly {
			sum += v
		}
		for hr, v := range nb.Hourly {
			h.rate[hr] = nb.OrdersPerDay * v / sum / float64(model.Hour)
			h.maxRate = math.Max(h.maxRate, h.rate[hr])
		}
		h.skuCum = make([]float64, len(net.SKUs))
		var acc float64
		for s := range net.SKUs {
			wt := 1.0
			if nb.SKUWeights != nil {
				wt = nb.SKUWeights[s]
			}
			acc += wt
			h.skuCum[s] = acc
		}
		for _, c := range nb.Cells {
			h.cells = append(h.cells, cellInfo{cell: c, prefer: w.preferences(c)})
		}
	}
	w.choiceInit(st)
	w.calendarInit()
	w.edgeInit(st)
	w.ttlInit(st)
	w.replenishInit()
	w.supplyInit()
	w.tripsInit(st)
	w.packagingInit(st)
	w.cohortInit()
	w.touchInit(st)
	w.metricsInit()
	return w
}

// preferences lists the pickup nodes a customer in cell c would use, nearest
// first (great-circle distance, ties by id). The nodes are searched in a
// grid (geogrid.go) ring by ring until no unseen node can be as near as the
// eighth.
func (w *world) preferences(c model.Cell) []model.NodeIndex {
	ll := c.LatLng()
	type cand struct {
		i model.NodeIndex
		d float64
	}
	var cs []cand
	less := func(a, b int) bool {
		if cs[a].d != cs[b].d {
			return cs[a].d < cs[b].d
		}
		return w.net.Nodes[cs[a].i].ID < w.net.Nodes[cs[b].i].ID
	}
	add := func(i int32) {
		cs = append(cs, cand{model.NodeIndex(i), model.HaversineKm(ll.Lat, ll.Lng, w.nodeLat[i], w.nodeLng[i])})
	}
	const keep = 8
	if g := w.ch.grid; g.covers(ll.Lat, ll.Lng) {
		g.nearest(ll.Lat, ll.Lng, func() float64 {
			if len(cs) < keep {
				return math.Inf(1)
			}
			sort.Slice(cs, less)
			cs = cs[:keep:keep]
			return cs[keep-1].d
		}, add)
	} else {
		for i := range w.net.Nodes {
			if w.pickupNode(i) {
				add(int32(i))
			}
		}
	}
	sort.Slice(cs, less)
	if len(cs) > keep {
		cs = cs[:keep]
	}
	out := make([]model.NodeIndex, len(cs))
	for i, x := range cs {
		out[i] = x.i
	}
	return out
}

// fulfilFrom is the microstore nearest to the pickup node, or the hub.
func (w *world) fulfilFrom(dest model.NodeIndex) (model.NodeIndex, int32) {
	best, bi := math.Inf(1), int32(0)
	for i := range w.bases {
		b := &w.bases[i]
		if d := model.HaversineKm(b.lat, b.lng, w.nodeLat[dest], w.nodeLng[dest]); d < best {
			best, bi = d, int32(i)
		}
	}
	return w.bases[bi].node, bi
}

func (w *world) start() {
	k := w.k
	for i := range w.hoods {
		if w.hoods[i].maxRate > 0 {
			k.Schedule(k.Now.Add(model.Duration(w.hoods[i].arrive.r.ExpFloat64()/w.hoods[i].maxRate)), kOrder, int32(i), 0, 0)
		}
	}
	// shift openings and hourly ticks over the horizon
	w.scheduleShifts(w.cfg.Start, w.cfg.Start.Add(w.cfg.Horizon))
	k.Schedule(w.cfg.Start.Add(model.Hour), kHour, 0, 0, 0)
	w.edgeStart()
	w.promoStart()
	w.supplyStart()
}

// Handle runs one event of the city.
func (w *world) Handle(k *Kernel, ev Event) {
	switch ev.Kind {
	case kOrder:
		if w.co.draining {
			return // no new orders after the horizon (cohort.go)
		}
		h := &w.hoods[ev.A]
		if h.arrive.r.Float64()*h.maxRate < h.rate[model.TimeOfDay(k.Now)/model.Hour]*w.demandFactor(int(ev.A)) {
			w.place(int(ev.A))
		}
		k.Schedule(k.Now.Add(model.Duration(h.arrive.r.ExpFloat64()/h.maxRate)+1), kOrder, ev.A, 0, 0)
	case kPicked:
		if w.edge.on && w.pickDeferred(ev.A) {
			w.pickerFree(ev.A)
			return
		}
		if slab := w.step(&model.Event{Type: model.EvScanPicked, At: k.Now, Label: model.LabelID(ev.A)}); slab >= 0 {
			d := w.cfg.Fulfilment.PackTime.Sample(w.pack)
			if x := w.cfg.Fulfilment.PackExtra; x != nil {
				d += x[w.labs[slab].sku]
			}
			k.Schedule(k.Now.Add(d), kPacked, ev.A, 0, 0)
		} else {
			w.pickerFree(ev.A)
		}
	case kPacked:
		w.pickerFree(ev.A)
		// a label can leave picked before its pack ends only when stock can
		// be cancelled (cache-first nodes) or a picked-TTL redispatch packs
		// it at once; only then is the lookup worth its cost
		if w.edge.on || w.net.Policy.Escalate[model.Picked] == model.EscalateRedispatch {
			if l := w.core.Label(model.LabelID(ev.A)); l == nil || l.State != model.Picked {
				return // cancelled, or packed at once by a picked-TTL redispatch
			}
		}
		w.step(&model.Event{Type: model.EvScanPacked, At: k.Now, Label: model.LabelID(ev.A)})
	case kStop:
		w.stop(int(ev.A), int(ev.B))
	case kBack:
		w.back(int(ev.A))
	case kRerouteHandoff:
		w.rerouteReady(ev.A, model.NodeIndex(ev.B))
	case kRerouteArrive:
		w.tripLeg(ev)
	case kPickup:
		if w.ttlSkip(ev) {
			return
		}
		l := w.core.LabelAt(model.LabelID(ev.A), int32(ev.C>>1)-1)
		if l == nil || l.State != model.ReadyForPickup || int32(l.Hops) != ev.B {
			w.res.MissedPickups++
			return
		}
		pe := model.Event{Type: model.EvPickup, At: k.Now, Label: l.ID, Node: l.At}
		pe.SetSlab(l.Slab())
		if w.net.CodeKey != ([2]uint64{}) {
			pe.Code = model.PickupCode(w.net.CodeKey, l.ID) // the code from the notification
		}
		w.step(&pe)
	case kTimer:
		l := w.core.LabelAt(model.LabelID(ev.A), int32(ev.C)-1)
		if l == nil {
			return
		}
		w.lab(l.Slab()).timers[ev.B] = Timer{}
		te := model.Event{Type: model.EvTimer, At: k.Now, Label: l.ID, Timer: model.TimerKind(ev.B)}
		te.SetSlab(l.Slab())
		w.step(&te)
	case kReposition:
		w.repositioned(int(ev.A))
	case kShift:
		for i := range w.bases {
			w.dispatch(int32(i))
		}
	case kHour:
		w.tick()
		w.prefetchCheck()
		k.Schedule(k.Now.Add(model.Hour), kHour, 0, 0, 0)
	case kConn, kCounter, kReplenish, kRestock:
		if ev.Kind == kCounter && w.co.draining {
			return // no counter trade after the horizon (cohort.go)
		}
		w.handleEdge(k, ev)
	case kExtend:
		w.ttlExtend(ev)
	case kPromo:
		w.promote()
	case kArrive, kStaff:
		w.handleSupply(k, ev)
	case kTouchRelease:
		w.touchReleased(ev.A)
	case kBox:
		w.boxVisit(ev)
	}
}

func (w *world) place(hi int) {
	h := &w.hoods[hi]
	k := w.k
	r := &h.mix.r
	sku := sort.SearchFloat64s(h.skuCum, r.Float64()*h.skuCum[len(h.skuCum)-1])
	if sku >= len(h.skuCum) {
		sku = len(h.skuCum) - 1
	}
	ci := w.pickCell(hi, r)
	sub := r.Float64() < h.subShare
	dest := w.choose(hi, ci, sub, sku)
	if dest == model.NoNode {
		w.res.Unserved++
		return
	}
	var win model.Window
	if w.tc.windows {
		win = w.touchWindow(dest)
	}
	from := w.fulfil[dest]
	id := w.next
	w.next++
	measured := !k.InWarmup()
	day := int32(k.Now.Sub(w.cfg.Start) / model.Day)
	w.mx.placing = int16(hi) // a label finishing in its own placement (metrics.go)
	ev := model.Event{Type: model.EvOrderPlaced, At: k.Now, Label: model.LabelID(id), Order: uint64(id),
		SKU: model.SKUIndex(sku), Node: from, Dest: dest, Size: model.NoSize, Measured: measured, Subscriber: sub, Cell: ci.cell}
	ev.SetWindow(win)
	effs := w.coreStep(&ev)
	w.mx.placing = -1
	if len(effs) > 0 && effs[0].Slab >= 0 {
		wl := w.lab(effs[0].Slab)
		*wl = wlabel{} // zeroed, then stored field by field (a literal is copied by stalling wide loads)
		wl.measured, wl.day, wl.sku, wl.hood = measured, day, model.SKUIndex(sku), int16(hi)
	}
	w.apply(effs)
	w.res.Trace.addOrder(k.Now, w.cfg.Start)
	if measured {
		w.accs[dest].orders++
		w.accs[dest].cost += w.cfg.Costs.PerOrder
		w.metricsOrder(hi, dest)
		ci.orders++
		w.res.day(int(day)).Orders++
	}
	if win.Has() {
		if rel := w.touchRelease(win); rel > k.Now {
			k.Schedule(rel, kTouchRelease, id, 0, 0)
			return
		}
	}
	w.toPick(id, false)
}

// coreStep is the one place the world calls the core.
func (w *world) coreStep(ev *model.Event) []model.Effect {
	effs := w.core.StepEvent(ev)
	if w.obs != nil {
		w.obs.Observe(w.core, *ev, effs)
	}
	return effs
}

// step feeds one event to the core and carries out its effects. It returns
// the label's slab when the event moved the label, -1 otherwise.
func (w *world) step(ev *model.Event) int32 {
	effs := w.coreStep(ev)
	moved := int32(-1)
	if len(effs) > 0 && effs[0].Type == model.EffState {
		moved = effs[0].Slab
	}
	w.apply(effs)
	for len(w.pending) > 0 {
		b := w.pending[len(w.pending)-1]
		w.pending = w.pending[:len(w.pending)-1]
		w.bases[b].queued = false
		w.dispatch(b)
	}
	return moved
}

// apply carries out effects. It never calls the core itself (the effect
// slice is the core's buffer); courier dispatch is deferred to step.
func (w *world) apply(effs []model.Effect) {
	k := w.k
	for i := range effs {
		e := &effs[i]
		switch e.Type {
		case model.EffSetTimer:
			w.lab(e.Slab).timers[e.Timer] = k.ScheduleTimer(e.At, kTimer, int32(e.Label), int32(e.Timer), uint32(e.Slab)+1)
		case model.EffCancelTimer:
			t := &w.lab(e.Slab).timers[e.Timer]
			k.Cancel(*t)
			*t = Timer{}
		case model.EffDispatch:
			bi := int32(0)
			if e.Node != model.NoNode {
				bi = w.baseOf[e.Node]
			}
			b := &w.bases[bi]
			b.queue = append(b.queue, int32(e.Label))
			if !b.queued {
				b.queued = true
				w.pending = append(w.pending, bi)
			}
		case model.EffReroute:
			if !w.carried(e) {
				k.Schedule(k.Now.Add(e.Delay), kRerouteHandoff, int32(e.Label), int32(e.Node), 0)
			}
			if w.labs[e.Slab].measured {
				w.accs[e.Node].cost += e.Amount
				w.accs[e.Node].reroutes++
			}
		case model.EffNotify:
			w.notify(e)
		case model.EffRefund:
			if wl := &w.labs[e.Slab]; wl.measured {
				w.refunded(e, wl)
			}
		case model.EffStockout:
			w.mx.counterOK = false
		case model.EffReturn:
			w.returnTrip(e)
			if w.labs[e.Slab].measured {
				w.res.Costs.Returns += w.cfg.Costs.PerReturn
				w.accs[e.Node].cost += w.cfg.Costs.PerReturn
				w.accs[e.Node].returns++
			}
		case model.EffState:
			w.commitState(e)
			w.cohortState(e)
			if e.State == model.ReadyForPickup && e.Hops == 0 {
				w.res.Trace.add(k.Now, w.cfg.Start).Ready++
			}
		case model.EffRestock:
			w.restockTrip(e)
		case model.EffPickupFailed:
			w.edge.retries[e.Node] = append(w.edge.retries[e.Node], retry{int32(e.Label), e.Hops})
		case model.EffRedispatch, model.EffRedirect, model.EffRemind, model.EffExtended:
			w.ttlEffect(e)
		case model.EffLineHaul:
			w.lineHaul(e)
		case model.EffReward:
			w.touchReward(e)
		case model.EffBoxOut, model.EffBoxCustomer, model.EffBoxSlot, model.EffBoxBack, model.EffBoxRetired:
			w.boxEffect(e)
		}
	}
}

func (w *world) notify(e *model.Effect) {
	wl := &w.labs[e.Slab]
	l := w.core.Label(e.Label)
	if wl.noShow == 0 {
		p := w.cfg.Customers.NoShow
		if l.Subscriber {
			p = w.cfg.Customers.SubscriberNoShow
		}
		wl.noShow = 1
		if w.cust.Float64() < p {
			wl.noShow = 2
		}
	}
	if wl.noShow == 2 {
		return
	}
	d := &w.cfg.Customers.PickupDelay
	if l.Subscriber {
		d = &w.cfg.Customers.SubscriberPickupDelay
	}
	delay := d.Sample(w.cust)
	var at model.Instant
	if w.tc.cfg != nil {
		at = w.touchVisit(l, delay)
	} else {
		at = w.k.Now.Add(delay)
	}
	at = w.net.Nodes[e.Node].Hours.NextOpen(at)
	wl.visit = at
	w.k.Schedule(at, kPickup, int32(e.Label), e.Hops, pickupC(false, e.Slab))
}

// finished folds a label in a terminal state into the metrics, and a pickup
// into the trace (which, unlike the metrics, counts warm-up orders too).
func (w *world) finished(l *model.Label) {
	if l.State == model.PickedUp {
		w.res.Trace.add(w.k.Now, w.cfg.Start).PickedUp++
	}
	if !l.Measured {
		return
	}
	node := model.NoNode
	if l.State == model.PickedUp {
		node = l.Chain[len(l.Chain)-1].Node
		w.accs[node].pickedUp++
		w.accs[node].revenue += w.net.SKUs[l.SKU].Price
		w.res.Revenue += w.net.SKUs[l.SKU].Price
		wait := l.Chain[len(l.Chain)-1].At.Sub(l.ReadyAt)
		if !l.Late && l.ReadyAt <= l.Due && wait <= w.net.Policy.PickupWindow {
			w.res.day(int(l.Placed.Sub(w.cfg.Start)/model.Day)).PickedUpWithinSLA++
		}
	}
	w.metricsFinished(l, node)
}

func (w *world) shiftOpen() bool { return w.cfg.Couriers.Shift.OpenAt(w.k.Now) }

func (w *world) setBusy(delta int64) {
	now := w.k.Now
	w.busyInt += w.busy * int64(now-w.busySince)
	w.busySince = now
	w.busy += delta
}

// dispatch sends idle couriers of base bi out with up to a batch each.
func (w *world) dispatch(bi int32) {
	b := &w.bases[bi]
	if !w.shiftOpen() {
		return
	}
	w.dispatchTrips(bi)
	for b.head < len(b.queue) && len(b.idle) > 0 {
		ci := b.idle[len(b.idle)-1]
		b.idle = b.idle[:len(b.idle)-1]
		w.courierRoom(ci)
		c := &w.cour[ci]
		c.load, c.dest = c.load[:0], c.dest[:0]
		for b.head < len(b.queue) && len(c.load) < w.cfg.Couriers.BatchSize {
			id := b.queue[b.head]
			b.head++
			if l := w.core.Label(model.LabelID(id)); l != nil && l.State == model.Packed {
				c.load = append(c.load, id)
				c.dest = append(c.dest, l.Dest)
			}
		}
		if len(c.load) == 0 {
			b.idle = append(b.idle, ci)
			continue
		}
		if b.head == len(b.queue) {
			b.queue, b.head = b.queue[:0], 0
		} else if b.head > 1024 && b.head > len(b.queue)/2 {
			n := copy(b.queue, b.queue[b.head:])
			b.queue, b.head = b.queue[:n], 0
		}
		w.depart(ci)
	}
	w.rebalance(bi)
}

// rebalance calls idle couriers from other bases (nearest first, only from
// bases with nothing waiting) to base bi while its queue holds more batches
// than couriers are riding over. Repositioning counts as courier busy time.
func (w *world) rebalance(bi int32) {
	b := &w.bases[bi]
	for _, oi := range b.near {
		need := w.couriersNeeded(bi)
		if need <= b.incoming {
			return
		}
		o := &w.bases[oi]
		for len(o.idle) > 0 && !w.waiting(oi) && need > b.incoming {
			ci := o.idle[len(o.idle)-1]
			o.idle = o.idle[:len(o.idle)-1]
			w.cour[ci].base = bi
			b.incoming++
			w.setBusy(1)
			w.k.Schedule(w.k.Now.Add(w.travel(o.pos, b.pos)), kReposition, ci, 0, 0)
		}
	}
}

// repositioned: courier ci arrived at its new base.
func (w *world) repositioned(ci int) {
	c := &w.cour[ci]
	b := &w.bases[c.base]
	b.incoming--
	w.setBusy(-1)
	b.idle = append(b.idle, int32(ci))
	w.dispatch(c.base)
	w.offer(int32(ci))
}

func (w *world) depart(ci int32) {
	c := &w.cour[ci]
	b := &w.bases[c.base]
	c.depart = w.k.Now
	w.setBusy(1)
	// nearest-neighbour visiting order from the base (redispatched first)
	w.routeOrder(c, b.pos)
	for _, id := range c.load {
		w.step(&model.Event{Type: model.EvHandoff, At: w.k.Now, Label: model.LabelID(id), Node: b.node})
	}
	leg := w.travel(b.pos, w.pos[c.dest[0]])
	w.k.Schedule(w.k.Now.Add(leg+w.handoffTime()), kStop, ci, 0, 0)
}

func (w *world) stop(ci, i int) {
	c := &w.cour[ci]
	here := c.dest[i]
	w.tr.carrier, w.tr.stop = int32(ci)+1, i
	w.step(&model.Event{Type: model.EvArrived, At: w.k.Now, Label: model.LabelID(c.load[i]), Node: here})
	if w.pk != nil {
		w.boxCollect(int32(ci), here, len(c.load)-i-1)
	}
	wait := w.carryOn(here)
	if i+1 < len(c.load) {
		leg := w.travel(w.pos[here], w.pos[c.dest[i+1]])
		w.k.Schedule(w.k.Now.Add(max(leg+w.handoffTime(), wait)), kStop, int32(ci), int32(i+1), 0)
		return
	}
	w.k.Schedule(w.k.Now.Add(w.travel(w.pos[here], w.bases[c.base].pos)), kBack, int32(ci), 0, 0)
}

func (w *world) back(ci int) {
	if w.pk != nil {
		w.boxesHome(int32(ci))
	}
	c := &w.cour[ci]
	c.load, c.dest = c.load[:0], c.dest[:0]
	w.setBusy(-1)
	b := &w.bases[c.base]
	b.idle = append(b.idle, int32(ci))
	w.dispatch(c.base)
	w.offer(int32(ci))
}

// offer lets an idle courier whose base has nothing waiting help the
// nearest base that needs one.
func (w *world) offer(ci int32) {
	c := &w.cour[ci]
	b := &w.bases[c.base]
	if w.waiting(c.base) || !w.shiftOpen() {
		return
	}
	for _, oi := range b.near {
		o := &w.bases[oi]
		if w.waiting(oi) && len(o.idle) == 0 {
			w.rebalance(oi)
			return
		}
	}
}

// EndWarmup snapshots the counters that metrics report as differences.
func (w *world) EndWarmup(k *Kernel) {
	w.setBusy(0)
	w.busyWarm = w.busyInt
	w.supplyWarm()
	w.warm = make([]model.NodeState, len(w.net.Nodes))
	for i := range w.net.Nodes {
		w.warm[i] = w.core.Node(model.NodeIndex(i))
		w.warm[i].OccupiedTime = w.core.OccupiedTime(model.NodeIndex(i), k.Now)
	}
	w.occWarm = w.lockerOcc(k.Now)
	if w.pk != nil {
		w.pk.outWarm = w.core.BoxesOutTime(k.Now)
	}
}

func (w *world) lockerOcc(t model.Instant) int64 {
	var s int64
	for _, i := range w.lockerNodes {
		s += w.core.OccupiedTime(i, t)
	}
	return s
}

func (w *world) tick() {
	now := w.k.Now
	w.setBusy(0)
	occ := w.lockerOcc(now)
	p := w.res.Trace.add(now-1, w.cfg.Start)
	if w.lockerSlots > 0 {
		p.Occupancy = float64(occ-w.hourOcc) / float64(w.lockerSlots) / float64(model.Hour)
	}
	p.CourierUtilization = float64(w.busyInt-w.hourBusy) / float64(len(w.cour)) / float64(model.Hour)
	if w.edge.on {
		p.Drift = w.driftTrace(now)
	}
	w.hourOcc, w.hourBusy = occ, w.busyInt
	if w.onDay != nil {
		if h := int(now.Sub(w.cfg.Start) / model.Hour); h%24 == 0 && h/24 <= w.cfg.Days() {
			w.daysDone = h / 24
			w.onDay(w.daysDone)
		}
	}
}

// Days is the number of simulated days of a replication of c as RunDaily
// reports them: the horizon in days, a last partial day counted whole.
func (c *Config) Days() int {
	return int((c.Horizon + model.Day - 1) / model.Day)
}

// lastDays reports to onDay the days the hourly tick has not when the run
// ends: a last partial day (the tick at the horizon reports a whole one).
func (w *world) lastDays() {
	if w.onDay == nil {
		return
	}
	for d := w.daysDone + 1; d <= w.cfg.Days(); d++ {
		w.daysDone = d
		w.onDay(d)
	}
}
