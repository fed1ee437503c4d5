package chatserver

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/internal/wire"
)

// adminOnly refuses the admin requests a web page on another site could
// make a browser send without a CORS preflight: any request the browser
// marks Sec-Fetch-Site: cross-site (403), and a body of a type an HTML
// form or a simple fetch may send, text/plain,
// application/x-www-form-urlencoded or multipart/form-data (415), or of any
// type but application/json (415). A request without a body and without a
// Content-Type passes, as parley's own servers send it. Each refusal is a
// JSON wire error. It does not authenticate the caller.
func adminOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site")), "cross-site") {
			writeJSON(w, http.StatusForbidden, wire.Errorf(wire.CodeNotAllowed, "admin requests from another site are refused (Sec-Fetch-Site: cross-site)"))
			return
		}
		if err := adminBody(r); err != nil {
			writeJSON(w, http.StatusUnsupportedMediaType, err)
			return
		}
		h(w, r)
	}
}

// adminBody returns the wire error refusing r's body, or nil when r has no
// body and no Content-Type, or an application/json one.
func adminBody(r *http.Request) error {
	ct := strings.TrimSpace(r.Header.Get("Content-Type"))
	if ct == "" {
		if r.ContentLength == 0 {
			return nil
		}
		return wire.Errorf(wire.CodeBadRequest, "an admin request with a body must be application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return wire.Errorf(wire.CodeBadRequest, "admin requests take no body or application/json, not %q", ct)
	}
	return nil
}

// loadDisabled sets the disabled flag from the store, as an operator left
// it before a restart. A flag that cannot be read fails the start: the
// server would otherwise take chats an operator meant to keep away.
func (s *Server) loadDisabled(ctx context.Context) error {
	if s.fileDisabled.Load() {
		s.logAvailability(true, "the deployment file (disabled: true)")
	}
	if s.cfg.Availability == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	disabled, err := s.cfg.Availability.Disabled(ctx, s.cfg.Name)
	if err != nil {
		return fmt.Errorf("chatserver %s: read the disabled flag: %w", s.cfg.Name, err)
	}
	s.disabled.Store(disabled)
	if disabled {
		s.log.Warn("chat server starts disabled, as an operator left it: it takes no new chats until POST /admin/enable")
	}
	return nil
}

// setDisabled serves POST /admin/disable and /admin/enable: it records the
// flag in the store first, and changes it only once the store has it, so
// that a restart keeps it. When the store write fails it answers 500 with
// a JSON wire error (8212) and the flag stays as it was.
func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	s.availMu.Lock()
	defer s.availMu.Unlock()
	if s.cfg.Availability != nil {
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		err := s.cfg.Availability.SetDisabled(ctx, s.cfg.Name, disabled)
		cancel()
		if err != nil {
			s.log.Error("chat server availability not changed: store failed", "disabled", disabled, "err", err)
			writeJSON(w, http.StatusInternalServerError, wire.Errorf(wire.CodeStoreFailed,
				"the disabled flag could not be saved; nothing changed (disabled is still %t)", s.disabled.Load()))
			return
		}
	}
	if s.disabled.Swap(disabled) != disabled {
		s.logAvailability(disabled, "an operator (POST /admin/disable or /admin/enable)")
	}
	s.serveStatus(w, nil)
}
