package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An order's pickup window is optional (the touch layer, added to schema
// version 1 compatibly): absent it decodes nil, present it round-trips, and
// a window that does not close after it opens, opens before the order, or
// carries other fields is rejected.
func TestOrderWindow(t *testing.T) {
	const body = `{"msg_id":"a","source":"oms","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"order","v":1,"body":{"order_id":"O1","label_id":"L1","sku":"s1","size":"m","node":"mfc-north","destination":"lkr-1","placed_at":"2025-06-02T09:30:00.000Z","same_day":true,"sla_deadline":"2025-06-02T16:00:00.000Z"WINDOW}}`
	const topic = "lockstep/v1/orders/mfc-north"
	env, err := Decode(topic, []byte(strings.Replace(body, "WINDOW", "", 1)))
	require.NoError(t, err)
	assert.Nil(t, env.Body.(Order).Window)

	good := `,"window":{"opens":"2025-06-02T16:00:00.000Z","closes":"2025-06-02T18:00:00.000Z"}`
	env, err = Decode(topic, []byte(strings.Replace(body, "WINDOW", good, 1)))
	require.NoError(t, err)
	w := env.Body.(Order).Window
	require.NotNil(t, w)
	opens, err := ParseInstant("2025-06-02T16:00:00.000Z")
	require.NoError(t, err)
	assert.Equal(t, PickupWindow{Opens: opens, Closes: opens + 2*3600*1000}, *w)
	raw, err := Encode(env)
	require.NoError(t, err)
	again, err := Decode(topic, raw)
	require.NoError(t, err)
	assert.Equal(t, env, again)

	for name, tc := range map[string]struct {
		window string
		reason string
	}{
		"closes at opens":        {`,"window":{"opens":"2025-06-02T16:00:00.000Z","closes":"2025-06-02T16:00:00.000Z"}`, ReasonBadValue},
		"opens before the order": {`,"window":{"opens":"2025-06-02T09:00:00.000Z","closes":"2025-06-02T11:00:00.000Z"}`, ReasonBadValue},
		"no closes":              {`,"window":{"opens":"2025-06-02T16:00:00.000Z"}`, ReasonMissingField},
		"extra field":            {`,"window":{"opens":"2025-06-02T16:00:00.000Z","closes":"2025-06-02T18:00:00.000Z","slot":"2h"}`, ReasonExtraField},
		"bad instant":            {`,"window":{"opens":"16:00","closes":"2025-06-02T18:00:00.000Z"}`, ReasonBadInstant},
		"not an object":          {`,"window":"16-18"`, ReasonWrongType},
	} {
		_, err := Decode(topic, []byte(strings.Replace(body, "WINDOW", tc.window, 1)))
		var de *DecodeError
		require.ErrorAs(t, err, &de, name)
		assert.Equal(t, tc.reason, de.Reason, "%s: %v", name, err)
	}
}

// A label_state may carry the reward production credited with a pickup:
// only with state picked_up, 1..100000000 minor units, an ISO 4217 code.
func TestLabelStateReward(t *testing.T) {
	const body = `{"msg_id":"a","source":"prod-core","seq":1,"at":"2025-06-02T09:30:00.000Z","type":"label_state","v":1,"body":{"label_id":"L1","state":"STATE","node":"lkr-1"REWARD}}`
	const topic = "lockstep/v1/labels/L1/state"
	doc := func(state, reward string) []byte {
		return []byte(strings.Replace(strings.Replace(body, "STATE", state, 1), "REWARD", reward, 1))
	}
	env, err := Decode(topic, doc("picked_up", `,"reward":{"amount":100,"currency":"EUR"}`))
	require.NoError(t, err)
	assert.Equal(t, &Reward{Amount: 100, Currency: "EUR"}, env.Body.(LabelState).Reward)
	raw, err := Encode(env)
	require.NoError(t, err)
	again, err := Decode(topic, raw)
	require.NoError(t, err)
	assert.Equal(t, env, again)
	env, err = Decode(topic, doc("picked_up", ""))
	require.NoError(t, err)
	assert.Nil(t, env.Body.(LabelState).Reward)

	for name, tc := range map[string]struct {
		state, reward, reason string
	}{
		"not a pickup": {"ready_for_pickup", `,"reward":{"amount":100,"currency":"EUR"}`, ReasonBadValue},
		"zero amount":  {"picked_up", `,"reward":{"amount":0,"currency":"EUR"}`, ReasonBadValue},
		"bad currency": {"picked_up", `,"reward":{"amount":100,"currency":"euro"}`, ReasonBadValue},
		"no currency":  {"picked_up", `,"reward":{"amount":100}`, ReasonMissingField},
		"extra field":  {"picked_up", `,"reward":{"amount":100,"currency":"EUR","kind":"quick"}`, ReasonExtraField},
		"negative":     {"picked_up", `,"reward":{"amount":-1,"currency":"EUR"}`, ReasonWrongType},
	} {
		_, err := Decode(topic, doc(tc.state, tc.reward))
		var de *DecodeError
		require.ErrorAs(t, err, &de, name)
		assert.Equal(t, tc.reason, de.Reason, "%s: %v", name, err)
	}
}
