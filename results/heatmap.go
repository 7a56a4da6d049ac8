package results

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/uber/h3-go/v4"
	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CellDemand is the mean number of orders of one H3 cell over replications.
type CellDemand struct {
	Cell   string
	Orders float64
}

// MeanDemand averages DemandByCell over the replications that report demand
// (a cell missing from one of them counts as 0 orders there), sorted by cell.
// Invalid cell strings are an error.
func (r *RunResult) MeanDemand() ([]CellDemand, error) {
	sum := map[string]float64{}
	reps := 0
	for _, rep := range r.Replications {
		if len(rep.DemandByCell) == 0 {
			continue
		}
		reps++
		for c, v := range rep.DemandByCell {
			if !h3.Cell(h3.IndexFromString(c)).IsValid() {
				return nil, fmt.Errorf("results: %s replication %d: %q is not a valid H3 cell", r.Scenario, rep.Index, c)
			}
			if finite(v) {
				sum[c] += v
			}
		}
	}
	out := make([]CellDemand, 0, len(sum))
	for _, c := range sortedKeys(sum) {
		out = append(out, CellDemand{Cell: c, Orders: sum[c] / float64(reps)})
	}
	return out, nil
}

// demandColorMap is a sequential yellow-orange-red map (ColorBrewer YlOrRd
// control colours) with luminance falling linearly as demand rises.
func demandColorMap(maxOrders float64) palette.ColorMap {
	cm, err := moreland.NewLuminance([]color.Color{
		color.NRGBA{0x80, 0x00, 0x26, 0xff}, color.NRGBA{0xe3, 0x1a, 0x1c, 0xff}, color.NRGBA{0xfd, 0x8d, 0x3c, 0xff},
		color.NRGBA{0xfe, 0xd9, 0x76, 0xff}, color.NRGBA{0xff, 0xff, 0xcc, 0xff},
	})
	if err != nil {
		panic(err) // constant controls
	}
	rc := palette.Reverse(cm)
	rc.SetMin(0)
	rc.SetMax(maxOrders)
	return rc
}

// nodeGlyphs gives each node kind its marker.
var nodeGlyphs = map[string]draw.GlyphDrawer{
	"locker":     draw.BoxGlyph{},
	"partner":    draw.PyramidGlyph{},
	"microstore": draw.CircleGlyph{},
	"popup":      draw.RingGlyph{},
}

func glyphFor(kind string) draw.GlyphDrawer {
	if g, ok := nodeGlyphs[kind]; ok {
		return g
	}
	return draw.CrossGlyph{}
}

// degreeTicks labels longitude/latitude axes with as many decimals as the
// tick step needs (the default ticker rounds 13.4 to "13").
type degreeTicks struct{}

func (degreeTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if !(span > 0) {
		return nil
	}
	step, dec := 1.0, 0
	for _, s := range []float64{1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001} {
		step = s
		dec = max(0, int(math.Ceil(-math.Log10(s)-1e-9)))
		if span/s >= 5 {
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
		// unlabelled minor tick half-way
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}

func demandFigure(run *RunResult) (*figure, error) {
	cells, err := run.MeanDemand()
	if err != nil || len(cells) == 0 {
		return nil, err
	}
	maxOrders := 0.0
	for _, c := range cells {
		maxOrders = math.Max(maxOrders, c.Orders)
	}
	if maxOrders <= 0 {
		maxOrders = 1
	}
	cm := demandColorMap(maxOrders)

	mp := plot.New()
	mp.Title.Text = "Demand by H3 cell — " + run.Scenario
	mp.Title.TextStyle.Font.Size = vg.Points(14)
	mp.X.Label.Text = "longitude (°E)"
	mp.Y.Label.Text = "latitude (°N)"
	mp.X.Tick.Marker, mp.Y.Tick.Marker = degreeTicks{}, degreeTicks{}
	mp.BackgroundColor = color.NRGBA{0xf4, 0xf6, 0xf8, 0xff}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	extend := func(lat, lng float64) {
		xmin, xmax = math.Min(xmin, lng), math.Max(xmax, lng)
		ymin, ymax = math.Min(ymin, lat), math.Max(ymax, lat)
	}
	for _, c := range cells {
		b := h3.Cell(h3.IndexFromString(c.Cell)).Boundary()
		ring := make(plotter.XYs, len(b))
		for i, ll := range b {
			ring[i] = plotter.XY{X: ll.Lng, Y: ll.Lat}
			extend(ll.Lat, ll.Lng)
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return nil, err
		}
		col, err := cm.At(math.Min(math.Max(c.Orders, 0), maxOrders))
		if err != nil {
			return nil, err
		}
		poly.Color = col
		poly.LineStyle = draw.LineStyle{Color: color.NRGBA{0xff, 0xff, 0xff, 0xff}, Width: vg.Points(0.6)}
		mp.Add(poly)
	}

	// nodes grouped by kind, each kind one legend entry; ids and
	// neighborhood names placed by mapLabels so they do not overlap
	nodes := append([]NodeInfo(nil), run.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	kinds := map[string]plotter.XYs{}
	labels := &mapLabels{}
	for _, n := range nodes {
		kinds[n.Kind] = append(kinds[n.Kind], plotter.XY{X: n.Lng, Y: n.Lat})
		labels.nodes = append(labels.nodes, mapText{XY: plotter.XY{X: n.Lng, Y: n.Lat}, Text: n.ID})
		extend(n.Lat, n.Lng)
	}
	for _, nb := range run.Neighborhoods {
		if finite(nb.Lat) && finite(nb.Lng) && nb.Name != "" {
			labels.areas = append(labels.areas, mapText{XY: plotter.XY{X: nb.Lng, Y: nb.Lat}, Text: nb.Name})
			extend(nb.Lat, nb.Lng)
		}
	}
	for _, kind := range sortedKeys(kinds) {
		halo, err := plotter.NewScatter(kinds[kind])
		if err != nil {
			return nil, err
		}
		halo.GlyphStyle = draw.GlyphStyle{Color: color.White, Radius: vg.Points(7), Shape: glyphFor(kind)}
		s, err := plotter.NewScatter(kinds[kind])
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: nodeInk, Radius: vg.Points(5), Shape: glyphFor(kind)}
		mp.Add(halo, s)
		mp.Legend.Add(kind, s)
	}
	mp.Add(labels)
	mp.Legend.Top, mp.Legend.Left = true, true
	mp.Legend.XOffs, mp.Legend.YOffs = vg.Points(6), -vg.Points(6)
	mp.Legend.TextStyle.Font.Size = vg.Points(10)

	padX, padY := 0.04*(xmax-xmin), 0.04*(ymax-ymin)
	xmin, xmax, ymin, ymax = xmin-padX, xmax+padX, ymin-padY, ymax+padY
	lat0 := (ymin + ymax) / 2 * math.Pi / 180

	cb := plot.New()
	cb.Title.Text = "orders"
	cb.HideX()
	cb.Y.Label.Text = "mean orders per replication"
	cb.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true, Colors: 64})
	cb.Y.Min, cb.Y.Max = 0, maxOrders

	w, h := wideW, wideH
	return &figure{Name: "demand-" + slug(run.Scenario), Title: "Demand heatmap — " + run.Scenario,
		Caption: fmt.Sprintf("Mean orders per replication in each H3 resolution-%d cell (%d cells, darker = more orders), with the nodes of %s marked by kind and labelled with their ids%s. Axes are longitude and latitude, scaled so distances are true in both directions.",
			h3.Cell(h3.IndexFromString(cells[0].Cell)).Resolution(), len(cells), run.Scenario, areaNote(run)),
		W: w, H: h, draw: func(dc draw.Canvas) {
			barW := 1.3 * vg.Inch
			mapC := draw.Crop(dc, 0, -barW, 0, 0)
			barC := draw.Crop(dc, dc.Size().X-barW, 0, vg.Inch, -vg.Inch)
			// equal ground scale: Δlng·cos(lat) / Δlat = data width / data height
			mp.X.Min, mp.X.Max, mp.Y.Min, mp.Y.Max = xmin, xmax, ymin, ymax
			da := mp.DataCanvas(mapC)
			ratio := float64(da.Size().X / da.Size().Y)
			dx, dy := xmax-xmin, ymax-ymin
			if g := dx * math.Cos(lat0) / dy; g < ratio {
				c, half := (xmin+xmax)/2, ratio*dy/math.Cos(lat0)/2
				mp.X.Min, mp.X.Max = c-half, c+half
			} else {
				c, half := (ymin+ymax)/2, dx*math.Cos(lat0)/ratio/2
				mp.Y.Min, mp.Y.Max = c-half, c+half
			}
			mp.Draw(mapC)
			cb.Draw(barC)
		}}, nil
}

// nodeInk is the colour of node markers and ids on the map.
var nodeInk = color.NRGBA{0x10, 0x2a, 0x5c, 0xff}

func areaNote(run *RunResult) string {
	if len(run.Neighborhoods) == 0 {
		return ""
	}
	return " (a thin line joins an id set apart from its node) and each neighborhood named in bold italics at its centre"
}

// mapText is a label anchored at a point of the map.
type mapText struct {
	plotter.XY
	Text string
}

// mapLabels draws neighborhood names at their centres and node ids beside
// their markers, each with a white halo, placed so that no two labels
// overlap and no label covers a node marker when there is room. Placement
// is greedy and deterministic: names first, in order, each at the first of
// a list of positions around its centre that is free; then ids in order,
// each at the first free position of rings around its node, nearest first
// (right, left, above, below, the diagonals), with a thin leader line when
// it had to move beyond the first ring. When no position is free, the one
// overlapping least is used.
type mapLabels struct {
	areas []mapText // neighborhood names
	nodes []mapText // node ids
}

const (
	areaFontSize = 13 // points
	nodeFontSize = 11
	markerHalf   = 7 // half the side of the box a node marker occupies, points
	labelGap     = 2 // points between a label and what it avoids
)

func mapTextStyle(size float64, bold bool) draw.TextStyle {
	f := font.From(plot.DefaultFont, vg.Points(size))
	if bold {
		f.Weight = stdfont.WeightBold
		f.Style = stdfont.StyleItalic
	}
	return draw.TextStyle{Font: f, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
}

// placedLabel is a label with the centre chosen for it.
type placedLabel struct {
	text   string
	style  draw.TextStyle
	at     vg.Point // centre of the text
	anchor vg.Point // the point it labels
	leader bool
}

// Plot implements plot.Plotter.
func (m *mapLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	placed := m.layout(c, plt)
	for _, l := range placed {
		if l.leader {
			// from the marker's edge to the label's box
			v := l.anchor.Sub(l.at)
			n := math.Hypot(float64(v.X), float64(v.Y))
			box := l.style.Rectangle(l.text)
			hw, hh := float64(box.Max.X-box.Min.X)/2+labelGap/2, float64(box.Max.Y-box.Min.Y)/2
			s := math.Min(hw/math.Abs(float64(v.X)), hh/math.Abs(float64(v.Y))) // +Inf for a zero component
			from := l.anchor.Sub(v.Scale(vg.Length(markerHalf / n)))
			to := l.at.Add(v.Scale(vg.Length(s)))
			c.StrokeLine2(draw.LineStyle{Color: color.NRGBA{0x10, 0x2a, 0x5c, 0xc0}, Width: vg.Points(0.8)}, from.X, from.Y, to.X, to.Y)
		}
	}
	for _, l := range placed {
		halo := l.style
		halo.Color = color.White
		d := vg.Points(1.2)
		for _, o := range []vg.Point{{X: -d}, {X: d}, {Y: -d}, {Y: d}, {X: -d, Y: -d}, {X: d, Y: d}, {X: -d, Y: d}, {X: d, Y: -d}} {
			c.FillText(halo, l.at.Add(o), l.text)
		}
		c.FillText(l.style, l.at, l.text)
	}
}

// layout places every label on canvas c (see mapLabels).
func (m *mapLabels) layout(c draw.Canvas, plt *plot.Plot) []placedLabel {
	trX, trY := plt.Transforms(&c)
	at := func(xy plotter.XY) vg.Point { return vg.Point{X: trX(xy.X), Y: trY(xy.Y)} }
	var taken []vg.Rectangle // markers, then every label placed
	for _, n := range m.nodes {
		p := at(n.XY)
		h := vg.Points(markerHalf)
		taken = append(taken, vg.Rectangle{Min: vg.Point{X: p.X - h, Y: p.Y - h}, Max: vg.Point{X: p.X + h, Y: p.Y + h}})
	}
	bounds := c.Rectangle
	var out []placedLabel
	place := func(text string, style draw.TextStyle, anchor vg.Point, cands []vg.Point, ring1 int) {
		box := style.Rectangle(text)
		gap := vg.Points(labelGap)
		best, bestCost := 0, math.Inf(1)
		for i, off := range cands {
			r := vg.Rectangle{Min: anchor.Add(off).Add(box.Min), Max: anchor.Add(off).Add(box.Max)}
			cost := outside(r, bounds) * 4
			for _, t := range taken {
				cost += overlap(r, vg.Rectangle{Min: t.Min.Sub(vg.Point{X: gap, Y: gap}), Max: t.Max.Add(vg.Point{X: gap, Y: gap})})
			}
			if cost < bestCost {
				best, bestCost = i, cost
			}
			if cost == 0 {
				break
			}
		}
		off := cands[best]
		taken = append(taken, vg.Rectangle{Min: anchor.Add(off).Add(box.Min), Max: anchor.Add(off).Add(box.Max)})
		out = append(out, placedLabel{text: text, style: style, at: anchor.Add(off), anchor: anchor, leader: best >= ring1})
	}
	area := mapTextStyle(areaFontSize, true)
	area.Color = color.NRGBA{0x1d, 0x27, 0x33, 0xff}
	for _, a := range m.areas {
		box := area.Rectangle(a.Text)
		h, w := box.Max.Y-box.Min.Y, box.Max.X-box.Min.X
		var cands []vg.Point
		for _, k := range []float64{0, 1, -1, 2, -2, 3, -3} {
			cands = append(cands, vg.Point{Y: vg.Length(k) * h})
		}
		for _, k := range []float64{0.5, -0.5} {
			cands = append(cands, vg.Point{X: vg.Length(k) * w, Y: h}, vg.Point{X: vg.Length(k) * w, Y: -h})
		}
		place(a.Text, area, at(a.XY), cands, len(cands)+1)
	}
	node := mapTextStyle(nodeFontSize, false)
	node.Color = nodeInk
	for _, n := range m.nodes {
		box := node.Rectangle(n.Text)
		hw, hh := (box.Max.X-box.Min.X)/2, (box.Max.Y-box.Min.Y)/2
		var cands []vg.Point
		for ring := 0; ring < 4; ring++ {
			d := vg.Points(markerHalf+labelGap) + vg.Length(ring)*(hh*2+vg.Points(labelGap))
			dx, dy := d+hw, d+hh
			cands = append(cands,
				vg.Point{X: dx}, vg.Point{X: -dx}, vg.Point{Y: dy}, vg.Point{Y: -dy},
				vg.Point{X: dx, Y: dy}, vg.Point{X: dx, Y: -dy}, vg.Point{X: -dx, Y: dy}, vg.Point{X: -dx, Y: -dy})
		}
		place(n.Text, node, at(n.XY), cands, 8)
	}
	return out
}

// overlap is the area two rectangles share, in square points.
func overlap(a, b vg.Rectangle) float64 {
	w := math.Min(float64(a.Max.X), float64(b.Max.X)) - math.Max(float64(a.Min.X), float64(b.Min.X))
	h := math.Min(float64(a.Max.Y), float64(b.Max.Y)) - math.Max(float64(a.Min.Y), float64(b.Min.Y))
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// outside is the area of r outside bounds, in square points.
func outside(r, bounds vg.Rectangle) float64 {
	area := float64(r.Max.X-r.Min.X) * float64(r.Max.Y-r.Min.Y)
	return area - overlap(r, bounds)
}
