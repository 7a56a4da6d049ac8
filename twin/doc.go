// Package twin runs the core (package model) in live shadow mode beside
// production lockers and reports where production and the core disagree.
//
// The pipeline, one message at a time:
//
//	receive (MQTT or capture) -> journal (bbolt, before the MQTT ack)
//	  -> wire.Decode (rejects: quarantine, counted by reason)
//	  -> de-duplicate by msg_id and (source, seq); track sequence gaps
//	  -> reorder buffer: released in (event instant, lifecycle rank, source, seq) order once
//	     a message Window later has arrived; later messages applied at once, flagged late
//	  -> driver: fire the core's timers due by the message's instant, map the
//	     message to core events (order, scans, slot, pickup, node status)
//	  -> compare: production's label_state reports against the core's
//	     provenance chain, reroutes and refunds, within a Tolerance
//
// The clock is event time (the messages' instants) so a replay of a capture
// reproduces the live run exactly; a wall-clock ticker can advance it while
// the feed is quiet (Twin.Advance). State is a pure function of the journal:
// Runner.Restore re-applies it after a restart, starting from the latest
// snapshot (Twin.MarshalBinary, stored in the journal file every
// Runner.SnapshotEvery records) so restart time stays bounded.
//
// A sketch of a durable replay (what `lockstep twin --replay` does):
//
//	tw, _ := twin.New(twin.Config{Network: net})
//	j, _ := twin.OpenJournal(dir, true)
//	r := twin.NewRunner(tw, j)
//	r.SnapshotEvery = 100000
//	_ = r.Restore()                     // snapshot + the records after it
//	_, _ = r.Replay(ctx, capture, 512) // skips what the journal already has
//	tw.Finish()
//	_ = tw.WriteReport(os.Stdout)
//
// docs/twin.md has the details.
package twin
