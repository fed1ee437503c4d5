package webapi

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley/internal/wire"
)

// contactHistory is the desktop's customer panel: the chat server that
// holds the chat answers, for the agent's party, with the contact of the
// customer's email address and that contact's previous chats
// (EventContactHistory, passed on as it is).
func (a *agentSession) contactHistory(ctx context.Context, req deskRequest) (any, error) {
	ch, err := a.chatOf(req.InteractionID)
	if err != nil {
		return nil, err
	}
	var reply json.RawMessage
	body := map[string]any{"sessionId": ch.id, "userId": ch.userID}
	if _, err := ch.link.Request(ctx, wire.RequestGetContactHistory, body, &reply); err != nil {
		return nil, a.stale(req.InteractionID, err)
	}
	return reply, nil
}
