package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// marshalIndent is what writeJSON must write: json.MarshalIndent and a
// newline.
func marshalIndent(t testing.TB, v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return append(b, '\n')
}

func TestWriteJSONMatchesMarshalIndent(t *testing.T) {
	type inner struct {
		S string            `json:"s"`
		M map[string]string `json:"m,omitempty"`
		E []int             `json:"e"`
	}
	cases := map[string]any{
		"scalar":        42,
		"string":        "plain",
		"null":          nil,
		"empty object":  map[string]int{},
		"empty array":   []int{},
		"nested empty":  map[string]any{"a": []any{}, "b": map[string]any{}, "c": []any{[]any{}, map[string]any{}}},
		"punctuation":   map[string]string{`{"k":[1,2]}`: `a,b:c{d}[e]`, "q": `say "hi", \ then \"`},
		"escapes":       []string{"tab\there", "nl\nhere", "\\", `\"`, "\"", "end\\"},
		"html":          map[string]string{"<b>": "a & b > c"},
		"unicode":       []string{"Grüße", "日本", "\u2028\u2029", "\x01"},
		"floats":        []float64{0, -1.5, 1e-9, 1e21, 3.141592653589793},
		"struct":        inner{S: "x", M: map[string]string{"z": "1", "a": "2"}, E: []int{1, 2, 3}},
		"struct nil":    inner{},
		"deep":          []any{[]any{[]any{[]any{map[string]any{"k": []any{1}}}}}},
		"raw message":   json.RawMessage(`{ "spaced" : [ 1 , 2 ] }`),
		"small run":     sampleRun(),
		"synthetic run": synthRun("synthetic <pilot>", 3, 4, 5, scenarioEffect{}),
		"comparison":    comparison(t),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, writeJSON(&buf, v))
			require.Equal(t, string(marshalIndent(t, v)), buf.String())
		})
	}
}

func comparison(t *testing.T) Comparison {
	cmp, err := CompareRuns(threeScenarios())
	require.NoError(t, err)
	return cmp
}

// sampleRun is a RunResult with some of every kind of field filled.
func sampleRun() *RunResult {
	return &RunResult{
		SchemaVersion: SchemaVersion,
		Scenario:      "a <scenario> & \"quotes\"",
		Description:   "line one\nline two",
		Seed:          7,
	}
}

// FuzzIndentWriter feeds any valid JSON, compacted as the encoder writes
// it, to an indentWriter in pieces cut at random, and wants json.Indent's
// bytes.
func FuzzIndentWriter(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":[]}`, `[{},[],""]`, `"\\\""`, `{"a\"b":"c\\","d":[1,{"e":null}]}`,
		`[1,2.5,-3e7,true,false,null]`, `{"k":"{[,:]}"}`, `"\u00e9\ud83d\ude00"`,
	} {
		f.Add(s, uint64(1))
	}
	f.Fuzz(func(t *testing.T, doc string, seed uint64) {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(doc)) != nil {
			return
		}
		var want bytes.Buffer
		require.NoError(t, json.Indent(&want, compact.Bytes(), "", "  "))

		var got bytes.Buffer
		bw := bufio.NewWriterSize(&got, 16)
		iw := &indentWriter{w: bw, indent: "  "}
		rng := rand.New(rand.NewPCG(seed, 0))
		for b := compact.Bytes(); len(b) > 0; {
			n := 1 + rng.IntN(len(b))
			_, err := iw.Write(b[:n])
			require.NoError(t, err)
			b = b[n:]
		}
		require.NoError(t, bw.Flush())
		require.Equal(t, want.String(), got.String())
	})
}

type failWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errDiskFull
	}
	return len(p), nil
}

func TestWriteJSONReportsTheWritersError(t *testing.T) {
	big := make([]string, 50_000) // over the 64 KiB buffer, so it writes before the end
	for i := range big {
		big[i] = "parcel"
	}
	err := writeJSON(&failWriter{after: 1000}, big)
	require.ErrorIs(t, err, errDiskFull)

	err = writeJSON(&failWriter{after: 1 << 30}, map[string]any{"f": func() {}})
	require.ErrorContains(t, err, "results: encoding JSON")
}
