package scenarios

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/sim"
)

// Packaging is reusable packaging (issue 14): pools of reusable boxes at
// the microstores, the customers' returns, the reverse flow and its losses,
// and what packaging costs. Absent: every parcel is packed single-use and
// nothing of it is modelled or reported (docs/scenario.md, "packaging").
type Packaging struct {
	Reusable []ReusableTemplate `yaml:"reusable"`
	// ReturnAtPickup is the share of customers who hand the box back at the
	// pickup itself; ReturnLater the share who bring it back on a later
	// visit, ReturnDelay after the pickup. The rest keep it.
	ReturnAtPickup Fraction `yaml:"return_at_pickup"`
	ReturnLater    Fraction `yaml:"return_later"`
	ReturnDelay    Dist     `yaml:"return_delay"`
	// Lost is the share of returned boxes missing when a courier comes for
	// them; Damaged the share of boxes back at a microstore found unfit.
	Lost    Fraction       `yaml:"lost"`
	Damaged Fraction       `yaml:"damaged"`
	Costs   PackagingCosts `yaml:"costs"`
}

// ReusableTemplate makes a packing template reusable.
type ReusableTemplate struct {
	Template string `yaml:"template"`
	// Pool is the number of boxes each microstore starts with.
	Pool int `yaml:"pool"`
	// BoxSize is the slot class an empty returned box takes at a locker.
	BoxSize string `yaml:"box_size"`
	// SingleUseMassKg is the single-use packaging one use replaces.
	SingleUseMassKg float64 `yaml:"single_use_mass_kg"`
}

// PackagingCosts are the prices of packaging.
type PackagingCosts struct {
	SingleUse   float64 `yaml:"single_use"`   // per parcel packed single-use
	ReusableUse float64 `yaml:"reusable_use"` // per parcel packed in a reusable box
	Wash        float64 `yaml:"wash"`         // per box back in a pool
	BoxLost     float64 `yaml:"box_lost"`     // per box that leaves the loop
}

// DefaultReturnDelay is the default time from pickup to a later return visit.
var DefaultReturnDelay = Dist{Dist: DistExponential, Mean: Duration(24 * model.Hour)}

func (c *checker) packagingDefaults() {
	p := c.s.Packaging
	if p == nil {
		return
	}
	if p.ReturnDelay.Dist == "" && !c.has("packaging.return_delay", false) {
		p.ReturnDelay = DefaultReturnDelay
	}
	for i := range p.Reusable {
		if p.Reusable[i].BoxSize == "" {
			p.Reusable[i].BoxSize = SizeSmall
		}
	}
}

func (c *checker) validatePackaging() {
	s := c.s
	p := s.Packaging
	if p == nil {
		return
	}
	micro := false
	for _, n := range s.Nodes {
		micro = micro || n.Kind == KindMicrostore
	}
	if !micro {
		c.errf("packaging", "needs at least one microstore node (box pools are kept at microstores)")
	}
	if len(p.Reusable) == 0 {
		c.errf("packaging.reusable", "must list at least one reusable packing template")
	}
	templates := map[string]bool{}
	for _, t := range s.PackingTemplates {
		templates[t.ID] = true
	}
	used := map[string]bool{}
	for _, k := range s.SKUs {
		used[k.Packing] = true
	}
	seen := map[string]bool{}
	// elements are labelled by index, as the decoder does (no id or name key)
	labels := labelsOf(p.Reusable, func(ReusableTemplate) string { return "" })
	for i, r := range p.Reusable {
		q := elemPath("packaging.reusable", labels[i])
		switch {
		case r.Template == "":
			c.errf(q+".template", "required (id of a packing template)")
		case !templates[r.Template]:
			c.errf(q+".template", "unknown packing template %q (not in packing_templates)", r.Template)
		case seen[r.Template]:
			c.errf(q+".template", "template %s listed twice", r.Template)
		case !used[r.Template]:
			c.errf(q+".template", "no SKU packs in template %s (skus[].packing), so its pool would do nothing", r.Template)
		}
		seen[r.Template] = true
		if r.Pool < 0 || r.Pool > 1_000_000 {
			c.errf(q+".pool", "must be 0..1000000 boxes per microstore (got %d)", r.Pool)
		}
		if _, ok := model.ParseSize(r.BoxSize); !ok {
			c.errf(q+".box_size", "must be small, medium or large (got %q)", r.BoxSize)
		}
		c.nonNegative(q+".single_use_mass_kg", r.SingleUseMassKg)
	}
	if p.ReturnAtPickup+p.ReturnLater > 1+1e-12 {
		c.errf("packaging.return_later", "return_at_pickup + return_later must be <= 100%% (got %s + %s)", p.ReturnAtPickup, p.ReturnLater)
	}
	if p.ReturnLater > 0 {
		c.dist("packaging.return_delay", p.ReturnDelay)
	}
	for path, v := range map[string]float64{"packaging.costs.single_use": p.Costs.SingleUse, "packaging.costs.reusable_use": p.Costs.ReusableUse,
		"packaging.costs.wash": p.Costs.Wash, "packaging.costs.box_lost": p.Costs.BoxLost} {
		c.nonNegative(path, v)
	}
}

// packagingNetwork is the core's view of the packaging section (nil: none).
func (s *Scenario) packagingNetwork() *model.Packaging {
	p := s.Packaging
	if p == nil {
		return nil
	}
	out := &model.Packaging{}
	typ := map[string]int8{}
	for _, r := range p.Reusable {
		size, _ := model.ParseSize(r.BoxSize)
		typ[r.Template] = int8(len(out.Types))
		out.Types = append(out.Types, model.BoxType{ID: r.Template, Size: size, Pool: int32(r.Pool), MassKg: r.SingleUseMassKg})
	}
	for _, k := range s.SKUs {
		t, ok := typ[k.Packing]
		if !ok || k.Packing == "" {
			t = -1
		}
		out.SKUType = append(out.SKUType, t)
	}
	return out
}

// simPackaging is the simulator's side of the packaging section (nil: none).
func (s *Scenario) simPackaging() *sim.Packaging {
	p := s.Packaging
	if p == nil {
		return nil
	}
	return &sim.Packaging{
		ReturnAtPickup: float64(p.ReturnAtPickup), ReturnLater: float64(p.ReturnLater), ReturnDelay: dist(p.ReturnDelay),
		Lost: float64(p.Lost), Damaged: float64(p.Damaged),
		Costs: sim.PackagingCosts{SingleUse: p.Costs.SingleUse, ReusableUse: p.Costs.ReusableUse, Wash: p.Costs.Wash, BoxLost: p.Costs.BoxLost},
	}
}
