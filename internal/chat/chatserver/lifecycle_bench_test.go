package chatserver_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// BenchmarkChatLifecycle runs whole chats of the seed's scenario without its
// think time: the customer requests the chat and subscribes, an agent joins,
// each sends 3 messages, the agent closes the chat (final transcript saved,
// intermediate one deleted), all with transcript-auto-save on SQLite. One op
// is one chat. Both ends run in this process, so cpu-ns/op (user and system
// time over the run) counts the clients' side too; -memprofile shows the
// chat server's allocations.
func BenchmarkChatLifecycle(b *testing.B) {
	h := start(b, defaultOptions(b), nil)
	flex, basic := benchConn(b, h, chatserver.FlexPath), benchConn(b, h, chatserver.BasicPath)
	b.SetParallelism(32) // many chats at once, as a chat server has them
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := benchChat(flex, basic); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// benchChat plays one chat; replies are checked for errors only.
func benchChat(flex, basic *wire.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st struct {
		SessionID string `json:"sessionId"`
		UserID    string `json:"userId"`
		SecureKey string `json:"secureKey"`
	}
	if _, err := flex.Request(ctx, wire.RequestLogin, map[string]any{"nickname": "Ann", "subject": "Order 42"}, &st); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	client := map[string]any{"sessionId": st.SessionID, "userId": st.UserID, "secureKey": st.SecureKey}
	if _, err := flex.Request(ctx, wire.RequestSubscribe, client, nil); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	var joined struct {
		UserID string `json:"userId"`
	}
	if _, err := basic.Request(ctx, wire.RequestJoin, map[string]any{"sessionId": st.SessionID, "nickname": "Bob"}, &joined); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	agent := map[string]any{"sessionId": st.SessionID, "userId": joined.UserID}
	for i := range 3 {
		client["text"] = fmt.Sprintf("customer message %d of a usual length, about forty bytes", i)
		if _, err := flex.Request(ctx, wire.RequestMessage, client, nil); err != nil {
			return fmt.Errorf("customer message: %w", err)
		}
		agent["text"] = fmt.Sprintf("agent message %d of a usual length, about forty bytes", i)
		if _, err := basic.Request(ctx, wire.RequestMessage, agent, nil); err != nil {
			return fmt.Errorf("agent message: %w", err)
		}
	}
	delete(agent, "text")
	agent["afterAction"] = "ForceClose"
	if _, err := basic.Request(ctx, wire.RequestReleaseParty, agent, nil); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// benchConn dials the chat server's path with a handler that drops pushes.
func benchConn(b *testing.B, h *harness, path string) *wire.Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := wire.Dial(ctx, "ws://"+h.addr+path, wire.Options{QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Serve(ctx, wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
	}()
	b.Cleanup(func() { cancel(); <-done })
	return c
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
