package webapi

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley/internal/wire"
)

// The desktop's contact-store requests, answered by the chat server that
// holds the chat, for the agent's party in it, and passed on as they are:
// the customer panel (the contact of the customer's email address and its
// previous chats) and the standard responses (canned replies).

func (a *agentSession) contactHistory(ctx context.Context, req deskRequest) (any, error) {
	return a.chatQuery(ctx, req.InteractionID, wire.RequestGetContactHistory, map[string]any{})
}

func (a *agentSession) standardResponses(ctx context.Context, req deskRequest) (any, error) {
	return a.chatQuery(ctx, req.InteractionID, wire.RequestGetStandardResponses, map[string]any{"query": req.Query})
}

func (a *agentSession) saveStandardResponse(ctx context.Context, req deskRequest) (any, error) {
	return a.chatQuery(ctx, req.InteractionID, wire.RequestSaveStandardResponse,
		map[string]any{"id": req.ResponseID, "name": req.Name, "text": req.Text})
}

// chatQuery sends request name for the agent's party in chat id and
// returns the reply's body.
func (a *agentSession) chatQuery(ctx context.Context, id, name string, body map[string]any) (any, error) {
	ch, err := a.chatOf(id)
	if err != nil {
		return nil, err
	}
	body["sessionId"], body["userId"] = ch.id, ch.userID
	var reply json.RawMessage
	if _, err := ch.link.Request(ctx, name, body, &reply); err != nil {
		return nil, a.stale(id, err)
	}
	return reply, nil
}
