package sim

import (
	"fmt"

	"github.com/lockstep-sim/lockstep/model"
)

// Config is everything the simulated city needs: the core's network and the
// world around it. Package scenarios builds one from a YAML file; the field
// names follow the scenario schema so the two read side by side.
type Config struct {
	Name    string
	Network *model.Network
	Seed    uint64
	Start   model.Instant
	Warmup  model.Duration
	Horizon model.Duration
	// Drain caps the drain after the horizon: the world runs on without new
	// orders until every order placed in [warm-up end, horizon) has finished,
	// or for at most this long (0: no drain; unfinished orders are censored).
	Drain model.Duration

	Neighborhoods []Neighborhood
	Fulfilment    Fulfilment
	Couriers      Couriers
	Customers     Customers
	Costs         Costs
	// Calendar shapes demand over the days (calendar.go; zero: flat).
	Calendar Calendar

	// Nodes is the world around each node, indexed like Network.Nodes (nil:
	// no counter trade and no connectivity drops anywhere).
	Nodes []NodeWorld
	// AreaOutages take down every listed node together.
	AreaOutages []AreaOutage
	// Inventory is the replenishment schedule of cache-first nodes.
	Inventory Inventory
	// Expiry is how customers react to the expiry reminder (sim/ttl.go).
	Expiry Expiry
	// Promotions scale SKUs' demand weights over windows (replenish.go).
	Promotions []Promotion
	// Supply is the line-haul pricing of the central supply tier
	// (Network.Supply).
	Supply SupplyCosts
	// Operators names who runs each node and the operator bonus rule
	// (operator.go; zero: each node its own operator, no bonus).
	Operators Operators
	// Touch is the customer touch layer: pickup windows and the response
	// to rewards (touch.go; nil: off).
	Touch *Touch
	// Packaging is the reusable packaging's world (packaging.go; nil: none).
	Packaging *Packaging
}

// NodeWorld is the simulated world around one node: its walk-in counter
// trade and its connectivity.
type NodeWorld struct {
	// CounterSalesPerDay is the mean number of walk-in sales per day (Poisson
	// over the opening hours), of the node's cached SKUs weighted by capacity.
	CounterSalesPerDay float64
	// MTBF and MTTR are the distributions of the up-times between random
	// connectivity drops and of the drops' lengths (times to repair), drawn
	// in turn from the node's "connectivity/<id>" stream. An MTBF with mean 0
	// (the zero Dist) means no random drops; with drops, MTTR needs a mean
	// > 0. Every draw lasts at least 1 ms; an Exponential one is truncated to
	// the millisecond plus 1 ms (not rounded like Dist.Sample), as drops have
	// always been drawn, so a scenario's numbers do not change.
	MTBF, MTTR Dist
	// Outages are scheduled outages.
	Outages []Outage
}

// drops reports whether the node has random connectivity drops.
func (n *NodeWorld) drops() bool { return n.MTBF.PositiveMean() }

// Outage is a scheduled span without connectivity.
type Outage struct {
	Start    model.Instant
	Duration model.Duration
}

// AreaOutage takes down every node of Nodes at once (all nodes within a set
// of H3 cells).
type AreaOutage struct {
	Nodes    []model.NodeIndex
	Start    model.Instant
	Duration model.Duration
}

// Inventory schedules nightly replenishment: planning at ReplenishAt (offset
// from midnight; 0: model.DefaultReplenishAt) and delivery by the restock
// Vehicle, which leaves RestockLead after planning (0:
// model.DefaultRestockLead) and drives to each node (replenish.go).
type Inventory struct {
	ReplenishAt, RestockLead model.Duration
	Vehicle                  Vehicle
}

// Neighborhood is a demand area.
type Neighborhood struct {
	Name         string
	Cells        []model.Cell
	OrdersPerDay float64
	// Hourly holds 24 relative weights (any scale, not all zero).
	Hourly [24]float64
	// SKUWeights holds a relative weight per SKU index; nil means uniform.
	SKUWeights      []float64
	SubscriberShare float64
}

// Fulfilment is picking and packing at the fulfilling node.
type Fulfilment struct {
	PickTime, PackTime Dist
	// PackExtra is the extra packing time of each SKU's packing template
	// (indexed by SKU; nil means none).
	PackExtra []model.Duration
	// Staff is the pickers (nil: unlimited, every order is picked at once,
	// around the clock).
	Staff *Staff
}

// Couriers is the bike fleet.
type Couriers struct {
	Fleet       int
	SpeedKmh    float64
	Shift       model.Hours
	CostPerHour float64
	BatchSize   int
	// HandoffTime is the service time at each stop (drop, collection),
	// drawn from the "couriers/handoff" stream (a Constant draws nothing).
	HandoffTime Dist
}

// Customers is pickup behaviour.
type Customers struct {
	PickupDelay           Dist
	NoShow                float64
	SubscriberPickupDelay Dist
	SubscriberNoShow      float64
	// Choice is how customers pick their pickup node (choice.go).
	Choice Choice
}

// Costs are per-event costs.
type Costs struct {
	PerOrder, PerReturn float64
	// HoldingPerUnitDay is paid per unit on a cache's shelf per day,
	// SpacePerM2Day per m² of a cache node's floor area per day.
	HoldingPerUnitDay, SpacePerM2Day float64
}

// Validate checks the config for values the world cannot run with.
func (c *Config) Validate() error {
	if c.Network == nil {
		return fmt.Errorf("config %q: no network", c.Name)
	}
	if err := c.Network.Validate(); err != nil {
		return fmt.Errorf("config %q: %w", c.Name, err)
	}
	if c.Horizon <= 0 || c.Warmup < 0 || c.Warmup >= c.Horizon {
		return fmt.Errorf("config %q: need 0 <= warmup < horizon", c.Name)
	}
	if c.Drain < 0 {
		return fmt.Errorf("config %q: need a drain cap >= 0", c.Name)
	}
	if err := c.Operators.validate(c.Name, len(c.Network.Nodes)); err != nil {
		return err
	}
	if len(c.Neighborhoods) == 0 {
		return fmt.Errorf("config %q: no neighborhoods", c.Name)
	}
	holds := false
	for i := range c.Network.Nodes {
		holds = holds || c.Network.Nodes[i].Holds()
	}
	if !holds {
		return fmt.Errorf("config %q: no node can hold parcels for pickup", c.Name)
	}
	for i, n := range c.Neighborhoods {
		if len(n.Cells) == 0 || n.OrdersPerDay < 0 {
			return fmt.Errorf("config %q: neighborhood %d (%s): needs cells and orders_per_day >= 0", c.Name, i, n.Name)
		}
		var sum float64
		for _, w := range n.Hourly {
			if w < 0 {
				return fmt.Errorf("config %q: neighborhood %s: negative hourly weight", c.Name, n.Name)
			}
			sum += w
		}
		if sum <= 0 {
			return fmt.Errorf("config %q: neighborhood %s: hourly weights are all zero", c.Name, n.Name)
		}
		if n.SKUWeights != nil && len(n.SKUWeights) != len(c.Network.SKUs) {
			return fmt.Errorf("config %q: neighborhood %s: %d SKU weights for %d SKUs", c.Name, n.Name, len(n.SKUWeights), len(c.Network.SKUs))
		}
	}
	if len(c.Nodes) != 0 && len(c.Nodes) != len(c.Network.Nodes) {
		return fmt.Errorf("config %q: %d node worlds for %d nodes", c.Name, len(c.Nodes), len(c.Network.Nodes))
	}
	for i, n := range c.Nodes {
		id := c.Network.Nodes[i].ID
		if n.CounterSalesPerDay < 0 {
			return fmt.Errorf("config %q: node %s: need counter sales >= 0", c.Name, id)
		}
		if err := n.MTBF.Validate(); err != nil {
			return fmt.Errorf("config %q: node %s: mtbf: %w", c.Name, id, err)
		}
		if err := n.MTTR.Validate(); err != nil {
			return fmt.Errorf("config %q: node %s: mttr: %w", c.Name, id, err)
		}
		if n.drops() && !n.MTTR.PositiveMean() {
			return fmt.Errorf("config %q: node %s: need an mttr with mean > 0 with mtbf", c.Name, id)
		}
		for _, o := range n.Outages {
			if o.Duration < 0 {
				return fmt.Errorf("config %q: node %s: negative outage duration", c.Name, id)
			}
		}
	}
	for i, a := range c.AreaOutages {
		if a.Duration < 0 {
			return fmt.Errorf("config %q: area outage %d: negative duration", c.Name, i)
		}
		for _, n := range a.Nodes {
			if n < 0 || int(n) >= len(c.Network.Nodes) {
				return fmt.Errorf("config %q: area outage %d: unknown node index %d", c.Name, i, n)
			}
		}
	}
	if c.Inventory.ReplenishAt < 0 || c.Inventory.ReplenishAt >= model.Day || c.Inventory.RestockLead < 0 {
		return fmt.Errorf("config %q: replenish time must be within a day and restock lead >= 0", c.Name)
	}
	if err := c.validateChoiceCalendar(); err != nil {
		return fmt.Errorf("config %q: %w", c.Name, err)
	}
	if err := c.validateReplenish(); err != nil {
		return fmt.Errorf("config %q: %w", c.Name, err)
	}
	if err := c.validateSupply(); err != nil {
		return err
	}
	if c.Touch != nil {
		if err := c.Touch.validate(c.Network); err != nil {
			return fmt.Errorf("config %q: %w", c.Name, err)
		}
	}
	if c.Couriers.Fleet < 1 || c.Couriers.SpeedKmh <= 0 || c.Couriers.BatchSize < 1 {
		return fmt.Errorf("config %q: couriers need fleet >= 1, speed > 0, batch size >= 1", c.Name)
	}
	if x := c.Expiry; !(x.Respond >= 0 && x.Respond <= 1 && x.AskExtension >= 0 && x.AskExtension <= 1) {
		return fmt.Errorf("config %q: expiry: respond and ask-extension shares must be within [0, 1]", c.Name)
	}
	for name, d := range map[string]*Dist{"pick time": &c.Fulfilment.PickTime, "pack time": &c.Fulfilment.PackTime,
		"pickup delay": &c.Customers.PickupDelay, "subscriber pickup delay": &c.Customers.SubscriberPickupDelay,
		"courier handoff time": &c.Couriers.HandoffTime} {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("config %q: %s: %w", c.Name, name, err)
		}
	}
	return nil
}
