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

// ESPMessage is the ESP method of the Chat service the treatments use: a
// message from the chat's system party.
const ESPMessage = "Message"

// ServiceRequest is an ESP request for the caller to send: Method of the
// Chat service, with Parameters, on the chat of InteractionID.
type ServiceRequest struct {
	InteractionID string
	Method        string
	Parameters    map[string]string
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
	e.out.services = append(e.out.services, ServiceRequest{InteractionID: id, Method: ESPMessage,
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
