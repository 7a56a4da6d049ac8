package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v3Client is a bare MQTT 3.1.1 client (paho.golang speaks only MQTT 5):
// enough to check that a device or consumer speaking 3.1.1 gets the same
// session behaviour from both brokers.
type v3Client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// dialV3 connects with MQTT 3.1.1 ("clean session" is the 3.1.1 name of
// clean start; a 3.1.1 session has no expiry) and returns the CONNACK's
// session present flag and return code.
func dialV3(t testing.TB, url, id, user, pass string, clean bool) (*v3Client, bool, byte) {
	t.Helper()
	u, _, _, err := ParseURL(url)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &v3Client{t: t, conn: conn, r: bufio.NewReader(conn)}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: 30,
			Username: []byte(user), UsernameFlag: user != "", Password: []byte(pass), PasswordFlag: pass != ""}}
	c.write(pk)
	ack := c.read()
	require.Equal(t, packets.Connack, ack.FixedHeader.Type)
	return c, ack.SessionPresent, ack.ReasonCode
}

func (c *v3Client) write(pk packets.Packet) {
	c.t.Helper()
	pk.ProtocolVersion = 4
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	default:
		err = fmt.Errorf("v3Client cannot write packet type %d", pk.FixedHeader.Type)
	}
	require.NoError(c.t, err)
	_, err = c.conn.Write(buf.Bytes())
	require.NoError(c.t, err)
}

// read reads one packet; a closed connection is returned as a packet of
// type 0.
func (c *v3Client) read() packets.Packet {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	hb, err := c.r.ReadByte()
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return packets.Packet{} // the broker closed the connection
	}
	require.NoError(c.t, err)
	pk := packets.Packet{ProtocolVersion: 4}
	require.NoError(c.t, pk.FixedHeader.Decode(hb))
	n, mul := 0, 1
	for {
		b, err := c.r.ReadByte()
		require.NoError(c.t, err)
		n += int(b&127) * mul
		if b&128 == 0 {
			break
		}
		mul *= 128
	}
	pk.FixedHeader.Remaining = n
	body := make([]byte, n)
	_, err = io.ReadFull(c.r, body)
	require.NoError(c.t, err)
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Disconnect:
	}
	require.NoError(c.t, err)
	return pk
}

func (c *v3Client) subscribe(filter string) byte {
	c.t.Helper()
	c.write(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: filter, Qos: 1}}})
	ack := c.read()
	require.Equal(c.t, packets.Suback, ack.FixedHeader.Type)
	require.Len(c.t, ack.ReasonCodes, 1)
	return ack.ReasonCodes[0]
}

// receive reads PUBLISH packets, acknowledging each, until until returns
// true for one; it returns the payloads read.
func (c *v3Client) receive(until func(payload string) bool) []string {
	c.t.Helper()
	var got []string
	for {
		pk := c.read()
		require.Equal(c.t, packets.Publish, pk.FixedHeader.Type, "connection closed after %d messages", len(got))
		if pk.FixedHeader.Qos > 0 {
			c.write(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
		}
		got = append(got, string(pk.Payload))
		if until(string(pk.Payload)) {
			return got
		}
	}
}

// TestV311PersistentSession: an MQTT 3.1.1 subscriber with clean session
// off gets, after its connection dropped, what was published meanwhile
// (session present); with clean session on it gets nothing of it. Same
// on the embedded broker and Mosquitto.
func TestV311PersistentSession(t *testing.T) {
	const n = 100
	for _, b := range brokers {
		for _, clean := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/clean=%v", b.name, clean), func(t *testing.T) {
				url := b.start(t)
				id := uniqueID("v3")
				first, _, rc := dialV3(t, url, id, "", "", clean)
				require.Zero(t, rc)
				require.Equal(t, byte(1), first.subscribe("lockstep/v1/lockers/+/event"))
				require.NoError(t, first.conn.Close()) // dropped, no DISCONNECT

				pub := dial(t, ClientConfig{URL: url})
				p := startProducer(t, pub, sessionTopic, n)
				p.wait(t)

				second, present, rc := dialV3(t, url, id, "", "", clean)
				require.Zero(t, rc)
				assert.Equal(t, !clean, present, "session present")
				if clean {
					require.Equal(t, byte(1), second.subscribe("lockstep/v1/lockers/+/event"))
					require.NoError(t, pub.Publish(context.Background(), sessionTopic, []byte("sentinel"), 1, false))
				}
				if clean {
					got := second.receive(func(p string) bool { return p == "sentinel" })
					assert.Equal(t, []string{"sentinel"}, got, "a clean session gets nothing queued")
					return
				}
				// every message, in some order (mochi resends a session's
				// queue ordered by the second it was queued in, not by
				// packet id)
				seen := map[string]bool{}
				second.receive(func(p string) bool { seen[p] = true; return len(seen) == n })
				for i := 1; i <= n; i++ {
					assert.True(t, seen[msg(i)], "message %d lost", i)
				}
			})
		}
	}
}
