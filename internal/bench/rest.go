package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// envelope is the part of a Chat API v2 reply (REST, or CometD data) the
// generator reads.
type envelope struct {
	StatusCode   int     `json:"statusCode"`
	Alias        string  `json:"alias"`
	ChatEnded    bool    `json:"chatEnded"`
	ChatID       string  `json:"chatId"`
	UserID       string  `json:"userId"`
	SecureKey    string  `json:"secureKey"`
	NextPosition int     `json:"nextPosition"`
	Messages     []event `json:"messages"`
	Errors       []struct {
		Code   int    `json:"code"`
		Advice string `json:"advice"`
	} `json:"errors"`
}

// event is one transcript event as both the Chat API and the chat server's
// pushes carry it.
type event struct {
	Type string `json:"type"`
	Text string `json:"text"`
	From struct {
		Type string `json:"type"`
	} `json:"from"`
}

// apiError is a reply with a statusCode other than 0.
type apiError struct {
	status, code int
	advice       string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("statusCode %d, error %d: %s", e.status, e.code, e.advice)
}

// check returns the envelope's error, if it carries one.
func (e *envelope) check() error {
	if e.StatusCode == 0 {
		return nil
	}
	err := &apiError{status: e.StatusCode}
	if len(e.Errors) > 0 {
		err.code, err.advice = e.Errors[0].Code, e.Errors[0].Advice
	}
	return err
}

// chatRef is what a customer must send with every call on its chat.
type chatRef struct {
	id, user, key, alias string
}

// restClient posts Chat API v2 calls to one web API service.
type restClient struct {
	base string // http://host:port/genesys/2/chat/{service}
	http *http.Client
}

// newRESTClient returns a client of service at target. Connections are
// kept alive, as a browser keeps them; maxConns bounds them, and with them
// the file descriptors of both sides.
func newRESTClient(target, service string, maxConns int) *restClient {
	tr := &http.Transport{MaxIdleConns: maxConns, MaxIdleConnsPerHost: maxConns, MaxConnsPerHost: maxConns,
		IdleConnTimeout: time.Minute}
	return &restClient{base: strings.TrimRight(target, "/") + "/genesys/2/chat/" + url.PathEscape(service),
		http: &http.Client{Transport: tr, Timeout: requestTimeout}}
}

// post sends one call and decodes its envelope; an error reply is an error.
func (c *restClient) post(ctx context.Context, path string, form url.Values) (*envelope, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("bench: POST %s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
	return &env, env.check()
}

// close releases the client's idle connections.
func (c *restClient) close() { c.http.CloseIdleConnections() }

// restCustomer is one customer over REST short polling. Its methods are
// called from one goroutine at a time.
type restCustomer struct {
	c        *restClient
	ref      chatRef
	pos      int
	onEvents func([]event)
	ended    bool
}

// open requests a chat with the fields of form.
func (r *restCustomer) open(ctx context.Context, form url.Values) error {
	env, err := r.c.post(ctx, "", form)
	if err != nil {
		return err
	}
	r.ref = chatRef{id: env.ChatID, user: env.UserID, key: env.SecureKey, alias: env.Alias}
	r.take(env)
	return nil
}

// send sends text; the reply carries the events since the last position.
func (r *restCustomer) send(ctx context.Context, text string) error {
	return r.call(ctx, "/send", "message", text)
}

// poll refreshes from the last position.
func (r *restCustomer) poll(ctx context.Context) error { return r.call(ctx, "/refresh") }

// leave leaves the chat.
func (r *restCustomer) leave(ctx context.Context) error { return r.call(ctx, "/disconnect") }

func (r *restCustomer) call(ctx context.Context, op string, kv ...string) error {
	f := url.Values{"userId": {r.ref.user}, "secureKey": {r.ref.key}, "alias": {r.ref.alias},
		"transcriptPosition": {strconv.Itoa(r.pos)}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	env, err := r.c.post(ctx, "/"+url.PathEscape(r.ref.id)+op, f)
	if err != nil {
		if env != nil && env.ChatEnded {
			r.ended = true // an error that ends the chat for the customer
		}
		return err
	}
	r.take(env)
	return nil
}

// chatEnded reports whether the customer was told its chat ended.
func (r *restCustomer) chatEnded() bool { return r.ended }

// take moves the customer on past env's events.
func (r *restCustomer) take(env *envelope) {
	if env.Alias != "" {
		r.ref.alias = env.Alias
	}
	if env.NextPosition > 0 {
		r.pos = env.NextPosition
	}
	r.ended = r.ended || env.ChatEnded
	if len(env.Messages) > 0 && r.onEvents != nil {
		r.onEvents(env.Messages)
	}
}
