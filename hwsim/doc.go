// Package hwsim will provide virtual scanners, lockers and nodes that emit the
// real feed format over MQTT, driven by the simulation, with injected faults
// (duplicates, reordering, delays, drops, clock skew, malformed payloads).
// Not implemented yet: see the open issue "The feed wire contract and hwsim".
package hwsim
