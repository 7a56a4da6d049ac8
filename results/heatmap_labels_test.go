package results

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// crowded has nodes on top of each other (two at the same spot, three
// within 300 m) and neighborhood centres right on nodes, as real pilots do.
func crowded() *mapLabels {
	m := &mapLabels{}
	for _, n := range []struct {
		id       string
		lat, lng float64
	}{
		{"L09", 52.4875, 13.3530}, {"P05", 52.4875, 13.3530}, // same spot
		{"L01", 52.4990, 13.4125}, {"M1", 52.4995, 13.4150}, {"P01", 52.5010, 13.4145}, {"L02", 52.4990, 13.4175},
		{"L06", 52.5160, 13.4540},
	} {
		m.nodes = append(m.nodes, mapText{XY: xy(n.lng, n.lat), Text: n.id})
	}
	for _, a := range []struct {
		name     string
		lat, lng float64
	}{{"Kreuzberg", 52.4995, 13.4150}, {"Schöneberg", 52.4875, 13.3530}, {"Friedrichshain", 52.5160, 13.4540}} {
		m.areas = append(m.areas, mapText{XY: xy(a.lng, a.lat), Text: a.name})
	}
	return m
}

func xy(x, y float64) plotter.XY { return plotter.XY{X: x, Y: y} }

// layoutOn lays m out on the data area of a wide figure spanning the pilot.
func layoutOn(t *testing.T, m *mapLabels) ([]placedLabel, draw.Canvas, *plot.Plot) {
	t.Helper()
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 13.28, 13.53, 52.46, 52.56
	c, err := draw.NewFormattedCanvas(wideW, wideH, "png")
	require.NoError(t, err)
	da := p.DataCanvas(draw.New(c))
	return m.layout(da, p), da, p
}

// Labels of nodes at the same spot or a few metres apart and neighborhood
// names at centres on nodes are placed without overlapping each other or
// any marker, near what they label, the same way every time.
func TestMapLabelsDoNotOverlap(t *testing.T) {
	m := crowded()
	placed, da, p := layoutOn(t, m)
	require.Len(t, placed, len(m.nodes)+len(m.areas))
	again, _, _ := layoutOn(t, crowded())
	require.Equal(t, placed, again, "deterministic")

	trX, trY := p.Transforms(&da)
	rect := func(l placedLabel) vg.Rectangle {
		b := l.style.Rectangle(l.text)
		return vg.Rectangle{Min: l.at.Add(b.Min), Max: l.at.Add(b.Max)}
	}
	for i, a := range placed {
		ra := rect(a)
		assert.Zero(t, outside(ra, da.Rectangle), "%s leaves the map", a.text)
		for _, b := range placed[i+1:] {
			assert.Zero(t, overlap(ra, rect(b)), "%s overlaps %s", a.text, b.text)
		}
		for _, n := range m.nodes {
			c := vg.Point{X: trX(n.X), Y: trY(n.Y)}
			h := vg.Points(markerHalf)
			assert.Zero(t, overlap(ra, vg.Rectangle{Min: vg.Point{X: c.X - h, Y: c.Y - h}, Max: vg.Point{X: c.X + h, Y: c.Y + h}}),
				"%s covers the marker of %s", a.text, n.Text)
		}
		// near what it labels: names within three lines of their centre,
		// ids within four rings of their node
		d := math.Hypot(float64(a.at.X-a.anchor.X), float64(a.at.Y-a.anchor.Y))
		assert.Less(t, d, float64(vg.Points(80)), "%s is %.0f pt from its anchor", a.text, d)
	}
	// both labels of the two nodes at one spot are there, apart
	var l09, p05 placedLabel
	for _, l := range placed {
		switch l.text {
		case "L09":
			l09 = l
		case "P05":
			p05 = l
		}
	}
	require.Equal(t, l09.anchor, p05.anchor)
	assert.NotEqual(t, l09.at, p05.at)
}

// The run records its neighborhoods (name and centre) and the heatmap names
// them; results.json without them (written before) still reads, and they
// are left out of the JSON when there are none.
func TestNeighborhoodsInResultsAndHeatmap(t *testing.T) {
	run := synthRun("named", 3, 2, 1, scenarioEffect{})
	run.Neighborhoods = []NeighborhoodInfo{{Name: "Kreuzberg", Lat: 52.4990, Lng: 13.4030}, {Name: "Neukölln", Lat: 52.4811, Lng: 13.4350}}
	run.Finalize()
	var buf bytes.Buffer
	require.NoError(t, WriteRunJSON(&buf, &run))
	assert.Contains(t, buf.String(), `"neighborhoods": [`)
	back, err := ReadRunJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, run.Neighborhoods, back.Neighborhoods)

	old := synthRun("old", 3, 2, 1, scenarioEffect{})
	old.Finalize()
	buf.Reset()
	require.NoError(t, WriteRunJSON(&buf, &old))
	assert.NotContains(t, buf.String(), "neighborhoods", "omitted when empty")
	_, err = ReadRunJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)

	f, err := demandFigure(&run)
	require.NoError(t, err)
	assert.Contains(t, f.Caption, "each neighborhood named")
	svg, err := f.render("svg")
	require.NoError(t, err)
	for _, name := range []string{"Kreuzberg", "Neukölln"} {
		assert.Contains(t, string(svg), name, "the heatmap names %s", name)
	}
	f, err = demandFigure(&old)
	require.NoError(t, err)
	assert.NotContains(t, f.Caption, "neighborhood")
}
