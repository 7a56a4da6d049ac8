// Package mqtttest runs a real Mosquitto broker for integration tests: on a
// free loopback port, with its own config file, stopped when the test ends.
// When the binary is absent the test is skipped with a message that says
// how to install it (go test -v shows it; a plain go test ./... only
// prints "ok"), unless LOCKSTEP_REQUIRE_MOSQUITTO=1 is set, as .ci/run
// sets it: then a missing mosquitto fails the test, so CI cannot pass
// without running it.
//
// Buffer collects the log or output of a broker, client or command running
// beside a test (it may be written concurrently).
//
// A sketch:
//
//	url := mqtttest.StartMosquitto(t, "max_queued_messages 100000\n")
//	c, err := transport.Dial(ctx, transport.ClientConfig{URL: url})
package mqtttest
