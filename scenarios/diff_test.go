package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiffYAML(t *testing.T) {
	a := `name: a
description: first
horizon: 3d
couriers: {fleet: 3, speed_kmh: 15}
nodes:
  - id: L1
    slots: {small: 16, medium: 24}
  - id: L2
    slots: {small: 16}
demand_calendar:
  weekday: [1, 1, 1, 1, 1, 1, 1]
base: &b {x: 1}
merged:
  <<: *b
`
	b := `name: b
description: second
horizon: 3d
couriers: {fleet: 2, speed_kmh: 15}
nodes:
  - id: L2
    slots: {small: 16}
  - id: L1
    slots: {small: 8, medium: 24}
  - id: P9
    kind: partner
demand_calendar:
  weekday: [1, 1, 1, 1, 1.5, 1, 1]
merged: {x: 2}
warmup: 12h
`
	diffs, err := DiffYAML([]string{"a.yaml", "b.yaml"}, [][]byte{[]byte(a), []byte(b)})
	require.NoError(t, err)
	assert.Equal(t, []ParamDiff{
		{Path: "couriers.fleet", Values: []string{"3", "2"}},
		{Path: "nodes[L1].slots.small", Values: []string{"16", "8"}},
		{Path: "demand_calendar.weekday", Values: []string{"[1, 1, 1, 1, 1, 1, 1]", "[1, 1, 1, 1, 1.5, 1, 1]"}},
		{Path: "base.x", Values: []string{"1", ""}},
		{Path: "merged.x", Values: []string{"1", "2"}},
		{Path: "nodes[P9].id", Values: []string{"", "P9"}},
		{Path: "nodes[P9].kind", Values: []string{"", "partner"}},
		{Path: "warmup", Values: []string{"", "12h"}},
	}, diffs, "reordered nodes are no difference; name and description are left out")

	same, err := DiffYAML([]string{"a", "a2"}, [][]byte{[]byte(a), []byte(a)})
	require.NoError(t, err)
	assert.Empty(t, same)

	_, err = DiffYAML([]string{"bad.yaml"}, [][]byte{[]byte("a: [")})
	require.ErrorContains(t, err, "bad.yaml")
}

func TestDiffFilesBundled(t *testing.T) {
	diffs, err := DiffFiles([]string{"quickstart.yaml", "quickstart.yaml"})
	require.NoError(t, err)
	assert.Empty(t, diffs)
	_, err = DiffFiles([]string{"quickstart.yaml", "nope.yaml"})
	require.Error(t, err)
}
