package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
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

func marshalFinite(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i := 0; i < rt.NumField(); i++ {
		name, ok := jsonName(rt.Field(i))
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		fv := rv.Field(i)
		if fv.Kind() == reflect.Float64 && !finite(fv.Float()) {
			b.WriteString("null")
			continue
		}
		enc, err := json.Marshal(fv.Interface())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
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
