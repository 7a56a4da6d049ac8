// Command scalingplot draws lockstep's scaling curve: from the TSV that
// scripts/bench.sh's scaling section writes (docs/scaling.tsv: one row per
// bench scenario, locker-day 1x to locker-metro 100x), two panels side by
// side, throughput (parcels/s) and peak RSS (MB) against the scenario's
// size on a log axis, with the targets of issue 17 drawn as reference
// lines. Rows whose scenario starts with "reference-" are the hand-written
// reference loop (experiment/reference_test.go) at the same sizes, drawn as
// a second series on both panels. It writes the figure as SVG and PNG.
//
// Usage:
//
//	go run ./internal/scalingplot [-out docs/scaling] docs/scaling.tsv
//
// writes docs/scaling.svg and docs/scaling.png. The TSV has a header line
// and the columns size (the multiple of locker-day, > 0), scenario,
// parcels, wall_s, parcels_per_s, peak_rss_mb; a malformed line is an
// error that names it.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Targets of issue 17, drawn as reference lines.
const (
	targetDayRate   = 1_000_000 // parcels/s, locker-day
	targetWallRatio = 1.1       // wall time at most 1.1x linear in size (city <= 11x, metro <= 110x locker-day's)
	targetCityRSS   = 50        // MB, locker-city (10x)
	targetMetroRSS  = 300       // MB, locker-metro (100x)
)

// columns is the TSV header, in order.
var columns = []string{"size", "scenario", "parcels", "wall_s", "parcels_per_s", "peak_rss_mb"}

// row is one measured scenario.
type row struct {
	Size        float64 // multiple of locker-day
	Scenario    string
	Parcels     float64
	WallS       float64
	ParcelsPerS float64
	PeakRSSMB   float64
}

func main() {
	out := flag.String("out", "docs/scaling", "output path without extension: writes OUT.svg and OUT.png")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: scalingplot [-out docs/scaling] SCALING.tsv")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	paths, err := run(flag.Arg(0), *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalingplot:", err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println("wrote", p)
	}
}

// run reads the TSV at in and writes out.svg and out.png.
func run(in, out string) ([]string, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := readTSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", in, err)
	}
	var paths []string
	for _, format := range []string{"svg", "png"} {
		b, err := render(rows, format)
		if err != nil {
			return paths, err
		}
		p := out + "." + format
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// lineError is a malformed TSV line; it prints as "LINE: what".
type lineError struct {
	Line int
	Err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %v", e.Line, e.Err) }
func (e *lineError) Unwrap() error { return e.Err }

// readTSV parses the scaling TSV: the header, then one row per scenario
// (at least one), returned sorted by size. Errors name the line.
func readTSV(r io.Reader) ([]row, error) {
	sc := bufio.NewScanner(r)
	line := 0
	var rows []row
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			if got := strings.Split(text, "\t"); !slices.Equal(got, columns) {
				return nil, &lineError{line, fmt.Errorf("header is %q, want the tab-separated columns %s", text, strings.Join(columns, ", "))}
			}
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != len(columns) {
			return nil, &lineError{line, fmt.Errorf("%d tab-separated fields, want %d (%s)", len(fields), len(columns), strings.Join(columns, ", "))}
		}
		var nums [len(columnsNumeric)]float64
		for i, col := range columnsNumeric {
			s := fields[col]
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, &lineError{line, fmt.Errorf("%s is %q, want a finite number >= 0", columns[col], s)}
			}
			nums[i] = v
		}
		rw := row{Size: nums[0], Scenario: fields[1], Parcels: nums[1], WallS: nums[2], ParcelsPerS: nums[3], PeakRSSMB: nums[4]}
		if rw.Size == 0 {
			return nil, &lineError{line, errors.New("size is 0, want a multiple of locker-day > 0 (the x axis is logarithmic)")}
		}
		if rw.Scenario == "" {
			return nil, &lineError{line, errors.New("scenario is empty")}
		}
		rows = append(rows, rw)
	}
	if err := sc.Err(); err != nil {
		return nil, &lineError{line + 1, err}
	}
	if line == 0 {
		return nil, &lineError{1, errors.New("empty file, want a header and at least one row")}
	}
	if len(rows) == 0 {
		return nil, &lineError{line, errors.New("no data rows after the header")}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmpFloat(a.Size, b.Size) })
	return rows, nil
}

// columnsNumeric are the indexes of the numeric columns, in row order.
var columnsNumeric = [...]int{0, 2, 3, 4, 5}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Figure size; the PNG is drawn at 96 dpi (1152x432 pixels).
const (
	figW, figH = 12 * vg.Inch, 4.5 * vg.Inch
	pngDPI     = 96
)

var (
	measured = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	target   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	ideal    = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	refColor = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
)

// referencePrefix marks the reference loop's rows in the TSV.
const referencePrefix = "reference-"

// split separates lockstep's rows from the reference loop's, both still
// sorted by size.
func split(rows []row) (lockstep, reference []row) {
	for _, r := range rows {
		if strings.HasPrefix(r.Scenario, referencePrefix) {
			reference = append(reference, r)
		} else {
			lockstep = append(lockstep, r)
		}
	}
	return lockstep, reference
}

// render draws the two panels in format ("svg" or "png").
func render(all []row, format string) ([]byte, error) {
	rows, ref := split(all)
	if len(rows) == 0 {
		return nil, errors.New("no lockstep rows, only the reference loop's: the size axis is lockstep's")
	}
	rate, err := ratePanel(rows, ref)
	if err != nil {
		return nil, err
	}
	rss, err := rssPanel(rows, ref)
	if err != nil {
		return nil, err
	}
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(figW, figH)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(pngDPI))}
	default:
		return nil, fmt.Errorf("unsupported format %q (svg, png)", format)
	}
	if err := safeDraw(func() {
		dc := draw.New(c)
		half := (dc.Max.X - dc.Min.X) / 2
		pad := vg.Points(10)
		rate.Draw(draw.Crop(dc, pad, -half-pad, pad, -pad))
		rss.Draw(draw.Crop(dc, half+pad, -pad, pad, -pad))
	}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// safeDraw turns a panic inside gonum/plot (it panics on degenerate input)
// into an error.
func safeDraw(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing the scaling plot: %v", r)
		}
	}()
	f()
	return nil
}

// sizeAxis sets the log x axis with a tick at every measured size, named
// by its scenario.
func sizeAxis(p *plot.Plot, rows []row) {
	p.X.Label.Text = "size (multiple of locker-day, log scale)"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, r := range rows {
		name := strings.TrimPrefix(r.Scenario, "locker-")
		ticks = append(ticks, plot.Tick{Value: r.Size, Label: fmt.Sprintf("%gx %s", r.Size, name)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	lo, hi := rows[0].Size, rows[len(rows)-1].Size
	p.X.Min, p.X.Max = lo/1.3, hi*1.3
}

// logTicks puts ticks, at log10 of their values, on 1 to 9 times the
// powers of ten in [lo, hi]; 1, 2 and 5 times are labelled.
func logTicks(lo, hi float64) plot.ConstantTicks {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: math.Log10(v)}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// measuredLine is the measured series as a line with points.
func measuredLine(xys plotter.XYs) (*plotter.Line, *plotter.Scatter, error) {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, err
	}
	l.Color, l.Width = measured, vg.Points(1.5)
	s.Color, s.Shape, s.Radius = measured, draw.CircleGlyph{}, vg.Points(3.5)
	return l, s, nil
}

// addReference draws the reference loop's series (y of each row) on p and
// in its legend; nothing when there are no reference rows.
func addReference(p *plot.Plot, ref []row, y func(row) float64) error {
	if len(ref) == 0 {
		return nil
	}
	xys := make(plotter.XYs, len(ref))
	for i, r := range ref {
		xys[i] = plotter.XY{X: r.Size, Y: y(r)}
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = refColor, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(2)}
	s.Color, s.Shape, s.Radius = refColor, draw.BoxGlyph{}, vg.Points(3)
	p.Add(l, s)
	p.Legend.Add("reference: hand-written loop of the model (experiment/reference_test.go)", l, s)
	return nil
}

// hline is a horizontal reference line across [x0, x1].
func hline(x0, x1, y float64, c color.Color, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.2), dashes
	return l, nil
}

// ratePanel: parcels/s against size (log-log, so that equal slopes are
// equal growth of the cost per parcel), with the locker-day target, the
// ideal (linear wall time: the smallest scenario's rate at every size) and
// the wall-ratio bound (1.1x linear). Like rssPanel's, the y axis is log10
// on a linear scale, labelled in millions of parcels/s.
func ratePanel(rows, ref []row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Throughput (one replication, lockstep run)"
	p.Y.Label.Text = "parcels/s (millions, log scale)"
	sizeAxis(p, rows)
	lg := func(mps float64) float64 { return math.Log10(max(mps, 1e-6)) } // millions/s; the log needs > 0
	ylog := func(r row) float64 { return lg(r.ParcelsPerS / 1e6) }
	xys := make(plotter.XYs, len(rows))
	lo, hi := targetDayRate/1e6, targetDayRate/1e6
	for i, r := range rows {
		xys[i] = plotter.XY{X: r.Size, Y: ylog(r)}
		lo, hi = min(lo, r.ParcelsPerS/1e6), max(hi, r.ParcelsPerS/1e6)
	}
	for _, r := range ref {
		lo, hi = min(lo, r.ParcelsPerS/1e6), max(hi, r.ParcelsPerS/1e6)
	}
	base := rows[0].ParcelsPerS / 1e6
	lo = min(lo, base/targetWallRatio)
	lo, hi = max(lo/1.5, 1e-6), hi*6 // room for the legend at the top
	p.Y.Min, p.Y.Max = math.Log10(lo), math.Log10(hi)
	p.Y.Tick.Marker = logTicks(lo, hi)
	x0, x1 := p.X.Min, p.X.Max
	tgt, err := hline(x0, x1, lg(targetDayRate/1e6), target, vg.Points(6), vg.Points(3))
	if err != nil {
		return nil, err
	}
	lin, err := hline(x0, x1, lg(base), ideal, vg.Points(2), vg.Points(2))
	if err != nil {
		return nil, err
	}
	bound, err := hline(x0, x1, lg(base/targetWallRatio), ideal, vg.Points(6), vg.Points(2), vg.Points(1), vg.Points(2))
	if err != nil {
		return nil, err
	}
	l, s, err := measuredLine(xys)
	if err != nil {
		return nil, err
	}
	p.Add(plotter.NewGrid(), tgt, lin, bound, l, s)
	p.Legend.Add("measured", l, s)
	p.Legend.Add("target: locker-day >= 1 M parcels/s", tgt)
	p.Legend.Add(fmt.Sprintf("linear wall time (the %gx rate at every size)", rows[0].Size), lin)
	p.Legend.Add("wall <= 1.1x linear (city <= 11x, metro <= 110x day)", bound)
	if err := addReference(p, ref, ylog); err != nil {
		return nil, err
	}
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}

// rssPanel: peak RSS against size (log-log), with the city and metro
// targets as marks at their sizes. The y axis is log10(MB) on a linear
// scale, labelled in MB (gonum's LogScale on y pads the top of the data
// area by a wide margin).
func rssPanel(rows, ref []row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Peak RSS (one replication, lockstep run)"
	p.Y.Label.Text = "peak RSS (MB, log scale)"
	sizeAxis(p, rows)
	mb := func(r row) float64 { return max(r.PeakRSSMB, 0.1) } // the log needs > 0
	ylog := func(r row) float64 { return math.Log10(mb(r)) }
	xys := make(plotter.XYs, len(rows))
	lo, hi := float64(targetCityRSS), float64(targetMetroRSS)
	for i, r := range rows {
		xys[i] = plotter.XY{X: r.Size, Y: ylog(r)}
		lo, hi = min(lo, mb(r)), max(hi, mb(r))
	}
	for _, r := range ref {
		lo, hi = min(lo, mb(r)), max(hi, mb(r))
	}
	lo, hi = lo/1.5, hi*5 // room for the legend at the top
	p.Y.Min, p.Y.Max = math.Log10(lo), math.Log10(hi)
	p.Y.Tick.Marker = logTicks(lo, hi)
	l, s, err := measuredLine(xys)
	if err != nil {
		return nil, err
	}
	at := plotter.XYs{{X: 10, Y: math.Log10(targetCityRSS)}, {X: 100, Y: math.Log10(targetMetroRSS)}}
	targets, err := plotter.NewScatter(at)
	if err != nil {
		return nil, err
	}
	targets.Color, targets.Shape, targets.Radius = target, draw.PyramidGlyph{}, vg.Points(4.5)
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: at,
		Labels: []string{fmt.Sprintf("< %d MB", targetCityRSS), fmt.Sprintf("< %d MB", targetMetroRSS)}})
	if err != nil {
		return nil, err
	}
	labels.Offset = vg.Point{X: vg.Points(7)}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Color = target
		labels.TextStyle[i].Font.Size = vg.Points(8)
		labels.TextStyle[i].YAlign = draw.YCenter
	}
	p.Add(plotter.NewGrid(), l, s, targets, labels)
	p.Legend.Add("measured", l, s)
	p.Legend.Add("targets: city (10x) < 50 MB, metro (100x) < 300 MB", targets)
	if err := addReference(p, ref, ylog); err != nil {
		return nil, err
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	return p, nil
}
