package ixn

import (
	"maps"
	"slices"
	"time"
)

// Queue treatments of the built-in router: what a workflow says in a chat
// while it waits, through ESP requests the caller sends to the chat server
// that holds the chat (docs/ixn.md, ESP): a greeting when the chat is
// submitted to a queue, and a "still waiting" notice every interval while
// it waits there.

// ChatService is the ESP service of chat servers, and ESPMessage its
// method the treatments use: a message from the chat's system party.
const (
	ChatService = "Chat"
	ESPMessage  = "Message"
)

// ServiceRequest is an ESP request, the body of Request3rdServer (Genesys'
// Envelope3rdServer and Parameters, as strings): Method of Service on the
// chat of InteractionID, at the server AppName (empty: the chat server the
// interaction names).
type ServiceRequest struct {
	InteractionID string            `json:"interactionId"`
	AppName       string            `json:"appName,omitempty"`
	Service       string            `json:"service"`
	Method        string            `json:"method"`
	Parameters    map[string]string `json:"parameters,omitempty"`
	UserData      map[string]string `json:"userData,omitempty"`
}

// waitingNotice is when a waiting interaction is next told it waits: At,
// for the wait that began at Placed (a new placement starts over).
type waitingNotice struct {
	Placed, At time.Time
}

// greet asks for the greeting of in's queue, if it has one.
func (e *Engine) greet(in *Interaction) {
	if q := e.queues[in.Queue]; q.Greeting != "" {
		e.say(in.ID, q.Greeting)
	}
}

func (e *Engine) say(id, text string) {
	e.out.services = append(e.out.services, ServiceRequest{InteractionID: id, Service: ChatService, Method: ESPMessage,
		Parameters: map[string]string{"MessageText": text}})
}

// waitingDue returns when queued interaction in is next told it waits, and
// false when its queue has no waiting notice.
func (e *Engine) waitingDue(in *Interaction) (time.Time, bool) {
	q := e.queues[in.Queue]
	if in.State != StateQueued || q.WaitingNotice == "" || q.WaitingInterval <= 0 {
		return time.Time{}, false
	}
	if w, ok := e.reminders[in.ID]; ok && w.Placed.Equal(in.PlacedAt) {
		return w.At, true
	}
	return in.PlacedAt.Add(q.WaitingInterval), true
}

// remind asks for the waiting notice of every interaction whose time has
// come, and forgets those that no longer wait.
func (e *Engine) remind(now time.Time) {
	for id := range e.reminders {
		if in := e.ixns[id]; in == nil || in.State != StateQueued {
			delete(e.reminders, id)
		}
	}
	if !e.anyWaitingNotice() {
		return
	}
	for _, id := range slices.Sorted(maps.Keys(e.ixns)) {
		in := e.ixns[id]
		at, ok := e.waitingDue(in)
		if !ok || now.Before(at) {
			continue
		}
		q := e.queues[in.Queue]
		e.say(id, q.WaitingNotice)
		e.reminders[id] = waitingNotice{Placed: in.PlacedAt, At: now.Add(q.WaitingInterval)}
	}
}

// waitingDeadlines passes the next waiting notice of every queued
// interaction to earliest.
func (e *Engine) waitingDeadlines(earliest func(time.Time)) {
	if !e.anyWaitingNotice() {
		return
	}
	for _, in := range e.ixns {
		if at, ok := e.waitingDue(in); ok {
			earliest(at)
		}
	}
}

func (e *Engine) anyWaitingNotice() bool {
	for _, q := range e.queues {
		if q.WaitingNotice != "" && q.WaitingInterval > 0 {
			return true
		}
	}
	return false
}
