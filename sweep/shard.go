package sweep

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/lockstep-sim/lockstep/experiment"
	"github.com/lockstep-sim/lockstep/sim"
)

// ShardFormat identifies a shard file and its layout version.
const ShardFormat = "lockstep-sweep-shard/v1"

// A Shard is one of Count deterministic slices of a sweep's work items.
//
// Work item k (0 ≤ k < points × replications) is replication k mod R of grid
// point k div R, and shard I of N runs the items with k mod N = I, in
// increasing k. Every item's random streams depend only on (seed,
// replication, stream name), so an item gives the same numbers in whichever
// shard runs it, and any split merges into the same results.
type Shard struct {
	Index, Count int
}

// ParseShard parses I/N (0 ≤ I < N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, e.g. 3/8 (shards are numbered from 0)", s)
	}
	sh := Shard{i, n}
	return sh, sh.check()
}

func (sh Shard) check() error {
	if sh.Count < 1 {
		return fmt.Errorf("shard count must be >= 1 (got %d)", sh.Count)
	}
	if sh.Index < 0 || sh.Index >= sh.Count {
		return fmt.Errorf("shard index %d out of range 0..%d", sh.Index, sh.Count-1)
	}
	return nil
}

// Env names of the Kubernetes Indexed Job shard index and of the shard count.
const (
	EnvShardIndex = "JOB_COMPLETION_INDEX"
	EnvShardCount = "LOCKSTEP_SHARDS"
)

// ShardFromEnv reads the shard from the Indexed Job environment: the index
// from JOB_COMPLETION_INDEX, the count from count if > 0 else from
// LOCKSTEP_SHARDS. ok is false when JOB_COMPLETION_INDEX is not set.
func ShardFromEnv(count int, getenv func(string) string) (sh Shard, ok bool, err error) {
	is := strings.TrimSpace(getenv(EnvShardIndex))
	if is == "" {
		return Shard{}, false, nil
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return Shard{}, true, fmt.Errorf("%s=%q is not a shard index", EnvShardIndex, is)
	}
	if count <= 0 {
		cs := strings.TrimSpace(getenv(EnvShardCount))
		if cs == "" {
			return Shard{}, true, fmt.Errorf("%s=%d is set but the shard count is not: pass --shards N (the Job's completions) or set %s", EnvShardIndex, i, EnvShardCount)
		}
		if count, err = strconv.Atoi(cs); err != nil {
			return Shard{}, true, fmt.Errorf("%s=%q is not a shard count", EnvShardCount, cs)
		}
	}
	sh = Shard{i, count}
	if err := sh.check(); err != nil {
		return Shard{}, true, fmt.Errorf("from %s and the shard count: %w", EnvShardIndex, err)
	}
	return sh, true, nil
}

// String is I/N.
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.Count) }

// FileName is the shard file's name, e.g. shard-0003-of-0007.json.
func (sh Shard) FileName() string { return fmt.Sprintf("shard-%04d-of-%04d.json", sh.Index, sh.Count) }

// ItemCount is how many of total items the shard runs.
func (sh Shard) ItemCount(total int) int {
	if sh.Index >= total {
		return 0
	}
	return (total-sh.Index-1)/sh.Count + 1
}

// pointItems is how many items of grid point p (of R replications) the
// shard runs: the k in [p*R, (p+1)*R) with k ≡ Index (mod Count).
func (sh Shard) pointItems(p, R int) int {
	lo, hi := p*R, (p+1)*R
	first := lo + ((sh.Index-lo%sh.Count)+sh.Count)%sh.Count
	if first >= hi {
		return 0
	}
	return (hi-first-1)/sh.Count + 1
}

// ShardHeader is everything in a shard file but its items.
type ShardHeader struct {
	Format         string `json:"format"`
	DefinitionHash string `json:"definition_hash"`
	Shard          int    `json:"shard"`
	Shards         int    `json:"shards"`
	ItemCount      int    `json:"item_count"`
	Sweep          Info   `json:"sweep"`
}

// Item is one finished (grid point, replication): its catalog metrics.
type Item struct {
	Item        int                `json:"item"`
	Point       int                `json:"point"`
	Replication int                `json:"replication"`
	Metrics     map[string]float64 `json:"metrics"`
}

// RunShard runs the shard's work items of sw on up to opt.Workers goroutines
// (0 means GOMAXPROCS) and streams the shard file to w: the header, then each
// item in increasing item order as soon as it and all before it are done.
// At most a few items per worker are held in memory, whatever the grid size.
func RunShard(ctx context.Context, sw *Sweep, sh Shard, w io.Writer, opt Options) error {
	if err := sh.check(); err != nil {
		return err
	}
	workers, progress := opt.Workers, opt.Progress
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	info := sw.Info
	R := info.Replications
	total := sh.ItemCount(info.Items())
	bw := bufio.NewWriter(w)
	hdr := ShardHeader{Format: ShardFormat, DefinitionHash: sw.Hash, Shard: sh.Index, Shards: sh.Count, ItemCount: total, Sweep: info}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	bw.Write(hb[:len(hb)-1])
	bw.WriteString(`,"items":[`)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// configurations are built once per grid point and dropped when the
	// shard's last item of that point is done
	var mu sync.Mutex
	cfgs := map[int]*cfgEntry{}
	pointCfg := func(p int) (*sim.Config, error) {
		mu.Lock()
		e := cfgs[p]
		if e == nil {
			e = &cfgEntry{remaining: sh.pointItems(p, R)}
			cfgs[p] = e
		}
		mu.Unlock()
		e.once.Do(func() { e.cfg, e.cfgErr = sw.pointConfig(p) })
		return e.cfg, e.cfgErr
	}
	release := func(p int) {
		mu.Lock()
		if e := cfgs[p]; e != nil {
			if e.remaining--; e.remaining <= 0 {
				delete(cfgs, p)
			}
		}
		mu.Unlock()
	}

	type result struct {
		j    int
		item Item
		err  error
	}
	window := 4 * workers
	slots := make(chan struct{}, window)
	jobs := make(chan int)
	res := make(chan result, window)
	var wg sync.WaitGroup
	for range min(workers, max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				k := sh.Index + j*sh.Count
				it, err := runItem(ctx, pointCfg, k, R, opt.Day)
				release(k / R)
				res <- result{j, it, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for j := 0; j < total; j++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(res) }()

	pending := map[int]Item{}
	next := 0
	var firstErr error
	for r := range res {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
				cancel()
			}
			continue
		}
		if firstErr != nil {
			continue
		}
		pending[r.j] = r.item
		for {
			it, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			if next > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n")
			b, err := json.Marshal(it)
			if err != nil {
				firstErr = err
				cancel()
				break
			}
			bw.Write(b)
			next++
			<-slots
			if progress != nil {
				progress(next, total)
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil && next < total {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

type cfgEntry struct {
	once      sync.Once
	cfg       *sim.Config
	cfgErr    error
	remaining int
}

// runItem simulates work item k (replication k mod R of grid point k div R)
// and keeps its finite catalog metrics. day, if set, is called per
// simulated day.
func runItem(ctx context.Context, pointCfg func(int) (*sim.Config, error), k, R int, day func(item, day int)) (Item, error) {
	p, r := k/R, k%R
	cfg, err := pointCfg(p)
	if err != nil {
		return Item{}, err
	}
	opt := experiment.Options{Workers: 1}
	if day != nil {
		opt.Day = func(_, d int) { day(k, d) }
	}
	reps, err := experiment.Replications(ctx, cfg, r, 1, opt)
	if err != nil {
		return Item{}, fmt.Errorf("grid point %d: %w", p, err)
	}
	m := make(map[string]float64, len(reps[0].Metrics))
	for name, v := range reps[0].Metrics {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[name] = v
		}
	}
	return Item{Item: k, Point: p, Replication: r, Metrics: m}, nil
}
