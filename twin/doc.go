// Package twin runs the core in live shadow mode beside production lockers.
//
// It will hold the feed adapters (MQTT via an embedded or external broker, and
// replay of newline-delimited JSON captures), ordering and de-duplication of
// hardware messages, the wall-clock driver of the core, divergence detection
// between production's decisions and the core's, the durable journal and the
// HTTP API. Not implemented yet: see the open issue "twin: live shadow mode".
package twin
