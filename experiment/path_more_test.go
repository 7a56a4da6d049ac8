package experiment

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lockstep-sim/lockstep/scenarios"
)

func pilotDoc(t *testing.T) *yaml.Node { return scenarioDoc(t, "pilot-5-neighborhoods") }

// neighborhoods[*].orders_per_day sets the demand of every neighborhood (the
// pilot has five), names each one it set, and leaves the other fields alone;
// by index or name it sets just that one; a bad value names the path.
func TestApplyPathOrdersPerDay(t *testing.T) {
	apply := func(t *testing.T, doc *yaml.Node, path, value string) ([]string, *scenarios.Scenario) {
		t.Helper()
		p, err := ParsePath(path)
		require.NoError(t, err)
		v, err := ScalarValue(value)
		require.NoError(t, err)
		set, err := ApplyPath(doc, p, v)
		require.NoError(t, err)
		out, err := yaml.Marshal(doc)
		require.NoError(t, err)
		s, err := scenarios.Parse("applied", out)
		require.NoError(t, err)
		return set, s
	}
	data, err := os.ReadFile("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	base, err := scenarios.Parse("pilot", data)
	require.NoError(t, err)
	require.Len(t, base.Neighborhoods, 5)

	set, s := apply(t, pilotDoc(t), "neighborhoods[*].orders_per_day", "640")
	// each set element is named by its name, or by its index when the name
	// cannot be written in a path ("Prenzlauer Berg" has a space)
	want := make([]string, len(base.Neighborhoods))
	for i, n := range base.Neighborhoods {
		sel := n.Name
		if strings.ContainsAny(sel, "[]. \t\n") {
			sel = strconv.Itoa(i)
		}
		want[i] = "neighborhoods[" + sel + "].orders_per_day"
	}
	assert.Equal(t, want, set)
	assert.Contains(t, set, "neighborhoods[3].orders_per_day", "Prenzlauer Berg by index")
	for _, q := range set {
		_, err := ParsePath(q)
		assert.NoError(t, err, "a reported path parses: %s", q)
	}
	require.Len(t, s.Neighborhoods, 5)
	for i, n := range s.Neighborhoods {
		assert.Equal(t, 640.0, n.OrdersPerDay, n.Name)
		assert.Equal(t, base.Neighborhoods[i].Name, n.Name)
		assert.Equal(t, base.Neighborhoods[i].SKUMix, n.SKUMix, "%s: only orders_per_day changes", n.Name)
		assert.Equal(t, base.Neighborhoods[i].Radius, n.Radius, n.Name)
	}
	// a fractional rate is a valid float
	_, s = apply(t, pilotDoc(t), "neighborhoods[*].orders_per_day", "12.5")
	for _, n := range s.Neighborhoods {
		assert.Equal(t, 12.5, n.OrdersPerDay, n.Name)
	}
	// by index and by name: one neighborhood, the others keep theirs
	set, s = apply(t, pilotDoc(t), "neighborhoods[1].orders_per_day", "99")
	assert.Equal(t, []string{"neighborhoods[" + base.Neighborhoods[1].Name + "].orders_per_day"}, set)
	set2, s2 := apply(t, pilotDoc(t), "neighborhoods["+base.Neighborhoods[1].Name+"].orders_per_day", "99")
	assert.Equal(t, set, set2)
	for i, n := range s.Neighborhoods {
		w := base.Neighborhoods[i].OrdersPerDay
		if i == 1 {
			w = 99
		}
		assert.Equal(t, w, n.OrdersPerDay, n.Name)
		assert.Equal(t, w, s2.Neighborhoods[i].OrdersPerDay, n.Name)
	}
	// quickstart has a single neighborhood: [*] sets exactly that one
	set, s = apply(t, quickstartDoc(t), "neighborhoods[*].orders_per_day", "75")
	assert.Equal(t, []string{"neighborhoods[Kreuzberg].orders_per_day"}, set)
	assert.Equal(t, 75.0, s.Neighborhoods[0].OrdersPerDay)

	// a value of the wrong type names the path
	p, err := ParsePath("neighborhoods[*].orders_per_day")
	require.NoError(t, err)
	v, err := ScalarValue("lots")
	require.NoError(t, err)
	_, err = ApplyPath(pilotDoc(t), p, v)
	require.Error(t, err)
	var pe *PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "neighborhoods[*].orders_per_day", pe.Path)
	assert.Contains(t, err.Error(), "neighborhoods[*].orders_per_day")
	assert.Contains(t, err.Error(), "wrong type")
}

// A sweep over neighborhoods[*].orders_per_day builds one scenario per value
// with every neighborhood's demand set, and rejects a value that fails
// validation naming the path and the value.
func TestSweepOrdersPerDayStar(t *testing.T) {
	data, err := os.ReadFile("../scenarios/pilot-5-neighborhoods.yaml")
	require.NoError(t, err)
	sw, err := NewSweep(SweepDef{BaseName: "pilot-5-neighborhoods.yaml", Base: data, Replications: 1,
		Vary: []Vary{{Path: "neighborhoods[*].orders_per_day", Values: []string{"100", "250.5"}}}})
	require.NoError(t, err)
	require.Equal(t, 2, sw.Info.Points)
	for p, want := range []float64{100, 250.5} {
		s, err := sw.PointScenario(p)
		require.NoError(t, err)
		require.Len(t, s.Neighborhoods, 5)
		for _, n := range s.Neighborhoods {
			assert.Equal(t, want, n.OrdersPerDay, "point %d, %s", p, n.Name)
		}
	}

	_, err = NewSweep(SweepDef{BaseName: "pilot-5-neighborhoods.yaml", Base: data, Replications: 1,
		Vary: []Vary{{Path: "neighborhoods[*].orders_per_day", Values: []string{"100", "-5"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neighborhoods[*].orders_per_day=-5")
}
