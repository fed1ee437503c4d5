package bayeux

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// connectionTypes are the transports the server offers, best first.
var connectionTypes = []string{"websocket", "long-polling", "callback-polling"}

// hold is a long-polling connect to wait for.
type hold struct {
	c       *Client
	p       *pending
	timeout time.Duration
}

// process serves the messages of one body or frame, in order, and returns
// the encoded replies and the long-polling connects to hold. conn is the
// websocket they came on, nil for long-polling; addr is the client's IP
// address.
func (s *Server) process(ctx context.Context, msgs []*message, conn *wsConn, addr string) ([][]byte, []hold) {
	var out [][]byte
	var holds []hold
	for _, m := range msgs {
		if m.err == nil && m.Channel == "/meta/connect" {
			replies, h := s.connect(m, conn)
			out = append(out, replies...)
			if h.p != nil {
				holds = append(holds, h)
			}
			continue
		}
		out = append(out, s.handle(ctx, m, addr).encode())
	}
	return out, holds
}

// handle serves one message other than /meta/connect and returns its reply.
func (s *Server) handle(ctx context.Context, m *message, addr string) *reply {
	if m.err != nil {
		s.log.Debug("bayeux: bad message", "channel", m.Channel, "err", m.err)
		return errorReply(m, m.err)
	}
	switch m.Channel {
	case "/meta/handshake":
		return s.handshake(m, addr)
	case "/meta/subscribe":
		return s.subscribe(m, true)
	case "/meta/unsubscribe":
		return s.subscribe(m, false)
	case "/meta/disconnect":
		return s.disconnect(m)
	}
	if isMeta(m.Channel) {
		return errorReply(m, errorf(codeBadMessage, "unknown meta channel"))
	}
	return s.publish(ctx, m)
}

// advice is the advice of handshake and connect replies.
func (s *Server) advice() *advice {
	return &advice{
		Reconnect:   "retry",
		Interval:    ms(s.opts.Interval),
		Timeout:     ms(s.opts.Timeout),
		MaxInterval: ms(s.opts.MaxInterval),
	}
}

// handshake registers a new client.
func (s *Server) handshake(m *message, addr string) *reply {
	if len(m.SupportedConnectionTypes) > 0 && !slices.ContainsFunc(m.SupportedConnectionTypes, supported) {
		r := errorReply(m, errorf(codeBadMessage, "no supported connection type"))
		r.SupportedConnectionTypes, r.Advice = connectionTypes, &advice{Reconnect: "none"}
		return r
	}
	if !s.extFits(m.Ext) {
		return errorReply(m, errExtTooLarge)
	}
	c, e := s.register(addr)
	if e != nil {
		if e == errTooManyClients {
			s.opts.Refused(RefusedClients)
		}
		r := errorReply(m, e)
		r.Advice = &advice{Reconnect: "handshake", Interval: ms(time.Second)}
		return r
	}
	c.setExt(m.Ext)
	return &reply{
		Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: true, Version: "1.0",
		SupportedConnectionTypes: connectionTypes, Advice: s.advice(),
	}
}

func supported(connectionType string) bool { return slices.Contains(connectionTypes, connectionType) }

// connect serves a /meta/connect: it returns the replies to send now, or a
// long-polling connect to hold. A websocket connect is held by its client.
func (s *Server) connect(m *message, conn *wsConn) ([][]byte, hold) {
	if !supported(m.ConnectionType) {
		return [][]byte{errorReply(m, errorf(codeBadMessage, "missing or unsupported connectionType")).encode()}, hold{}
	}
	c := s.lookup(m.ClientID)
	if c == nil {
		return [][]byte{errorReply(m, errUnknownClient).encode()}, hold{}
	}
	timeout := s.holdFor(m)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return [][]byte{errorReply(m, errUnknownClient).encode()}, hold{}
	}
	if old := c.pending; old != nil {
		c.releaseLocked(old, c.connectReply(old.id)) // replaced: its request may be dead, so no deliveries
	}
	if !c.connected {
		c.connected, timeout = true, 0 // the first connect returns at once
	}
	c.lastSeen = s.opts.Now()
	if conn != nil {
		return c.holdWSLocked(conn, m.ID, timeout), hold{}
	}
	c.ws = nil
	if timeout <= 0 || len(c.queue) > 0 {
		out := c.queue
		c.queue = nil
		return append(out, c.connectReply(m.ID)), hold{}
	}
	p := &pending{id: m.ID, done: make(chan struct{})}
	c.pending = p
	return nil, hold{c: c, p: p, timeout: timeout}
}

// holdFor returns how long to hold the connect m: Timeout, or less when the
// client asks for less in its advice (as the official client does to learn
// at once that it is connected again).
func (s *Server) holdFor(m *message) time.Duration {
	timeout := s.opts.Timeout
	if m.Advice != nil && m.Advice.Timeout != nil {
		if t := *m.Advice.Timeout; t < float64(ms(timeout)) {
			timeout = time.Duration(max(t, 0) * float64(time.Millisecond))
		}
	}
	return timeout
}

// subscribe adds (on) or removes the client's subscriptions.
func (s *Server) subscribe(m *message, on bool) *reply {
	c := s.lookup(m.ClientID)
	if c == nil {
		return errorReply(m, errUnknownClient)
	}
	chans, e := parseSubscription(m.Subscription)
	if e == nil && on {
		e = s.allowedChannels(chans)
	}
	if e != nil {
		r := errorReply(m, e)
		r.Subscription = m.Subscription
		return r
	}
	s.mu.Lock()
	if s.clients[c.id] == c {
		for _, ch := range chans {
			s.setSubscribed(c, ch, on)
		}
	}
	s.mu.Unlock()
	return &reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: true, Subscription: m.Subscription}
}

// setSubscribed subscribes or unsubscribes c to ch. s.mu must be held.
func (s *Server) setSubscribed(c *Client, ch string, on bool) {
	if on {
		s.subs.add(ch, c)
		c.subs[ch] = struct{}{}
		return
	}
	s.subs.remove(ch, c)
	delete(c.subs, ch)
}

// parseSubscription reads a subscription field: one channel or an array.
func parseSubscription(raw json.RawMessage) ([]string, *Error) {
	var chans []string
	if len(raw) > 0 && raw[0] == '"' {
		chans = make([]string, 1)
		raw = append(append([]byte{'['}, raw...), ']')
	}
	if len(raw) == 0 || json.Unmarshal(raw, &chans) != nil || len(chans) == 0 {
		return nil, errorf(codeBadMessage, "missing or invalid subscription")
	}
	for _, ch := range chans {
		if !validChannel(ch) {
			return nil, &Error{Code: codeBadMessage, Args: []string{ch}, Message: "invalid channel"}
		}
		if isMeta(ch) {
			return nil, &Error{Code: codeForbidden, Args: []string{ch}, Message: "meta channels cannot be subscribed to"}
		}
	}
	return chans, nil
}

// allowedChannels refuses a subscription to any channel outside
// Options.Channels.
func (s *Server) allowedChannels(chans []string) *Error {
	for _, ch := range chans {
		if !s.channelAllowed(ch) {
			s.opts.Refused(RefusedChannel)
			return errChannelRefused(ch)
		}
	}
	return nil
}

// extFits reports whether ext, encoded, is within MaxExtSize; a larger
// one is counted as refused.
func (s *Server) extFits(ext map[string]any) bool {
	if ext == nil {
		return true
	}
	b, err := json.Marshal(ext)
	if err == nil && len(b) <= s.opts.MaxExtSize {
		return true
	}
	s.opts.Refused(RefusedExt)
	return false
}

// disconnect removes the client.
func (s *Server) disconnect(m *message) *reply {
	c := s.lookup(m.ClientID)
	if c == nil {
		return errorReply(m, errUnknownClient)
	}
	if s.extFits(m.Ext) {
		c.setExt(m.Ext)
	}
	s.remove(c, ErrDisconnected)
	return &reply{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: true}
}

// publish serves a publish: a service channel goes to its ServiceFunc,
// any other channel to its subscribers.
func (s *Server) publish(ctx context.Context, m *message) *reply {
	c := s.lookup(m.ClientID)
	switch {
	case c == nil:
		return errorReply(m, errUnknownClient)
	case isWild(m.Channel):
		return errorReply(m, errorf(codeBadMessage, "cannot publish to a wildcard channel"))
	case len(m.Data) == 0:
		return errorReply(m, errorf(codeBadMessage, "missing data"))
	case !s.channelAllowed(m.Channel):
		s.opts.Refused(RefusedChannel)
		return errorReply(m, errChannelRefused(m.Channel))
	}
	if isService(m.Channel) {
		if err := s.callService(ctx, c, m); err != nil {
			return errorReply(m, asError(err))
		}
	} else {
		s.broadcast(m.Channel, m.Data)
	}
	return &reply{Channel: m.Channel, ID: m.ID, Successful: true}
}

// callService runs the ServiceFunc of m's channel for c.
func (s *Server) callService(ctx context.Context, c *Client, m *message) error {
	f := s.service(m.Channel)
	if f == nil {
		return &Error{Code: codeNoService, Args: []string{m.Channel}, Message: "no service on channel"}
	}
	c.svcMu.Lock()
	defer c.svcMu.Unlock()
	return f(ctx, c, m.Channel, m.Data)
}

// broadcast delivers data on channel to every subscriber.
func (s *Server) broadcast(channel string, data json.RawMessage) {
	s.mu.RLock()
	to := s.subs.match(channel)
	s.mu.RUnlock()
	msg := encode(delivery{Channel: channel, Data: data})
	for _, c := range to {
		_ = c.deliver(msg) // a gone or overflowing subscriber is no concern of the publisher
	}
}
