package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestAbandonedChatLeftToItsWorkflow runs the real binary with
// stop-abandoned-interaction = noagents: a customer who leaves a chat no
// agent joined has its interaction stopped; a customer who leaves the agent
// it talked to leaves the interaction running, with IsOnline false and the
// session statistics in its properties, for a workflow to follow up.
func TestAbandonedChatLeftToItsWorkflow(t *testing.T) {
	c := startESPClusterOn(t, "sqlite", "", "stop-abandoned-interaction: noagents, attach-session-statistics: fired")
	waitFor(t, c.out, "gms-1: customer widget")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	flow := c.workflow(ctx)

	queued := c.newChat()
	if _, ok := interactionProps(ctx, t, flow, queued.id); !ok {
		t.Fatal("the chat was not submitted")
	}
	c.abandon(queued)
	eventually(t, "the queued chat's interaction stopped", func() bool { _, ok := interactionProps(ctx, t, flow, queued.id); return !ok })

	events := make(chan wire.Message, 64)
	agent := c.loginAlice(ctx, events)
	ch := c.newChat()
	waitMessage(t, events, wire.EventInvite)
	var accepted struct{ Grant string }
	request(ctx, t, agent, wire.RequestAccept, map[string]any{"interactionId": ch.id}, &accepted)
	props, _ := interactionProps(ctx, t, flow, ch.id)
	if err := c.join(ctx, ch, props["ChatServerAddress"], map[string]any{"sessionId": ch.id, "nickname": "Alice", "personId": "alice",
		"grant": accepted.Grant}); err != nil {
		t.Fatal(err)
	}
	if err := c.talk(ctx, ch, 0, 0, 1); err != nil {
		t.Fatal(err)
	}
	c.abandon(ch)
	if err := c.end(ctx, ch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "IsOnline false on the answered chat's interaction", func() bool {
		props, _ = interactionProps(ctx, t, flow, ch.id)
		return props["IsOnline"] == "false"
	})
	if props["ChatStatAgentsJoined"] != "1" || props["ChatStatAbandoned"] != "" {
		t.Errorf("statistics attached = %v", props)
	}
	// The chat server sends a stop right after the properties, on the same
	// connection; the agent's stop is served after it would have been.
	if _, err := agent.Request(ctx, wire.RequestStopProcessing, map[string]string{"interactionId": ch.id, "reason": "done"}, nil); err != nil {
		t.Fatalf("the agent's stop of the answered chat's interaction: %v", err)
	}
}

// abandon is the customer leaving through the web API.
func (c *cluster) abandon(ch *haChat) {
	c.t.Helper()
	if env, err := c.rest("/"+ch.id+"/disconnect", ch.form()); err != nil || env.StatusCode != 0 {
		c.t.Fatalf("disconnect: %+v %v", env, err)
	}
}

// interactionProps asks the interaction server for interaction id's
// properties; false when it has no such interaction.
func interactionProps(ctx context.Context, t *testing.T, conn *wire.Conn, id string) (map[string]string, bool) {
	t.Helper()
	var reply struct {
		Interaction struct {
			Properties map[string]string `json:"properties"`
		} `json:"interaction"`
	}
	_, err := conn.Request(ctx, wire.RequestGetInteractionProperties, map[string]string{"interactionId": id}, &reply)
	if we, ok := errors.AsType[*wire.Error](err); ok && we.Code == wire.CodeNoSuchInteraction {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return reply.Interaction.Properties, true
}
