package twin_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/lockstep-sim/lockstep/model"
	"github.com/lockstep-sim/lockstep/scenarios"
	"github.com/lockstep-sim/lockstep/twin"
	"github.com/lockstep-sim/lockstep/twin/wire"
)

// exampleNetwork is the quickstart city (microstore M1, lockers L1 and L2,
// partner P1) and its time zone (Europe/Berlin).
func exampleNetwork() (*model.Network, *time.Location) {
	sc, err := scenarios.Load("../scenarios/quickstart.yaml")
	if err != nil {
		log.Fatal(err)
	}
	net, err := sc.Network()
	if err != nil {
		log.Fatal(err)
	}
	loc, err := sc.Location()
	if err != nil {
		log.Fatal(err)
	}
	return net, loc
}

// exampleFeed: production orders a parcel at M1 for locker L1, reports it
// issued, and ten minutes later rerouted, which the core did not do.
func exampleFeed() []wire.CaptureRecord {
	t0 := model.Instant(1772445600000) // 2026-03-02 10:00 UTC, 11:00 in Berlin
	var recs []wire.CaptureRecord
	seq := map[string]uint64{}
	add := func(src string, at model.Instant, body wire.Body) {
		seq[src]++
		env := wire.Envelope{Source: src, Seq: seq[src], At: at, Body: body}
		p, err := wire.Encode(env)
		if err != nil {
			log.Fatal(err)
		}
		topic, err := wire.Topics{}.TopicFor(env)
		if err != nil {
			log.Fatal(err)
		}
		recs = append(recs, wire.CaptureRecord{Topic: topic, Payload: p, RecvAt: at})
	}
	add("prod-oms", t0, wire.Order{OrderID: "O-1", LabelID: "L-1", SKU: "S01", Size: wire.SizeS, Node: "M1", Destination: "L1",
		SameDay: true, PlacedAt: t0, SLADeadline: t0.Add(4 * model.Hour)})
	add("prod-core", t0, wire.LabelState{LabelID: "L-1", State: wire.LabelIssued, Node: "M1"})
	add("prod-core", t0.Add(10*model.Minute), wire.LabelState{LabelID: "L-1", State: wire.LabelRerouting, Node: "M1", RerouteTo: "P1"})
	return recs
}

// The three parts of a twin, used directly: ingest yields ordered,
// de-duplicated messages, the driver applies them to the core, the
// comparer checks production's reports against the core.
func Example_parts() {
	in := twin.NewIngest(twin.IngestConfig{Window: 5 * model.Minute})
	net, loc := exampleNetwork()
	drv, err := twin.NewDriver(twin.DriverConfig{Network: net, Location: loc})
	if err != nil {
		log.Fatal(err)
	}
	cmp := twin.NewComparer(twin.CompareConfig{}, drv)
	drv.SetObserver(cmp)
	var out []*twin.Message
	for _, rec := range exampleFeed() {
		var hourly bool
		out, hourly = in.Offer(rec, time.Now(), out[:0])
		if hourly {
			drv.ForgetFinished()
		}
		for _, m := range out {
			drv.Apply(m)
		}
	}
	for _, m := range in.Release(model.Never, nil) {
		drv.Apply(m)
	}
	drv.Finish()
	v, _ := drv.Label("L-1")
	fmt.Println("core:", v.Label, v.State)
	for _, d := range cmp.Divergences(twin.Filter{}) {
		fmt.Println("divergence:", d.Label, d.Kind, "production", d.Production, "core", d.Core)
	}
	// Output:
	// core: L-1 issued
	// divergence: L-1 reroute_unexpected production rerouting core issued
}

// A twin service replaying a capture, with a journal (Live subscribes to
// a broker instead).
func ExampleNewServer() {
	dir, err := os.MkdirTemp("", "twin-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var capture bytes.Buffer
	if err := wire.WriteCapture(&capture, exampleFeed()...); err != nil {
		log.Fatal(err)
	}
	net, loc := exampleNetwork()
	srv, err := twin.NewServer(twin.ServeConfig{
		Twin:          twin.Config{Network: net, Location: loc, Window: 5 * model.Minute},
		NetworkDigest: "quickstart",
		Data:          dir, SnapshotEvery: 100000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	st, err := srv.Replay(context.Background(), &capture)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("records:", st.Records)
	for _, d := range srv.Twin().Divergences(twin.Filter{}) {
		fmt.Println("divergence:", d.Label, d.Kind)
	}
	// Output:
	// records: 3
	// divergence: L-1 reroute_unexpected
}
