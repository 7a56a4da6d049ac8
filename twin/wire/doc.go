// Package wire is the live-feed contract shared by twin (shadow mode) and
// hwsim (virtual hardware): MQTT topics, the JSON envelope and its typed
// bodies, strict decoding with machine-readable rejection reasons, the
// newline-delimited JSON capture format, and the JSON Schema files.
//
// The package is pure: no network, no clock, no goroutines. The prose
// contract is docs/feed.md; the schemas are in SchemaFS (mirrored in
// docs/schema/).
//
// Producers build an Envelope, Encode it and publish it on Topics.TopicFor
// with QoS 1 (retained when Retained(type)). Consumers call Decode with the
// topic and payload; a rejected payload yields a *DecodeError whose Reason
// is a short code to count and quarantine by.
package wire
