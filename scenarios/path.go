package scenarios

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Path names one field of a scenario, spelled exactly as Error.Path spells
// it: keys joined by dots, list elements selected in brackets by id or name
// (nodes[L1]), by index (neighborhoods[0]) or all at once (*):
//
//	labels.ttl.ready_for_pickup
//	couriers.fleet
//	nodes[L1].slots.medium
//	neighborhoods[*].orders_per_day
//	neighborhoods[Kreuzberg].sku_mix.S01
//
// Field names and element labels follow the decoder's rules (yamlFields,
// elemLabels), so the paths ApplyPath reports are the paths of the errors
// Parse reports for the same fields.
type Path struct {
	raw  string
	segs []pathSeg
}

// pathSeg is a key followed by zero or more selectors.
type pathSeg struct {
	key  string
	sels []string // "*", an index or an id/name
}

// String returns the path as written.
func (p Path) String() string { return p.raw }

// PathError is a problem with a path or a value for it. Path is the path as
// the user wrote it; At is the part that failed when it differs.
type PathError struct {
	Path  string
	At    string
	Value string // the value being applied, if any
	Msg   string
}

func (e *PathError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Value != "" {
		b.WriteString("=" + e.Value)
	}
	b.WriteString(": ")
	if e.At != "" && e.At != e.Path {
		b.WriteString(e.At + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ParsePath parses a field path (see [Path]).
func ParsePath(s string) (Path, error) {
	p := Path{raw: s}
	bad := func(format string, args ...any) (Path, error) {
		return Path{}, &PathError{Path: s, Msg: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(s) == "" {
		return bad("empty path")
	}
	rest := s
	for {
		i := strings.IndexAny(rest, ".[")
		key := rest
		if i >= 0 {
			key = rest[:i]
		}
		if key == "" || !validKey(key) {
			return bad("%q is not a field name (want letters, digits and _; elements as name[id], name[0] or name[*])", key)
		}
		seg := pathSeg{key: key}
		rest = rest[len(key):]
		for strings.HasPrefix(rest, "[") {
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return bad("unclosed [ after %q", key)
			}
			sel := rest[1:j]
			if sel == "" || strings.ContainsAny(sel, "[. \t") {
				return bad("bad element selector [%s] (want an id, a name, an index or *)", sel)
			}
			seg.sels = append(seg.sels, sel)
			rest = rest[j+1:]
		}
		p.segs = append(p.segs, seg)
		if rest == "" {
			return p, nil
		}
		if rest[0] != '.' {
			return bad("unexpected %q after %q", rest[:1], key)
		}
		rest = rest[1:]
		if rest == "" {
			return bad("path ends with a dot")
		}
	}
}

func validKey(k string) bool {
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Root is the path's first key (seed, couriers, nodes ...) and whether the
// path is that key alone.
func (p Path) Root() (key string, alone bool) {
	if len(p.segs) == 0 {
		return "", false
	}
	return p.segs[0].key, len(p.segs) == 1 && len(p.segs[0].sels) == 0
}

var (
	lineRE       = regexp.MustCompile(`line \d+: `)
	scenarioType = reflect.TypeOf(Scenario{})
)

// isScalar reports whether t is written as one YAML scalar in a scenario.
func isScalar(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType is the Go type of key k in struct or map type t.
func fieldType(t reflect.Type, k string) (reflect.Type, bool) {
	if t.Kind() == reflect.Map {
		return t.Elem(), true
	}
	fields, _ := yamlFields(t)
	i, ok := fields[k]
	if !ok {
		return nil, false
	}
	return t.Field(i).Type, true
}

// CheckPath checks p against the scenario schema: every key must exist, list
// fields need a selector, and the path must end at a scalar field. It returns
// the Go type of that field.
func CheckPath(p Path) (reflect.Type, error) {
	t := scenarioType
	at := ""
	fail := func(format string, args ...any) (reflect.Type, error) {
		return nil, &PathError{Path: p.raw, At: at, Msg: fmt.Sprintf(format, args...)}
	}
	for _, seg := range p.segs {
		t = elem(t)
		at = joinKey(at, seg.key)
		switch {
		case t.Kind() == reflect.Struct && !isScalar(t):
			ft, ok := fieldType(t, seg.key)
			if !ok {
				_, names := yamlFields(t)
				return fail("unknown field %q (fields here: %s)", seg.key, strings.Join(names, ", "))
			}
			t = ft
		case t.Kind() == reflect.Map:
			t = t.Elem()
		default:
			return fail("%s is a scalar field; it has no field %q", parentOf(at), seg.key)
		}
		for _, sel := range seg.sels {
			t = elem(t)
			list := at
			at = elemPath(at, sel)
			if t.Kind() != reflect.Slice || isScalar(t) {
				return fail("[%s] selects list elements but %s is not a list", sel, list)
			}
			t = t.Elem()
		}
	}
	if t = elem(t); !isScalar(t) {
		what := "a group of fields"
		switch t.Kind() {
		case reflect.Slice:
			what = "a list (select elements with [id], [0] or [*])"
		case reflect.Map:
			what = "a mapping (name one of its keys)"
		}
		return fail("is %s, not a scalar field", what)
	}
	return t, nil
}

func parentOf(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return p
}

// ScalarValue parses one value as a YAML scalar (12h, 20%, 3, "14:00").
func ScalarValue(v string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
		return nil, fmt.Errorf("not a YAML scalar: %v", err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("empty value")
	}
	n := doc.Content[0]
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return nil, fmt.Errorf("not a scalar value")
	}
	n.Line, n.Column, n.HeadComment, n.LineComment, n.FootComment = 0, 0, "", "", ""
	return n, nil
}

// CheckValue decodes v into a fresh value of type t (as CheckPath returns
// it) with the type's own YAML rules (durations, fractions, clock times ...).
func CheckValue(t reflect.Type, v *yaml.Node) error {
	ptr := reflect.New(t)
	if err := v.Decode(ptr.Interface()); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
		msg = lineRE.ReplaceAllString(msg, "")
		return fmt.Errorf("wrong type for this field (%s): %s", typeName(t), msg)
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(Duration(0)):
		return "a duration like 12h or 45m"
	case reflect.TypeOf(Fraction(0)):
		return "a fraction like 20% or 0.2"
	case reflect.TypeOf(ClockTime(0)):
		return `a clock time like "14:00"`
	case reflect.TypeOf(Hours{}):
		return `opening hours like "08:00-22:00"`
	case reflect.TypeOf(Date{}):
		return "a date like 2026-03-02"
	case meanOrDistType:
		return "a duration like 72h (the mean of an exponential)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a string"
}

// ApplyPath sets the field p names to value in the scenario document root (a
// yaml.Node as decoded from the base file), creating missing mapping keys.
// Elements selected by [*] are all set. It returns the concrete paths set,
// named as Error.Path names them (nodes[L1].slots.medium,
// neighborhoods[Kreuzberg].orders_per_day). Shared anchors are copied before
// they are changed, so an alias elsewhere keeps its value.
func ApplyPath(root *yaml.Node, p Path, value *yaml.Node) ([]string, error) {
	t, err := CheckPath(p)
	if err != nil {
		return nil, err
	}
	if err := CheckValue(t, value); err != nil {
		return nil, &PathError{Path: p.raw, Value: value.Value, Msg: err.Error()}
	}
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, &PathError{Path: p.raw, Msg: "the base scenario is empty"}
		}
		n = n.Content[0]
	}
	a := &applier{p: p, value: value}
	a.walk(n, scenarioType, 0, 0, "")
	if a.err != nil {
		return nil, a.err
	}
	return a.set, nil
}

type applier struct {
	p     Path
	value *yaml.Node
	set   []string
	err   error
}

func (a *applier) fail(at, format string, args ...any) {
	if a.err == nil {
		a.err = &PathError{Path: a.p.raw, At: at, Value: a.value.Value, Msg: fmt.Sprintf(format, args...)}
	}
}

// unalias returns *slot with aliases replaced by private copies.
func unalias(slot **yaml.Node) *yaml.Node {
	if (*slot).Kind == yaml.AliasNode && (*slot).Alias != nil {
		c := deepCopy((*slot).Alias)
		c.Anchor = ""
		*slot = c
	}
	return *slot
}

func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		if x.Kind == yaml.AliasNode {
			c.Content[i] = x // keep inner aliases pointing at their anchors
			continue
		}
		c.Content[i] = deepCopy(x)
	}
	return &c
}

// walk applies segment si, selector sel of the path to node n of Go type t.
func (a *applier) walk(n *yaml.Node, t reflect.Type, si, sel int, at string) {
	if a.err != nil {
		return
	}
	t = elem(t)
	if si == len(a.p.segs) {
		hc, lc, fc := n.HeadComment, n.LineComment, n.FootComment
		*n = *a.value
		n.HeadComment, n.LineComment, n.FootComment = hc, lc, fc
		a.set = append(a.set, at)
		return
	}
	seg := a.p.segs[si]
	if sel > 0 {
		a.walkList(n, t, si, sel, at)
		return
	}
	// a key in a mapping
	if isNull(n) {
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	if n.Kind != yaml.MappingNode {
		a.fail(at, "is not a mapping in the base file, cannot set %q", seg.key)
		return
	}
	ft, _ := fieldType(t, seg.key) // CheckPath found it
	at = joinKey(at, seg.key)
	var child *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg.key && n.Content[i].Kind == yaml.ScalarNode {
			child = unalias(&n.Content[i+1])
		}
	}
	if child == nil {
		if len(seg.sels) > 0 {
			a.fail(at, "the base file has no %s list to select from", at)
			return
		}
		child = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		if si+1 < len(a.p.segs) {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg.key}, child)
	}
	if len(seg.sels) == 0 {
		a.walk(child, ft, si+1, 0, at)
	} else {
		a.walkList(child, ft, si, 0, at)
	}
}

// walkList applies selector sel of segment si to the list n of Go type t.
func (a *applier) walkList(n *yaml.Node, t reflect.Type, si, sel int, at string) {
	t = elem(t)
	s := a.p.segs[si].sels[sel]
	if n.Kind != yaml.SequenceNode {
		a.fail(at, "[%s] selects list elements but %s is not a list in the base file", s, at)
		return
	}
	et := t.Elem()
	labels := nodeLabels(n, et)
	next := func(i int) {
		c := unalias(&n.Content[i])
		cat := elemPath(at, labels[i])
		if sel+1 < len(a.p.segs[si].sels) {
			a.walkList(c, et, si, sel+1, cat)
		} else {
			a.walk(c, et, si+1, 0, cat)
		}
	}
	if s == "*" {
		if len(n.Content) == 0 {
			a.fail(elemPath(at, s), "%s is empty in the base file", at)
			return
		}
		for i := range n.Content {
			next(i)
		}
		return
	}
	ids := nodeIDs(n, et)
	for i, l := range labels {
		if l == s || ids[i] == s {
			next(i)
			return
		}
	}
	if i, err := strconv.Atoi(s); err == nil {
		if i < 0 || i >= len(n.Content) {
			a.fail(elemPath(at, s), "index %d out of range (%s has %d elements)", i, at, len(n.Content))
			return
		}
		next(i)
		return
	}
	a.fail(elemPath(at, s), "no element with id or name %q (have %s)", s, strings.Join(labels, ", "))
}
