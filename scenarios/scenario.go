package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"time"

	h3 "github.com/uber/h3-go/v4"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/model"
)

// Load reads the scenario file at path, decodes it strictly, applies the
// defaults and validates it. Problems in the file come back as Errors (all of
// them, sorted by line), each naming path, line, column and field.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for data already in memory; name is used as the file name in
// error messages.
func Parse(name string, data []byte) (*Scenario, error) {
	d := newDecoder(name)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Line: 1, Column: 1, Msg: "empty scenario file"}}
		}
		return nil, Errors{syntaxError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed per scenario file"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(name, err)}
	}
	s := &Scenario{}
	if n := deref(root.Content[0]); n.Kind != yaml.MappingNode {
		return nil, Errors{{File: name, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("a scenario must be a mapping of fields (got %s)", kindName(n))}}
	}
	d.decode(&root, reflect.ValueOf(s).Elem(), "")
	c := &checker{s: s, file: name, pos: d.pos, set: d.set, bad: d.bad, errs: d.errs}
	c.defaults()
	c.validate()
	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	s.warnings = c.warns.sorted()
	return s, nil
}

// Validate applies the defaults to a Scenario built or modified in Go (zero
// fields count as not given) and checks it like Load does. Errors carry field
// paths but no positions.
func (s *Scenario) Validate() error {
	c := &checker{s: s}
	c.defaults()
	c.validate()
	if len(c.errs) > 0 {
		return c.errs.sorted()
	}
	s.warnings = c.warns.sorted()
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(name string, err error) Error {
	e := Error{File: name, Msg: "invalid YAML: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	return e
}

// StartInstant is midnight of the first simulated day. The simulated clock is
// the city's local wall time without a zone, encoded like UTC.
func (s *Scenario) StartInstant() model.Instant { return model.InstantOf(s.Start.Time()) }

// Location is the city's time zone: the timezone field, UTC when it is
// empty. The simulated clock is local wall time; the feed carries real
// instants, and the twin (reading them) and hwsim (publishing them) convert
// with this zone (model.Zone).
func (s *Scenario) Location() (*time.Location, error) {
	if s.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "Local" {
		return nil, fmt.Errorf("scenarios: unknown time zone %q (want an IANA name like Europe/Berlin)", s.Timezone)
	}
	return loc, nil
}

// EndInstant is StartInstant + Horizon.
func (s *Scenario) EndInstant() model.Instant { return s.StartInstant().Add(s.Horizon.Model()) }

// NodeByID returns the node with the given id, or nil.
func (s *Scenario) NodeByID(id string) *Node {
	for i := range s.Nodes {
		if s.Nodes[i].ID == id {
			return &s.Nodes[i]
		}
	}
	return nil
}

// SKUByID returns the SKU with the given id, or nil.
func (s *Scenario) SKUByID(id string) *SKU {
	for i := range s.SKUs {
		if s.SKUs[i].ID == id {
			return &s.SKUs[i]
		}
	}
	return nil
}

// PackingTemplateByID returns the packing template with the given id, or nil.
func (s *Scenario) PackingTemplateByID(id string) *PackingTemplate {
	for i := range s.PackingTemplates {
		if s.PackingTemplates[i].ID == id {
			return &s.PackingTemplates[i]
		}
	}
	return nil
}

// NeighborhoodCells returns the H3 cells (at geography.resolution) of
// neighborhood i: its explicit cells, or the grid disk of Radius around the cell
// of its Center. The result is sorted and free of duplicates.
func (s *Scenario) NeighborhoodCells(i int) ([]h3.Cell, error) {
	if i < 0 || i >= len(s.Neighborhoods) {
		return nil, fmt.Errorf("scenarios: no neighborhood %d (have %d)", i, len(s.Neighborhoods))
	}
	nb := &s.Neighborhoods[i]
	cells, err := areaCells(nb.Center, nb.Radius, nb.Cells, s.Geography.Resolution)
	if err != nil {
		return nil, fmt.Errorf("scenarios: neighborhood %q: %w", nb.Name, err)
	}
	return cells, nil
}

// AreaOutageCells returns the H3 cells (at geography.resolution) covered by
// connectivity.area_outages[i], sorted.
func (s *Scenario) AreaOutageCells(i int) ([]h3.Cell, error) {
	if i < 0 || i >= len(s.Connectivity.AreaOutages) {
		return nil, fmt.Errorf("scenarios: no area outage %d (have %d)", i, len(s.Connectivity.AreaOutages))
	}
	a := &s.Connectivity.AreaOutages[i]
	cells, err := areaCells(a.Center, a.Radius, a.Cells, s.Geography.Resolution)
	if err != nil {
		return nil, fmt.Errorf("scenarios: area outage %d: %w", i, err)
	}
	return cells, nil
}

func areaCells(center *LatLng, radius int, cells []h3.Cell, res int) ([]h3.Cell, error) {
	if res < 0 || res > 15 {
		return nil, fmt.Errorf("invalid H3 resolution %d", res)
	}
	var out []h3.Cell
	switch {
	case len(cells) > 0:
		out = append(out, cells...)
	case center != nil:
		if center.Lat < -90 || center.Lat > 90 || center.Lng < -180 || center.Lng > 180 {
			return nil, fmt.Errorf("center %v,%v out of range", center.Lat, center.Lng)
		}
		if radius < 0 || radius > MaxRadius {
			return nil, fmt.Errorf("radius %d out of range 0..%d", radius, MaxRadius)
		}
		c := h3.LatLngToCell(h3.NewLatLng(center.Lat, center.Lng), res)
		if !c.IsValid() {
			return nil, fmt.Errorf("no H3 cell for center %v,%v", center.Lat, center.Lng)
		}
		for _, x := range c.GridDisk(radius) {
			if x != 0 {
				out = append(out, x)
			}
		}
	default:
		return nil, errors.New("neither center nor cells given")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Cell returns the H3 cell of the node at resolution res.
func (n *Node) Cell(res int) h3.Cell {
	return h3.LatLngToCell(h3.NewLatLng(n.Lat, n.Lng), res)
}
