package chatserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/wire"
)

// openDB opens a SQLite database in the test's directory.
func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// serveAvail runs chat-1 on db with avail as its availability store.
func serveAvail(t *testing.T, db *sqlite.DB, avail chat.AvailabilityStore) *harness {
	t.Helper()
	return serve(t, chatserver.Config{Name: "chat-1", Options: defaultOptions(t), Transcripts: db.Transcripts(),
		Contacts: db.Contacts(), Availability: avail}, db)
}

// admin posts to an admin path with the given Content-Type (none when
// empty), body and extra headers, and returns the answer read whole.
func (h *harness) admin(path, contentType, body string, header ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.addr+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// status reads GET /status, which the server answers only once it has
// started, its disabled flag read.
func (h *harness) status() chatserver.Status {
	h.t.Helper()
	resp, err := http.Get("http://" + h.addr + "/status")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st chatserver.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// wantStatus checks that r is a 200 status answer with disabled.
func wantStatus(t *testing.T, what string, r reply, disabled bool) {
	t.Helper()
	var st chatserver.Status
	if r.status != http.StatusOK || json.Unmarshal(r.body, &st) != nil || st.Disabled != disabled {
		t.Errorf("%s: HTTP %d %s, want 200 with disabled %t", what, r.status, r.body, disabled)
	}
}

func TestDisabledSurvivesRestart(t *testing.T) {
	db := openDB(t)
	h := serveAvail(t, db, db.Availability())
	wantStatus(t, "disable", h.admin("/admin/disable", "", ""), true)
	h.kill()

	h = serveAvail(t, db, db.Availability())
	if st := h.status(); !st.Disabled || st.Accepting {
		t.Fatalf("status after a restart = %+v, want disabled", st)
	}
	flex := h.dial(chatserver.FlexPath)
	if _, err := flex.do(wire.RequestLogin, map[string]any{"nickname": "New"}); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("login on a restarted disabled server: err = %v, want code %d", err, wire.CodeUnavailable)
	}
	wantStatus(t, "enable", h.admin("/admin/enable", "application/json", "{}"), false)
	h.kill()

	h = serveAvail(t, db, db.Availability())
	if st := h.status(); st.Disabled || !st.Accepting {
		t.Fatalf("status after enable and a restart = %+v, want accepting", st)
	}
	h.login(h.dial(chatserver.FlexPath))
}

func TestDisabledInMemoryWithoutStore(t *testing.T) {
	db := openDB(t)
	h := serveAvail(t, db, nil)
	wantStatus(t, "disable", h.admin("/admin/disable", "", ""), true)
	h.kill()
	if disabled, err := db.Availability().Disabled(t.Context(), "chat-1"); err != nil || disabled {
		t.Errorf("store without Config.Availability: disabled = %v, %v", disabled, err)
	}
	if st := serveAvail(t, db, nil).status(); st.Disabled {
		t.Errorf("status after a restart without a store = %+v, want enabled", st)
	}
}

// failingAvailability is an availability store whose calls fail while
// fail is set.
type failingAvailability struct {
	chat.AvailabilityStore
	fail atomic.Bool
}

var errAvailability = errors.New("test: availability store down")

func (f *failingAvailability) Disabled(ctx context.Context, server string) (bool, error) {
	if f.fail.Load() {
		return false, errAvailability
	}
	return f.AvailabilityStore.Disabled(ctx, server)
}

func (f *failingAvailability) SetDisabled(ctx context.Context, server string, disabled bool) error {
	if f.fail.Load() {
		return errAvailability
	}
	return f.AvailabilityStore.SetDisabled(ctx, server, disabled)
}

func TestDisableStoreFailureChangesNothing(t *testing.T) {
	db := openDB(t)
	avail := &failingAvailability{AvailabilityStore: db.Availability()}
	h := serveAvail(t, db, avail)
	h.status() // started
	avail.fail.Store(true)
	r := h.admin("/admin/disable", "", "")
	wantRefused(t, "disable with the store down", r, http.StatusInternalServerError, wire.CodeStoreFailed)
	if !strings.Contains(string(r.body), "could not be saved") {
		t.Errorf("refusal text %s does not say the flag was not saved", r.body)
	}
	if st := h.status(); st.Disabled || !st.Accepting {
		t.Errorf("status after a failed disable = %+v, want unchanged", st)
	}
	h.login(h.dial(chatserver.FlexPath))

	avail.fail.Store(false)
	wantStatus(t, "disable with the store back", h.admin("/admin/disable", "", ""), true)
	avail.fail.Store(true)
	wantRefused(t, "enable with the store down", h.admin("/admin/enable", "", ""), http.StatusInternalServerError, wire.CodeStoreFailed)
	if st := h.status(); !st.Disabled {
		t.Errorf("status after a failed enable = %+v, want still disabled", st)
	}
}

func TestUnreadableDisabledFlagFailsStart(t *testing.T) {
	db := openDB(t)
	avail := &failingAvailability{AvailabilityStore: db.Availability()}
	avail.fail.Store(true)
	srv, err := chatserver.New(chatserver.Config{Name: "chat-1", Options: defaultOptions(t), Transcripts: db.Transcripts(),
		Contacts: db.Contacts(), Availability: avail})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(t.Context(), listen(t)); !errors.Is(err, errAvailability) {
		t.Errorf("Serve with an unreadable flag: err = %v, want %v", err, errAvailability)
	}
}

func TestAdminRefusesCrossSiteRequests(t *testing.T) {
	db := openDB(t)
	h := serveAvail(t, db, db.Availability())
	tests := []struct {
		name, contentType, body string
		header                  []string
		status                  int
		code                    wire.Code
	}{
		{"text/plain form", "text/plain", "x=1", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"text/plain without a body", "text/plain;charset=UTF-8", "", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"url-encoded form", "application/x-www-form-urlencoded", "a=b", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"url-encoded without a body", "application/x-www-form-urlencoded", "", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"multipart form", "multipart/form-data; boundary=x", "--x--\r\n", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"other type", "application/xml", "<a/>", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"malformed type", "application/json; =", "{}", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"body without a type", "", "{}", nil, http.StatusUnsupportedMediaType, wire.CodeBadRequest},
		{"cross-site JSON", "application/json", "{}", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, wire.CodeNotAllowed},
		{"cross-site without a body", "", "", []string{"Sec-Fetch-Site", "Cross-Site"}, http.StatusForbidden, wire.CodeNotAllowed},
	}
	for _, path := range []string{"/admin/disable", "/admin/enable", "/admin/purge/S1"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				wantRefused(t, tt.name, h.admin(path, tt.contentType, tt.body, tt.header...), tt.status, tt.code)
			})
		}
	}
	if st := h.status(); st.Disabled {
		t.Fatalf("a refused request disabled the server: %+v", st)
	}
	if disabled, err := db.Availability().Disabled(t.Context(), "chat-1"); err != nil || disabled {
		t.Fatalf("a refused request reached the store: %v, %v", disabled, err)
	}

	resp, err := http.Get("http://" + h.addr + "/admin/disable")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || h.status().Disabled {
		t.Errorf("GET /admin/disable: HTTP %d, disabled %t", resp.StatusCode, h.status().Disabled)
	}

	// What parley's own callers and an operator's tools send passes.
	wantStatus(t, "no body", h.admin("/admin/disable", "", ""), true)
	wantStatus(t, "JSON", h.admin("/admin/enable", "application/json; charset=utf-8", `{}`), false)
	wantStatus(t, "same-origin", h.admin("/admin/disable", "application/json", "", "Sec-Fetch-Site", "same-origin"), true)
	if r := h.admin("/admin/purge/S1", "", ""); r.status != http.StatusNoContent {
		t.Errorf("purge of an unknown session: HTTP %d %s, want 204", r.status, r.body)
	}
}
