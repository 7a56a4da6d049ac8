package wire

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// refParse is the members of a JSON object as encoding/json's Decoder sees
// them (keys in order, raw values), or ok=false when raw is not an object.
func refParse(t *testing.T, raw []byte) (keys []string, vals []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	if d, isDelim := tok.(json.Delim); !isDelim || d != '{' {
		return nil, nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		keys = append(keys, tok.(string))
		vals = append(vals, string(v))
	}
	return keys, vals, true
}

// FuzzParseObject: the hand-written member splitter agrees with
// encoding/json on every valid UTF-8 JSON input: same keys in the same order,
// same raw values, duplicates rejected, non-objects rejected.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : 1 , "b":[1,{"c":"}"}], "d\"e":"x\\"} `, `{"a":{"a":{}},"b":null,"c":true,"d":-1.5e3}`,
		`[1,2]`, `"s"`, `{"a":1,"a":2}`, `{"\u0061":1}`, "{\"k\":\"\\u00e9\\n\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) || !json.Valid(raw) {
			return // every caller rejects these first
		}
		keys, vals, isObj := refParse(t, raw)
		got := parseObject("", raw)
		if !isObj {
			require.NotNil(t, got.err)
			require.Equal(t, ReasonWrongType, got.err.Reason)
			return
		}
		seen := map[string]bool{}
		for i, k := range keys {
			if seen[k] {
				require.NotNil(t, got.err, "duplicate %q", k)
				require.Equal(t, ReasonDuplicateField, got.err.Reason)
				require.Equal(t, keys[:i], got.keys)
				return
			}
			seen[k] = true
		}
		require.Nil(t, got.err)
		require.Equal(t, len(keys), len(got.keys))
		for i, k := range keys {
			require.Equal(t, k, got.keys[i])
			require.Equal(t, vals[i], string(got.m[k]))
		}
	})
}
