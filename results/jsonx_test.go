package results

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// marshalFiniteByJSON is marshalFinite as it was first written, every
// field through json.Marshal: the reference the cached plans must match.
func marshalFiniteByJSON(v any) []byte {
	rv := reflect.ValueOf(v)
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for i := 0; i < rv.NumField(); i++ {
		name, ok := jsonName(rv.Type().Field(i))
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
		enc, _ := json.Marshal(fv.Interface())
		b.Write(enc)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// randomFloat draws the values encoding/json formats differently: zeros of
// both signs, the edges of its exponent form (1e-6, 1e21), subnormals,
// integers, and the non-finite values written as null.
func randomFloat(r *rand.Rand) float64 {
	special := []float64{0, math.Copysign(0, -1), 1e-6, math.Nextafter(1e-6, 0), 1e21, math.Nextafter(1e21, 0),
		1e-9, 5e-324, math.MaxFloat64, 1, -1, 0.1, 100, math.NaN(), math.Inf(1), math.Inf(-1)}
	switch r.IntN(4) {
	case 0:
		return special[r.IntN(len(special))]
	case 1:
		return float64(r.IntN(2000) - 1000)
	case 2:
		return math.Float64frombits(r.Uint64())
	default:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(60)-30))
	}
}

// fillRandom sets every float64, int, bool and string field of the struct
// at ptr at random.
func fillRandom(r *rand.Rand, ptr any) {
	rv := reflect.ValueOf(ptr).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if !f.CanSet() || f.Type().PkgPath() != "" {
			continue // named types (Better, Verdict) keep their valid zero
		}
		switch f.Kind() {
		case reflect.Float64:
			f.SetFloat(randomFloat(r))
		case reflect.Int:
			f.SetInt(r.Int64N(1<<40) - 1<<39)
		case reflect.Bool:
			f.SetBool(r.IntN(2) == 1)
		case reflect.String:
			f.SetString([]string{"", "a<b>&c", `quote " and \\`, "Grüße"}[r.IntN(4)])
		}
	}
}

func TestMarshalFiniteMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	types := []any{&Summary{}, &TracePoint{}, &DailyPoint{}, &Difference{}, &NodeChange{},
		&ScenarioMean{}, &SelectionDesign{}, &BaselineMetric{Values: floats{1.5, math.NaN()}}}
	for _, ptr := range types {
		t.Run(reflect.TypeOf(ptr).Elem().Name(), func(t *testing.T) {
			for range 5000 {
				fillRandom(r, ptr)
				v := reflect.ValueOf(ptr).Elem().Interface()
				got, err := marshalFinite(v)
				require.NoError(t, err)
				require.Equal(t, string(marshalFiniteByJSON(v)), string(got))
				// and the whole value through encoding/json, which calls
				// MarshalJSON and checks its output is JSON
				_, err = json.Marshal(v)
				require.NoError(t, err)
			}
		})
	}
}

// A field of a named float type takes the general path and is still
// written as null when it is not finite.
type ratio float64

func TestMarshalFiniteNamedFloat(t *testing.T) {
	type withRatio struct {
		R ratio   `json:"r"`
		X float64 `json:"x"`
	}
	for _, r := range []ratio{ratio(math.NaN()), ratio(math.Inf(-1)), 0.25, 1e-7} {
		v := withRatio{R: r, X: float64(r)}
		got, err := marshalFinite(v)
		require.NoError(t, err)
		require.Equal(t, string(marshalFiniteByJSON(v)), string(got))
	}
}

func BenchmarkMarshalSummary(b *testing.B) {
	s := Summary{N: 30, Mean: 0.9312, StdDev: 0.0123, CI95Low: 0.92, CI95High: 0.94, HalfWidth: 0.0046,
		RelHalfWidth: 0.0049, Precision: 0.05, PrecisionMet: true, ReplicationsNeeded: 30}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
