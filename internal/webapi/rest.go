package webapi

import (
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// chatBase is the root of Chat API v2 over REST.
const chatBase = "/genesys/2/chat/{serviceName}"

// maxStream bounds a file download.
const maxStream = time.Hour

// request is one Chat API v2 call with its form read and checked.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	service string
	queue   string
	form    form
	file    *multipart.Part // an upload's file, unread; nil for other requests
	addr    string          // the client's IP address
	ref     partyRef        // every call but request chat
	alias   string          // every call but request chat
	moved   bool            // the chat was restored on (or found at) another chat server: alias changed
}

// handlerFunc serves one operation. A nil envelope with a nil error means
// the handler wrote the response itself (a file download).
type handlerFunc func(ctx context.Context, q *request) (*envelope, error)

// op describes one operation: its name (a metrics label), its handler,
// the body limit, and whether it may outlive request-timeout (a stream).
type op struct {
	name   string
	h      handlerFunc
	limit  int64
	stream bool
}

func (s *Server) routes() {
	// Each path is also served with a trailing slash, as GMS does: the
	// official widget requests a chat at .../{serviceName}/.
	handle := func(pattern string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, h)
		s.mux.HandleFunc(pattern+"/{$}", h)
	}
	handle(chatBase, s.serve(op{name: "requestChat", h: s.requestChat, limit: maxFormBytes}, false))
	handle(chatBase+"/{chatId}/{operation}", func(w http.ResponseWriter, r *http.Request) {
		s.serve(s.operation(r.PathValue("operation")), true)(w, r)
	})
	handle(chatBase+"/{chatId}/file/limits", s.serve(op{name: "fileLimits", h: s.fileLimits, limit: maxFormBytes}, true))
	handle(chatBase+"/{chatId}/file/{fileId}/{operation}", func(w http.ResponseWriter, r *http.Request) {
		s.serve(s.fileOperation(r.PathValue("operation")), true)(w, r)
	})
	handle(ntfPath, s.serveNtf)
	s.mux.HandleFunc("/genesys/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusNotFound, errorEnvelope(wire.Errorf(wire.CodeBadRequest, "no such Chat API operation")))
	})
}

// operation returns the operation on an existing chat called name.
func (s *Server) operation(name string) op {
	form := func(n string, h handlerFunc) op { return op{name: n, h: h, limit: maxFormBytes} }
	switch name {
	case "send":
		return form(name, s.send)
	case "refresh":
		return form(name, s.refreshOp)
	case "startTyping":
		return form(name, s.notice(transcript.TypingStarted, "message", false))
	case "stopTyping":
		return form(name, s.notice(transcript.TypingStopped, "message", false))
	case "pushUrl":
		return form(name, s.notice(transcript.PushURL, "pushUrl", true))
	case "customNotice":
		return form(name, s.notice(transcript.CustomNotice, "message", false))
	case "updateNickname":
		return form(name, s.notice(transcript.NicknameUpdated, "nickname", true))
	case "updateData":
		return form(name, s.updateData)
	case "disconnect":
		return form(name, s.disconnect)
	case "readReceipt":
		return form(name, s.readReceipt)
	case "file":
		return op{name: "fileUpload", h: s.fileUpload, limit: maxUploadBytes}
	}
	return op{name: "unknown", h: unknownOperation, limit: maxFormBytes}
}

func unknownOperation(context.Context, *request) (*envelope, error) {
	return nil, wire.Errorf(wire.CodeBadRequest, "no such Chat API operation")
}

// serve runs o for one HTTP request: POST only, the form within o.limit,
// the service known, the party fields present when party is set; every
// failure is an error envelope.
func (s *Server) serve(o op, party bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.posted(w, r, o.name) {
			return
		}
		q := &request{w: w, r: r, service: r.PathValue("serviceName"), addr: service.ClientIP(r)}
		s.answer(q, o, func(ctx context.Context) (*envelope, error) { return s.run(ctx, q, o, party) })
	}
}

// posted reports whether r is a POST, and answers it when it is not.
func (s *Server) posted(w http.ResponseWriter, r *http.Request, name string) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	s.reply(w, name, http.StatusMethodNotAllowed, errorEnvelope(wire.Errorf(wire.CodeNotAllowed, "use POST")))
	return false
}

// answer runs operation o of q through h within the request timeout (or
// maxStream for a stream) and writes its envelope, or its error as one.
func (s *Server) answer(q *request, o op, h func(context.Context) (*envelope, error)) {
	timeout := s.cfg.Options.Settings.RequestTimeout
	if o.stream {
		// A download may take longer; the chat server must still
		// answer within the timeout (ResponseHeaderTimeout).
		timeout = maxStream
	}
	ctx, cancel := context.WithTimeout(q.r.Context(), timeout)
	defer cancel()
	env, err := h(ctx)
	switch {
	case err != nil:
		s.log.Debug("chat api request failed", "operation", o.name, "err", err)
		if q.file != nil {
			// The rest of a refused upload is not worth reading: the
			// server would otherwise drain it before answering.
			q.w.Header().Set("Connection", "close")
		}
		e := errorEnvelope(err)
		if q.moved {
			e.Alias = q.alias // the chat moved: the client's retry goes there
		}
		s.reply(q.w, o.name, http.StatusOK, e)
	case env != nil:
		if env.StatusCode == statusOK {
			env.whole(q.ref, q.alias)
		}
		s.reply(q.w, o.name, http.StatusOK, *env)
	}
}

// run reads and checks the request, then runs the operation.
func (s *Server) run(ctx context.Context, q *request, o op, party bool) (*envelope, error) {
	f, file, err := readForm(q.w, q.r, o.limit)
	if err != nil {
		return nil, err
	}
	q.form, q.file = f, file
	r := q.r
	var ok bool
	if q.queue, ok = s.cfg.Options.Queue(q.service); !ok {
		return nil, wire.Errorf(wire.CodeBadRequest, "unknown service")
	}
	if party {
		if q.ref, q.alias, err = partyOf(f, r.PathValue("chatId")); err != nil {
			return nil, err
		}
	}
	return o.h(ctx, q)
}

func (s *Server) reply(w http.ResponseWriter, op string, code int, env envelope) {
	s.metrics.requests.WithLabelValues(op, strconv.Itoa(env.StatusCode)).Inc()
	writeEnvelope(w, code, env)
}

// requestChat creates a chat on the least loaded chat server that takes
// one, trying the next when one turns out unavailable.
func (s *Server) requestChat(ctx context.Context, q *request) (*envelope, error) {
	f := q.form
	body := loginBody{Service: q.service, Queue: q.queue, Nickname: f.get("nickname"),
		FirstName: f.get("firstName"), LastName: f.get("lastName"), Subject: f.get("subject"),
		EmailAddress: f.get("emailAddress"), UserData: f.userData, Text: f.get("text"),
		TimeZoneOffset: timeZoneOffset(f.userData)}
	if body.Nickname == "" && (body.FirstName == "" || body.LastName == "") {
		return nil, wire.Errorf(wire.CodeBadRequest, "nickname, or firstName and lastName, required")
	}
	if err := s.checkNewChat(ctx, q); err != nil {
		return nil, err
	}
	dev, err := s.pushOf(f.userData)
	if err != nil {
		return nil, err
	}
	err = ErrNoChatServer
	for _, cs := range s.pool.candidates() {
		conn := cs.client.Conn()
		if conn == nil {
			continue
		}
		cs.reserve()
		var st status
		if _, err = conn.Request(ctx, wire.RequestLogin, body, &st); err == nil {
			if dev != nil {
				if err := s.subscribePush(ctx, cs.name, conn, st, *dev); err != nil {
					// The chat is there and the client has it: it goes on
					// without pushes, on flex-disconnect-timeout.
					s.log.Warn("new chat not subscribed for push notifications", "chat", st.SessionID, "err", err)
				}
			}
			env := okEnvelope(st)
			return &env, nil
		}
		if !tryNext(err) {
			return nil, err
		}
	}
	return nil, err
}

// timeZoneOffset is the client's time zone as GMS takes it from userData
// TimeZone: whole minutes east of UTC (-480 for PST), -720 to 840. Any
// other value is left in the userData only, and counts as 0 (UTC).
func timeZoneOffset(userData map[string]string) int {
	tz, err := strconv.Atoi(strings.TrimSpace(userData["TimeZone"]))
	if err != nil || tz < -720 || tz > 840 {
		return 0
	}
	return tz
}

// tryNext reports whether a failed login may be tried on another chat
// server: this one takes no chats or is going away.
func tryNext(err error) bool {
	c := asWireError(err).Code
	return c == wire.CodeUnavailable || c == wire.CodeShuttingDown || c == wire.CodeBackup
}

// direct sends one request of a chat to its chat server and returns the
// reply as an envelope.
func (s *Server) direct(ctx context.Context, q *request, name string, body any) (*envelope, error) {
	var st status
	if err := s.call(ctx, q, name, body, &st, name == wire.RequestRefresh); err != nil {
		return nil, err
	}
	env := okEnvelope(st)
	if name != wire.RequestRefresh && len(env.Messages) == 0 {
		s.quiet(q, &env)
	}
	return &env, nil
}

// quiet makes env, a reply that gives the client no events, lead it no
// further than the events it was given: when this web API answers the
// party's refreshes from its buffer, to the nextPosition of the last one
// (the chat server does not see those refreshes). A notice's reply would
// otherwise skip an agent's message the client has not refreshed yet.
func (s *Server) quiet(q *request, env *envelope) {
	sub := s.targets.get(partyKey{q.ref.SessionID, q.ref.UserID})
	if sub == nil {
		return
	}
	if rt, ok := sub.t.(*restTarget); ok && rt.keyMatches(q.ref.SecureKey) {
		if g := rt.givenPos(); g > 0 {
			env.NextPosition = g
		}
	}
}

func (s *Server) send(ctx context.Context, q *request) (*envelope, error) {
	pos, err := q.form.position("transcriptPosition")
	if err != nil {
		return nil, err
	}
	text := q.form.get("message")
	if text == "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "message is required")
	}
	return s.direct(ctx, q, wire.RequestMessage, messageBody{partyRef: q.ref, Text: text,
		MessageType: q.form.get("messageType"), EventAttributes: q.form.attrs, TranscriptPosition: pos})
}

// refreshOp answers a refresh. Its optional message is the customer's
// unfinished text, which the official widget sends on every poll: a typing
// preview, told to the other parties as TypingStarted with the text when
// it changed since the party's last preview, never a Message.
func (s *Server) refreshOp(ctx context.Context, q *request) (*envelope, error) {
	pos, err := q.form.position("transcriptPosition")
	if err != nil {
		return nil, err
	}
	env, err := s.refresh(ctx, q, pos)
	if err != nil {
		return nil, err
	}
	if text := q.form.get("message"); text != "" && s.newPreview(q, text) {
		body := notifyBody{partyRef: q.ref, NoticeType: transcript.TypingStarted, Text: text}
		if _, err := s.direct(ctx, q, wire.RequestNotify, body); err != nil {
			s.log.Debug("typing preview not sent", "chat", q.ref.SessionID, "err", err)
		}
	}
	return env, nil
}

// newPreview reports whether text differs from the party's last typing
// preview, and records it. The preview is kept with the party's refresh
// buffer; a party without one (a permanent push subscription) has each
// preview told.
func (s *Server) newPreview(q *request, text string) bool {
	sub := s.targets.get(partyKey{q.ref.SessionID, q.ref.UserID})
	if sub == nil {
		return true
	}
	rt, ok := sub.t.(*restTarget)
	return !ok || !rt.keyMatches(q.ref.SecureKey) || rt.swapPreview(text)
}

// notice returns the handler of an operation that sends a notice of type t
// with the form field field as its text, and the party's eventAttributes.
func (s *Server) notice(t transcript.EventType, field string, required bool) handlerFunc {
	return func(ctx context.Context, q *request) (*envelope, error) {
		text := q.form.get(field)
		if required && text == "" {
			return nil, wire.Errorf(wire.CodeBadRequest, "%s is required", field)
		}
		return s.direct(ctx, q, wire.RequestNotify, notifyBody{partyRef: q.ref, NoticeType: t, Text: text, EventAttributes: q.form.attrs})
	}
}

func (s *Server) updateData(ctx context.Context, q *request) (*envelope, error) {
	if len(q.form.userData) == 0 {
		return nil, wire.Errorf(wire.CodeBadRequest, "userData[key] fields are required")
	}
	return s.direct(ctx, q, wire.RequestUpdateData, updateDataBody{partyRef: q.ref, UserData: q.form.userData})
}

// disconnect logs the client out and forgets its push target.
func (s *Server) disconnect(ctx context.Context, q *request) (*envelope, error) {
	env, err := s.direct(ctx, q, wire.RequestLogout, q.ref)
	if err != nil {
		return nil, err
	}
	k := partyKey{q.ref.SessionID, q.ref.UserID}
	if sub := s.targets.get(k); sub != nil {
		s.targets.remove(k, sub)
	}
	return env, nil
}

// readReceipt tells the agents that the client has read the transcript up
// to transcriptPosition: the chat server adds a ReadReceipt event that
// agents and supervisors see (never the client, never stored). A position
// past the transcript's end is refused (102).
func (s *Server) readReceipt(ctx context.Context, q *request) (*envelope, error) {
	n, err := q.form.position("transcriptPosition")
	if err != nil {
		return nil, err
	}
	env, err := s.direct(ctx, q, wire.RequestNotify, notifyBody{partyRef: q.ref, NoticeType: transcript.ReadReceipt,
		UserData: map[string]string{"transcriptPosition": strconv.Itoa(n)}})
	if err == nil {
		s.quiet(q, env)
	}
	return env, err
}
