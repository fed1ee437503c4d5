package webapi

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// restorePause paces the bridge's restore requests for one chat: a chat
// server that does not restore for agents answers at once, every time.
const restorePause = 2 * time.Second

// restoreElsewhere asks the chat servers other than from, in name order, to
// restore chat id for the agent, whose chat server went away while the chat
// still names it (session-restore-extend-by = agent or both): a silent
// customer would not have it restored. The first that restores it rejoins
// the agent's party at once; one that answers that the chat lives on a live
// chat server sends the agent there. A chat server that does not restore
// for agents refuses (104), and the bridge goes on waiting for the chat to
// move. It returns errNotMoved when no chat server took the chat.
func (a *agentSession) restoreElsewhere(ctx context.Context, id, from string) error {
	a.mu.Lock()
	ch := a.chats[id]
	if ch == nil || time.Since(ch.restoreAt) < restorePause {
		a.mu.Unlock()
		return errNotMoved
	}
	ch.restoreAt = time.Now()
	body := map[string]any{"sessionId": id, "userId": ch.userID, "secureKey": ch.key, "transcriptPosition": ch.position, "from": from}
	a.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(a.d.s.cfg.ChatServers)) {
		if name == from {
			continue
		}
		link, err := a.link(ctx, name)
		if err != nil {
			continue
		}
		var raw json.RawMessage
		_, err = link.Request(ctx, wire.RequestRestore, body, &raw)
		if gone(err) {
			return err
		}
		st, derr := decodeChatStatus(raw)
		switch {
		case err != nil || derr != nil:
			a.log.Debug("desktop: chat not restored", "interaction", id, "chat_server", name, "err", err)
		case st.Alias != name:
			return a.rejoin(ctx, id, from, st.Alias) // it lives on a live chat server
		default:
			a.log.Info("desktop: chat restored for its agent", "interaction", id, "from", from, "to", name)
			return a.rejoined(id, from, name, link, raw)
		}
	}
	return errNotMoved
}
