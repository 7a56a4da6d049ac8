package wire

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-sim/lockstep/model"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at0 is 2025-06-02T09:30:00.250Z.
const at0 = model.Instant(1748856600250)

// samples returns one valid envelope per message type (two for some).
func samples() []Envelope {
	env := func(src string, seq uint64, b Body) Envelope {
		return Envelope{Source: src, Seq: seq, At: at0 + model.Instant(seq), Body: b}
	}
	return []Envelope{
		env("scn-7", 1, Scan{LabelID: "L-1001", OrderID: "O-1001", Node: "mfc-north", Stage: StagePick, Symbology: SymCode128, Code: "LS1001", OperatorID: "op-3"}),
		env("scn-7", 2, Scan{LabelID: "L-1001", OrderID: "O-1001", Node: "mfc-north", Stage: StagePack, Symbology: SymDataMatrix, Code: "\x1d0104012345678901"}),
		env("lkr-12", 1, Door{Compartment: "A03", State: DoorOpen}),
		env("lkr-12", 2, Slot{Compartment: "A03", Size: SizeM, State: SlotOccupied, LabelID: "L-1001"}),
		env("lkr-12", 3, Slot{Compartment: "A04", Size: SizeS, State: SlotFree}),
		env("lkr-12", 4, Pickup{Compartment: "A03", LabelID: "L-1001", Verified: true, Method: MethodQR}),
		env("lkr-12", 5, Occupancy{Counts: map[Size]SlotCount{SizeS: {Free: 3, Total: 10}, SizeM: {Free: 0, Total: 6}}}),
		env("lkr-12", 6, Status{State: NodeOnline, Reason: ReasonConnect, Session: 4, Backlog: 0}),
		env("lkr-12", 7, Heartbeat{Session: 4, Backlog: 2}),
		env("lkr-12", 8, Status{State: NodeOffline, Reason: ReasonLWT, Session: 4, Backlog: 2}),
		env("prod-oms", 1, Order{OrderID: "O-1001", LabelID: "L-1001", SKU: "sku-oat-milk-1l", Size: SizeM, Node: "mfc-north",
			Destination: "lkr-12", PlacedAt: at0, SameDay: true, SLADeadline: at0 + model.Instant(4*model.Hour)}),
		env("prod-core", 1, LabelState{LabelID: "L-1001", State: LabelRerouting, Node: "lkr-12", Reason: "ttl_expired", RerouteTo: "partner-kiosk-3"}),
		env("prod-core", 2, LabelState{LabelID: "L-1001", State: LabelPickedUp, Node: "partner-kiosk-3", Reason: "late_delivery", Refund: &Refund{Amount: 499, Currency: "EUR"}}),
		env("scn-7", 3, Box{BoxID: "box-12", Node: "mfc-north", Event: BoxPacked, LabelID: "L-1001"}),
		env("scn-lkr-12", 1, Box{BoxID: "box-12", Node: "lkr-12", Event: BoxReturned}),
	}
}

func compileSchemas(t testing.TB) map[Type]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	entries, err := fs.ReadDir(SchemaFS(), ".")
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := fs.ReadFile(SchemaFS(), e.Name())
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		require.NoError(t, err, e.Name())
		require.NoError(t, c.AddResource(SchemaBaseURL+e.Name(), doc))
	}
	out := map[Type]*jsonschema.Schema{}
	for _, typ := range AllTypes {
		s, err := c.Compile(SchemaBaseURL + SchemaFile(typ))
		require.NoError(t, err, typ)
		out[typ] = s
	}
	env, err := c.Compile(SchemaBaseURL + "envelope.schema.json")
	require.NoError(t, err)
	out[""] = env
	return out
}

func validateSchema(t *testing.T, schemas map[Type]*jsonschema.Schema, typ Type, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	if err := schemas[""].Validate(inst); err != nil {
		return err
	}
	s, ok := schemas[typ]
	require.True(t, ok, "no schema for type %q", typ)
	return s.Validate(inst)
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	topics := Topics{}
	for _, env := range samples() {
		t.Run(string(env.Body.MsgType()), func(t *testing.T) {
			raw, err := Encode(env)
			require.NoError(t, err)
			topic, err := topics.TopicFor(env)
			require.NoError(t, err)
			got, err := Decode(topic, raw)
			require.NoError(t, err, string(raw))
			want := env
			want.V, want.Type, want.MsgID = Version, env.Body.MsgType(), MsgID(env.Source, env.Seq)
			assert.Equal(t, want, got)
			again, err := Encode(got)
			require.NoError(t, err)
			assert.Equal(t, string(raw), string(again), "encoding is deterministic")
		})
	}
}

func TestSamplesValidateAgainstSchemas(t *testing.T) {
	schemas := compileSchemas(t)
	for _, env := range samples() {
		raw, err := Encode(env)
		require.NoError(t, err)
		assert.NoError(t, validateSchema(t, schemas, env.Body.MsgType(), raw), string(raw))
	}
}

func TestEveryTypeHasSchemaAndSample(t *testing.T) {
	seen := map[Type]bool{}
	for _, env := range samples() {
		seen[env.Body.MsgType()] = true
	}
	for _, typ := range AllTypes {
		assert.True(t, seen[typ], "no sample for %s", typ)
		_, err := fs.Stat(SchemaFS(), SchemaFile(typ))
		assert.NoError(t, err)
	}
}

// TestDocsSchemaInSync asserts docs/schema/ mirrors the embedded canonical
// copies. To update: cp twin/wire/schema/*.json docs/schema/
func TestDocsSchemaInSync(t *testing.T) {
	docs := filepath.Join("..", "..", "docs", "schema")
	entries, err := fs.ReadDir(SchemaFS(), ".")
	require.NoError(t, err)
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		want, err := fs.ReadFile(SchemaFS(), e.Name())
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(docs, e.Name()))
		require.NoError(t, err, "run: cp twin/wire/schema/*.json docs/schema/")
		assert.Equal(t, string(want), string(got), "docs/schema/%s differs from twin/wire/schema; run: cp twin/wire/schema/*.json docs/schema/", e.Name())
	}
	files, err := filepath.Glob(filepath.Join(docs, "*.json"))
	require.NoError(t, err)
	for _, f := range files {
		assert.True(t, names[filepath.Base(f)], "%s has no canonical copy in twin/wire/schema", f)
	}
}

// TestFeedDocExamples decodes every ```json block of docs/feed.md with the
// topic given in the "<!-- topic: ... -->" line above it, and validates it
// against its schema. Every ```ndjson block must read as a capture.
func TestFeedDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "feed.md"))
	require.NoError(t, err)
	schemas := compileSchemas(t)
	lines := strings.Split(string(doc), "\n")
	var nJSON, nCapture int
	for i := 0; i < len(lines); i++ {
		lang := strings.TrimSpace(strings.TrimPrefix(lines[i], "```"))
		if !strings.HasPrefix(lines[i], "```") || (lang != "json" && lang != "ndjson") {
			continue
		}
		start := i + 1
		var block []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			block = append(block, lines[i])
		}
		text := strings.Join(block, "\n")
		if lang == "ndjson" {
			nCapture++
			r := NewCaptureReader(strings.NewReader(text))
			for {
				rec, err := r.Next()
				if err != nil {
					require.ErrorIs(t, err, io.EOF, "feed.md line %d", start+r.Line())
					break
				}
				assert.NotEmpty(t, rec.Topic)
			}
			continue
		}
		nJSON++
		var topic string
		for j := start - 2; j >= 0 && j >= start-4; j-- {
			if s, ok := strings.CutPrefix(strings.TrimSpace(lines[j]), "<!-- topic:"); ok {
				topic = strings.TrimSpace(strings.TrimSuffix(s, "-->"))
				break
			}
		}
		require.NotEmpty(t, topic, "feed.md line %d: json block without <!-- topic: ... --> above it", start)
		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, []byte(text)), "feed.md line %d", start)
		env, err := Decode(topic, []byte(text))
		require.NoError(t, err, "feed.md line %d", start)
		assert.NoError(t, validateSchema(t, schemas, env.Type, []byte(text)), "feed.md line %d", start)
	}
	assert.GreaterOrEqual(t, nJSON, len(AllTypes), "feed.md should show every message type")
	assert.GreaterOrEqual(t, nCapture, 1)
}
