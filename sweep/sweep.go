package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/results"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/sim"
)

// MaxItems caps grid points × replications of one sweep.
const MaxItems = 50_000_000

// DefaultMetric is the metric plotted when none is chosen.
const DefaultMetric = results.MPickupSuccessRate

// Vary is one swept parameter: a field path and the values it takes, each a
// YAML scalar as written (12h, 20%, 3, "14:00").
type Vary struct {
	Path   string   `json:"path" yaml:"path"`
	Values []string `json:"values" yaml:"values"`
}

// ParseVary parses a --vary flag: PATH=V1,V2,...
func ParseVary(s string) (Vary, error) {
	path, vals, ok := strings.Cut(s, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" || strings.TrimSpace(vals) == "" {
		return Vary{}, fmt.Errorf("--vary %q: want PATH=V1,V2,... (e.g. couriers.fleet=10,14,18)", s)
	}
	v := Vary{Path: path}
	for _, x := range strings.Split(vals, ",") {
		x = strings.TrimSpace(x)
		if x == "" {
			return Vary{}, &scenarios.PathError{Path: path, Msg: fmt.Sprintf("empty value in %q", vals)}
		}
		v.Values = append(v.Values, x)
	}
	return v, nil
}

// Def defines a sweep: a base scenario, the parameters to vary (a full
// factorial grid, the last parameter varying fastest), the replications per
// grid point and the seed shared by every point (common random numbers).
type Def struct {
	BaseName     string // the base file's name, for messages
	Base         []byte // the base file's bytes
	Vary         []Vary
	Replications int     // per grid point; 0 takes the base scenario's
	Seed         *uint64 // nil takes the base scenario's
	Metric       string  // plotted metric; "" means DefaultMetric
}

type sweepParam struct {
	path   scenarios.Path
	values []*yaml.Node
}

// Sweep is a checked sweep definition, ready to run or merge.
type Sweep struct {
	Info   Info
	Hash   string
	base   []byte // the base file, decoded afresh for every grid point
	params []sweepParam
	days   []int32 // simulated days of one replication, per grid point
}

// Info is what a sweep's results need besides the measurements; every
// shard file carries it.
type Info struct {
	Scenario     string  `json:"scenario"`
	Seed         uint64  `json:"seed"`
	Replications int     `json:"replications"`
	Precision    float64 `json:"precision"`
	Metric       string  `json:"metric"`
	Parameters   []Vary  `json:"parameters"`
	Points       int     `json:"points"`
}

// Items is grid points × replications.
func (i Info) Items() int { return i.Points * i.Replications }

// PointValues returns the parameter values of grid point p.
func (i Info) PointValues(p int) []string {
	out := make([]string, len(i.Parameters))
	for j := len(i.Parameters) - 1; j >= 0; j-- {
		n := len(i.Parameters[j].Values)
		out[j] = i.Parameters[j].Values[p%n]
		p /= n
	}
	return out
}

// PointLabel is "path=value, ..." for grid point p.
func (i Info) PointLabel(p int) string {
	vals := i.PointValues(p)
	parts := make([]string, len(vals))
	for j, v := range vals {
		parts[j] = i.Parameters[j].Path + "=" + v
	}
	return strings.Join(parts, ", ")
}

// DefinitionHash hashes what determines a sweep's results: the base file's
// bytes, the varied paths and values, the replications and the seed.
func DefinitionHash(base []byte, vary []Vary, replications int, seed uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "lockstep sweep v1\nbase %d\n", len(base))
	h.Write(base)
	for _, v := range vary {
		fmt.Fprintf(h, "\nvary %q", v.Path)
		for _, x := range v.Values {
			fmt.Fprintf(h, " %q", x)
		}
	}
	fmt.Fprintf(h, "\nreplications %d\nseed %d\n", replications, seed)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// notVaried are fields a sweep sets itself.
var notVaried = map[string]string{
	"seed":         "the sweep's seed (--seed or sweep.seed) applies to every grid point",
	"replications": "use --replications or sweep.replications",
	"version":      "the schema version is not a parameter",
	"name":         "every grid point keeps the base scenario's name",
	"precision":    "the CI precision target is the base scenario's for every grid point",
}

// checkVaried is scenarios.CheckPath for a path a sweep varies: the fields a
// sweep sets itself cannot be.
func checkVaried(p scenarios.Path) (reflect.Type, error) {
	if key, alone := p.Root(); alone {
		if why, ok := notVaried[key]; ok {
			return nil, &scenarios.PathError{Path: p.String(), At: key, Msg: "cannot be varied: " + why}
		}
	}
	return scenarios.CheckPath(p)
}

// New checks a sweep definition: the base scenario must be valid, every
// path must name a scalar field, every value must have the field's type, and
// every grid point must be a valid scenario. Problems name the path.
func New(def Def) (*Sweep, error) {
	base, err := scenarios.Parse(def.BaseName, def.Base)
	if err != nil {
		return nil, err
	}
	sw := &Sweep{base: def.Base}
	if len(def.Vary) == 0 {
		return nil, errors.New("nothing to vary: give at least one --vary PATH=V1,V2,... (or a vary list in the sweep file)")
	}
	info := Info{Scenario: base.Name, Seed: base.Seed, Replications: base.Replications,
		Precision: float64(base.Precision), Metric: def.Metric, Points: 1}
	if def.Seed != nil {
		info.Seed = *def.Seed
	}
	if def.Replications > 0 {
		info.Replications = def.Replications
	}
	if info.Replications < 1 {
		info.Replications = 1
	}
	if info.Precision <= 0 {
		info.Precision = results.DefaultPrecision
	}
	if info.Metric == "" {
		info.Metric = DefaultMetric
	}
	if _, ok := results.Lookup(info.Metric); !ok {
		names := make([]string, len(results.Catalog))
		for i, d := range results.Catalog {
			names[i] = d.Name
		}
		return nil, fmt.Errorf("metric %q is not in the catalog (have %s)", info.Metric, strings.Join(names, ", "))
	}
	var errs []error
	seen := map[string]bool{}
	for _, v := range def.Vary {
		p, err := scenarios.ParsePath(v.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[v.Path] {
			errs = append(errs, &scenarios.PathError{Path: v.Path, Msg: "varied twice; give all its values in one --vary"})
			continue
		}
		seen[v.Path] = true
		t, err := checkVaried(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(v.Values) == 0 {
			errs = append(errs, &scenarios.PathError{Path: v.Path, Msg: "no values"})
			continue
		}
		sp := sweepParam{path: p}
		dup := map[string]bool{}
		for _, x := range v.Values {
			n, err := scenarios.ScalarValue(x)
			if err == nil {
				err = scenarios.CheckValue(t, n)
			}
			if err != nil {
				errs = append(errs, &scenarios.PathError{Path: v.Path, Value: x, Msg: err.Error()})
				continue
			}
			if dup[x] {
				errs = append(errs, &scenarios.PathError{Path: v.Path, Value: x, Msg: "value listed twice"})
				continue
			}
			dup[x] = true
			sp.values = append(sp.values, n)
		}
		sw.params = append(sw.params, sp)
		info.Parameters = append(info.Parameters, Vary{Path: v.Path, Values: append([]string(nil), v.Values...)})
		info.Points *= len(v.Values)
		if info.Points > MaxItems {
			errs = append(errs, fmt.Errorf("the grid has more than %d points", MaxItems))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if info.Items() > MaxItems {
		return nil, fmt.Errorf("the sweep has %d points × %d replications, more than %d work items", info.Points, info.Replications, MaxItems)
	}
	sw.Info = info
	sw.Hash = DefinitionHash(def.Base, info.Parameters, info.Replications, info.Seed)
	// every path must resolve in the base file, and every point must validate
	sw.days = make([]int32, info.Points)
	for p := 0; p < info.Points; p++ {
		cfg, err := sw.pointConfig(p)
		if err != nil {
			return nil, err
		}
		sw.days[p] = int32(cfg.Days())
	}
	return sw, nil
}

// Work is how much shard sh of the sweep simulates: its work items and the
// simulated days over all of them (the number of Options.Day calls), for
// progress bars.
func (sw *Sweep) Work(sh Shard) (items int, days int64) {
	R := sw.Info.Replications
	for p, d := range sw.days {
		n := sh.pointItems(p, R)
		items += n
		days += int64(n) * int64(d)
	}
	return items, days
}

// PointScenario builds and validates the scenario of grid point p.
func (sw *Sweep) PointScenario(p int) (*scenarios.Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(sw.base, &doc); err != nil {
		return nil, fmt.Errorf("grid point %d (%s): %w", p, sw.Info.PointLabel(p), err)
	}
	idx := make([]int, len(sw.params))
	q := p
	for j := len(sw.params) - 1; j >= 0; j-- {
		n := len(sw.params[j].values)
		idx[j] = q % n
		q /= n
	}
	set := make([][]string, len(sw.params))
	for j, sp := range sw.params {
		v := *sp.values[idx[j]]
		paths, err := scenarios.ApplyPath(&doc, sp.path, &v)
		if err != nil {
			return nil, err
		}
		set[j] = paths
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("grid point %d (%s): encoding the scenario: %w", p, sw.Info.PointLabel(p), err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("grid point %d (%s)", p, sw.Info.PointLabel(p))
	s, err := scenarios.Parse(name, buf.Bytes())
	if err != nil {
		return nil, sw.pointError(p, set, err)
	}
	return s, nil
}

// pointError rewrites the scenario errors of a grid point in terms of the
// varied paths: lines of the re-encoded document mean nothing to the user.
func (sw *Sweep) pointError(p int, set [][]string, err error) error {
	var es scenarios.Errors
	if !errors.As(err, &es) {
		return err
	}
	vals := sw.Info.PointValues(p)
	var lines []string
	for _, e := range es {
		line := ""
		for j, paths := range set {
			for _, c := range paths {
				if e.Path == c || strings.HasPrefix(e.Path, c+".") || strings.HasPrefix(e.Path, c+"[") {
					at := ""
					if e.Path != sw.params[j].path.String() {
						at = e.Path + ": "
					}
					line = fmt.Sprintf("%s=%s: %s%s", sw.params[j].path.String(), vals[j], at, e.Msg)
				}
			}
		}
		if line == "" {
			line = e.Path + ": " + e.Msg
			if e.Path == "" {
				line = e.Msg
			}
		}
		lines = append(lines, "  "+line)
	}
	return fmt.Errorf("grid point %d (%s) is not a valid scenario:\n%s", p, sw.Info.PointLabel(p), strings.Join(lines, "\n"))
}

// pointConfig builds the simulator configuration of grid point p with the
// sweep's seed.
func (sw *Sweep) pointConfig(p int) (*sim.Config, error) {
	s, err := sw.PointScenario(p)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Config()
	if err != nil {
		return nil, fmt.Errorf("grid point %d (%s): %w", p, sw.Info.PointLabel(p), err)
	}
	cfg.Seed = sw.Info.Seed
	return cfg, nil
}

// sweepFile is the schema of a sweep file.
type sweepFile struct {
	Sweep *struct {
		Base         string  `yaml:"base"`
		Replications int     `yaml:"replications"`
		Seed         *uint64 `yaml:"seed"`
		Metric       string  `yaml:"metric"`
		Vary         []struct {
			Path   string      `yaml:"path"`
			Values []yaml.Node `yaml:"values"`
		} `yaml:"vary"`
	} `yaml:"sweep"`
}

// LoadFile reads a sweep file: a `sweep:` section with base (a scenario
// file, relative to the sweep file), vary (a list of path and values),
// optional replications, seed and metric. Unknown keys are errors.
func LoadFile(path string) (Def, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Def{}, err
	}
	var f sweepFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return Def{}, fmt.Errorf("%s: %w", path, err)
	}
	if f.Sweep == nil {
		return Def{}, fmt.Errorf("%s: no sweep: section", path)
	}
	sf := f.Sweep
	if sf.Base == "" {
		return Def{}, fmt.Errorf("%s: sweep.base: the base scenario file is required", path)
	}
	def := Def{Replications: sf.Replications, Seed: sf.Seed, Metric: sf.Metric}
	if sf.Replications < 0 {
		return Def{}, fmt.Errorf("%s: sweep.replications: must be positive", path)
	}
	base := sf.Base
	if !filepath.IsAbs(base) {
		base = filepath.Join(filepath.Dir(path), base)
	}
	def.BaseName = base
	if def.Base, err = os.ReadFile(base); err != nil {
		return Def{}, fmt.Errorf("%s: sweep.base: %w", path, err)
	}
	for i, v := range sf.Vary {
		if v.Path == "" {
			return Def{}, fmt.Errorf("%s: sweep.vary[%d]: path is required", path, i)
		}
		vr := Vary{Path: v.Path}
		for _, n := range v.Values {
			if n.Kind != yaml.ScalarNode {
				return Def{}, fmt.Errorf("%s:%d: sweep.vary[%d] (%s): values must be scalars", path, n.Line, i, v.Path)
			}
			n.HeadComment, n.LineComment, n.FootComment = "", "", ""
			b, err := yaml.Marshal(&n)
			if err != nil {
				return Def{}, fmt.Errorf("%s:%d: %w", path, n.Line, err)
			}
			vr.Values = append(vr.Values, strings.TrimSpace(string(b)))
		}
		def.Vary = append(def.Vary, vr)
	}
	return def, nil
}
