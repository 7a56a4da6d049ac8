package transport

import (
	"log/slog"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// sessionHook is the embedded broker's hook for what mochi-mqtt v2.7.9
// does not do itself:
//
//   - It closes a race that loses messages when a session is resumed while
//     messages for it are being published. mochi's session takeover copies
//     the old connection's in-flight messages to the new one, clears the
//     old one's and only then makes the new connection the session's owner;
//     a message forwarded in between is added to the old connection, whose
//     messages are then discarded. The broker acknowledged it to the
//     producer, so it was lost for good (1–28 of 200 messages in 3 of 8
//     runs of TestHandlerErrorMeansNoAck under -race before this hook).
//     sessionGate keeps forwarding and takeovers apart.
//   - It hands published messages to BrokerConfig.OnPublish before the
//     broker acknowledges them.
type sessionHook struct {
	mqtt.HookBase
	srv     *mqtt.Server
	log     *slog.Logger
	consume func(Message) error // nil: none
	mu      sync.Mutex          // one consume call at a time, as a subscription's handler
	gate    sessionGate
}

func newSessionHook(srv *mqtt.Server, consume func(Message) error, log *slog.Logger) *sessionHook {
	h := &sessionHook{srv: srv, log: log, consume: consume}
	h.gate.init()
	return h
}

func (h *sessionHook) ID() string { return "lockstep-session" }

func (h *sessionHook) Provides(b byte) bool {
	switch b {
	case mqtt.OnSessionEstablish, mqtt.OnPacketEncode, mqtt.OnPublish, mqtt.OnPublished,
		mqtt.OnWill, mqtt.OnWillSent, mqtt.OnDisconnect:
		return true
	}
	return false
}

// OnSessionEstablish runs right before mochi looks for a session to take
// over; the takeover ends when the new connection's CONNACK is encoded,
// after mochi made it the session's owner.
func (h *sessionHook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	h.gate.beginTakeover(cl)
}

func (h *sessionHook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Connack {
		h.gate.endTakeover(cl)
	}
	return pk
}

// OnPublish hands the message to the consumer, if any, and then holds the
// gate until mochi has forwarded the message (OnPublished, or OnDisconnect
// when mochi gives up on the way, failing to write the PUBACK).
func (h *sessionHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if h.consume != nil {
		if err := h.deliver(pk); err != nil {
			return pk, h.refuse(cl, pk, err)
		}
	}
	h.gate.beginForward(cl)
	return pk, nil
}

func (h *sessionHook) OnPublished(cl *mqtt.Client, _ packets.Packet) { h.gate.endForward(cl) }

// OnWill holds the gate while mochi forwards a last will (a will with a
// delay is forwarded later, outside the gate; lockstep's clients set none).
func (h *sessionHook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if will.WillDelayInterval == 0 {
		h.gate.beginForward(cl)
	}
	return will, nil
}

func (h *sessionHook) OnWillSent(cl *mqtt.Client, pk packets.Packet) {
	h.gate.endForward(cl)
	if h.consume != nil {
		if err := h.deliver(pk); err != nil {
			h.log.Error("publish consumer failed on a last will (lost)", "client", cl.ID, "topic", pk.TopicName, "err", err)
		}
	}
}

func (h *sessionHook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) { h.gate.release(cl) }

func (h *sessionHook) deliver(pk packets.Packet) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.consume(Message{Topic: pk.TopicName, Payload: pk.Payload, QoS: pk.FixedHeader.Qos, Retain: pk.FixedHeader.Retain})
}

// refuse answers a message the consumer failed on so that its producer
// sends it again.
func (h *sessionHook) refuse(cl *mqtt.Client, pk packets.Packet, err error) error {
	switch {
	case pk.FixedHeader.Qos == 0:
		h.log.Warn("publish consumer failed; QoS 0 message dropped", "client", cl.ID, "topic", pk.TopicName, "err", err)
		return packets.ErrRejectPacket
	case cl.Properties.ProtocolVersion >= 5:
		h.log.Warn("publish consumer failed; refusing the message (PUBACK 0x80)", "client", cl.ID, "topic", pk.TopicName, "err", err)
		return packets.ErrUnspecifiedError
	default: // MQTT 3.1.1 has no negative PUBACK: disconnect, the client resends
		h.log.Warn("publish consumer failed; disconnecting the MQTT 3 client so that it resends", "client", cl.ID, "topic", pk.TopicName, "err", err)
		_ = h.srv.DisconnectClient(cl, packets.ErrUnspecifiedError)
		return packets.ErrRejectPacket
	}
}

// sessionGate is a readers-writer gate between forwarding messages
// (readers, many at once) and session takeovers (one at a time, preferred
// over new readers so that a steady stream of publishes cannot starve a
// reconnecting subscriber). Unlike a sync.RWMutex it records who holds
// it, so that a connection that goes away mid-way releases what it held,
// and it can be closed (broker shutdown) to release every waiter.
type sessionGate struct {
	mu       sync.Mutex
	cond     *sync.Cond
	forwards map[*mqtt.Client]int // forwards in progress per publishing connection
	readers  int
	writer   *mqtt.Client // the connection taking over a session
	waiting  int          // takeovers waiting for the gate
	closed   bool
}

func (g *sessionGate) init() {
	g.cond = sync.NewCond(&g.mu)
	g.forwards = map[*mqtt.Client]int{}
}

func (g *sessionGate) beginForward(cl *mqtt.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// A connection that still holds the gate does not wait: it is sending
	// its will after a forward mochi gave up on (a failed PUBACK write),
	// which release frees only after the will.
	for (g.writer != nil || g.waiting > 0) && g.forwards[cl] == 0 && !g.closed {
		g.cond.Wait()
	}
	g.forwards[cl]++
	g.readers++
}

func (g *sessionGate) endForward(cl *mqtt.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.forwards[cl] == 0 {
		return
	}
	if g.forwards[cl]--; g.forwards[cl] == 0 {
		delete(g.forwards, cl)
	}
	if g.readers--; g.readers == 0 {
		g.cond.Broadcast()
	}
}

func (g *sessionGate) beginTakeover(cl *mqtt.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting++
	for (g.writer != nil || g.readers > 0) && !g.closed {
		g.cond.Wait()
	}
	g.waiting--
	if !g.closed {
		g.writer = cl
	}
}

func (g *sessionGate) endTakeover(cl *mqtt.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.writer == cl {
		g.writer = nil
		g.cond.Broadcast()
	}
}

// release drops whatever cl still holds (its connection is gone).
func (g *sessionGate) release(cl *mqtt.Client) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := g.forwards[cl]; n > 0 {
		delete(g.forwards, cl)
		g.readers -= n
	}
	if g.writer == cl {
		g.writer = nil
	}
	g.cond.Broadcast()
}

func (g *sessionGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	g.cond.Broadcast()
}
