package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// Box messages: the decoder and the JSON Schema reject the same bad
// bodies, for the same reason.
func TestBoxDecodeRejects(t *testing.T) {
	schemas := compileSchemas(t)
	const topic = "lockstep/v1/scanners/scn-7/scan"
	env := func(body string) string {
		return `{"msg_id":"a","source":"scn-7","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"box","v":1,"body":` + body + `}`
	}
	tests := []struct {
		name, body, reason string
	}{
		{"packed without label", `{"box_id":"box-3","node":"n1","event":"packed"}`, ReasonMissingField},
		{"returned with label", `{"box_id":"box-3","node":"n1","event":"returned","label_id":"L1"}`, ReasonBadValue},
		{"not a box id", `{"box_id":"crate-3","node":"n1","event":"home"}`, ReasonBadValue},
		{"box 0", `{"box_id":"box-0","node":"n1","event":"home"}`, ReasonBadValue},
		{"unknown event", `{"box_id":"box-3","node":"n1","event":"washed"}`, ReasonBadValue},
		{"extra field", `{"box_id":"box-3","node":"n1","event":"home","colour":"red"}`, ReasonExtraField},
		{"missing node", `{"box_id":"box-3","event":"home"}`, ReasonMissingField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := env(tc.body)
			_, err := Decode(topic, []byte(raw))
			require.Error(t, err)
			assert.Equal(t, tc.reason, ErrorReason(err), err.Error())
			assert.Error(t, validateSchema(t, schemas, TypeBox, []byte(raw)), "the schema accepts %s", raw)
		})
	}
	// on another node's scanner topic
	_, err := Decode("lockstep/v1/scanners/scn-8/scan", []byte(env(`{"box_id":"box-3","node":"n1","event":"home"}`)))
	assert.Equal(t, ReasonTopicMismatch, ErrorReason(err))
	// a good one round-trips
	e, err := Decode(topic, []byte(env(`{"box_id":"box-3","node":"n1","event":"lost"}`)))
	require.NoError(t, err)
	b := e.Body.(Box)
	assert.Equal(t, Box{BoxID: "box-3", Node: "n1", Event: BoxLost}, b)
	assert.Equal(t, model.FateLost, b.Event.BoxFate())
	assert.Equal(t, model.FateNone, BoxHome.BoxFate())
}
