package webapi_test

import (
	"maps"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// withAttrs returns a predicate matching a message of type typ whose
// party attributes are want.
func withAttrs(typ transcript.EventType, want map[string]string) func(transcript.APIMessage) bool {
	return func(m transcript.APIMessage) bool {
		return m.Type == typ && maps.Equal(m.EventAttributes.Party, want)
	}
}

// restHas reports whether a refresh from position 1 returns a message ok matches.
func restHas(c customer, ok func(transcript.APIMessage) bool) bool {
	for _, m := range c.must("refresh", "transcriptPosition", "1").Messages {
		if ok(m) {
			return true
		}
	}
	return false
}

// TestEventAttributesREST: eventAttributes[key]=value on send and
// customNotice (as jQuery.param writes an object, which the official
// widget posts with) are carried into the event and delivered to every
// party in messages[].eventAttributes; an agent's reach the customer; a
// party may not forge the server's GCTI_SYSTEM (issue 20, item 5).
func TestEventAttributesREST(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	thread := map[string]string{"thread": "t-7", "reply-to": "3"}
	cancel := map[string]string{"purpose": "cancel-idle-timer"}
	c.must("send", "message", "hello", "eventAttributes[thread]", "t-7", "eventAttributes[reply-to]", "3")
	c.must("customNotice", "eventAttributes[purpose]", "cancel-idle-timer")
	a.waitFor("the message's attributes", withAttrs(transcript.Message, thread))
	a.waitFor("the notice's attributes", withAttrs(transcript.CustomNotice, cancel))
	a.request(wire.RequestMessage, map[string]any{"sessionId": c.chatID, "userId": a.userID, "text": "hi",
		"eventAttributes": map[string]string{"thread": "t-8"}}, nil)
	for what, ok := range map[string]func(transcript.APIMessage) bool{
		"customer's message": withAttrs(transcript.Message, thread),
		"customer's notice":  withAttrs(transcript.CustomNotice, cancel),
		"agent's message":    withAttrs(transcript.Message, map[string]string{"thread": "t-8"}),
	} {
		eventually(t, what+" in a refresh", func() bool { return restHas(c, ok) })
	}
	if env := c.call("customNotice", "eventAttributes[GCTI_SYSTEM]", "x"); env.StatusCode == 0 {
		t.Errorf("a party's GCTI_SYSTEM attribute was accepted: %+v", env)
	}
	if env := c.call("send", "message", "m", "eventAttributes[a][b]", "x"); env.StatusCode == 0 {
		t.Errorf("a malformed eventAttributes field was accepted: %+v", env)
	}
}

// TestEventAttributesCometD: the same with eventAttributes as a JSON
// object in the publish's data.
func TestEventAttributesCometD(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	b := dialComet(w, chatChannel)
	ch := b.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	thread := map[string]string{"thread": "t-7"}
	cancel := map[string]string{"purpose": "cancel-idle-timer"}
	for op, data := range map[string][]any{
		"sendMessage":  {"message", "hello", "eventAttributes", map[string]any{"thread": "t-7"}},
		"customNotice": {"eventAttributes", map[string]any{"purpose": "cancel-idle-timer"}},
	} {
		if ack := b.op(ch, op, data...); ack.Successful == nil || !*ack.Successful {
			t.Fatalf("%s: publish refused: %+v", op, ack)
		}
	}
	b.waitMessage("the message's attributes, pushed", withAttrs(transcript.Message, thread))
	b.waitMessage("the notice's attributes, pushed", withAttrs(transcript.CustomNotice, cancel))
	a.waitFor("the message's attributes", withAttrs(transcript.Message, thread))
	a.waitFor("the notice's attributes", withAttrs(transcript.CustomNotice, cancel))
	if ack := b.op(ch, "customNotice", "eventAttributes", "purpose"); ack.Successful != nil && *ack.Successful {
		t.Errorf("eventAttributes that is not an object was accepted: %+v", ack)
	}
}

// nextIdle returns the type of the first IdleAlert or IdleClose in msgs
// after index from, and its index.
func nextIdle(msgs []transcript.APIMessage, from int) (transcript.EventType, int) {
	for _, m := range msgs {
		if m.Index > from && (m.Type == transcript.IdleAlert || m.Type == transcript.IdleClose) {
			return m.Type, m.Index
		}
	}
	return "", 0
}

// TestCancelIdleTimerREST: a customNotice with eventAttributes
// purpose=cancel-idle-timer, which the official widget sends when the
// customer touches the chat during an inactivity alert, restarts the
// countdown although include-notices (major) leaves custom notices out:
// the next idle event is a new alert, not the close.
func TestCancelIdleTimerREST(t *testing.T) {
	cs := idleChat(t)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	var alert int
	eventually(t, "the idle alert", func() bool {
		typ, i := nextIdle(c.must("refresh", "transcriptPosition", "1").Messages, 0)
		alert = i
		return typ == transcript.IdleAlert
	})
	c.must("customNotice", "eventAttributes[purpose]", "cancel-idle-timer")
	var next transcript.EventType
	eventually(t, "the next idle event", func() bool {
		next, _ = nextIdle(c.must("refresh", "transcriptPosition", strconv.Itoa(alert+1)).Messages, alert)
		return next != ""
	})
	if next != transcript.IdleAlert {
		t.Errorf("after cancel-idle-timer the next idle event is %s, want a new IdleAlert", next)
	}
}

// TestCancelIdleTimerCometD: the same over CometD.
func TestCancelIdleTimerCometD(t *testing.T) {
	cs := idleChat(t)
	w := startWeb(t, nil, cs)
	b := dialComet(w, chatChannel)
	ch := b.requestChat()
	joinAgent(t, cs.addr, ch.chatID)
	var alert int
	b.waitMessage("the idle alert", func(m transcript.APIMessage) bool {
		alert = m.Index
		return m.Type == transcript.IdleAlert
	})
	b.op(ch, "customNotice", "eventAttributes", map[string]any{"purpose": "cancel-idle-timer"})
	var next transcript.EventType
	b.waitMessage("the next idle event", func(m transcript.APIMessage) bool {
		if m.Index > alert && (m.Type == transcript.IdleAlert || m.Type == transcript.IdleClose) {
			next = m.Type
			return true
		}
		return false
	})
	if next != transcript.IdleAlert {
		t.Errorf("after cancel-idle-timer the next idle event is %s, want a new IdleAlert", next)
	}
}
