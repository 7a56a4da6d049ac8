// Package twin runs the core (package model) in live shadow mode beside
// production lockers and reports where production and the core disagree.
//
// # The parts
//
// A twin is three parts in a row, each its own type, usable and testable
// alone:
//
//	received message (MQTT or a capture line)
//	  -> Ingest, in real time: wire.Decode (rejects, payloads over 64 KiB,
//	     conflicts and ids the network lacks: quarantine with ids, length
//	     and SHA-256, counted by reason), instants outside the plausibility
//	     window around the receive instant (quarantine), de-duplicate by
//	     msg_id (with a digest of its payload) and (source, seq), track
//	     sequence gaps, reorder buffer: released in (event instant,
//	     lifecycle rank, source, seq) order once the receive clock and every
//	     current source's newest instant are Window past it; later messages
//	     handed on at once, flagged Late
//	  -> ordered, de-duplicated Messages at real instants
//	  -> Driver: map instants onto the city's local wall clock (model.Zone),
//	     fire the core's timers due by each message's instant, map
//	     the message onto core events (order, scans, slot, pickup, node
//	     status); intern label ids, follow node sessions, own a partition,
//	     forget finished labels; record messages about labels never
//	     ordered as anomalies
//	  -> to its Observer: the core's decisions (reroutes, refunds),
//	     production's label_state reports, lockers' slot reports, the clock
//	  -> Comparer: reports against the core's provenance chains within a
//	     Tolerance, decisions production never reported -> Divergences
//
// Twin composes them behind one mutex (safe for concurrent use). Runner puts
// the bbolt Journal in front of a Twin (every received message is durable
// before it is applied, and state snapshots bound restart time). Server
// assembles the whole service: twin, journal and snapshots, the HTTP API,
// and either the live feed or the replay of a capture. Live, each message is
// journaled before it is acknowledged: from an external broker through a
// persistent session (Runner.Live; a client id derived from the data
// directory, so a restarted twin gets what the broker queued meanwhile), or
// from an embedded broker before the broker's PUBACK (Runner.LiveEmbedded).
//
// The core's clock is event time (the messages' instants, on the local
// clock), so a replay of a capture reproduces its run. Live, the wall clock
// starts it at startup and advances it while the feed is quiet
// (Twin.Advance); with Config.EventClock receive instants are ignored and
// live equals replay byte for byte. State is a pure function of
// the journal: Runner.Restore re-applies it after a restart, starting from
// the latest snapshot (Twin.MarshalBinary, stored in the journal file every
// Runner.SnapshotEvery records and on a clean stop).
//
// With ServeConfig.Tokens (a signing key, and a directory) the service
// signs provenance tokens (package provenance) of finished labels: written
// per label off the driver's path by Tokens (tokens.go), and served at GET
// /v1/labels/{id}/token.
//
// # Running the service
//
// A live service (what `lockstep twin --broker` runs):
//
//	err := twin.Serve(ctx, twin.ServeConfig{
//		Twin:          twin.Config{Network: net, Location: loc, Logger: logger}, // loc: the scenario's timezone
//		NetworkDigest: digest,                  // a journal of another network is refused
//		Data:          "/var/lib/twin", Fsync: true, SnapshotEvery: 100000,
//		HTTP:          "127.0.0.1:8080",        // off loopback only with Token
//		Broker:        "mqtt://broker:1883",    // or twin.Embedded
//		Client:        transport.ClientConfig{Username: creds.Username, Password: creds.Password}, // transport.LoadCredentials
//		Report:        "divergences.ndjson",    // written when ctx is done
//	})
//	var ce *twin.ConfigError
//	if errors.As(err, &ce) { /* the configuration: exit 2 */ }
//
// or, replaying a capture (Server.Replay resumes after what the journal
// already holds):
//
//	srv, err := twin.NewServer(cfg)
//	defer srv.Close()
//	stats, err := srv.Replay(ctx, captureFile)
//	divs := srv.Twin().Divergences(twin.Filter{})
//
// # Using the parts directly
//
//	in := twin.NewIngest(twin.IngestConfig{Window: 5 * model.Minute})
//	drv, _ := twin.NewDriver(twin.DriverConfig{Network: net, Location: loc})
//	cmp := twin.NewComparer(twin.CompareConfig{}, drv) // reads the core through the driver
//	drv.SetObserver(cmp)                                // and is fed by it
//	for _, rec := range capture {
//		out, hourly := in.Offer(rec, time.Now(), nil)
//		if hourly {
//			drv.ForgetFinished()
//		}
//		for _, m := range out {
//			drv.Apply(m)
//		}
//	}
//	for _, m := range in.Release(model.Never, nil) {
//		drv.Apply(m)
//	}
//	drv.Finish()
//	divs := cmp.Divergences(twin.Filter{})
//
// The examples run both. docs/twin.md has the details.
package twin
