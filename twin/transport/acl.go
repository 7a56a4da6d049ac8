package transport

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lockstep-sim/lockstep/twin/wire"
)

// Role is what a broker user may do with the feed's topics (see Grant).
type Role string

// Roles. Topics are under BrokerConfig.Prefix (default lockstep/v1).
const (
	// RoleTwin may subscribe to feed topics ({prefix}/..., also as a
	// shared subscription) and publish nothing.
	RoleTwin Role = "twin"
	// RoleProduction may publish orders ({prefix}/orders/+) and label
	// decisions ({prefix}/labels/+/state); it is the only role besides
	// RoleAll that may publish label_state.
	RoleProduction Role = "production"
	// RoleDevice, for one node or device id, may publish that id's
	// topics only: {prefix}/lockers/{id}/event, {prefix}/nodes/{id}/status
	// (also as its last will) and {prefix}/scanners/{id}/scan.
	RoleDevice Role = "device"
	// RoleAll may publish and subscribe to every topic (simulators such
	// as hwsim, which publishes for every device and production).
	RoleAll Role = "all"
)

// Grant gives a user a role; ID is the node or device id of a RoleDevice
// grant and empty otherwise. A user may hold several grants (a gateway
// for several lockers holds one device grant per locker).
type Grant struct {
	Role Role
	ID   string
}

func (g Grant) String() string {
	if g.ID != "" {
		return string(g.Role) + " " + g.ID
	}
	return string(g.Role)
}

// rights is what one user may do, compiled from its grants.
type rights struct {
	all       bool
	subscribe bool     // feed topics under the prefix
	publish   []string // topic filters it may publish to
}

// compileGrants checks grants against users and turns them into rights.
func compileGrants(prefix string, users map[string]string, grants map[string][]Grant) (map[string]rights, error) {
	t := wire.Topics{Prefix: prefix}
	out := make(map[string]rights, len(grants))
	for user, gs := range grants {
		if _, ok := users[user]; !ok {
			return nil, fmt.Errorf("role for user %q, who has no password", user)
		}
		var r rights
		for _, g := range gs {
			if (g.Role == RoleDevice) != (g.ID != "") {
				return nil, fmt.Errorf("user %q: role %q: a device role takes one node or device id, the others none", user, g)
			}
			switch g.Role {
			case RoleAll:
				r.all = true
			case RoleTwin:
				r.subscribe = true
			case RoleProduction:
				r.publish = append(r.publish, t.Filter(wire.KindOrder), t.Filter(wire.KindLabelState))
			case RoleDevice:
				if !wire.ValidID(g.ID) {
					return nil, fmt.Errorf("user %q: device id %q is not a valid id (1..128 of [A-Za-z0-9._:-])", user, g.ID)
				}
				r.publish = append(r.publish, t.LockerEvent(g.ID), t.NodeStatus(g.ID), t.Scan(g.ID))
			default:
				return nil, fmt.Errorf("user %q: unknown role %q (want twin, production, device ID or all)", user, g.Role)
			}
		}
		out[user] = r
	}
	return out, nil
}

// passwordHook authenticates against a fixed user table (constant-time
// password comparison) and, when the broker has grants, allows each user
// only the topics its roles give it; without grants every authenticated
// user may use every topic.
type passwordHook struct {
	mqtt.HookBase
	srv    *mqtt.Server
	users  map[string][]byte
	rights map[string]rights // nil: no ACL
	prefix string            // "lockstep/v1/"
}

func (h *passwordHook) ID() string { return "lockstep-password-auth" }

func (h *passwordHook) Provides(b byte) bool {
	return b == mqtt.OnConnect || b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *passwordHook) authenticate(user string, password []byte) bool {
	want, ok := h.users[user]
	if !ok {
		want = []byte{0} // compare anyway: no timing difference for unknown users
	}
	return subtle.ConstantTimeCompare(want, password) == 1 && ok
}

// OnConnect refuses, with CONNACK 0x87 (not authorized), an authenticated
// user whose last will is on a topic it may not publish to (mochi checks
// publishes, not wills). Bad credentials are left to
// OnConnectAuthenticate, so the answer says nothing about the will of a
// stranger.
func (h *passwordHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if h.rights == nil || !pk.Connect.WillFlag {
		return nil
	}
	user := string(pk.Connect.Username)
	if !h.authenticate(user, pk.Connect.Password) || h.may(user, pk.Connect.WillTopic, true) {
		return nil
	}
	_ = h.srv.SendConnack(cl, packets.ErrNotAuthorized, false, nil)
	return fmt.Errorf("user %q: last will on %s: %w", user, pk.Connect.WillTopic, packets.ErrNotAuthorized)
}

func (h *passwordHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	return h.authenticate(string(cl.Properties.Username), pk.Connect.Password)
}

// OnACLCheck is asked for every publish (write) and for every
// subscription filter and delivered topic (read).
func (h *passwordHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.rights == nil || h.may(string(cl.Properties.Username), topic, write)
}

func (h *passwordHook) may(user, topic string, write bool) bool {
	r := h.rights[user]
	switch {
	case r.all:
		return true
	case write:
		return slices.ContainsFunc(r.publish, func(f string) bool { return MatchTopic(f, topic) })
	default: // a filter (possibly shared) or a topic, read
		if rest, ok := strings.CutPrefix(topic, "$share/"); ok {
			_, topic, _ = strings.Cut(rest, "/")
		}
		return r.subscribe && strings.HasPrefix(topic, h.prefix)
	}
}
