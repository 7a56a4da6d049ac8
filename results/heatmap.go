package results

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/uber/h3-go/v4"
	"gonum.org/v1/plot"
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

	// nodes grouped by kind, each kind one legend entry; labels with ids
	nodes := append([]NodeInfo(nil), run.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	kinds := map[string]plotter.XYs{}
	var lxy plotter.XYs
	var ltxt []string
	for _, n := range nodes {
		kinds[n.Kind] = append(kinds[n.Kind], plotter.XY{X: n.Lng, Y: n.Lat})
		lxy = append(lxy, plotter.XY{X: n.Lng, Y: n.Lat})
		ltxt = append(ltxt, n.ID)
		extend(n.Lat, n.Lng)
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
		s.GlyphStyle = draw.GlyphStyle{Color: color.NRGBA{0x10, 0x2a, 0x5c, 0xff}, Radius: vg.Points(5), Shape: glyphFor(kind)}
		mp.Add(halo, s)
		mp.Legend.Add(kind, s)
	}
	if len(lxy) > 0 {
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: lxy, Labels: ltxt})
		if err != nil {
			return nil, err
		}
		// white halo: the label drawn in white around the dark one, so ids
		// stay readable on dark cells
		off := vg.Point{X: vg.Points(9), Y: vg.Points(4)}
		d := vg.Points(1)
		for _, o := range []vg.Point{{X: -d}, {X: d}, {Y: -d}, {Y: d}, {X: -d, Y: -d}, {X: d, Y: d}, {X: -d, Y: d}, {X: d, Y: -d}} {
			halo, err := plotter.NewLabels(plotter.XYLabels{XYs: lxy, Labels: ltxt})
			if err != nil {
				return nil, err
			}
			for i := range halo.TextStyle {
				halo.TextStyle[i].Font.Size = vg.Points(11)
				halo.TextStyle[i].Color = color.White
			}
			halo.Offset = vg.Point{X: off.X + o.X, Y: off.Y + o.Y}
			mp.Add(halo)
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Font.Size = vg.Points(11)
			labels.TextStyle[i].Color = color.NRGBA{0x10, 0x2a, 0x5c, 0xff}
		}
		labels.Offset = off
		mp.Add(labels)
	}
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
		Caption: fmt.Sprintf("Mean orders per replication in each H3 resolution-%d cell (%d cells, darker = more orders), with the nodes of %s marked by kind and labelled with their ids. Axes are longitude and latitude, scaled so distances are true in both directions.",
			h3.Cell(h3.IndexFromString(cells[0].Cell)).Resolution(), len(cells), run.Scenario),
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
