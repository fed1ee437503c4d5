package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// Chat API v2 statusCode values (public-api-notes §1.4).
const (
	statusOK    = 0 // every field valid
	statusRetry = 1 // an error; the same request may succeed later
	statusFinal = 2 // an error; repeating will not help, the chat may have ended
)

// envelope is the reply to every Chat API v2 request.
type envelope struct {
	StatusCode   int                     `json:"statusCode"`
	Alias        string                  `json:"alias"`
	ChatEnded    bool                    `json:"chatEnded"`
	ChatID       string                  `json:"chatId"`
	UserID       string                  `json:"userId"`
	SecureKey    string                  `json:"secureKey,omitempty"`
	NextPosition int                     `json:"nextPosition"`
	Messages     []transcript.APIMessage `json:"messages"`
	// IdleTimerExpire is set by encode from Messages (idleTimerExpire).
	IdleTimerExpire int64             `json:"idleTimerExpire,omitempty"`
	UserData        map[string]string `json:"userData,omitempty"`
	Errors          []apiError        `json:"errors,omitempty"`
}

// apiError is one item of an error envelope's errors: a wire error code and
// a text for the developer.
type apiError struct {
	Code   int    `json:"code"`
	Advice string `json:"advice"`
}

// okEnvelope turns a chat server's status into a success envelope, keeping
// only the events a client may see.
func okEnvelope(st status) envelope {
	msgs := make([]transcript.APIMessage, 0, len(st.Messages))
	for _, m := range st.Messages {
		if m.Visibility == transcript.VisAll || m.Visibility == "" {
			msgs = append(msgs, m)
		}
	}
	return envelope{Alias: st.Alias, ChatEnded: st.ChatEnded, ChatID: st.SessionID, UserID: st.UserID,
		SecureKey: st.SecureKey, NextPosition: st.NextPosition, Messages: msgs}
}

// whole fills in the party fields a chat server's status leaves out (a
// push, a buffered refresh, any reply but Request Chat's): GMS answers every
// Chat V2 request with its one envelope, secureKey included, and clients
// such as the official widget keep the key of the latest reply
// (public-api-notes §1.4).
func (env *envelope) whole(ref partyRef, alias string) {
	fill := func(f *string, v string) {
		if *f == "" {
			*f = v
		}
	}
	fill(&env.ChatID, ref.SessionID)
	fill(&env.UserID, ref.UserID)
	fill(&env.SecureKey, ref.SecureKey)
	fill(&env.Alias, alias)
}

// errorEnvelope maps err to its statusCode, chatEnded and error item. The
// other fields are left empty: they are not valid in an error reply.
func errorEnvelope(err error) envelope {
	we := asWireError(err)
	return envelope{
		StatusCode: statusOf(we.Code),
		ChatEnded:  chatEnded(we.Code),
		Messages:   []transcript.APIMessage{},
		Errors:     []apiError{{Code: int(we.Code), Advice: we.Text}},
	}
}

// asWireError returns the wire error in err's chain, or the one that stands
// for the web API's own conditions. Anything else is internal: its text is
// not shown.
func asWireError(err error) *wire.Error {
	switch {
	case errors.Is(err, ErrNoChatServer):
		return wire.Errorf(wire.CodeUnavailable, "no chat server available")
	case errors.Is(err, errUnknownAlias):
		return wire.Errorf(wire.CodeBadRequest, "unknown alias")
	case errors.Is(err, errUnreachable), errors.Is(err, wire.ErrNotConnected), errors.Is(err, wire.ErrClosed):
		return wire.Errorf(wire.CodeUnavailable, "chat server unreachable")
	case errors.Is(err, context.DeadlineExceeded):
		return wire.Errorf(wire.CodeTimeout, "the chat server did not answer in time")
	}
	return wire.AsError(err)
}

// statusOf is the statusCode of a wire error code: 1 for the conditions
// that pass (an unreachable or busy server, a timeout, a failed save, a
// rate limit), 2 for the rest.
func statusOf(c wire.Code) int {
	switch c {
	case wire.CodeInternal, wire.CodeUnavailable, wire.CodeShuttingDown, wire.CodeTimeout,
		wire.CodeStaleOwner, wire.CodeStoreFailed, wire.CodeBackup, wire.CodeRateLimited:
		return statusRetry
	}
	return statusFinal
}

// chatEnded reports whether an error means the chat is over for this
// client (public-api-notes §1.4: a statusCode 1 never sets it).
func chatEnded(c wire.Code) bool {
	switch c {
	case wire.CodeNoSuchSession, wire.CodeNoSuchUser, wire.CodeSessionClosed, wire.CodeLoggedOut, wire.CodeBadSecureKey:
		return true
	}
	return false
}

// writeEnvelope writes env as JSON with HTTP status code.
func writeEnvelope(w http.ResponseWriter, code int, env envelope) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(env.encode())
	w.Write(newline) // as json.Encoder wrote it
}

var newline = []byte("\n")

// encode sets env.IdleTimerExpire from its messages and returns env as
// json.Marshal encodes it, without its reflection: every reply and push a
// customer receives is an envelope.
func (env *envelope) encode() []byte {
	env.IdleTimerExpire = idleTimerExpire(env.Messages)
	b := env.appendJSON(make([]byte, 0, 192+256*len(env.Messages))) // room for most envelopes
	if bytes.ContainsAny(b, "<>&") {
		// The messages are written with HTML escaping off; json.Marshal
		// escapes these three in strings, the only place they can be.
		var esc bytes.Buffer
		json.HTMLEscape(&esc, b)
		b = esc.Bytes()
	}
	return b
}

// appendJSON appends env as json.Marshal encodes it, but for the HTML
// escaping of its messages.
func (env *envelope) appendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"statusCode":`...), int64(env.StatusCode), 10)
	b = wire.AppendString(append(b, `,"alias":`...), env.Alias)
	b = strconv.AppendBool(append(b, `,"chatEnded":`...), env.ChatEnded)
	b = wire.AppendString(append(b, `,"chatId":`...), env.ChatID)
	b = wire.AppendString(append(b, `,"userId":`...), env.UserID)
	if env.SecureKey != "" {
		b = wire.AppendString(append(b, `,"secureKey":`...), env.SecureKey)
	}
	b = strconv.AppendInt(append(b, `,"nextPosition":`...), int64(env.NextPosition), 10)
	b = append(b, `,"messages":`...)
	b = transcript.AppendAPIMessages(b, env.Messages)
	if env.IdleTimerExpire != 0 {
		b = strconv.AppendInt(append(b, `,"idleTimerExpire":`...), env.IdleTimerExpire, 10)
	}
	// Rare: user data echoed, errors. Both always marshal.
	if len(env.UserData) > 0 {
		ud, _ := json.Marshal(env.UserData)
		b = append(append(b, `,"userData":`...), ud...)
	}
	if len(env.Errors) > 0 {
		errs, _ := json.Marshal(env.Errors)
		b = append(append(b, `,"errors":`...), errs...)
	}
	return append(b, '}')
}

// nextIdleTimerSecs is the userData key of an IdleAlert event that says in
// how many seconds the inactivity countdown runs out (chat.NextIdleTimerSecsKey).
const nextIdleTimerSecs = "next-idle-timer-secs"

// idleTimerExpire is the envelope's idleTimerExpire: when the inactivity
// countdown announced by the last IdleAlert among msgs runs out, in epoch
// milliseconds (as utcTime), or 0 when msgs hold no alert or an event after
// it ended that countdown (a message, a join or leave, the close).
func idleTimerExpire(msgs []transcript.APIMessage) int64 {
	for i := len(msgs) - 1; i >= 0; i-- {
		switch m := msgs[i]; m.Type {
		case transcript.IdleAlert:
			secs, err := strconv.ParseInt(m.UserData[nextIdleTimerSecs], 10, 64)
			if err != nil || secs < 0 {
				return 0
			}
			return m.UTCTime + secs*1000
		case transcript.Message, transcript.ParticipantJoined, transcript.ParticipantLeft, transcript.IdleClose:
			return 0
		}
	}
	return 0
}
