package scenarios

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/model"
)

// parseErrorAt parses doc as bad.yaml, requires it to fail and returns all
// its errors and the first at path (which must exist).
func parseErrorAt(t *testing.T, doc, path string) (Errors, *Error) {
	t.Helper()
	_, err := Parse("bad.yaml", []byte(doc))
	require.Error(t, err)
	var errs Errors
	require.True(t, errors.As(err, &errs), "error is not Errors: %v", err)
	for i := range errs {
		if errs[i].Path == path {
			return errs, &errs[i]
		}
	}
	require.Failf(t, "no error for path", "%s in:\n%v", path, err)
	return nil, nil
}

// withLabels is base with a labels section.
func withLabels(labels string) string { return base + "labels:\n" + labels }

func TestTTLKeysBad(t *testing.T) {
	tests := []struct {
		name, labels, path, msg string
	}{
		{"redispatch in transit", "  ttl: {in_transit: 1h}\n  escalation: {in_transit: redispatch}  # <-\n",
			"labels.escalation.in_transit", `must be alert or reroute for the in_transit stage (got "redispatch")`},
		{"reroute when packed", "  ttl: {packed: 1h}\n  escalation: {packed: reroute}  # <-\n",
			"labels.escalation.packed", `must be alert or redispatch for the packed stage (got "reroute")`},
		{"escalation without a TTL", "  escalation: {picked: redispatch}  # <-\n",
			"labels.escalation.picked", "needs a TTL for the stage (set labels.ttl.picked)"},
		{"unreachable rule", "  ready_ttl:\n    - {ttl: 24h}\n    - {when: {subscriber: true}, ttl: 48h}  # <-\n",
			"labels.ready_ttl[1]", "unreachable: rule 0 has no conditions"},
		{"no default", "  ttl: {ready_for_pickup: 0}\n  ready_ttl:\n    - {when: {subscriber: true}, ttl: 48h}  # <-\n",
			"labels.ready_ttl", "needs a final rule without conditions"},
		{"constant shadowed by a default rule", "  ttl: {ready_for_pickup: 24h}  # <-\n  ready_ttl:\n    - {ttl: 12h}\n",
			"labels.ttl.ready_for_pickup", "unused: labels.ready_ttl[0] has no conditions"},
		{"rule without ttl", "  ready_ttl:\n    - {when: {subscriber: true}}  # <-\n",
			"labels.ready_ttl[0].ttl", "required, > 0"},
		{"bad weekday", "  ready_ttl:\n    - when: {weekday: [sat, sunday]}  # <-\n      ttl: 36h\n",
			"labels.ready_ttl[0].when.weekday[1]", `must be a day of week mon, tue, wed, thu, fri, sat or sun (got "sunday")`},
		{"repeated weekday", "  ready_ttl:\n    - when: {weekday: [sat, sat]}  # <-\n      ttl: 36h\n",
			"labels.ready_ttl[0].when.weekday[1]", "day sat listed twice"},
		{"occupancy above 100%", "  ready_ttl:\n    - {when: {occupancy_above: 120%}, ttl: 12h}  # <-\n",
			"labels.ready_ttl[0].when.occupancy_above", "must be between 0 and 1"},
		{"bad expiry action", "  expiry: {action: discard}  # <-\n",
			"labels.expiry.action", `must be reroute or return (got "discard")`},
		{"respond without reminder", "  expiry: {respond: 30%}  # <-\n",
			"labels.expiry.respond", "only used with expiry.reminder"},
		{"extension without reminder", "  expiry: {extension: 24h, ask_extension: 10%}  # <-\n",
			"labels.expiry.extension", "needs expiry.reminder"},
		{"extension without askers", "  expiry: {reminder: 6h, extension: 24h}  # <-\n",
			"labels.expiry.ask_extension", "required with expiry.extension"},
		{"askers without extension", "  expiry: {reminder: 6h, respond: 10%, ask_extension: 10%}  # <-\n",
			"labels.expiry.ask_extension", "only used with expiry.extension"},
		{"reminder that changes nothing", "  expiry: {reminder: 6h}  # <-\n",
			"labels.expiry.reminder", "changes nothing without expiry.respond or expiry.extension"},
		{"reminder without a ready TTL", "  ttl: {ready_for_pickup: 0}\n  expiry: {reminder: 6h, respond: 10%}  # <-\n",
			"labels.expiry", "need a ready-for-pickup TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := withLabels(tt.labels)
			_, found := parseErrorAt(t, doc, tt.path)
			assert.Contains(t, found.Msg, tt.msg)
			assert.Equal(t, markedLine(t, doc), found.Line, "%v", found)
		})
	}
}

func TestTTLKeysBuild(t *testing.T) {
	s, err := Parse("ok.yaml", []byte(withLabels(`  ttl: {picked: 1h, packed: 2h, in_transit: 3h, ready_for_pickup: 24h}
  escalation: {picked: redispatch, packed: alert, in_transit: reroute}
  ready_ttl:
    - {when: {occupancy_above: 85%, subscriber: false}, ttl: 12h}
    - {when: {weekday: [sat, sun]}, ttl: 36h}
  expiry: {action: return, reminder: 8h, respond: 30%, extension: 24h, ask_extension: 20%}
`)))
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	p := cfg.Network.Policy
	assert.Equal(t, model.EscalateRedispatch, p.Escalate[model.Picked])
	assert.Equal(t, model.EscalateAlert, p.Escalate[model.Packed])
	assert.Equal(t, model.EscalateReroute, p.Escalate[model.InTransit])
	assert.Equal(t, []model.ReadyRule{
		{OccupancyAbove: 0.85, Subscriber: -1, TTL: 12 * model.Hour},
		{OccupancyAbove: -1, Weekdays: 1<<0 | 1<<6, TTL: 36 * model.Hour},
	}, p.ReadyRules)
	assert.Equal(t, model.Expiry{Return: true, Reminder: 8 * model.Hour, Extension: 24 * model.Hour}, p.Expiry)
	assert.InDelta(t, 0.3, cfg.Expiry.Respond, 1e-12)
	assert.InDelta(t, 0.2, cfg.Expiry.AskExtension, 1e-12)

	// defaults: alert everywhere, reroute on expiry, no rules
	d, err := Parse("base.yaml", []byte(base))
	require.NoError(t, err)
	assert.Equal(t, Escalation{Picked: "alert", Packed: "alert", InTransit: "alert"}, d.Labels.Escalation)
	assert.Equal(t, ExpiryReroute, d.Labels.Expiry.Action)
	net, err := d.Network()
	require.NoError(t, err)
	assert.Empty(t, net.Policy.ReadyRules)
	assert.False(t, net.Policy.Expiry.Return)
}
