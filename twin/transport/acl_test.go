package transport

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aclUsers are the users of startACLBroker; each password is "pw-" + user.
var aclUsers = map[string][]Grant{
	"twin":      {{Role: RoleTwin}},
	"prod-core": {{Role: RoleProduction}},
	"lkr-12":    {{Role: RoleDevice, ID: "lkr-12"}},
	"gw-1":      {{Role: RoleDevice, ID: "lkr-20"}, {Role: RoleDevice, ID: "scn-7"}},
	"hwsim":     {{Role: RoleAll}},
	"nobody":    nil, // a password, no role
}

func startACLBroker(t *testing.T) *Broker {
	t.Helper()
	users := map[string]string{}
	grants := map[string][]Grant{}
	for u, g := range aclUsers {
		users[u] = "pw-" + u
		if g != nil {
			grants[u] = g
		}
	}
	b, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", Users: users, Grants: grants})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func dialAs(t *testing.T, b *Broker, user string, cfg ClientConfig) (*Client, error) {
	t.Helper()
	cfg.URL, cfg.Username, cfg.Password = b.URL(), user, "pw-"+user
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

// TestACLPublish: each user publishes to topics it may and may not use. An
// allowed publish is acknowledged and reaches the twin; a forbidden one is
// refused with PUBACK 0x87 (not authorized) and reaches nobody: once a
// sentinel published after all of them has arrived, the twin holds exactly
// the allowed ones.
func TestACLPublish(t *testing.T) {
	b := startACLBroker(t)
	got := newCollector()
	_, err := dialAs(t, b, "twin", ClientConfig{Subscriptions: []Subscription{{Filter: "lockstep/v1/#", QoS: 1,
		Handler: func(m Message) error { got.handle(m); return nil }}}})
	require.NoError(t, err)

	tests := []struct {
		user, topic string
		ok          bool
	}{
		{"lkr-12", "lockstep/v1/lockers/lkr-12/event", true},
		{"lkr-12", "lockstep/v1/nodes/lkr-12/status", true},
		{"lkr-12", "lockstep/v1/scanners/lkr-12/scan", true},
		{"lkr-12", "lockstep/v1/lockers/lkr-13/event", false}, // another locker
		{"lkr-12", "lockstep/v1/nodes/lkr-13/status", false},
		{"lkr-12", "lockstep/v1/labels/L-1/state", false}, // only production decides
		{"lkr-12", "lockstep/v1/orders/mfc-north", false},
		{"lkr-12", "lockstep/v2/lockers/lkr-12/event", false}, // another prefix
		{"gw-1", "lockstep/v1/lockers/lkr-20/event", true},
		{"gw-1", "lockstep/v1/scanners/scn-7/scan", true},
		{"gw-1", "lockstep/v1/lockers/lkr-12/event", false},
		{"prod-core", "lockstep/v1/labels/L-1/state", true},
		{"prod-core", "lockstep/v1/orders/mfc-north", true},
		{"prod-core", "lockstep/v1/lockers/lkr-12/event", false},
		{"prod-core", "lockstep/v1/nodes/lkr-12/status", false},
		{"hwsim", "lockstep/v1/labels/L-2/state", true},
		{"hwsim", "lockstep/v1/lockers/lkr-99/event", true},
		{"twin", "lockstep/v1/labels/L-3/state", false}, // the twin only listens
		{"nobody", "lockstep/v1/lockers/lkr-12/event", false},
	}
	clients := map[string]*Client{}
	var want []string
	for _, tt := range tests {
		c := clients[tt.user]
		if c == nil {
			c, err = dialAs(t, b, tt.user, ClientConfig{})
			require.NoError(t, err)
			clients[tt.user] = c
		}
		payload := tt.user + " " + tt.topic
		err := c.Publish(context.Background(), tt.topic, []byte(payload), 1, false)
		if tt.ok {
			require.NoError(t, err, payload)
			want = append(want, payload)
			continue
		}
		require.Error(t, err, payload)
		assert.Contains(t, err.Error(), "0x87 (not authorized)", payload)
	}
	require.NoError(t, clients["prod-core"].Publish(context.Background(), "lockstep/v1/labels/S/state", []byte("sentinel"), 1, false))
	got.waitFor(t, "sentinel", 10*time.Second)
	received := got.payloads()
	received = received[:len(received)-1]
	sort.Strings(received)
	sort.Strings(want)
	assert.Equal(t, want, received, "exactly the allowed publishes reach the twin")
}

// TestACLSubscribe: only the twin role subscribes, and only to feed topics
// (shared subscriptions included).
func TestACLSubscribe(t *testing.T) {
	b := startACLBroker(t)
	tests := []struct {
		user, filter string
		ok           bool
	}{
		{"twin", "lockstep/v1/#", true},
		{"twin", "lockstep/v1/labels/+/state", true},
		{"twin", "$share/twin/lockstep/v1/lockers/+/event", true},
		{"twin", "#", false},
		{"twin", "+/v1/lockers/+/event", false},
		{"twin", "$SYS/#", false},
		{"twin", "lockstep/v2/#", false},
		{"lkr-12", "lockstep/v1/#", false},
		{"prod-core", "lockstep/v1/labels/+/state", false},
		{"nobody", "lockstep/v1/#", false},
		{"hwsim", "#", true},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.filter, func(t *testing.T) {
			_, err := dialAs(t, b, tt.user, ClientConfig{Subscriptions: []Subscription{{Filter: tt.filter, QoS: 1,
				Handler: func(Message) error { return nil }}}})
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "0x87 (not authorized)")
		})
	}
}

// TestACLWill: a device may leave its last will on its own status topic
// only; the broker refuses the connection otherwise (mochi does not check
// wills itself). Bad credentials stay a credentials error whatever the will.
func TestACLWill(t *testing.T) {
	b := startACLBroker(t)
	will := func(topic string) *Message {
		return &Message{Topic: topic, Payload: []byte("offline"), QoS: 1, Retain: true}
	}
	_, err := dialAs(t, b, "lkr-12", ClientConfig{Will: will("lockstep/v1/nodes/lkr-12/status")})
	require.NoError(t, err)
	_, err = dialAs(t, b, "lkr-12", ClientConfig{Will: will("lockstep/v1/nodes/lkr-13/status")})
	require.ErrorContains(t, err, "refused connection: reason 0x87")
	_, err = dialAs(t, b, "lkr-12", ClientConfig{Will: will("lockstep/v1/labels/L-1/state")})
	require.ErrorContains(t, err, "refused connection: reason 0x87")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Dial(ctx, ClientConfig{URL: b.URL(), Username: "lkr-12", Password: "wrong",
		Will: will("lockstep/v1/nodes/lkr-13/status")})
	require.ErrorContains(t, err, "refused connection: reason 0x86")
}

// TestACLV311: MQTT 3.1.1 has no negative PUBACK, so mochi disconnects a
// 3.1.1 client that publishes where it may not (the message goes nowhere)
// and acknowledges an allowed publish.
func TestACLV311(t *testing.T) {
	b := startACLBroker(t)
	c, _, rc := dialV3(t, b.URL(), "lkr-12-v3", "lkr-12", "pw-lkr-12", true)
	require.Zero(t, rc)
	c.write(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 1,
		TopicName: "lockstep/v1/lockers/lkr-12/event", Payload: []byte("ok")})
	assert.Equal(t, packets.Puback, c.read().FixedHeader.Type)
	c.write(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 2,
		TopicName: "lockstep/v1/labels/L-1/state", Payload: []byte("forged")})
	// mochi sends a DISCONNECT (which 3.1.1 does not have) and closes
	if next := c.read().FixedHeader.Type; next != 0 {
		assert.Equal(t, packets.Disconnect, next)
		assert.Zero(t, c.read().FixedHeader.Type, "connection closed")
	}
}

func TestBrokerGrantsValidation(t *testing.T) {
	users := map[string]string{"u": "pw"}
	tests := []struct {
		name   string
		users  map[string]string
		grants map[string][]Grant
		want   string
	}{
		{"unknown role", users, map[string][]Grant{"u": {{Role: "admin"}}}, "unknown role"},
		{"device without id", users, map[string][]Grant{"u": {{Role: RoleDevice}}}, "device role takes one"},
		{"twin with id", users, map[string][]Grant{"u": {{Role: RoleTwin, ID: "x"}}}, "device role takes one"},
		{"bad device id", users, map[string][]Grant{"u": {{Role: RoleDevice, ID: "a/b"}}}, "not a valid id"},
		{"grant for a stranger", users, map[string][]Grant{"v": {{Role: RoleTwin}}}, "has no password"},
		{"grants without users", nil, map[string][]Grant{}, "grants need users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := StartBroker(context.Background(), BrokerConfig{Listen: "127.0.0.1:0", Users: tt.users, Grants: tt.grants})
			require.ErrorContains(t, err, tt.want)
			assert.NotContains(t, err.Error(), "pw")
		})
	}
}

func TestLoadUsersFileRoles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(good, []byte(`# lockstep broker users
twin:s3cret-twin
prod-core:s3cret-prod
gw-1:s3cret-gw
role twin twin
role prod-core production
role gw-1 device lkr-20
role   gw-1   device   scn-7
`), 0o600))
	f, err := LoadUsersFile(good)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"twin": "s3cret-twin", "prod-core": "s3cret-prod", "gw-1": "s3cret-gw"}, f.Users)
	assert.Equal(t, map[string][]Grant{
		"twin":      {{Role: RoleTwin}},
		"prod-core": {{Role: RoleProduction}},
		"gw-1":      {{Role: RoleDevice, ID: "lkr-20"}, {Role: RoleDevice, ID: "scn-7"}},
	}, f.Grants)

	for name, content := range map[string]string{
		"short role":     "u:s3cret-x\nrole u\n",
		"long role":      "u:s3cret-x\nrole u device a b\n",
		"unknown role":   "u:s3cret-x\nrole u admin\n",
		"device no id":   "u:s3cret-x\nrole u device\n",
		"role for ghost": "u:s3cret-x\nrole v twin\n",
		"no colon":       "s3cret-x\n",
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		_, err := LoadUsersFile(p)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), p, "the error names the file")
		assert.NotContains(t, err.Error(), "s3cret", "the error never shows a password")
	}
}
