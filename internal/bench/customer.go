package bench

import (
	"context"
	"net/url"
)

// customer is a simulated customer of one chat, over the run's transport.
type customer interface {
	chat() chatRef
	send(ctx context.Context, text string) error
	// poll refreshes the transcript; where events are pushed (CometD,
	// wire) it does nothing.
	poll(ctx context.Context) error
	// close stops the customer's client; its chat goes on until someone
	// ends it.
	close()
}

// leaver is a customer that can end its chat itself, as dormant customers
// do when the run is over.
type leaver interface {
	leave(ctx context.Context) error
}

func (r *restCustomer) chat() chatRef { return r.ref }
func (r *restCustomer) close()        {}

func (c *cometCustomer) chat() chatRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ref
}
func (c *cometCustomer) poll(context.Context) error { return nil }

// asyncModeKey is the userData key that asks for an async chat.
const asyncModeKey = "GCTI_Chat_AsyncMode"

// chatRequest is what a customer asks for when it requests a chat.
type chatRequest struct {
	nickname, subject string
	// async asks for an async chat: it lives on with no agent.
	async bool
}

// form is the request as a REST requestChat form.
func (q chatRequest) form() url.Values {
	f := url.Values{"nickname": {q.nickname}}
	if q.subject != "" {
		f.Set("subject", q.subject)
	}
	for k, v := range q.userData() {
		f.Set("userData["+k+"]", v)
	}
	return f
}

// data is the request as the data of a CometD requestChat.
func (q chatRequest) data() map[string]any {
	d := map[string]any{"nickname": q.nickname}
	if q.subject != "" {
		d["subject"] = q.subject
	}
	if ud := q.userData(); ud != nil {
		d["userData"] = ud
	}
	return d
}

// userData is the request's user data, nil when it has none.
func (q chatRequest) userData() map[string]string {
	if !q.async {
		return nil
	}
	return map[string]string{asyncModeKey: "true"}
}

// openCustomer requests a chat as a new customer of the run's transport;
// index spreads customers over the wire transport's connections and chat
// servers. The customer's received events go to onEvents, when not nil.
func (r *runner) openCustomer(ctx context.Context, index int, q chatRequest, onEvents func([]event)) (customer, error) {
	switch {
	case r.flex != nil:
		c, err := r.flex.open(ctx, index, q, onEvents)
		if err != nil {
			return nil, err
		}
		return c, nil
	case r.comet != nil:
		c, err := r.comet.dial(ctx, onEvents)
		if err != nil {
			return nil, err
		}
		if err := c.open(ctx, q.data()); err != nil {
			c.close()
			return nil, err
		}
		return c, nil
	default:
		c := &restCustomer{c: r.rest, onEvents: onEvents}
		if err := c.open(ctx, q.form()); err != nil {
			return nil, err
		}
		return c, nil
	}
}
