package chatserver

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// Pair is the warm-standby pair a chat server belongs to (Genesys
// primary/backup, docs/ha.md): two chat servers on one database, of which
// one serves and the other stands by, serving nothing, until the first
// dies or a switchover hands it the role.
type Pair struct {
	// Name names the pair: its configured primary's application name.
	Name string
	// Partner is the other member.
	Partner service.Endpoint
	// Store records which member is the primary; taking the role is a
	// write there, so a member cut off from the database takes nothing.
	Store chat.PairStore
}

// The roles a member of a pair plays, as GET /status shows them.
const (
	RolePrimary = "primary"
	RoleBackup  = "backup"
)

// maxPairTick bounds how often a member reads the pair's record: a member
// handed the role by a switchover serves within it.
const maxPairTick = 500 * time.Millisecond

// standby is a pair member's role. A server in no pair is never a backup.
type standby struct {
	backup atomic.Bool // serving nothing: requests are refused with 112
	// mu serialises role changes (start, takeover, step down, switchover)
	// and guards down. Lock order: standby.mu before Server.mu (standDown
	// closes the peers and queues operations while holding it).
	mu sync.Mutex
	// down is when the partner was first found unreachable since it last
	// answered; zero while it answers.
	down time.Time
}

// isBackup reports whether the server stands by and serves nothing.
func (s *Server) isBackup() bool { return s.pair.backup.Load() }

// role is the server's role for GET /status; "" outside a pair.
func (s *Server) role() string {
	switch {
	case s.cfg.Pair == nil:
		return ""
	case s.isBackup():
		return RoleBackup
	}
	return RolePrimary
}

// refuseAsBackup answers m with 112 and reports true while the server
// stands by.
func (s *Server) refuseAsBackup(p *peer, m wire.Message) bool {
	if !s.isBackup() {
		return false
	}
	if m.Ref != 0 {
		s.reject(p, m, wire.Errorf(wire.CodeBackup, "this chat server is the backup of pair %s; its primary serves", s.cfg.Pair.Name))
	}
	return true
}

// startPair decides the server's role before it serves: the primary the
// pair's record names takes it again at a new epoch (so that a backup
// deciding at the same moment to take over loses), as does the configured
// primary of a pair never recorded; any other member is the backup. A
// record that cannot be read or written fails the start.
func (s *Server) startPair(ctx context.Context) error {
	if s.cfg.Pair == nil {
		return nil
	}
	s.pair.mu.Lock()
	defer s.pair.mu.Unlock()
	for range 3 {
		member, epoch, err := s.readPair(ctx)
		if err != nil {
			return err
		}
		if member != s.cfg.Name && (member != "" || s.cfg.Pair.Name != s.cfg.Name) {
			s.pair.backup.Store(true)
			s.log.Info("chat server starts as the backup of its pair", "pair", s.cfg.Pair.Name, "primary", member, "epoch", epoch)
			return nil
		}
		next, err := s.takePrimary(ctx, s.cfg.Name, epoch)
		if errors.Is(err, chat.ErrPairTaken) {
			continue // the partner took it meanwhile: read again
		}
		if err != nil {
			return err
		}
		s.pair.backup.Store(false)
		s.log.Info("chat server starts as the primary of its pair", "pair", s.cfg.Pair.Name, "epoch", next)
		return nil
	}
	return errors.New("chatserver: the pair's record keeps changing; not started")
}

// runPair watches the pair until ctx is done: a primary steps down when
// the record names its partner, a backup serves when the record names it
// (a switchover) or takes over when its partner has not answered for
// backup-takeover-timeout and the record can be taken.
func (s *Server) runPair(ctx context.Context) {
	if s.cfg.Pair == nil {
		return
	}
	t := time.NewTicker(min(s.cfg.Options.Settings.BackupTakeoverTimeout/3, maxPairTick))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.pairTick(ctx)
	}
}

// pairTick is one look at the pair's record and, for a backup, at its
// partner. Without the record nothing changes: no promotion on a
// partition.
func (s *Server) pairTick(ctx context.Context) {
	s.pair.mu.Lock()
	defer s.pair.mu.Unlock()
	member, epoch, err := s.readPair(ctx)
	switch {
	case err != nil:
		s.log.Debug("the pair's record is not readable; the role stays", "role", s.role(), "err", err)
	case !s.isBackup() && member != s.cfg.Name:
		s.log.Warn("the partner took the primary role: this chat server becomes the backup", "pair", s.cfg.Pair.Name, "primary", member, "epoch", epoch)
		s.standDown()
	case s.isBackup() && member == s.cfg.Name:
		s.serveAsPrimary(epoch, "the pair's record names it (switchover)")
	case s.isBackup():
		s.watchPartner(ctx, epoch)
	}
}

// watchPartner takes the primary role once the partner has not answered
// for backup-takeover-timeout. s.pair.mu must be held.
func (s *Server) watchPartner(ctx context.Context, epoch int64) {
	if st, err := s.peerStatus(ctx, s.cfg.Pair.Partner); err == nil && !st.Stopping {
		s.pair.down = time.Time{}
		return
	}
	now := time.Now()
	if s.pair.down.IsZero() {
		s.pair.down = now
		s.log.Warn("the primary of the pair does not answer", "pair", s.cfg.Pair.Name, "primary", s.cfg.Pair.Partner.Name)
	}
	if now.Sub(s.pair.down) < s.cfg.Options.Settings.BackupTakeoverTimeout {
		return
	}
	next, err := s.takePrimary(ctx, s.cfg.Name, epoch)
	switch {
	case errors.Is(err, chat.ErrPairTaken):
		s.log.Info("the pair's record changed meanwhile; reading it again", "pair", s.cfg.Pair.Name)
	case err != nil:
		s.log.Warn("not taking over: the pair's record cannot be written", "pair", s.cfg.Pair.Name, "err", err)
	default:
		s.serveAsPrimary(next, "the primary did not answer for backup-takeover-timeout")
	}
}

// serveAsPrimary makes a backup serve. The chats of the old primary are
// restored here on their clients' next requests (or by the orphan sweep).
// s.pair.mu must be held.
func (s *Server) serveAsPrimary(epoch int64, why string) {
	s.pair.down = time.Time{}
	s.pair.backup.Store(false)
	s.log.Warn("chat server is now the primary of its pair", "pair", s.cfg.Pair.Name, "epoch", epoch, "why", why)
}

// standDown makes a primary serve nothing: from now on every client
// request is refused with 112 (no effect), each session is dropped from
// memory after the operations already queued on it (their replies are
// sent; every acknowledged event is in the store), and the connections are
// closed, so that the web APIs and agent desktops move the chats to the
// partner, which restores them from the store. Nobody is removed from a
// chat. s.pair.mu must be held.
func (s *Server) standDown() {
	s.pair.backup.Store(true)
	for range 3 { // a request admitted just before the flip may add a session
		if s.dropAll() == 0 {
			break
		}
	}
	s.closePeers()
}

// dropAll drops every session after its queued operations and returns how
// many there were.
func (s *Server) dropAll() int {
	var wg sync.WaitGroup
	n := 0
	for id := range s.sessions.held() {
		e := s.sessions.get(id)
		if e == nil {
			continue
		}
		n++
		wg.Add(1)
		if !s.exec(e, func(context.Context) {
			defer wg.Done()
			if !e.gone {
				s.drop(e)
			}
		}) {
			wg.Done()
		}
	}
	wg.Wait()
	return n
}

// closePeers closes every wire connection gracefully (queued replies are
// written first); the listener is left as it is.
func (s *Server) closePeers() {
	s.mu.Lock()
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		p.conn.Close()
	}
}

// serveSwitchover serves POST /admin/switchover on the primary of a pair:
// it stands down and hands the pair's record to the partner, which serves
// at its next look at the record. It answers 200 with the new /status;
// 409 (104) outside a pair, on the backup (112), or when the partner does
// not stand by (106); 503 (8212) when the record cannot be read or
// written, the server then serving on as the primary.
func (s *Server) serveSwitchover(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Pair == nil {
		writeJSON(w, http.StatusConflict, wire.Errorf(wire.CodeNotAllowed, "this chat server has no backup and backs up none"))
		return
	}
	s.pair.mu.Lock()
	defer s.pair.mu.Unlock()
	if s.isBackup() {
		writeJSON(w, http.StatusConflict, wire.Errorf(wire.CodeBackup, "this chat server is the backup; switch over on the primary %s", s.cfg.Pair.Partner.Name))
		return
	}
	if st, err := s.peerStatus(r.Context(), s.cfg.Pair.Partner); err != nil || st.Stopping || st.Role != RoleBackup {
		writeJSON(w, http.StatusConflict, wire.Errorf(wire.CodeUnavailable, "the backup %s does not stand by; nothing changed", s.cfg.Pair.Partner.Name))
		return
	}
	member, epoch, err := s.readPair(r.Context())
	if err != nil || member != s.cfg.Name {
		writeJSON(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeStoreFailed, "the pair's record cannot be read or names another primary; nothing changed"))
		return
	}
	s.log.Warn("switchover: this chat server hands the primary role to its partner", "pair", s.cfg.Pair.Name, "to", s.cfg.Pair.Partner.Name)
	s.standDown()
	if _, err := s.takePrimary(r.Context(), s.cfg.Pair.Partner.Name, epoch); err != nil {
		s.pair.backup.Store(false)
		s.log.Error("switchover failed: the pair's record was not written; this chat server serves on", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeStoreFailed, "the pair's record was not written; this chat server serves on as the primary"))
		return
	}
	writeJSON(w, http.StatusOK, s.Status())
}

// readPair reads the pair's record within storeTimeout.
func (s *Server) readPair(ctx context.Context) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return s.cfg.Pair.Store.Primary(ctx, s.cfg.Pair.Name)
}

// takePrimary records member as the pair's primary at epoch+1 within
// storeTimeout.
func (s *Server) takePrimary(ctx context.Context, member string, epoch int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return s.cfg.Pair.Store.TakePrimary(ctx, s.cfg.Pair.Name, member, epoch)
}
