package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const header = "size\tscenario\tparcels\twall_s\tparcels_per_s\tpeak_rss_mb\n"

// A small TSV, rows out of order, gives valid SVG and PNG files of the
// figure's size.
func TestRunWritesSVGAndPNG(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "scaling.tsv")
	require.NoError(t, os.WriteFile(in, []byte(header+
		"10\tlocker-city\t2240000\t5.9\t379661\t136.0\n"+
		"1\tlocker-day\t224000\t0.30\t746667\t30.1\n"+
		"100\tlocker-metro\t22400000\t300\t74667\t1990.5\n"), 0o644))
	paths, err := run(in, filepath.Join(dir, "scaling"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "scaling.svg"), filepath.Join(dir, "scaling.png")}, paths)

	svg, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var root string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	assert.Equal(t, "svg", root)
	assert.Contains(t, string(svg), "Throughput")
	assert.Contains(t, string(svg), "Peak RSS")

	f, err := os.Open(paths[1])
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 12*pngDPI, img.Bounds().Dx())
	assert.Equal(t, 9*pngDPI/2, img.Bounds().Dy())
}

// The reference loop's rows are a second series on both panels, named in
// the legend; they alone are not a figure (the size axis is lockstep's).
func TestReferenceRows(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "scaling.tsv")
	lockstepRows := "1\tlocker-day\t224000\t0.30\t746667\t30.1\n10\tlocker-city\t2240000\t5.9\t379661\t68.0\n"
	refRows := "1\treference-day\t240000\t0.110\t2181818\t18.1\n10\treference-city\t2400000\t1.600\t1500000\t24.0\n"
	require.NoError(t, os.WriteFile(in, []byte(header+lockstepRows+refRows), 0o644))
	paths, err := run(in, filepath.Join(dir, "scaling"))
	require.NoError(t, err)
	svg, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(svg), "reference: hand-written loop"), "one legend entry per panel")

	rows, err := readTSV(strings.NewReader(header + lockstepRows + refRows))
	require.NoError(t, err)
	own, ref := split(rows)
	assert.Len(t, own, 2)
	require.Len(t, ref, 2)
	assert.Equal(t, "reference-city", ref[1].Scenario)

	require.NoError(t, os.WriteFile(in, []byte(header+refRows), 0o644))
	_, err = run(in, filepath.Join(dir, "only"))
	require.ErrorContains(t, err, "no lockstep rows")
}

// One row is enough, and blank lines and CRLF endings are accepted; rows
// come back sorted by size.
func TestReadTSV(t *testing.T) {
	rows, err := readTSV(strings.NewReader(strings.ReplaceAll(header, "\n", "\r\n") +
		"30\tlocker-region\t6720000\t41.4\t162319\t327.6\r\n\r\n1\tlocker-day\t224000\t0.3\t746667\t30\r\n"))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, row{Size: 1, Scenario: "locker-day", Parcels: 224000, WallS: 0.3, ParcelsPerS: 746667, PeakRSSMB: 30}, rows[0])
	assert.Equal(t, "locker-region", rows[1].Scenario)
	assert.InDelta(t, 327.6, rows[1].PeakRSSMB, 1e-9)
}

// A malformed TSV is an error naming the line and what is wrong with it;
// run prefixes the file name.
func TestReadTSVErrors(t *testing.T) {
	good := "1\tlocker-day\t224000\t0.3\t746667\t30\n"
	for _, tc := range []struct {
		name, tsv, want string
	}{
		{"empty file", "", "1: empty file"},
		{"no header", good, `1: header is "1\tlocker-day`},
		{"header only", header, "1: no data rows after the header"},
		{"too few fields", header + good + "10\tlocker-city\t2240000\t5.9\t379661\n", "3: 5 tab-separated fields, want 6"},
		{"not a number", header + good + "10\tlocker-city\tmany\t5.9\t379661\t136\n", `3: parcels is "many", want a finite number >= 0`},
		{"negative", header + "1\tlocker-day\t224000\t-0.3\t746667\t30\n", `2: wall_s is "-0.3"`},
		{"NaN", header + "1\tlocker-day\t224000\t0.3\tNaN\t30\n", `2: parcels_per_s is "NaN"`},
		{"zero size", header + "0\tlocker-day\t224000\t0.3\t746667\t30\n", "2: size is 0"},
		{"no scenario", header + "1\t\t224000\t0.3\t746667\t30\n", "2: scenario is empty"},
		{"spaces for tabs", header + "1 locker-day 224000 0.3 746667 30\n", "2: 1 tab-separated fields, want 6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readTSV(strings.NewReader(tc.tsv))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "bad.tsv")
	require.NoError(t, os.WriteFile(in, []byte(header+good+"x\n"), 0o644))
	_, err := run(in, filepath.Join(dir, "out"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), in+":3: 1 tab-separated fields")
	assert.NoFileExists(t, filepath.Join(dir, "out.svg"))
}
