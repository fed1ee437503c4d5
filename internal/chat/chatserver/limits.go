package chatserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// newRefused returns parley_chat_refused_total{reason}, registered on reg:
// the parties' messages and notices refused for a [limits] option, by
// reason (message-length, transcript-full, party-rate).
func newRefused(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_chat_refused_total",
		Help: "Parties' messages and notices refused for a [limits] option, by reason."}, []string{"reason"})
	reg.MustRegister(c)
	return c
}

// countRefusal counts err when it is a refusal for a limit.
func (s *Server) countRefusal(err error) {
	for _, r := range []struct {
		err    error
		reason string
	}{{chat.ErrTooLong, "message-length"}, {chat.ErrTranscriptFull, "transcript-full"}, {chat.ErrTooFast, "party-rate"}} {
		if errors.Is(err, r.err) {
			s.refused.WithLabelValues(r.reason).Inc()
			return
		}
	}
}
