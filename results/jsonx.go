package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// JSON has no NaN or infinities. Statistics legitimately produce them (no CI
// with one replication, a relative half-width around a zero mean), so the
// statistic types write non-finite float64 fields as null and read null back
// as NaN. marshalFinite/unmarshalFinite do that for flat structs whose fields
// carry json tags; field order is declaration order, so output is stable.

func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// finiteField is how marshalFinite writes one field: its index, its key
// with the colon, already encoded, and whether it is a plain float64, int
// or bool (written here) or anything else (written by json.Marshal).
type finiteField struct {
	index int
	name  string
	key   []byte
	kind  reflect.Kind // Float64, Int or Bool for the predeclared types; Invalid otherwise
}

// finitePlans caches each type's fields (reflect.Type -> []finiteField):
// results.json writes one Summary per metric, node and neighborhood, and
// encoding each field through json.Marshal was most of writing a city's
// results.
var finitePlans sync.Map

func finitePlan(rt reflect.Type) []finiteField {
	if p, ok := finitePlans.Load(rt); ok {
		return p.([]finiteField)
	}
	var fields []finiteField
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name, ok := jsonName(f)
		if !ok {
			continue
		}
		k, _ := json.Marshal(name)
		ff := finiteField{index: i, name: name, key: append(k, ':')}
		switch f.Type {
		case reflect.TypeFor[float64](), reflect.TypeFor[int](), reflect.TypeFor[bool]():
			ff.kind = f.Type.Kind()
		}
		fields = append(fields, ff)
	}
	p, _ := finitePlans.LoadOrStore(rt, fields)
	return p.([]finiteField)
}

func marshalFinite(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	fields := finitePlan(rv.Type())
	b := make([]byte, 0, 24*len(fields)+2)
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		fv := rv.Field(f.index)
		switch f.kind {
		case reflect.Float64:
			b = appendFinite(b, fv.Float())
		case reflect.Int:
			b = strconv.AppendInt(b, fv.Int(), 10)
		case reflect.Bool:
			b = strconv.AppendBool(b, fv.Bool())
		default:
			if fv.Kind() == reflect.Float64 && !finite(fv.Float()) {
				b = append(b, "null"...) // a named float type
				continue
			}
			enc, err := json.Marshal(fv.Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			b = append(b, enc...)
		}
	}
	return append(b, '}'), nil
}

// appendFinite appends x as encoding/json writes a float64 (the shortest
// decimal that reads back as x, in exponent form below 1e-6 and from 1e21
// on, with a one-digit negative exponent not padded), or null when x is
// not finite.
func appendFinite(b []byte, x float64) []byte {
	if !finite(x) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(x); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, x, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func unmarshalFinite(data []byte, ptr any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	rv := reflect.ValueOf(ptr).Elem()
	rt := rv.Type()
	seen := 0
	for i := 0; i < rt.NumField(); i++ {
		name, ok := jsonName(rt.Field(i))
		if !ok {
			continue
		}
		r, ok := raw[name]
		if !ok {
			continue
		}
		seen++
		fv := rv.Field(i)
		if fv.Kind() == reflect.Float64 && string(bytes.TrimSpace(r)) == "null" {
			fv.SetFloat(math.NaN())
			continue
		}
		if err := json.Unmarshal(r, fv.Addr().Interface()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if seen != len(raw) {
		known := map[string]bool{}
		for i := 0; i < rt.NumField(); i++ {
			if name, ok := jsonName(rt.Field(i)); ok {
				known[name] = true
			}
		}
		for _, k := range sortedKeys(raw) {
			if !known[k] {
				return fmt.Errorf("unknown field %q in %s", k, rt.Name())
			}
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteMap copies m without non-finite values (a missing key means "not
// measured"); nil stays nil.
func finiteMap(m map[string]float64) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if finite(v) {
			out[k] = v
		}
	}
	return out
}
