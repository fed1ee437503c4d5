package chatserver

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
)

// limitsFrom is the session limits of the [limits] options.
func limitsFrom(l config.ChatLimits) chat.Limits {
	return chat.Limits{MessageLength: l.MaxMessageLength, TranscriptSize: l.TranscriptMaxSize,
		Events: l.TranscriptMaxEvents, PartyRate: float64(l.PartyMessageRate), PartyBurst: l.PartyMessageBurst}
}

// downloadWriteTimeout bounds writing a download, past the listener's
// write timeout: as long as the web API lets its client take (its
// maxStream), the web API streaming it on as its client reads.
const downloadWriteTimeout = time.Hour

// extendWrite gives a download's response downloadWriteTimeout to write.
func extendWrite(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(downloadWriteTimeout))
}
