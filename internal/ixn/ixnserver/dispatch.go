package ixnserver

import (
	"context"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// replayPage is how many reporting events one store read returns.
const replayPage = 500

// send is one message for one connection.
type send struct {
	conn *wire.Conn
	msg  wire.Message
	name string
	body any
}

func (sd send) do() {
	if sd.body != nil {
		_ = sd.conn.Notify(sd.name, sd.body) // a failed send closes the connection, which cleans up
		return
	}
	_ = sd.conn.Send(sd.msg)
}

// dispatch queues out for the committer: its batch, then reply (may be nil)
// and its notices and reporting events, resolved now to the connections
// that must receive them so that later changes to who follows what do not
// reorder them. If the batch is not written, only refuse (may be nil) runs.
// s.mu must be held.
func (s *Server) dispatch(out ixn.Output, reply func(ctx context.Context), refuse func(*wire.Error)) {
	sends := s.resolve(out)
	treat := s.treatments(out.Services)
	for _, id := range out.Batch.Deletes {
		for p := range s.watchers[id] {
			delete(p.watching, id)
		}
		delete(s.watchers, id)
	}
	s.commits.add(job{batch: out.Batch, refuse: refuse, after: func(ctx context.Context) {
		if reply != nil {
			reply(ctx)
		}
		for _, sd := range sends {
			sd.do()
		}
		treat()
	}})
	select {
	case s.rearm <- struct{}{}:
	default:
	}
}

// resolve turns notices and reporting events into sends, each connection
// getting one copy of each. s.mu must be held.
func (s *Server) resolve(out ixn.Output) []send {
	var sends []send
	for _, n := range out.Notices {
		to := set{}
		for _, t := range n.To {
			if t.Agent != "" {
				addAll(to, s.agents[t.Agent])
			} else {
				addAll(to, s.clients[t.Client])
			}
		}
		if n.Watchers {
			addAll(to, s.watchers[n.Body.InteractionID])
		}
		if n.Name == wire.EventWorkbinContentChanged {
			addAll(to, s.workbins[workbinKey(n.Body.AgentID, n.Body.Workbin)])
			addAll(to, s.workbins[workbinKey(n.Body.AgentID, "")])
		}
		for p := range to {
			sends = append(sends, send{conn: p.conn, name: n.Name, body: n.Body})
		}
	}
	for _, ev := range out.Batch.Events {
		for p, from := range s.reporters {
			if ev.ID >= from {
				sends = append(sends, send{conn: p.conn, msg: wire.Message{Name: ev.Name, Body: ev.Body}})
			}
		}
	}
	return sends
}

func addAll(dst, src set) {
	for p := range src {
		dst[p] = struct{}{}
	}
}

// replay sends p the reporting events from..upTo out of the store, in
// order. It runs on the committer, so every earlier event is already there
// and every later one follows it.
func (s *Server) replay(ctx context.Context, p *peer, name string, from, upTo int64) {
	for from <= upTo {
		evs, err := s.cfg.Store.Events(ctx, from, replayPage)
		if err != nil {
			s.log.Error("reporting replay failed; closing the subscriber", "client", name, "err", err)
			p.conn.Close()
			return
		}
		for _, ev := range evs {
			if ev.ID > upTo {
				return
			}
			_ = p.conn.Send(wire.Message{Name: ev.Name, Body: ev.Body})
		}
		if len(evs) < replayPage {
			return
		}
		from = evs[len(evs)-1].ID + 1
	}
}
