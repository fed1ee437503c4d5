package bench

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/parley-chat/parley/internal/wire"
)

// flexPath is the chat server's customer-side wire endpoint, where a web API
// speaks for its customers.
const flexPath = "/wire/flex"

// flexCustomers are the customers of the wire transport: they speak the
// chat server's customer side themselves, sending what a web API sends on
// their behalf, with no web API in between. Chats are spread over the chat
// servers by index, as no web API picks one; many customers share a
// connection, whose pushes (EventSessionInfo) are routed by session id. Its
// methods are safe for concurrent use.
type flexCustomers struct {
	pool    *wirePool
	service string
	servers []string // the chat servers' names, sorted
	byID    sync.Map // session id -> *flexCustomer
}

// newFlexCustomers returns the customers of cfg's sessions, active and
// dormant, CustomersPerConn per connection (0: all of a chat server's on
// one connection).
func newFlexCustomers(cfg Config) *flexCustomers {
	f := &flexCustomers{service: cfg.Service, servers: slices.Sorted(maps.Keys(cfg.ChatServers))}
	perServer := (cfg.Sessions + cfg.Dormant + len(f.servers) - 1) / max(1, len(f.servers))
	per := max(1, cmp.Or(cfg.CustomersPerConn, perServer))
	// A queue that holds a burst of every customer's request does not count
	// a busy chat server as a slow consumer.
	f.pool = newWirePool(flexPath, cfg.ChatServers, cfg.Credentials, (perServer+per-1)/per, 4*per, wire.HandlerFunc(f.serve))
	return f
}

// loginBody is RequestLogin as a web API sends it for Request Chat.
type loginBody struct {
	Service  string            `json:"service"`
	Nickname string            `json:"nickname"`
	Subject  string            `json:"subject,omitempty"`
	UserData map[string]string `json:"userData,omitempty"`
}

// loggedIn is the part of the reply to RequestLogin a customer reads.
type loggedIn struct {
	SessionID    string `json:"sessionId"`
	UserID       string `json:"userId"`
	SecureKey    string `json:"secureKey"`
	Alias        string `json:"alias"`
	NextPosition int    `json:"nextPosition"`
}

// ref is the chat in, as a customer keeps it.
func (in loggedIn) ref() chatRef {
	return chatRef{id: in.SessionID, user: in.UserID, key: in.SecureKey, alias: in.Alias}
}

// party is the customer's credentials, the start of each of its requests.
func (r chatRef) party() partyBody {
	return partyBody{SessionID: r.id, UserID: r.user, SecureKey: r.key}
}

// open creates a chat as customer index, and subscribes to its events from
// the first one the customer has not seen, as a web API does for a CometD
// customer.
func (f *flexCustomers) open(ctx context.Context, index int, q chatRequest, onEvents func([]event)) (*flexCustomer, error) {
	// Customer index is the (index / servers)th of its chat server.
	conn, err := f.pool.conn(ctx, f.servers[index%len(f.servers)], index/len(f.servers))
	if err != nil {
		return nil, err
	}
	var in loggedIn
	if err := wireRequest(ctx, conn, wire.RequestLogin, loginBody{Service: f.service, Nickname: q.nickname,
		Subject: q.subject, UserData: q.userData()}, &in); err != nil {
		return nil, fmt.Errorf("bench: login: %w", err)
	}
	c := &flexCustomer{f: f, conn: conn, onEvents: onEvents, ref: in.ref()}
	f.byID.Store(in.SessionID, c)
	sub := c.ref.party()
	sub.TranscriptPosition = in.NextPosition
	if err := wireRequest(ctx, conn, wire.RequestSubscribe, sub, nil); err != nil {
		c.close()
		_ = c.leave(ctx) // best effort: the chat is of no use unsubscribed
		return nil, fmt.Errorf("bench: subscribe: %w", err)
	}
	return c, nil
}

// serve takes what the chat server sends unasked: the pushes, routed to
// their customer, and the liveness checks of subscribed customers
// (RequestCheckParty), answered for every customer still in the run.
func (f *flexCustomers) serve(_ context.Context, c *wire.Conn, m wire.Message) {
	switch m.Name {
	case wire.EventSessionInfo:
		p, ok := decodePush(m, fromAgent)
		if !ok {
			return
		}
		if v, ok := f.byID.Load(p.SessionID); ok {
			if cust := v.(*flexCustomer); cust.onEvents != nil {
				cust.onEvents(p.Messages)
			}
		}
	case wire.RequestCheckParty:
		var ref partyBody
		if err := m.Bind(&ref); err != nil {
			_ = c.ReplyError(m, err)
			return
		}
		_, alive := f.byID.Load(ref.SessionID)
		_ = c.Reply(m, wire.EventAck, checked{Connected: alive})
	default:
		if m.Ref != 0 {
			_ = c.ReplyError(m, wire.Errorf(wire.CodeNotAllowed, "%s is not served by the load generator", m.Name))
		}
	}
}

// checked is the reply to RequestCheckParty.
type checked struct {
	Connected bool `json:"connected"`
}

// close closes every connection and waits for their goroutines.
func (f *flexCustomers) close() { f.pool.close() }

// flexCustomer is one customer of the wire transport. Its methods are
// called from one goroutine at a time.
type flexCustomer struct {
	f        *flexCustomers
	conn     *wire.Conn
	ref      chatRef
	onEvents func([]event)
}

func (c *flexCustomer) chat() chatRef { return c.ref }

// send sends text (RequestMessage).
func (c *flexCustomer) send(ctx context.Context, text string) error {
	body := c.ref.party()
	body.Text = text
	return wireRequest(ctx, c.conn, wire.RequestMessage, body, nil)
}

// poll does nothing: events are pushed.
func (c *flexCustomer) poll(context.Context) error { return nil }

// leave logs the customer out (RequestLogout).
func (c *flexCustomer) leave(ctx context.Context) error {
	return wireRequest(ctx, c.conn, wire.RequestLogout, c.ref.party(), nil)
}

// close stops routing the chat's pushes to the customer, who then counts
// as gone if the chat server asks.
func (c *flexCustomer) close() { c.f.byID.Delete(c.ref.id) }

var (
	_ customer = (*flexCustomer)(nil)
	_ leaver   = (*flexCustomer)(nil)
	_ leaver   = (*restCustomer)(nil)
)
