package chatserver_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// errCrashed is what the stores of a crashed chat server answer: nothing a
// dead process does reaches the database.
var errCrashed = errors.New("chatserver test: the chat server crashed")

// lifeline is what a harness cuts when its chat server crashes: the
// server's stores, which refuse every call from then on, and its
// connections, which are closed under it: those its listener accepted and
// those it dialed to the interaction servers and its peers, which go
// through relays. It is the server's listener, so that it sees every
// connection.
type lifeline struct {
	net.Listener
	dead  atomic.Bool
	mu    sync.Mutex // guards conns and relays
	conns []net.Conn
	// relays are the listeners standing for the servers it dials.
	relays []net.Listener
}

func (l *lifeline) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.track(c)
	return c, nil
}

// track records c to be cut with the lifeline; once cut, it closes c at
// once: a dead process answers no connection.
func (l *lifeline) track(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead.Load() {
		c.Close()
	}
	l.conns = append(l.conns, c)
}

// relay returns an address that forwards to addr until the lifeline is
// cut: what the server dials there passes through it.
func (l *lifeline) relay(t testing.TB, addr string) string {
	t.Helper()
	ln := listen(t)
	l.mu.Lock()
	l.relays = append(l.relays, ln)
	l.mu.Unlock()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go l.forward(c, addr)
		}
	}()
	return ln.Addr().String()
}

// forward pipes c to a new connection to addr, both cut with the lifeline.
func (l *lifeline) forward(c net.Conn, addr string) {
	l.track(c)
	up, err := net.Dial("tcp", addr)
	if err != nil {
		c.Close()
		return
	}
	l.track(up)
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// cut kills: every store call fails from now on, and every connection is
// closed without a word.
func (l *lifeline) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dead.Store(true)
	for _, c := range l.conns {
		c.Close()
	}
}

func (l *lifeline) alive() error {
	if l.dead.Load() {
		return errCrashed
	}
	return nil
}

// guard puts cfg's stores, interaction servers and peers behind l.
func (l *lifeline) guard(t testing.TB, cfg *chatserver.Config) {
	t.Helper()
	ixn := slices.Clone(cfg.IxnServers)
	for i := range ixn {
		ixn[i].Addr = l.relay(t, ixn[i].Addr)
	}
	cfg.IxnServers = ixn
	peers := maps.Clone(cfg.Peers)
	for name, ep := range peers {
		ep.Addr = l.relay(t, ep.Addr)
		peers[name] = ep
	}
	cfg.Peers = peers
	cfg.Transcripts = deadTranscripts{cfg.Transcripts, l}
	cfg.Contacts = deadContacts{cfg.Contacts, l}
	if cfg.Files != nil {
		cfg.Files = deadFiles{cfg.Files, l}
	}
	if cfg.Availability != nil {
		cfg.Availability = deadAvailability{cfg.Availability, l}
	}
}

// deadTranscripts is a transcript store that refuses every call once its
// lifeline is cut.
type deadTranscripts struct {
	s transcript.Store
	l *lifeline
}

func (d deadTranscripts) Create(ctx context.Context, s transcript.Session) error {
	return cmpErr(d.l.alive(), func() error { return d.s.Create(ctx, s) })
}

func (d deadTranscripts) Append(ctx context.Context, id string, epoch int64, events []transcript.Event) error {
	return cmpErr(d.l.alive(), func() error { return d.s.Append(ctx, id, epoch, events) })
}

func (d deadTranscripts) Load(ctx context.Context, id string) (transcript.Snapshot, error) {
	if err := d.l.alive(); err != nil {
		return transcript.Snapshot{}, err
	}
	return d.s.Load(ctx, id)
}

func (d deadTranscripts) Header(ctx context.Context, id string) (transcript.Session, error) {
	if err := d.l.alive(); err != nil {
		return transcript.Session{}, err
	}
	return d.s.Header(ctx, id)
}

func (d deadTranscripts) Claim(ctx context.Context, id, owner, incarnation string, epoch int64) (int64, error) {
	if err := d.l.alive(); err != nil {
		return 0, err
	}
	return d.s.Claim(ctx, id, owner, incarnation, epoch)
}

func (d deadTranscripts) Delete(ctx context.Context, id string, epoch int64) error {
	return cmpErr(d.l.alive(), func() error { return d.s.Delete(ctx, id, epoch) })
}

func (d deadTranscripts) Sessions(ctx context.Context, owner string) ([]transcript.Session, error) {
	if err := d.l.alive(); err != nil {
		return nil, err
	}
	return d.s.Sessions(ctx, owner)
}

// deadContacts is a contact store that refuses every call once its
// lifeline is cut.
type deadContacts struct {
	s contact.Store
	l *lifeline
}

func (d deadContacts) SaveInteraction(ctx context.Context, c contact.Contact, in contact.Interaction) (contact.Interaction, error) {
	if err := d.l.alive(); err != nil {
		return contact.Interaction{}, err
	}
	return d.s.SaveInteraction(ctx, c, in)
}

func (d deadContacts) SaveStandardResponse(ctx context.Context, r contact.StandardResponse) (contact.StandardResponse, error) {
	if err := d.l.alive(); err != nil {
		return contact.StandardResponse{}, err
	}
	return d.s.SaveStandardResponse(ctx, r)
}

func (d deadContacts) StandardResponses(ctx context.Context, query string, limit int) ([]contact.StandardResponse, error) {
	if err := d.l.alive(); err != nil {
		return nil, err
	}
	return d.s.StandardResponses(ctx, query, limit)
}

func (d deadContacts) ContactByEmail(ctx context.Context, email string) (contact.Contact, error) {
	if err := d.l.alive(); err != nil {
		return contact.Contact{}, err
	}
	return d.s.ContactByEmail(ctx, email)
}

func (d deadContacts) Interaction(ctx context.Context, id string) (contact.Interaction, error) {
	if err := d.l.alive(); err != nil {
		return contact.Interaction{}, err
	}
	return d.s.Interaction(ctx, id)
}

func (d deadContacts) Contact(ctx context.Context, id string) (contact.Contact, error) {
	if err := d.l.alive(); err != nil {
		return contact.Contact{}, err
	}
	return d.s.Contact(ctx, id)
}

func (d deadContacts) ContactInteractions(ctx context.Context, id string) ([]contact.Interaction, error) {
	if err := d.l.alive(); err != nil {
		return nil, err
	}
	return d.s.ContactInteractions(ctx, id)
}

// deadFiles is a file store that refuses every call once its lifeline is
// cut.
type deadFiles struct {
	s transcript.FileStore
	l *lifeline
}

func (d deadFiles) PutFile(ctx context.Context, f transcript.File, data []byte) error {
	return cmpErr(d.l.alive(), func() error { return d.s.PutFile(ctx, f, data) })
}

func (d deadFiles) File(ctx context.Context, sessionID, fileID string, download bool) (transcript.File, []byte, error) {
	if err := d.l.alive(); err != nil {
		return transcript.File{}, nil, err
	}
	return d.s.File(ctx, sessionID, fileID, download)
}

func (d deadFiles) DeleteFile(ctx context.Context, sessionID, fileID string) error {
	return cmpErr(d.l.alive(), func() error { return d.s.DeleteFile(ctx, sessionID, fileID) })
}

func (d deadFiles) SessionFiles(ctx context.Context, sessionID string) ([]transcript.File, error) {
	if err := d.l.alive(); err != nil {
		return nil, err
	}
	return d.s.SessionFiles(ctx, sessionID)
}

func (d deadFiles) DeleteSessionFiles(ctx context.Context, sessionID string) error {
	return cmpErr(d.l.alive(), func() error { return d.s.DeleteSessionFiles(ctx, sessionID) })
}

// deadAvailability is an availability store that refuses every call once
// its lifeline is cut.
type deadAvailability struct {
	s chat.AvailabilityStore
	l *lifeline
}

func (d deadAvailability) Disabled(ctx context.Context, server string) (bool, error) {
	if err := d.l.alive(); err != nil {
		return false, err
	}
	return d.s.Disabled(ctx, server)
}

func (d deadAvailability) SetDisabled(ctx context.Context, server string, disabled bool) error {
	return cmpErr(d.l.alive(), func() error { return d.s.SetDisabled(ctx, server, disabled) })
}

// cmpErr returns dead when it is set, else what f returns.
func cmpErr(dead error, f func() error) error {
	if dead != nil {
		return dead
	}
	return f()
}

var (
	_ transcript.Store       = deadTranscripts{}
	_ contact.Store          = deadContacts{}
	_ transcript.FileStore   = deadFiles{}
	_ chat.AvailabilityStore = deadAvailability{}
)
