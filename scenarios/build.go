package scenarios

import (
	"fmt"
	"hash/fnv"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Network builds the core's network (nodes, SKUs, policy) from the scenario.
// The twin uses it on its own; Config wraps it for the simulator.
func (s *Scenario) Network() (*model.Network, error) {
	res := s.Geography.Resolution
	start := s.StartInstant()
	net := &model.Network{Resolution: res}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		kind, ok := model.ParseNodeKind(n.Kind)
		if !ok {
			return nil, fmt.Errorf("node %s: unknown kind %q", n.ID, n.Kind)
		}
		cell, err := model.CellAt(n.Lat, n.Lng, res)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.ID, err)
		}
		nd := model.Node{
			ID: n.ID, Kind: kind, Lat: n.Lat, Lng: n.Lng, Cell: cell,
			Slots:   [model.NumSizes]int32{int32(n.Slots.Small), int32(n.Slots.Medium), int32(n.Slots.Large)},
			Counter: int32(n.CounterCapacity), Hours: modelHours(n.Hours),
			FloorArea: n.FloorAreaM2, FixedCostPerDay: n.FixedCostPerDay,
		}
		if n.Active != nil {
			nd.ActiveFrom, nd.ActiveUntil = start.Add(n.Active.From.Model()), start.Add(n.Active.Until.Model())
		}
		net.Nodes = append(net.Nodes, nd)
	}
	shrink := map[string]int{}
	for _, p := range s.PackingTemplates {
		shrink[p.ID] = p.Shrink
	}
	for _, k := range s.SKUs {
		size, ok := model.ParseSize(k.Size)
		if !ok {
			return nil, fmt.Errorf("sku %s: unknown size %q", k.ID, k.Size)
		}
		net.SKUs = append(net.SKUs, model.SKU{ID: k.ID, Size: size.Shrink(shrink[k.Packing]), Price: k.Price})
	}
	for i := range s.Nodes {
		for _, e := range s.Nodes[i].Cache {
			k, ok := net.SKUIndexOf(e.SKU)
			if !ok {
				return nil, fmt.Errorf("node %s: cache: unknown sku %q", s.Nodes[i].ID, e.SKU)
			}
			net.Nodes[i].Cache = append(net.Nodes[i].Cache, model.CacheItem{SKU: k, Capacity: int32(e.Capacity), Stock: int32(e.Stock)})
		}
	}
	if s.Edge() {
		// cache-first network: nodes log locally and verify pickup codes
		// with a key derived from the scenario (a deployment sets its own)
		net.EdgeLog = true
		h := fnv.New64a()
		fmt.Fprintf(h, "lockstep pickup code\x00%s\x00%d", s.Name, s.Seed)
		k0 := h.Sum64()
		h.Write([]byte{1})
		net.CodeKey = [2]uint64{k0, h.Sum64()}
	}
	l := &s.Labels
	p := &net.Policy
	p.TTL[model.Picked] = l.TTL.Picked.Model()
	p.TTL[model.Packed] = l.TTL.Packed.Model()
	p.TTL[model.InTransit] = l.TTL.InTransit.Model()
	p.TTL[model.ReadyForPickup] = l.TTL.ReadyForPickup.Model()
	p.MaxHops = l.MaxHops
	p.RerouteCost, p.RerouteDelay = l.Reroute.Cost, l.Reroute.Delay.Model()
	switch l.Refund.Rule {
	case RefundFixed:
		p.Refund = model.RefundFixed
	case RefundShare:
		p.Refund = model.RefundShare
	default:
		p.Refund = model.RefundFull
	}
	p.RefundAmount, p.RefundShare = l.Refund.Amount, float64(l.Refund.Share)
	p.Cutoff, p.ReadyBy = s.SLA.Cutoff.Duration(), s.SLA.ReadyBy.Duration()
	p.PickupWindow = s.SLA.PickupWindow.Model()
	p.Touch = s.touchPolicy()
	if s.Connectivity.OfflineMode == OfflineRefuse {
		p.Offline = model.OfflineRefuse
	}
	s.ttlPolicy(p)
	s.replenishPolicy(net)
	net.Supply = s.supplyNetwork(net)
	net.Packaging = s.packagingNetwork()
	if err := net.Validate(); err != nil {
		return nil, err
	}
	return net, nil
}

// Edge reports whether the scenario has cache-first nodes: a cache, counter
// trade, or connectivity drops anywhere.
func (s *Scenario) Edge() bool {
	if len(s.Connectivity.AreaOutages) > 0 {
		return true
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if len(n.Cache) > 0 || n.CounterSalesPerDay > 0 || n.Connectivity.MTBF.Given() || len(n.Connectivity.Outages) > 0 {
			return true
		}
	}
	return false
}

// modelHours converts opening hours; a range that runs past midnight
// ("22:00-06:00") becomes two daily spans.
func modelHours(h Hours) model.Hours {
	if len(h) == 0 || h.IsAllDay() {
		return nil
	}
	var out model.Hours
	for _, r := range h {
		from, to := r.From.Duration(), r.To.Duration()
		if to > from {
			out = append(out, model.Span{From: from, To: to})
		} else if to < from {
			out = append(out, model.Span{From: from, To: model.Day}, model.Span{From: 0, To: to})
		}
	}
	return out
}

func dist(d Dist) sim.Dist {
	out := sim.Dist{Mean: d.Mean.Model(), Median: d.Median.Model(), Sigma: d.Sigma, Min: d.Min.Model(), Max: d.Max.Model()}
	switch d.Dist {
	case DistExponential:
		out.Kind = sim.Exponential
	case DistLognormal:
		out.Kind = sim.LogNormal
	case DistUniform:
		out.Kind = sim.Uniform
	case DistEmpirical:
		out.Kind = sim.Empirical
		for _, q := range d.Quantiles {
			out.Quantiles = append(out.Quantiles, q.Model())
		}
	default:
		out.Kind = sim.Constant
	}
	return out
}

// Config builds the simulator's configuration: the network plus the world
// around it (demand, fulfilment, couriers, customers, costs, the
// replenishment schedule).
func (s *Scenario) Config() (*sim.Config, error) {
	net, err := s.Network()
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	calendar, err := s.calendarConfig()
	if err != nil {
		return nil, err
	}
	cfg := &sim.Config{
		Name: s.Name, Network: net, Seed: s.Seed, Start: s.StartInstant(),
		Warmup: s.Warmup.Model(), Horizon: s.Horizon.Model(), Drain: s.Drain.Cap.Model(),
		Fulfilment: sim.Fulfilment{PickTime: dist(s.Fulfilment.PickTime), PackTime: dist(s.Fulfilment.PackTime)},
		Couriers: sim.Couriers{Fleet: s.Couriers.Fleet, SpeedKmh: s.Couriers.SpeedKmh, Shift: modelHours(s.Couriers.Shift),
			CostPerHour: s.Couriers.CostPerHour, BatchSize: s.Couriers.BatchSize, HandoffTime: dist(Dist(s.Couriers.HandoffTime))},
		Customers: sim.Customers{PickupDelay: dist(s.Customers.PickupDelay), NoShow: float64(s.Customers.NoShow),
			SubscriberPickupDelay: dist(s.Customers.Subscribers.PickupDelay), SubscriberNoShow: float64(s.Customers.Subscribers.NoShow),
			Choice: s.choiceConfig()},
		Costs:    sim.Costs{PerOrder: s.Costs.PerOrder, PerReturn: s.Costs.PerReturn},
		Calendar: calendar,
		Expiry:   s.ttlConfig(),
		Touch:    s.touchConfig(),
	}
	s.inventory(cfg)
	cfg.Operators = s.operatorsConfig()
	extra := map[string]model.Duration{}
	for _, p := range s.PackingTemplates {
		extra[p.ID] = p.PackTimeExtra.Model()
	}
	for _, k := range s.SKUs {
		cfg.Fulfilment.PackExtra = append(cfg.Fulfilment.PackExtra, extra[k.Packing])
	}
	for i := range s.Neighborhoods {
		nb := &s.Neighborhoods[i]
		cells, err := s.NeighborhoodCells(i)
		if err != nil {
			return nil, err
		}
		n := sim.Neighborhood{Name: nb.Name, Cells: cells, OrdersPerDay: nb.OrdersPerDay, SubscriberShare: float64(nb.SubscriberShare)}
		if len(nb.Hourly) == 24 {
			copy(n.Hourly[:], nb.Hourly)
		} else {
			for h := range n.Hourly {
				n.Hourly[h] = 1
			}
		}
		if len(nb.SKUMix) > 0 {
			n.SKUWeights = make([]float64, len(s.SKUs))
			for j, k := range s.SKUs {
				n.SKUWeights[j] = nb.SKUMix[k.ID]
			}
		}
		cfg.Neighborhoods = append(cfg.Neighborhoods, n)
	}
	start := s.StartInstant()
	if s.Edge() {
		cfg.Nodes = make([]sim.NodeWorld, len(s.Nodes))
		for i := range s.Nodes {
			n := &s.Nodes[i]
			nw := sim.NodeWorld{CounterSalesPerDay: n.CounterSalesPerDay}
			if n.Connectivity.MTBF.Given() {
				nw.MTBF, nw.MTTR = dist(Dist(n.Connectivity.MTBF)), dist(Dist(n.Connectivity.MTTR))
			}
			for _, o := range n.Connectivity.Outages {
				nw.Outages = append(nw.Outages, sim.Outage{Start: start.Add(o.Start.Model()), Duration: o.Duration.Model()})
			}
			cfg.Nodes[i] = nw
		}
	}
	for i, a := range s.Connectivity.AreaOutages {
		cells, err := s.AreaOutageCells(i)
		if err != nil {
			return nil, err
		}
		in := make(map[model.Cell]bool, len(cells))
		for _, c := range cells {
			in[c] = true
		}
		ao := sim.AreaOutage{Start: start.Add(a.Start.Model()), Duration: a.Duration.Model()}
		for j := range net.Nodes {
			if in[net.Nodes[j].Cell] {
				ao.Nodes = append(ao.Nodes, model.NodeIndex(j))
			}
		}
		cfg.AreaOutages = append(cfg.AreaOutages, ao)
	}
	if err := s.simSupply(cfg); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	cfg.Packaging = s.simPackaging()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
