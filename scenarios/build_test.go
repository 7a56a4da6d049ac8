package scenarios

import (
	"testing"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every scenario gets the named replenishment defaults: the core's policy
// (heatmap window, cover) and the simulator's schedule (planning time,
// restock lead) come from them, not from numbers inside Network or Config.
func TestReplenishmentDefaults(t *testing.T) {
	s, err := Load("quickstart.yaml")
	require.NoError(t, err)
	cfg, err := s.Config()
	require.NoError(t, err)
	assert.Equal(t, model.DefaultRestockWindow, cfg.Network.Policy.RestockWindow)
	assert.Equal(t, model.DefaultRestockCover, cfg.Network.Policy.RestockCover)
	assert.Equal(t, model.ReplenishHeatmap, cfg.Network.Policy.Replenish)
	assert.Equal(t, s.Geography.Resolution, cfg.Network.Policy.HeatResolution)
	assert.Equal(t, model.DefaultReplenishAt, cfg.Inventory.ReplenishAt)
	assert.Equal(t, model.DefaultRestockLead, cfg.Inventory.RestockLead)
	// the values the README and docs/model.md state
	assert.Equal(t, 2*model.Hour, model.DefaultReplenishAt)
	assert.Equal(t, 4*model.Hour, model.DefaultRestockLead)
	assert.Equal(t, 7, model.DefaultRestockWindow)
	assert.Equal(t, 1.5, model.DefaultRestockCover)
}

// The timezone field reaches the twin and hwsim as a *time.Location; a
// scenario without one is in UTC.
func TestLocation(t *testing.T) {
	s, err := Load("quickstart.yaml")
	require.NoError(t, err)
	loc, err := s.Location()
	require.NoError(t, err)
	assert.Equal(t, "Europe/Berlin", loc.String())
	s.Timezone = ""
	loc, err = s.Location()
	require.NoError(t, err)
	assert.Equal(t, time.UTC, loc)
	s.Timezone = "Mars/Olympus"
	_, err = s.Location()
	assert.ErrorContains(t, err, "unknown time zone")
}
