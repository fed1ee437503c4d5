package webapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/parley-chat/parley/internal/wire"
)

// liveChat is one chat an agent handles as the Supervisor panel lists it:
// enough to pick it, none of the customer's data beyond the subject.
type liveChat struct {
	ID       string   `json:"interactionId"`
	Queue    string   `json:"queue"`
	Agents   []string `json:"agents"`
	Subject  string   `json:"subject,omitempty"`
	Nickname string   `json:"nickname,omitempty"`
}

// liveChats answers the page's RequestFindInteractions with the chats agents
// handle now, oldest first: the interaction server's answer (every
// interaction) narrowed to handled chats, so the page can offer to monitor,
// coach or barge in.
func (a *agentSession) liveChats(ctx context.Context, _ deskRequest) (any, error) {
	reply, err := a.ixnCall(ctx, wire.RequestFindInteractions, map[string]any{})
	if err != nil {
		return nil, err
	}
	var found struct {
		Interactions []struct {
			ID         string            `json:"interactionId"`
			MediaType  string            `json:"mediaType"`
			State      string            `json:"state"`
			Queue      string            `json:"queue"`
			Agents     []string          `json:"agents"`
			Properties map[string]string `json:"properties"`
		} `json:"interactions"`
	}
	if err := json.Unmarshal(reply, &found); err != nil {
		return nil, fmt.Errorf("desktop: find reply: %w", err)
	}
	chats := []liveChat{}
	for _, in := range found.Interactions {
		if in.State != stateHandling || in.MediaType != "chat" || len(in.Agents) == 0 {
			continue
		}
		chats = append(chats, liveChat{ID: in.ID, Queue: in.Queue, Agents: in.Agents,
			Subject: in.Properties["Subject"], Nickname: cmp.Or(in.Properties["Nickname"], in.Properties["FirstName"])})
	}
	return map[string]any{"interactions": chats}, nil
}

// stateHandling is the state of an interaction agents hold (docs/ixn.md).
const stateHandling = "handling"
