package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// How the agent bridge follows a chat to another chat server (docs/desktop.md,
// Moves).

// followProperties starts a move when the interaction names another chat
// server than the one the agent is joined on: the chat was restored there.
func (a *agentSession) followProperties(ev ixnEvent) {
	server := ev.Properties[propChatServer]
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.chats[ev.InteractionID]
	if ch == nil || server == "" || server == ch.server {
		return
	}
	a.startMove(ch, server)
}

// startMove marks ch moving (to hint when known) and runs its relocation.
// a.mu must be held.
func (a *agentSession) startMove(ch *deskChat, hint string) {
	if hint != "" {
		ch.hint = hint
	}
	if ch.moving {
		return
	}
	ch.moving = true
	id, from := ch.id, ch.server
	a.wg.Go(func() { a.relocate(id, from) })
}

// linkLost moves every chat of a chat server connection that ended.
func (a *agentSession) linkLost(c *wire.Conn) {
	if a.ctx.Err() != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for name, l := range a.links {
		if l == c {
			delete(a.links, name)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.chats)) {
		if ch := a.chats[id]; ch.link == c {
			a.startMove(ch, "")
		}
	}
}

// errChatGone means a chat's session is no longer stored: it ended.
var errChatGone = errors.New("desktop: the chat ended")

// relocate rejoins chat id, which was on chat server from, where it lives
// now: the server the interaction named, or else the owner that any chat
// server reads from the store (GET /sessions/{id}/location), once the chat
// was restored elsewhere. The agent rejoins as the same party and receives
// what it missed.
func (a *agentSession) relocate(id, from string) {
	deadline := time.Now().Add(relocateFor)
	t := time.NewTicker(relocateEvery)
	defer t.Stop()
	for {
		err := a.relocateOnce(id, from)
		switch {
		case err == nil:
			return
		case errors.Is(err, errChatGone):
			a.dropChat(id, wire.Errorf(wire.CodeSessionClosed, "The chat ended while its chat server was unreachable."))
			return
		case gone(err):
			a.dropChat(id, wire.Errorf(wire.CodeLoggedOut, "You could not rejoin the chat on its new chat server: %s.", readable(err).Text))
			return
		case time.Now().After(deadline):
			a.dropChat(id, wire.Errorf(wire.CodeUnavailable, "The chat could not be reached again after its chat server failed."))
			return
		}
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// relocateOnce tries one rejoin; errNotMoved means not yet.
func (a *agentSession) relocateOnce(id, from string) error {
	ctx, cancel := context.WithTimeout(a.ctx, a.d.s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	a.mu.Lock()
	ch := a.chats[id]
	hint := ""
	if ch != nil {
		hint = ch.hint
	}
	a.mu.Unlock()
	if ch == nil {
		return nil // left meanwhile
	}
	server := hint
	if server == "" {
		var err error
		if server, err = a.locate(ctx, id, from); err != nil {
			return err
		}
	}
	if server == "" || server == from {
		return a.restoreElsewhere(ctx, id, from)
	}
	return a.rejoin(ctx, id, from, server)
}

// errNotMoved means the chat is not served elsewhere yet.
var errNotMoved = errors.New("desktop: the chat has not moved yet")

// locate asks the chat servers other than from where chat id lives.
func (a *agentSession) locate(ctx context.Context, id, from string) (string, error) {
	for _, name := range slices.Sorted(maps.Keys(a.d.s.cfg.ChatServers)) {
		if name == from {
			continue
		}
		owner, err := a.locateAt(ctx, a.d.s.cfg.ChatServers[name], id)
		if err == nil || errors.Is(err, errChatGone) {
			return owner, err
		}
		a.log.Debug("desktop: location not read", "chat_server", name, "err", err)
	}
	return "", errNotMoved
}

func (a *agentSession) locateAt(ctx context.Context, ep service.Endpoint, id string) (string, error) {
	resp, err := a.d.s.pool.get(ctx, ep, "/sessions/"+url.PathEscape(id)+"/location")
	if err != nil {
		return "", fmt.Errorf("desktop: location: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", errChatGone
	default:
		return "", fmt.Errorf("desktop: location: HTTP %d", resp.StatusCode)
	}
	owner, err := decodeLocation(resp.Body)
	if err != nil {
		return "", fmt.Errorf("desktop: location: %w", err)
	}
	return owner, nil
}

// decodeLocation reads a chat server's GET /sessions/{id}/location reply,
// at most maxStatusBody bytes of it, and returns the owner it names. Its
// errors are encoding/json's.
func decodeLocation(body io.Reader) (string, error) {
	var loc struct{ Owner string }
	err := json.NewDecoder(io.LimitReader(body, maxStatusBody)).Decode(&loc)
	return loc.Owner, err
}

// rejoin joins chat id on server as the agent's party, from the position
// the page has, and tells the page where the chat is now.
func (a *agentSession) rejoin(ctx context.Context, id, from, server string) error {
	link, err := a.link(ctx, server)
	if err != nil {
		return err
	}
	a.mu.Lock()
	ch := a.chats[id]
	if ch == nil {
		a.mu.Unlock()
		return nil
	}
	body := map[string]any{"sessionId": id, "userId": ch.userID, "secureKey": ch.key, "transcriptPosition": ch.position}
	a.mu.Unlock()
	var raw json.RawMessage
	if _, err := link.Request(ctx, wire.RequestJoin, body, &raw); err != nil {
		return err
	}
	return a.rejoined(id, from, server, link, raw)
}

// rejoined records that the agent's party of chat id is on server now,
// with the join or restore reply raw, and tells the page.
func (a *agentSession) rejoined(id, from, server string, link *wire.Conn, raw json.RawMessage) error {
	st, err := decodeChatStatus(raw)
	if err != nil {
		return fmt.Errorf("desktop: rejoin reply: %w", err)
	}
	a.mu.Lock()
	ch := a.chats[id]
	if ch == nil {
		a.mu.Unlock()
		return nil
	}
	ch.server, ch.link, ch.moving, ch.hint = server, link, false, ""
	ch.position = max(ch.position, st.NextPosition)
	a.mu.Unlock()
	a.log.Info("desktop rejoined a chat on another chat server", "interaction", id, "from", from, "to", server)
	_ = a.page.Notify(wire.EventLocationChanged, map[string]string{"interactionId": id, "chatServer": server, "previous": from})
	return a.page.Send(wire.Message{Name: wire.EventSessionInfo, Body: raw})
}

// dropChat gives up chat id and tells the page why.
func (a *agentSession) dropChat(id string, why *wire.Error) {
	a.forget(id)
	_ = a.page.Notify(wire.EventError, map[string]any{"interactionId": id, "code": why.Code, "text": why.Text})
}
