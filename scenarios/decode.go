package scenarios

import (
	"fmt"
	hint "github.com/lockstep-sim/lockstep/internal/suggest"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	h3 "github.com/uber/h3-go/v4"
	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree into Go values by reflection, so that every
// problem (unknown field, wrong type, bad unit) is reported with its line, column
// and field path, and decoding goes on after an error. It records the node of
// every path it sees, for the validator to place its errors.
type decoder struct {
	file   string
	errs   Errors
	pos    map[string]*yaml.Node // every path seen, null values included
	set    map[string]bool       // paths given a non-null value
	bad    map[string]bool       // paths with a decode error
	budget int                   // nodes left to visit (guards against alias bombs)
}

const nodeBudget = 5_000_000

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	cellType        = reflect.TypeOf(h3.Cell(0))
	meanOrDistType  = reflect.TypeOf(MeanOrDist{})
)

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]*yaml.Node{}, set: map[string]bool{}, bad: map[string]bool{}, budget: nodeBudget}
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	e := Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
	d.bad[path] = true
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.errAt(n, path, "document too large (too many nodes after expanding aliases)")
		}
		return
	}
	d.pos[path] = n
	if isNull(n) {
		return
	}
	d.set[path] = true

	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.Type() == meanOrDistType {
		d.decodeDurationOrDist(n, v, path, meanOrDistForm)
		return
	}
	if v.Type() == constOrDistType {
		d.decodeDurationOrDist(n, v, path, constOrDistForm)
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.errAt(n, path, "%s", err.Error())
		}
		return
	}
	if v.Type() == cellType {
		if n.Kind != yaml.ScalarNode {
			d.errAt(n, path, "must be an H3 cell index like 881f1d4887fffff (got %s)", kindName(n))
			return
		}
		c := h3.Cell(h3.IndexFromString(strings.TrimSpace(n.Value)))
		if !validHex(strings.TrimSpace(n.Value)) || !c.IsValid() {
			d.errAt(n, path, "not a valid H3 cell index (got %q)", n.Value)
			return
		}
		v.Set(reflect.ValueOf(c))
		return
	}

	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errAt(n, path, "must be a string (got %s)", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.errAt(n, path, "must be an integer (got %s)", kindName(n))
			return
		}
		var i int64
		if err := n.Decode(&i); err != nil {
			d.errAt(n, path, "must be an integer (got %q)", n.Value)
			return
		}
		if v.OverflowInt(i) {
			d.errAt(n, path, "integer out of range (got %s)", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.errAt(n, path, "must be a non-negative integer (got %s)", kindName(n))
			return
		}
		var u uint64
		if err := n.Decode(&u); err != nil {
			d.errAt(n, path, "must be a non-negative integer (got %q)", n.Value)
			return
		}
		v.SetUint(u)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			d.errAt(n, path, "must be a number (got %s)", kindName(n))
			return
		}
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errAt(n, path, "must be a finite number (got %q)", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errAt(n, path, "must be true or false (got %s)", kindName(n))
			return
		}
		var b bool
		_ = n.Decode(&b)
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("scenarios: cannot decode into %s", v.Type()))
	}
}

// durationOrDistForm says what a plain duration means in a field that also
// takes a distribution mapping (MeanOrDist, ConstOrDist), for the decoder
// and its messages.
type durationOrDistForm struct {
	plain   func(Duration) reflect.Value
	example string // a plain duration and what it reads as
	dist    string // an example mapping
}

var meanOrDistForm = durationOrDistForm{func(d Duration) reflect.Value { return reflect.ValueOf(Exp(d)) },
	"72h (the mean of an exponential distribution)", "{dist: lognormal, median: 60h, sigma: 0.5}"}

// decodeDurationOrDist decodes a plain duration (read as f says) or a
// distribution mapping, field by field like any Dist, so errors inside the
// mapping carry their own line and path.
func (d *decoder) decodeDurationOrDist(n *yaml.Node, v reflect.Value, path string, f durationOrDistForm) {
	switch n.Kind {
	case yaml.MappingNode:
		d.decodeStruct(n, v, path)
	case yaml.ScalarNode:
		x, err := ParseDuration(n.Value)
		if err != nil {
			d.errAt(n, path, "%s, or write a distribution like %s", err.Error(), f.dist)
			return
		}
		v.Set(f.plain(x))
	default:
		d.errAt(n, path, "must be a duration like %s or a distribution like %s (got %s)", f.example, f.dist, kindName(n))
	}
}

// decodeValue decodes n into *p as strictly as Parse decodes a field, for
// the UnmarshalYAML methods of types Parse decodes itself.
func decodeValue(n *yaml.Node, p any) error {
	d := newDecoder("")
	d.decode(n, reflect.ValueOf(p).Elem(), "")
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

func validHex(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	_, err := strconv.ParseUint(s, 16, 64)
	return err == nil
}

// pair is one key/value of a mapping, merge keys (<<) already expanded.
type pair struct {
	key, val *yaml.Node
	merged   bool
}

// pairs lists the key/value pairs of mapping n; keys merged in with "<<: *anchor"
// come first and may be overridden by the mapping's own keys. Bad merge keys
// are reported at path.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	return mappingPairs(n, func(at *yaml.Node, msg string) { d.errAt(at, path, "%s", msg) })
}

// mappingPairs is the key/value pairs of mapping n (see decoder.pairs); bad
// merge keys go to report, which may be nil.
func mappingPairs(n *yaml.Node, report func(at *yaml.Node, msg string)) []pair {
	if report == nil {
		report = func(*yaml.Node, string) {}
	}
	return pairsDepth(n, report, 0)
}

func pairsDepth(n *yaml.Node, report func(at *yaml.Node, msg string), depth int) []pair {
	if depth > 32 {
		report(n, "merge keys (<<) nested too deeply or in a cycle")
		return nil
	}
	var merged, own []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			srcs := []*yaml.Node{val}
			if r := deref(val); r.Kind == yaml.SequenceNode {
				srcs = r.Content
			}
			for _, s := range srcs {
				s = deref(s)
				if s.Kind != yaml.MappingNode {
					report(s, "merge key << needs a mapping or a list of mappings")
					continue
				}
				for _, p := range pairsDepth(s, report, depth+1) {
					p.merged = true
					merged = append(merged, p)
				}
			}
			continue
		}
		own = append(own, pair{key: k, val: val})
	}
	return append(merged, own...)
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlFields maps the yaml keys of struct type t to field indexes, and lists
// the keys in field order. It is the one rule for field names in scenario
// paths, shared by the decoder (and so every Error.Path) and by Path: the
// yaml tag's name, else the lower-cased Go name; "-" and unexported fields
// are not fields.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
		names = append(names, name)
	}
	return m, names
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "must be a mapping of fields (got %s)", kindName(n))
		return
	}
	fields, names := yamlFields(v.Type())
	type choice struct {
		p   pair
		idx int
	}
	var order []string
	chosen := map[string]*choice{}
	for _, p := range d.pairs(n, path) {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode {
			d.errAt(k, path, "field names must be plain strings (got %s)", kindName(k))
			continue
		}
		kp := joinKey(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			if !p.merged {
				d.errAt(k, kp, "unknown field%s", suggest(k.Value, names))
			}
			continue
		}
		c, have := chosen[k.Value]
		switch {
		case !have:
			chosen[k.Value] = &choice{p, idx}
			order = append(order, k.Value)
		case p.merged:
			// the first merged mapping wins among merged ones
		case !c.p.merged:
			d.errAt(k, kp, "duplicate field (first at line %d)", c.p.key.Line)
		default:
			c.p = p // own key overrides a merged one
		}
	}
	for _, key := range order {
		c := chosen[key]
		d.decode(c.p.val, v.Field(c.idx), joinKey(path, key))
	}
}

// suggest returns ` (did you mean "x"?)` for a close known name, else the list
// of known names.
func suggest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if dist := hint.Distance(got, n); dist < bestD && 2*dist < len(got) {
			best, bestD = n, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	return " (known fields: " + strings.Join(s, ", ") + ")"
}

// labelKey returns the yaml key ("id" or "name") that names elements of a list of
// struct type t, or "".
func labelKey(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	f, _ := yamlFields(t)
	for _, k := range []string{"id", "name"} {
		if i, ok := f[k]; ok && t.Field(i).Type.Kind() == reflect.String {
			return k
		}
	}
	return ""
}

// elemLabels names list elements in paths, given their ids or names ("" for
// none): by id/name when it is non-empty, free of path punctuation and its
// first occurrence, else by index. It is the one rule for list elements,
// shared by the decoder, the validator and ApplyPath.
func elemLabels(ids []string) []string {
	out := make([]string, len(ids))
	seen := map[string]bool{}
	for i, id := range ids {
		if id != "" && !seen[id] && !strings.ContainsAny(id, "[]. \t\n") {
			out[i] = id
			seen[id] = true
		} else {
			out[i] = strconv.Itoa(i)
		}
	}
	return out
}

// nodeLabels is elemLabels of the elements of YAML list n, of Go element type
// et.
func nodeLabels(n *yaml.Node, et reflect.Type) []string { return elemLabels(nodeIDs(n, et)) }

// nodeIDs is the id or name of each element of YAML list n, of Go element
// type et: the value of its labelKey, merge keys included; "" for none.
func nodeIDs(n *yaml.Node, et reflect.Type) []string {
	ids := make([]string, len(n.Content))
	k := labelKey(et)
	for i, c := range n.Content {
		if c = deref(c); k == "" || c.Kind != yaml.MappingNode {
			continue
		}
		for _, p := range mappingPairs(c, nil) {
			if v := deref(p.val); p.key.Value == k && v.Kind == yaml.ScalarNode && !isNull(v) {
				ids[i] = v.Value
			}
		}
	}
	return ids
}

func elemPath(path, label string) string { return path + "[" + label + "]" }

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errAt(n, path, "must be a list (got %s)", kindName(n))
		return
	}
	labels := nodeLabels(n, v.Type().Elem())
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, s.Index(i), elemPath(path, labels[i]))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "must be a mapping (got %s)", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic("scenarios: map keys must be strings")
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path) {
		k := deref(p.key)
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errAt(k, path, "keys must be plain strings (got %s)", kindName(k))
			continue
		}
		kp := joinKey(path, k.Value)
		if first, dup := seen[k.Value]; dup && !p.merged {
			d.errAt(k, kp, "duplicate key (first at line %d)", first.Line)
			continue
		}
		if !p.merged {
			seen[k.Value] = k
		} else if m.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())).IsValid() {
			continue // the first merged mapping wins among merged ones
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.val, ev, kp)
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
	v.Set(m)
}
