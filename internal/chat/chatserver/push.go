package chatserver

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// mobileSub is a client party's permanent push subscription (mobile or
// custom-http push, the seed's third mode): no web API ever ends it, so the
// party stays on flex-push-timeout for as long as it is in the session, and
// its pushes follow whichever web API connection is there.
type mobileSub struct {
	dev pushDevice
	// from is the first event not yet pushed on a live connection: what a
	// web API that takes the subscription over is sent first.
	from int
}

// pushRegistry tracks the web API (flex) connections and the sessions
// holding a permanent push subscription no connection carries.
type pushRegistry struct {
	mu      sync.Mutex // guards flex and orphans
	flex    map[*peer]struct{}
	orphans map[string]struct{} // session ids
}

// addFlex records a new web API connection and returns the orphaned
// sessions, which it is now to take over.
func (r *pushRegistry) addFlex(p *peer) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flex == nil {
		r.flex = make(map[*peer]struct{})
	}
	r.flex[p] = struct{}{}
	ids := make([]string, 0, len(r.orphans))
	for id := range r.orphans {
		ids = append(ids, id)
	}
	r.orphans = nil
	return ids
}

// pick returns a live web API connection, forgetting those that ended, or
// nil after recording session id as orphaned.
func (r *pushRegistry) pick(id string) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.flex {
		if p.conn.Err() == nil {
			return p
		}
		delete(r.flex, p)
	}
	if r.orphans == nil {
		r.orphans = make(map[string]struct{})
	}
	r.orphans[id] = struct{}{}
	return nil
}

// watchFlex makes p a web API connection: the permanent push subscriptions
// no connection carries move to it.
func (s *Server) watchFlex(p *peer) {
	for _, id := range s.pushes.addFlex(p) {
		if e := s.sessions.get(id); e != nil {
			s.exec(e, func(context.Context) { s.adoptAll(e) })
		}
	}
}

// adoptAll moves every permanent push subscription of e that no live
// connection carries to a web API connection. Only the session's drainer
// calls it.
func (s *Server) adoptAll(e *entry) {
	for id := range e.mobile {
		if p := e.push[id]; p == nil || p.conn.Err() != nil {
			s.adopt(e, id)
		}
	}
}

// adopt hands party id's permanent push subscription to a live web API
// connection, if there is one, with the events it missed;
// the pushes carry the device, so that the web API makes it a push target.
// The party stays on flex-push-timeout either way: with no web API at all,
// the next liveness check is not confirmed. Only the session's drainer
// calls it.
func (s *Server) adopt(e *entry, id string) {
	m := e.mobile[id]
	if e.gone || e.sess == nil || e.sess.Closed() || m == nil {
		return
	}
	if _, present, err := e.sess.Party(id); err != nil || !present {
		delete(e.mobile, id)
		return
	}
	delete(e.push, id)
	p := s.pushes.pick(e.id)
	if p == nil {
		return
	}
	p.bind(binding{sessionID: e.id, partyID: id})
	e.push[id] = p
	st := s.status(e, id, e.sess.Visible(m.from, transcript.Client))
	st.Push = &m.dev
	if err := p.conn.Notify(wire.EventSessionInfo, st); err != nil {
		s.log.Debug("push subscription not handed over", "session", e.id, "party", id, "err", err)
	}
}

// orphan runs when party id's permanent push subscription lost its
// connection (it dropped, or the web API unsubscribed): the events from here
// on go to the next web API connection, the same one when it is still up.
// What was queued on a connection that dropped is not sent again, so that
// a device is never notified twice. Only the session's drainer calls it.
func (s *Server) orphan(e *entry, id string) {
	if m := e.mobile[id]; m != nil {
		m.from = e.sess.NextPosition()
		s.adopt(e, id)
	}
}

// subscribed records a subscription's push device, when it carries one, and
// returns its reply: the events from the requested position and, for a
// party with a permanent push subscription, its device, so that a web API
// that did not know the party's mode learns it. Only the session's drainer
// calls it.
func (s *Server) subscribed(e *entry, id string, req subscribeRequest) status {
	if req.Push != nil {
		if e.mobile == nil {
			e.mobile = make(map[string]*mobileSub)
		}
		e.mobile[id] = &mobileSub{dev: *req.Push}
	}
	st := e.gave(id, s.status(e, id, e.sess.Visible(req.TranscriptPosition, transcript.Client)))
	if m := e.mobile[id]; m != nil {
		st.Push = &m.dev
	}
	return st
}

// The session userData keys of Request Chat that name the client's device.
const (
	pushDeviceKey = "push_notification_deviceid"
	pushTypeKey   = "push_notification_type"
)

// resumePush gives the client party userID of a session just restored here
// the permanent push subscription it had on its previous owner
// (session-restore-push-send): the device is the one its Request Chat named,
// which the stored session userData keeps, and flex-push-on-join must be on
// here too, since no subscription was made without it. The device is
// notified from the first restoration event: what came before was the
// previous owner's to push. Only the session's drainer calls it.
func (s *Server) resumePush(e *entry, userID string, from int) {
	lo := s.options().Settings
	ud := e.sess.UserData()
	dev := pushDevice{DeviceID: ud[pushDeviceKey], Type: ud[pushTypeKey]}
	if !lo.SessionRestorePushSend || !lo.FlexPushOnJoin || dev.DeviceID == "" || dev.Type == "" {
		return
	}
	if e.mobile == nil {
		e.mobile = make(map[string]*mobileSub)
	}
	e.mobile[userID] = &mobileSub{dev: dev, from: from}
	e.sess.SetPush(s.now(), userID, true) // flex-push-timeout, not flex-disconnect-timeout
	s.adopt(e, userID)
	s.log.Info("push subscription resumed after restoration", "session", e.id, "party", userID, "type", dev.Type)
}
