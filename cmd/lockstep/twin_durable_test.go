package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lockstep-sim/lockstep/hwsim"
	"github.com/lockstep-sim/lockstep/internal/mqtttest"
	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/transport"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// TestTwinDurable: the real `lockstep twin` binary, live, kill -9ed and
// restarted on the same --data while a producer streams one day of hwsim's
// quickstart feed (3 600 QoS 1 messages, with duplicates, drops, reordering
// and malformed payloads, in publishing order), on the event clock:
//
//   - session: through a real Mosquitto, killed at 5 seeded points while
//     it receives, each time after the producer has published 50 more while
//     it was down; it resumes its session (stable client id from --data)
//     and loses nothing the broker acknowledged, applies nothing twice, and
//     its final states and report equal an uninterrupted run's;
//   - the control: a fresh client id at each restart loses messages;
//   - embedded: the twin with its embedded broker, killed at 3 seeded
//     points and restarted on the same port: a producer that resends until
//     PUBACK loses nothing, and the outputs equal an uninterrupted run's;
//   - credentials: from a variable or a file, never logged (twinCredentials).
//
// The uninterrupted run is a --replay of the published feed on the event
// clock, which equals a live run byte for byte.
func TestTwinDurable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs brokers")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	feed := durableFeed(t)
	require.GreaterOrEqual(t, len(feed), 3000)
	capture := filepath.Join(dir, "feed.ndjson")
	f, err := os.Create(capture)
	require.NoError(t, err)
	require.NoError(t, wire.WriteCapture(f, feed...))
	require.NoError(t, f.Close())
	ref := filepath.Join(dir, "ref")
	out, err := exec.Command(bin, append([]string{"twin", "--replay", capture}, durableTwinArgs(ref)...)...).Output()
	require.NoError(t, err)
	var summary struct{ Counters twinCounters }
	require.NoError(t, json.Unmarshal(out, &summary))
	want := summary.Counters
	distinct := want.Received - want.Duplicates
	for _, ext := range []string{".states", ".report"} {
		b, err := os.ReadFile(ref + ext)
		require.NoError(t, err)
		require.NotEmpty(t, b, "the uninterrupted run's %s", ext)
	}

	t.Run("session", func(t *testing.T) {
		url := mqtttest.StartMosquitto(t, "max_queued_messages 100000\n")
		data := filepath.Join(t.TempDir(), "twin")
		got := runKilled(t, bin, feed, killPlan{kills: 5, seed: 16, whileDown: 50, distinct: distinct}, url, data,
			func(int) []string { return []string{"--broker", url} })
		for i, l := range got.live[1:] {
			assert.Equal(t, true, l["resumed"], "restart %d resumed the session", i+1)
			assert.Equal(t, got.live[0]["client_id"], l["client_id"])
		}
		assert.Regexp(t, `^lockstep-twin-[0-9a-f]{8}$`, got.live[0]["client_id"])
		checkDurable(t, feed, data, ref, want, got.final)
	})

	t.Run("control: a fresh client id loses messages", func(t *testing.T) {
		url := mqtttest.StartMosquitto(t, "max_queued_messages 100000\n")
		data := filepath.Join(t.TempDir(), "twin")
		part := feed[:len(feed)/3]
		got := runKilled(t, bin, part, killPlan{kills: 1, seed: 16, whileDown: 50}, url, data,
			func(run int) []string {
				return []string{"--broker", url, "--client-id", fmt.Sprintf("control-%d", run)}
			})
		assert.Equal(t, false, got.live[1]["resumed"])
		missing := missingRecords(t, part, data)
		t.Logf("fresh client id: %d of %d acknowledged messages lost", missing, len(part))
		assert.Positive(t, missing, "messages published while the twin was down went to the abandoned session")
	})

	t.Run("embedded", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		data := filepath.Join(t.TempDir(), "twin")
		got := runKilled(t, bin, feed, killPlan{kills: 3, seed: 16, distinct: distinct}, "mqtt://"+addr, data,
			func(int) []string { return []string{"--broker", "embedded", "--broker-listen", addr} })
		for _, l := range got.live {
			assert.Equal(t, "mqtt://"+addr, l["embedded_broker"])
		}
		checkDurable(t, feed, data, ref, want, got.final)
	})

	t.Run("credentials", func(t *testing.T) { twinCredentials(t, bin) })
}

// twinCredentials: the twin takes its broker credentials from a variable
// or a file, never from the command line, and never logs the password; a
// wrong one stops it at once (exit 1). A restart on the same --data
// resumes the session.
func twinCredentials(t *testing.T, bin string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const pass = "s3cret-broker-pass"
	b, err := transport.StartBroker(ctx, transport.BrokerConfig{Listen: "127.0.0.1:0", Users: map[string]string{"twin": pass},
		Grants: map[string][]transport.Grant{"twin": {{Role: transport.RoleTwin}}}})
	require.NoError(t, err)
	defer b.Close()
	dir := t.TempDir()
	args := []string{"--network", "../../scenarios/quickstart.yaml", "--broker", b.URL(), "--data", filepath.Join(dir, "twin"),
		"--credentials-env", transport.DefaultCredentialsEnv, "--log-level", "debug"}
	env := []string{transport.DefaultCredentialsEnv + "=twin:" + pass}
	for i, resumed := range []bool{false, true} {
		p := startTwin(t, bin, env, args...)
		live := p.waitLog(t, "live")
		assert.Equal(t, resumed, live["resumed"], "run %d", i)
		p.stop(t)
		assert.NotContains(t, p.stderr.String(), pass)
	}

	wrong := filepath.Join(dir, "credentials")
	require.NoError(t, os.WriteFile(wrong, []byte("twin:not-"+pass+"\n"), 0o600))
	p := startTwin(t, bin, nil, "--network", "../../scenarios/quickstart.yaml", "--broker", b.URL(), "--credentials-file", wrong)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		require.FailNow(t, "the twin did not give up on a wrong password")
	}
	var ee *exec.ExitError
	require.ErrorAs(t, p.err, &ee)
	assert.Equal(t, exitFail, ee.ExitCode())
	assert.Contains(t, p.stderr.String(), "refused connection")
	assert.NotContains(t, p.stderr.String(), pass)
}

// durableFeed is one day of hwsim's quickstart feed with faults, in
// publishing order.
func durableFeed(t *testing.T) []wire.CaptureRecord {
	sc, err := scenarios.Load("../../scenarios/quickstart.yaml")
	require.NoError(t, err)
	cfg, err := sc.Config()
	require.NoError(t, err)
	loc, err := sc.Location()
	require.NoError(t, err)
	cfg.Horizon = model.Day
	items, _, _, err := hwsim.Generate(hwsim.Config{Sim: cfg, Location: loc, Faults: hwsim.Faults{Duplicate: 0.02, Drop: 0.01,
		Reorder: hwsim.ReorderFault{Rate: 0.02}, Malformed: hwsim.MalformedFault{Rate: 0.01}}})
	require.NoError(t, err)
	var recs []wire.CaptureRecord
	for _, it := range items {
		if it.Kind == hwsim.ItemMessage {
			recs = append(recs, wire.CaptureRecord{Topic: it.Topic, Payload: it.Payload, Retain: it.Retain, RecvAt: it.At})
		}
	}
	return recs
}

// durableTwinArgs are the twin's flags in every run of TestTwinDurable,
// live or replayed: the event clock (the output does not depend on timing),
// frequent snapshots (restarts resume from one), outputs next to data.
func durableTwinArgs(data string) []string {
	return []string{"--network", "../../scenarios/quickstart.yaml", "--clock", "event", "--data", data, "--fsync=false",
		"--snapshot-every", "500", "--states", data + ".states", "--report", data + ".report", "--log-level", "info"}
}

// killPlan is where runKilled kills the twin: kills times, at received
// counts drawn with seed, each in its own share of the feed.
type killPlan struct {
	kills int
	seed  uint64
	// whileDown: after each kill the producer publishes this many more
	// messages before the restart (0: it is not held back at all).
	whileDown int
	// distinct is the number of distinct messages of the feed (those the
	// twin does not drop as duplicates): the last run ends once it has
	// them all. 0: it ends once a payload published after the feed has
	// arrived (some of the feed may never come).
	distinct uint64
}

// killedRun is what runKilled saw: each run's "live" log line, and the
// counters of the last run before it stopped.
type killedRun struct {
	live  []map[string]any
	final twinCounters
}

// runKilled runs the twin live (args(run) plus durableTwinArgs(data)), a
// producer publishing recs to url in order, and kills the twin with
// SIGKILL at the points of plan, restarting it each time; the last run is
// stopped with SIGTERM once it has everything (or the sentinel), so that it
// writes its outputs.
func runKilled(t *testing.T, bin string, recs []wire.CaptureRecord, plan killPlan, url, data string, args func(run int) []string) killedRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var got killedRun
	start := func(run int) *twinProc {
		p := startTwin(t, bin, nil, append(append(args(run), "--http", "127.0.0.1:0"), durableTwinArgs(data)...)...)
		got.live = append(got.live, p.waitLog(t, "live"))
		return p
	}
	p := start(0)
	prod := startProducer(t, ctx, url, recs)
	rng := rand.New(rand.NewPCG(plan.seed, 8))
	share := len(recs) / (plan.kills + 1)
	for k := range plan.kills {
		end := (k + 1) * share // the producer is held back here unless whileDown is 0
		if plan.whileDown > 0 {
			prod.allow(end)
		} else {
			prod.allow(len(recs))
		}
		target := end - 1 - rng.IntN(share/2)
		p.waitReceived(t, uint64(target))
		p.kill(t)
		if plan.whileDown > 0 {
			prod.allow(end + plan.whileDown)
			prod.waitPublished(t, end+plan.whileDown)
		}
		t.Logf("run %d killed after receiving at least %d; %d published", k, target, prod.published.Load())
		p = start(k + 1)
	}
	prod.allow(len(recs))
	prod.wait(t)
	if plan.distinct == 0 {
		require.NoError(t, prod.c.Publish(ctx, wire.Topics{}.NodeStatus("sentinel"), []byte("sentinel"), wire.QoS, false))
		p.waitFor(t, "the sentinel", func() bool { return p.sentinelIn(t) })
	} else {
		p.waitFor(t, "every message", func() bool { c := p.counters(t); return c.Received-c.Duplicates >= plan.distinct })
	}
	got.final = p.counters(t)
	p.stop(t)
	return got
}

// checkDurable checks a twin killed and restarted on data against the
// uninterrupted run (outputs at ref, counters want): every record
// published is in the journal, every extra copy there was dropped as a
// duplicate (nothing applied twice), the counters agree, and the final
// states and report are the same bytes.
func checkDurable(t *testing.T, feed []wire.CaptureRecord, data, ref string, want, got twinCounters) {
	t.Helper()
	assert.Zero(t, missingRecords(t, feed, data), "acknowledged messages missing from the journal")
	j, err := twin.OpenJournal(data, false)
	require.NoError(t, err)
	extra := j.Len() - uint64(len(feed))
	require.NoError(t, j.Close())
	t.Logf("%d records journaled, %d of them redelivered copies", uint64(len(feed))+extra, extra)
	assert.Equal(t, want.Received+extra, got.Received)
	assert.Equal(t, want.Duplicates+extra, got.Duplicates, "every redelivered copy was dropped as a duplicate")
	assert.Equal(t, want.Accepted, got.Accepted, "nothing applied twice")
	assert.Equal(t, want.Conflicts, got.Conflicts)
	assert.Equal(t, want.Quarantined, got.Quarantined)
	assert.Equal(t, want.ByType, got.ByType)
	for _, ext := range []string{".states", ".report"} {
		w, err := os.ReadFile(ref + ext)
		require.NoError(t, err)
		g, err := os.ReadFile(data + ext)
		require.NoError(t, err)
		assert.Equal(t, string(w), string(g), ext)
	}
}

// missingRecords is the number of records of feed (a multiset: the feed
// may hold a record twice) that the journal in data does not hold.
func missingRecords(t *testing.T, feed []wire.CaptureRecord, data string) int {
	t.Helper()
	j, err := twin.OpenJournal(data, false)
	require.NoError(t, err)
	defer j.Close()
	held := map[string]int{}
	require.NoError(t, j.ReplayFrom(0, func(r wire.CaptureRecord) { held[r.Topic+"\x00"+string(r.Payload)]++ }))
	missing := 0
	for _, r := range feed {
		k := r.Topic + "\x00" + string(r.Payload)
		if held[k] == 0 {
			missing++
		} else {
			held[k]--
		}
	}
	return missing
}

// twinCounters are the ingest counters of /v1/status and of a replay's
// summary.
type twinCounters struct {
	Received    uint64            `json:"received"`
	Accepted    uint64            `json:"accepted"`
	Duplicates  uint64            `json:"duplicates"`
	Conflicts   uint64            `json:"conflicts"`
	Quarantined map[string]uint64 `json:"quarantined"`
	ByType      map[string]uint64 `json:"by_type"`
}

// twinProc is a `lockstep twin` child process and its JSON log.
type twinProc struct {
	cmd    *exec.Cmd
	stderr mqtttest.Buffer
	mu     sync.Mutex
	lines  []map[string]any
	exited chan struct{} // closed once the process has exited
	err    error         // of Wait, once exited
	http   string        // the API's address
}

// startTwin starts `lockstep twin args...` (env added to the test's) and
// collects its log; the process is killed when the test ends.
func startTwin(t *testing.T, bin string, env []string, args ...string) *twinProc {
	t.Helper()
	p := &twinProc{cmd: exec.Command(bin, append([]string{"twin"}, args...)...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	pipe, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			_, _ = p.stderr.Write(append(sc.Bytes(), '\n'))
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				p.mu.Lock()
				p.lines = append(p.lines, line)
				p.mu.Unlock()
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("twin %v log:\n%s", args, p.stderr.String())
		}
	})
	return p
}

// waitLog waits until the twin logs a line whose msg is msg and returns it;
// it fails the test if the twin exits first.
func (p *twinProc) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	p.waitFor(t, "log line "+msg, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, l := range p.lines {
			if l["msg"] == msg {
				found = l
				return true
			}
		}
		return false
	})
	return found
}

// waitFor polls cond until it holds, failing the test if the twin exits
// first or it takes over 30 s.
func (p *twinProc) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		select {
		case <-p.exited:
			require.FailNow(t, "the twin exited waiting for "+what, "%v\n%s", p.err, p.stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
	}
}

// counters are the twin's ingest counters (GET /v1/status).
func (p *twinProc) counters(t *testing.T) twinCounters {
	t.Helper()
	if p.http == "" {
		p.http = p.waitLog(t, "http api")["addr"].(string)
	}
	resp, err := http.Get("http://" + p.http + "/v1/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct{ Counters twinCounters }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Counters
}

// waitReceived waits until the twin has received at least n messages.
func (p *twinProc) waitReceived(t *testing.T, n uint64) {
	t.Helper()
	p.waitFor(t, "message "+strconv.FormatUint(n, 10), func() bool { return p.counters(t).Received >= n })
}

// sentinelIn reports whether the twin quarantined the sentinel payload.
func (p *twinProc) sentinelIn(t *testing.T) bool {
	t.Helper()
	p.counters(t) // p.http
	resp, err := http.Get("http://" + p.http + "/v1/quarantine")
	require.NoError(t, err)
	defer resp.Body.Close()
	var q struct {
		Messages []struct{ Topic string } `json:"messages"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&q))
	for _, m := range q.Messages {
		if m.Topic == (wire.Topics{}).NodeStatus("sentinel") {
			return true
		}
	}
	return false
}

// kill kills the twin with SIGKILL and waits until it is gone.
func (p *twinProc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
}

// stop stops the twin with SIGTERM and checks it exited cleanly.
func (p *twinProc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the twin did not stop on SIGTERM")
	}
	require.NoError(t, p.err, p.stderr.String())
}

// producer publishes records in order with QoS 1, each until the broker
// acknowledges it (transport.Client.Publish resends across reconnects and
// broker restarts), but none past what allow admits.
type producer struct {
	c         *transport.Client
	allowed   atomic.Int64
	published atomic.Int64
	done      chan error
}

func startProducer(t *testing.T, ctx context.Context, url string, recs []wire.CaptureRecord) *producer {
	t.Helper()
	c, err := transport.Dial(ctx, transport.ClientConfig{URL: url, ClientID: "durable-producer", CleanStart: true,
		ReconnectDelay: 20 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	p := &producer{c: c, done: make(chan error, 1)}
	go func() {
		for i, r := range recs {
			for int64(i) >= p.allowed.Load() {
				select {
				case <-ctx.Done():
					p.done <- ctx.Err()
					return
				case <-time.After(time.Millisecond):
				}
			}
			if err := c.Publish(ctx, r.Topic, r.Payload, wire.QoS, r.Retain); err != nil {
				p.done <- err
				return
			}
			p.published.Add(1)
		}
		p.done <- nil
	}()
	return p
}

// allow lets the producer publish the first n records.
func (p *producer) allow(n int) { p.allowed.Store(int64(n)) }

// waitPublished waits until the broker has acknowledged n records.
func (p *producer) waitPublished(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return p.published.Load() >= int64(n) }, 30*time.Second, 2*time.Millisecond,
		"the producer published %d of %d", p.published.Load(), n)
}

// wait waits until the producer has published everything.
func (p *producer) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("the producer did not finish")
	}
}
