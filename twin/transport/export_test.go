package transport

// retained returns the payload the broker holds as the retained message of
// topic, if any (tests wait for a will to be stored before subscribing).
func (b *Broker) retained(topic string) ([]byte, bool) {
	pk, ok := b.srv.Topics.Retained.Get(topic)
	if !ok {
		return nil, false
	}
	return pk.Payload, true
}

// kill simulates a crash of the client's process: the network connection
// is closed without DISCONNECT (so nothing more is acknowledged), no
// handler runs any more and the client does not reconnect.
func (c *Client) kill() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	c.killed = true
	if c.conn != nil {
		_ = c.conn.Close()
	}
}
