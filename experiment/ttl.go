package experiment

import (
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/results"
)

// ttlMetrics fills the metrics of the TTL rules (stage alerts and
// escalations, the ready-for-pickup TTL, the expiry practice).
func ttlMetrics(m map[string]float64, t *model.TTLStats) {
	m[results.MStageTTLAlertsPicked] = float64(t.Alerts[model.Picked])
	m[results.MStageTTLAlertsPacked] = float64(t.Alerts[model.Packed])
	m[results.MStageTTLAlertsInTransit] = float64(t.Alerts[model.InTransit])
	m[results.MTTLRedispatches] = float64(t.Redispatches)
	m[results.MTTLDiversions] = float64(t.Diversions)
	m[results.MReadyTTLExpired] = float64(t.ReadyExpired)
	m[results.MExpiryReminders] = float64(t.Reminders)
	m[results.MExpiryExtensions] = float64(t.Extensions)
}
