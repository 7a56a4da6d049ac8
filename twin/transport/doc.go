// Package transport carries lockstep's live feed over MQTT: an embedded
// broker (mochi-mqtt) for setups without one, and a client (paho's
// autopaho) for any broker, both tested against Mosquitto too.
//
// # Client
//
// Dial connects and keeps the connection up: it reconnects on its own,
// renews its subscriptions when the broker did not keep them, and Publish
// retries a QoS 1 message until the broker acknowledges it, across
// reconnects (so a message may arrive twice; receivers de-duplicate by
// msg_id). Delivery is at least once, end to end, when both ends keep
// their part:
//
//   - A consumer uses a stable client id (ClientIDForPath of its data
//     directory) and a persistent session (clean start off, SessionExpiry,
//     1h by default): while it is down, or after it crashed, the broker
//     queues its QoS 1 messages, and the next connection with that id, in
//     the same process or a new one, receives them.
//   - Its handler stores a message before it returns nil: the client
//     acknowledges (PUBACK) a message only then. A handler error leaves the
//     message unacknowledged; the client drops the connection and the
//     broker sends it again after the reconnect.
//   - Its subscriptions are declared in ClientConfig.Subscriptions, so
//     they are in place before a resumed session's queue arrives.
//   - A producer keeps each message until its PUBACK and resends it after
//     reconnecting (Client.Publish does).
//
// A sketch of a consumer (the twin journals each message before acking):
//
//	id, _ := transport.ClientIDForPath("lockstep-twin", dataDir)
//	creds, _ := transport.LoadCredentials("", transport.DefaultCredentialsEnv)
//	c, err := transport.Dial(ctx, transport.ClientConfig{
//		URL: "mqtts://broker:8883", ClientID: id,
//		Username: creds.Username, Password: creds.Password,
//		Subscriptions: []transport.Subscription{{
//			Filter: "lockstep/v1/#", QoS: 1,
//			Handler: func(m transport.Message) error { return journal.Append(m) },
//		}},
//	})
//
// # Broker
//
// StartBroker runs the embedded broker, on loopback unless it has users.
// Users come with optional roles (Grant: twin, production, device ID,
// all) that restrict what each may publish and subscribe; LoadUsersFile
// reads both from a file. A session holds up to MaxQueued messages. The
// broker keeps nothing across a restart, so a consumer in the broker's own
// process (a twin with an embedded broker) should take messages through
// BrokerConfig.OnPublish, which the broker calls before it acknowledges a
// message: then what a producer was told was received has been stored.
//
// The broker also works around three faults of mochi-mqtt v2.7.9 (see
// session.go and Broker.Close): a session takeover that lost the messages
// forwarded during it, a shutdown deadlock, and a shutdown that waited for
// clients reconnecting meanwhile.
//
// docs/feed.md describes the topics, the session behaviour, the roles and
// the credentials for operators.
package transport
