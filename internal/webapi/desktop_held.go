package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"maps"

	"github.com/parley-chat/parley/internal/wire"
)

// How the agent bridge gives an agent its chats back after a login
// (docs/desktop.md, Continuity): the interaction server keeps the chats an
// agent held when its connection was lost (its web API died, the primary
// interaction server died and the backup took over, the page was closed)
// for agent-reconnect-timeout, and its login reply lists them, each with a
// grant. The bridge joins each chat again as a new Agent party: the party
// the agent had is gone, since a chat server removes an agent's party
// (reason 3) when the bridge connection it joined on ends, and its secure
// key never left the process that lost it.

// heldReply is the part of the interaction server's login reply the bridge
// reads: the chats the agent still holds.
type heldReply struct {
	Interactions []struct {
		ID         string            `json:"interactionId"`
		Properties map[string]string `json:"properties"`
		Grant      string            `json:"grant"`
	} `json:"interactions"`
}

// rejoinHeld joins the chats the login reply gives back, each as a new
// party, and sends the page their transcripts (EventSessionInfo) before the
// login is answered. A chat that cannot be joined is given up, so that the
// agent's capacity is not taken by a chat it is not in and the chat is
// routed again; the page gets an EventError for it. It returns the reply
// for the page: the interaction server's, whose interactions are those
// joined again, without their grants, which stay in the bridge.
func (a *agentSession) rejoinHeld(reply json.RawMessage) json.RawMessage {
	var held heldReply
	var page map[string]any
	if err := json.Unmarshal(reply, &held); err != nil || json.Unmarshal(reply, &page) != nil {
		a.log.Warn("desktop: login reply not read", "err", err)
		return reply
	}
	back := []map[string]any{}
	for _, in := range held.Interactions {
		err := a.rejoinOne(in.ID, in.Properties, in.Grant)
		if err == nil {
			a.log.Info("desktop gave an agent its chat back", "agent", a.agent(), "interaction", in.ID)
			back = append(back, map[string]any{"interactionId": in.ID, "properties": in.Properties})
			continue
		}
		a.log.Warn("desktop could not give an agent its chat back", "agent", a.agent(), "interaction", in.ID, "err", err)
		we := readable(err)
		_ = a.page.Notify(wire.EventError, map[string]any{"interactionId": in.ID, "code": we.Code,
			"text": "Your chat could not be joined again: " + we.Text})
	}
	page["interactions"] = back
	out, err := json.Marshal(page)
	if err != nil {
		return reply
	}
	return out
}

// rejoinOne joins chat id with grant where the interaction says it lives,
// or else where the chat servers' store says it lives now; when neither
// works, the agent leaves the interaction.
func (a *agentSession) rejoinOne(id string, props map[string]string, grant string) error {
	ctx, cancel := context.WithTimeout(a.ctx, a.d.s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	err := a.join(ctx, id, props, grant)
	if _, refused := errors.AsType[*wire.Error](err); err != nil && !refused {
		// The chat server named is not reachable: the chat may live on.
		if owner, lerr := a.locate(ctx, id, props[propChatServer]); lerr == nil && owner != "" {
			moved := maps.Clone(props)
			moved[propChatServer] = owner
			err = a.join(ctx, id, moved, grant)
		}
	}
	if err == nil {
		return nil
	}
	if _, lerr := a.ixnCall(ctx, wire.RequestLeaveInteraction, map[string]string{"interactionId": id}); lerr != nil && !gone(lerr) {
		a.log.Debug("interaction not left after a failed rejoin", "interaction", id, "err", lerr)
	}
	return err
}
