package chatserver

import (
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
)

// limitsFrom is the session limits of the [limits] options.
func limitsFrom(l config.ChatLimits) chat.Limits {
	return chat.Limits{MessageLength: l.MaxMessageLength, TranscriptSize: l.TranscriptMaxSize,
		Events: l.TranscriptMaxEvents, PartyRate: float64(l.PartyMessageRate), PartyBurst: l.PartyMessageBurst}
}
