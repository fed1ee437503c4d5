package webapi

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/parley-chat/parley/internal/wire"
)

// Wrap-up: the agent ends its part in a chat with a disposition code, one of
// the web API's disposition-codes (Workspace's disposition), required when
// that list is not empty.

// dispositionKey is the interaction property, and the chat's userData key,
// that holds the disposition.
const dispositionKey = "DispositionCode"

// wrapUp records the disposition as the interaction's DispositionCode and
// in the chat's userData (filed with the transcript in the contact store),
// then leaves the chat, ending it (ForceClose), and the interaction.
func (a *agentSession) wrapUp(ctx context.Context, req deskRequest) (any, error) {
	codes := a.d.s.cfg.Options.Settings.DispositionCodes()
	if len(codes) > 0 && !slices.Contains(codes, req.Disposition) {
		return nil, wire.Errorf(wire.CodeBadRequest, "pick a disposition: one of the disposition-codes")
	}
	if req.Disposition != "" {
		set := map[string]string{dispositionKey: req.Disposition}
		if _, err := a.chatCall(ctx, req.InteractionID, wire.RequestUpdateData, map[string]any{"userData": set}); err != nil && !gone(err) {
			return nil, err
		}
		_, err := a.ixnCall(ctx, wire.RequestChangeProperties, map[string]any{"interactionId": req.InteractionID, "changedProperties": set})
		if err != nil {
			return nil, err
		}
	}
	req.AfterAction = "ForceClose"
	return a.release(ctx, req)
}

// withDispositions adds the disposition codes to the login reply, for the
// desktop's wrap-up menu.
func (a *agentSession) withDispositions(reply json.RawMessage) json.RawMessage {
	var page map[string]any
	if json.Unmarshal(reply, &page) != nil || page == nil {
		return reply
	}
	page["dispositionCodes"] = append([]string{}, a.d.s.cfg.Options.Settings.DispositionCodes()...)
	out, err := json.Marshal(page)
	if err != nil {
		return reply
	}
	return out
}
