package sweep

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lockstep-sim/lockstep/results"
)

// SchemaVersion is the version of the sweep.json layout.
const SchemaVersion = 1

// Metric describes one metric column of a sweep.
type Metric struct {
	Metric string         `json:"metric"`
	Unit   string         `json:"unit"`
	Better results.Better `json:"better"`
}

// Header is sweep.json without its points.
type Header struct {
	SchemaVersion  int      `json:"schema_version"`
	Scenario       string   `json:"scenario"`
	DefinitionHash string   `json:"definition_hash"`
	Seed           uint64   `json:"seed"`
	Replications   int      `json:"replications"`
	Precision      float64  `json:"precision"`
	Parameters     []Vary   `json:"parameters"`
	Metrics        []Metric `json:"metrics"`
}

// PointMetric is one metric's replication statistics at one grid point.
type PointMetric struct {
	Metric string          `json:"metric"`
	Stats  results.Summary `json:"stats"`
}

// Point is one grid point: its parameter values (in the order of the
// parameters) and every measured metric's mean and 95% CI.
type Point struct {
	Index   int           `json:"index"`
	Values  []string      `json:"values"`
	Summary []PointMetric `json:"summary"`
}

// CSVHeader returns the header row of sweep.csv.
func CSVHeader(params []Vary) []string {
	h := []string{"point"}
	for _, p := range params {
		h = append(h, p.Path)
	}
	h = append(h, "replications")
	for _, d := range results.Catalog {
		h = append(h, d.Name+"_mean", d.Name+"_ci95_low", d.Name+"_ci95_high")
	}
	return h
}

// PlotPoint is the plotted metric at one grid point.
type PlotPoint struct {
	Values []string
	Stats  results.Summary
}

// OutputFiles are the data files a sweep or a merge writes into its
// directory, sweep.json and sweep.csv (the plots come after them).
var OutputFiles = []string{"sweep.json", "sweep.csv"}

// aggregate reads the work items in order from next (item k = replication k
// mod R of point k div R) and streams sweep.json and sweep.csv: one point at
// a time, so memory holds one point's replications. It returns the plotted
// metric per point.
func aggregate(info Info, hash string, next func(k int) (Item, error), jw, cw io.Writer) ([]PlotPoint, error) {
	hdr := Header{SchemaVersion: SchemaVersion, Scenario: info.Scenario, DefinitionHash: hash,
		Seed: info.Seed, Replications: info.Replications, Precision: info.Precision, Parameters: info.Parameters}
	for _, d := range results.Catalog {
		hdr.Metrics = append(hdr.Metrics, Metric{d.Name, d.Unit, d.Better})
	}
	jb := bufio.NewWriter(jw)
	b, err := json.MarshalIndent(hdr, "", "  ")
	if err != nil {
		return nil, err
	}
	jb.Write(b[:len(b)-2]) // drop "\n}"
	jb.WriteString(",\n  \"points\": [")
	csvw := csv.NewWriter(cw)
	if err := csvw.Write(CSVHeader(info.Parameters)); err != nil {
		return nil, err
	}
	R := info.Replications
	plot := make([]PlotPoint, 0, info.Points)
	vals := make(map[string][]float64, len(results.Catalog))
	for p := 0; p < info.Points; p++ {
		clear(vals)
		for r := 0; r < R; r++ {
			it, err := next(p*R + r)
			if err != nil {
				return nil, err
			}
			for _, d := range results.Catalog {
				if v, ok := it.Metrics[d.Name]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					vals[d.Name] = append(vals[d.Name], v)
				}
			}
		}
		pt := Point{Index: p, Values: info.PointValues(p)}
		row := []string{strconv.Itoa(p)}
		row = append(row, pt.Values...)
		row = append(row, strconv.Itoa(R))
		for _, d := range results.Catalog {
			v, ok := vals[d.Name]
			if !ok {
				row = append(row, "", "", "")
				if d.Name == info.Metric {
					plot = append(plot, PlotPoint{Values: pt.Values, Stats: results.Summarize(nil, info.Precision)})
				}
				continue
			}
			s := results.Summarize(v, info.Precision)
			pt.Summary = append(pt.Summary, PointMetric{d.Name, s})
			row = append(row, csvNum(s.Mean), csvNum(s.CI95Low), csvNum(s.CI95High))
			if d.Name == info.Metric {
				plot = append(plot, PlotPoint{Values: pt.Values, Stats: s})
			}
		}
		if err := csvw.Write(row); err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(pt, "    ", "  ")
		if err != nil {
			return nil, err
		}
		if p > 0 {
			jb.WriteByte(',')
		}
		jb.WriteString("\n    ")
		jb.Write(b)
	}
	jb.WriteString("\n  ]\n}\n")
	csvw.Flush()
	if err := csvw.Error(); err != nil {
		return nil, err
	}
	return plot, jb.Flush()
}

func csvNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Output is what Run and MergeShards wrote.
type Output struct {
	Info  Info
	Hash  string
	Files []string    // sweep.json, sweep.csv, then the plots
	Plot  []PlotPoint // the plotted metric per grid point
}

// writeOutputs aggregates the items into dir/sweep.json and dir/sweep.csv
// and plots the chosen metric against each parameter.
func writeOutputs(dir string, info Info, hash string, next func(int) (Item, error), finish func() error) (*Output, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	jp, cp := filepath.Join(dir, OutputFiles[0]), filepath.Join(dir, OutputFiles[1])
	jf, err := os.Create(jp)
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	cf, err := os.Create(cp)
	if err != nil {
		return nil, err
	}
	defer cf.Close()
	plot, err := aggregate(info, hash, next, jf, cf)
	if err == nil {
		err = finish()
	}
	if err != nil {
		os.Remove(jp)
		os.Remove(cp)
		return nil, err
	}
	if err := jf.Close(); err != nil {
		return nil, err
	}
	if err := cf.Close(); err != nil {
		return nil, err
	}
	out := &Output{Info: info, Hash: hash, Files: []string{jp, cp}, Plot: plot}
	plots, err := WritePlots(dir, info, plot)
	out.Files = append(out.Files, plots...)
	return out, err
}

// Options tune Run, RunShardFile and RunShard.
type Options struct {
	Workers  int                   // parallel work items; 0 means GOMAXPROCS
	Progress func(done, total int) // called after each work item, in order
	// Day, if set, is called once per simulated day of every work item:
	// Day(k, d) when item k has simulated d days (see Sweep.Work), on the
	// goroutine running the item. It does not change the results.
	Day func(item, day int)
}

// Run runs every work item of sw on this machine and writes into dir:
// shards/shard-0000-of-0001.json (the work file every item streams to as it
// finishes), sweep.json, sweep.csv and the plots. The outputs are byte for
// byte what MergeShards writes from any split of the same sweep.
func Run(ctx context.Context, sw *Sweep, dir string, opt Options) (*Output, error) {
	sh := Shard{0, 1}
	work, err := RunShardFile(ctx, sw, sh, filepath.Join(dir, "shards"), opt)
	if err != nil {
		return nil, err
	}
	return MergeShards([]string{work}, dir, "")
}

// RunShardFile runs one shard of sw into dir/<shard file name> and returns
// the file's path. The file is written under a temporary name and renamed
// when complete, so a half-written shard is never mistaken for a finished one.
func RunShardFile(ctx context.Context, sw *Sweep, sh Shard, dir string, opt Options) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create output directory: %w", err)
	}
	path := filepath.Join(dir, sh.FileName())
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if err := RunShard(ctx, sw, sh, f, opt); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// MergeShards checks that paths are one complete set of shard files of one
// sweep and writes into dir exactly what a single-machine run of the sweep
// writes. metric overrides the plotted metric ("" keeps the sweep's).
func MergeShards(paths []string, dir, metric string) (*Output, error) {
	set, err := OpenShards(paths)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	info := set.Header.Sweep
	if metric != "" {
		if _, ok := results.Lookup(metric); !ok {
			return nil, fmt.Errorf("metric %q is not in the catalog", metric)
		}
		info.Metric = metric
	}
	return writeOutputs(dir, info, set.Header.DefinitionHash, set.next, set.finish)
}
