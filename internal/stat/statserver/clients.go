package statserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// serveWire serves one client connection until it ends, then closes the
// statistics it left open.
func (s *Server) serveWire(w http.ResponseWriter, r *http.Request) {
	c, err := wire.Accept(w, r, s.wireOpts)
	if err != nil {
		s.log.Debug("wire upgrade failed", "err", err)
		return
	}
	cl := &client{conn: c, stats: map[int64]*opened{}}
	if !s.addClient(cl) {
		c.Close()
		return
	}
	defer s.conns.Done()
	defer s.dropClient(cl)
	guarded := s.cfg.Trust.Guard(c, r, []auth.Role{auth.RoleStatClient}, func(id auth.Identity) wire.Handler {
		return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) { s.request(cl, m) })
	})
	if err := c.Serve(r.Context(), guarded); err != nil && !errors.Is(err, wire.ErrClosed) {
		s.log.Debug("client connection ended", "remote", r.RemoteAddr, "err", err)
	}
}

func (s *Server) addClient(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.clients[c] = struct{}{}
	s.conns.Add(1)
	return true
}

func (s *Server) dropClient(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	for _, o := range c.stats {
		s.release(o.def)
	}
}

// request answers one client request: a reply, or EventError with a code
// (docs/stat.md); a failed request opens nothing.
func (s *Server) request(c *client, m wire.Message) {
	s.requests.WithLabelValues(m.Name).Inc()
	var err error
	switch m.Name {
	case wire.RequestOpenStatistic, wire.RequestOpenStatisticEx:
		err = s.open(c, m)
	case wire.RequestCloseStatistic:
		err = s.closeStat(c, m)
	case wire.RequestGetStatistic:
		err = s.get(c, m)
	default:
		err = wire.Errorf(wire.CodeNotAllowed, "%s is not a stat server request", m.Name)
	}
	if err != nil {
		_ = c.conn.ReplyError(m, err)
	}
}

// objectBody is a statistic's object (PSDK StatisticObject).
type objectBody struct {
	ObjectID       string `json:"objectId"`
	ObjectType     string `json:"objectType"`
	TenantName     string `json:"tenantName"`
	TenantPassword string `json:"tenantPassword"` // accepted and ignored: clients are authenticated
}

// metricBody is RequestOpenStatisticEx's ad-hoc definition (PSDK
// StatisticMetricEx).
type metricBody struct {
	Category     string `json:"category"`
	MainMask     string `json:"mainMask"`
	RelativeMask string `json:"relativeMask"`
	Subject      string `json:"subject"`
	TimeProfile  string `json:"timeProfile"`  // a profile name, or a value with IntervalType
	IntervalType string `json:"intervalType"` // GrowingWindow, SlidingWindow or Selection
	TimeRange    string `json:"timeRange"`
	Objects      string `json:"objects"` // default: the object's type
}

type notificationBody struct {
	Mode          string  `json:"mode"`
	Frequency     int     `json:"frequency"` // s
	Insensitivity float64 `json:"insensitivity"`
}

type openRequest struct {
	ReferenceID   int64            `json:"referenceId"`
	Object        objectBody       `json:"object"`
	StatisticType string           `json:"statisticType"`
	TimeProfile   string           `json:"timeProfile"`
	TimeRange     string           `json:"timeRange"`
	Metric        *metricBody      `json:"metric"` // RequestOpenStatisticEx only
	Notification  notificationBody `json:"notification"`
}

type refRequest struct {
	ReferenceID int64 `json:"referenceId"`
}

func (s *Server) open(c *client, m wire.Message) error {
	var req openRequest
	if err := m.Bind(&req); err != nil {
		return err
	}
	if req.ReferenceID <= 0 {
		return wire.Errorf(wire.CodeBadRequest, "referenceId must be a number >= 1")
	}
	if (m.Name == wire.RequestOpenStatisticEx) != (req.Metric != nil) {
		return wire.Errorf(wire.CodeBadRequest, "RequestOpenStatisticEx takes a metric, RequestOpenStatistic a statisticType")
	}
	n := stat.Notification{Mode: stat.Mode(req.Notification.Mode), Frequency: time.Duration(req.Notification.Frequency) * time.Second,
		Insensitivity: req.Notification.Insensitivity}
	if n.Mode == "" {
		n.Mode = stat.Immediate
	}
	if err := n.Check(); err != nil {
		return errorCode(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	def, err := s.definition(req)
	if err != nil {
		return errorCode(err)
	}
	return s.attach(c, m, req.ReferenceID, def, n)
}

// definition resolves a request into a definition, registering the
// ad-hoc stat type and time profile of RequestOpenStatisticEx. s.mu must be
// held.
func (s *Server) definition(req openRequest) (stat.Definition, error) {
	def := stat.Definition{ObjectType: stat.ObjectType(req.Object.ObjectType), ObjectID: req.Object.ObjectID,
		StatType: req.StatisticType, TimeProfile: req.TimeProfile, TimeRange: req.TimeRange}
	if t := req.Object.TenantName; t != "" && t != s.cfg.Stat.Tenant && s.cfg.Stat.Tenant != "" {
		return def, fmt.Errorf("%w: Tenant %q", stat.ErrNoSuchObject, t)
	}
	if req.Metric == nil {
		return def, nil
	}
	mt := req.Metric
	opts := map[string]string{"Category": mt.Category, "MainMask": mt.MainMask, "Subject": mt.Subject,
		"Objects": cmpOr(mt.Objects, req.Object.ObjectType)}
	if mt.RelativeMask != "" {
		opts["RelMask"] = mt.RelativeMask
	}
	key := "ex:" + mt.Category + "|" + mt.MainMask + "|" + mt.RelativeMask + "|" + mt.Subject + "|" + opts["Objects"]
	st, err := stat.ParseStatType(key, opts)
	if err != nil {
		return def, err
	}
	if err := s.adhoc(func() bool { return s.engine.Define(st) }); err != nil {
		return def, err
	}
	def.StatType, def.TimeRange = key, mt.TimeRange
	def.TimeProfile, err = s.profile(mt)
	return def, err
}

// profile resolves an ad-hoc time profile: a configured name, or a value
// of the IntervalType kind.
func (s *Server) profile(mt *metricBody) (string, error) {
	kinds := map[string]stat.ProfileKind{"GrowingWindow": stat.Growing, "SlidingWindow": stat.Sliding, "Selection": stat.Selection}
	if mt.IntervalType == "" {
		return mt.TimeProfile, nil
	}
	kind, ok := kinds[mt.IntervalType]
	if !ok {
		return "", fmt.Errorf("%w: intervalType %q: want GrowingWindow, SlidingWindow or Selection", stat.ErrInvalid, mt.IntervalType)
	}
	name := "ex:" + string(kind) + ":" + strings.ReplaceAll(mt.TimeProfile, ",", ";")
	p, err := stat.ParseTimeProfile(name+","+string(kind), mt.TimeProfile)
	if err != nil {
		return "", err
	}
	if err := s.adhoc(func() bool { return s.engine.DefineProfile(p) }); err != nil {
		return "", err
	}
	return p.Name, nil
}

// adhoc runs define, an ad-hoc definition, unless max-statistics of them
// exist already: they are kept for the server's life. s.mu must be held.
func (s *Server) adhoc(define func() bool) error {
	if s.adhocs >= s.cfg.Options.Settings.MaxStatistics {
		return wire.Errorf(wire.CodeTooManyStatistics, "max-statistics ad-hoc definitions exist")
	}
	if define() {
		s.adhocs++
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// attach opens def for c under ref and answers EventStatisticOpened, then
// the first EventInfo of an Immediate statistic. s.mu must be held.
func (s *Server) attach(c *client, m wire.Message, ref int64, def stat.Definition, n stat.Notification) error {
	if _, dup := c.stats[ref]; dup {
		return wire.Errorf(wire.CodeDuplicateReference, "referenceId %d is in use", ref)
	}
	if !s.engine.IsOpen(def) && s.engine.Len() >= s.cfg.Options.Settings.MaxStatistics {
		return wire.Errorf(wire.CodeTooManyStatistics, "max-statistics (%d) are open", s.cfg.Options.Settings.MaxStatistics)
	}
	now := s.now()
	def, err := s.engine.Open(def, now)
	if err != nil {
		return errorCode(err)
	}
	s.ha.opened(def)
	o := &opened{ref: ref, def: def, watch: stat.NewWatch(n, now), mode: n.Mode}
	if n.Mode == stat.Reset {
		o.reset, _ = s.engine.NextReset(def, now)
	}
	c.stats[ref] = o
	_ = c.conn.Reply(m, wire.EventStatisticOpened, map[string]any{"referenceId": ref, "statistic": def})
	if v, err := s.engine.Value(def, now); err == nil && o.watch.Due(v, now) {
		_ = c.conn.Notify(wire.EventInfo, info(o, v, now))
	}
	return nil
}

// statOf returns c's statistic under the referenceId m names. s.mu must
// be held.
func (s *Server) statOf(c *client, m wire.Message) (*opened, error) {
	var req refRequest
	if err := m.Bind(&req); err != nil {
		return nil, err
	}
	o, ok := c.stats[req.ReferenceID]
	if !ok {
		return nil, wire.Errorf(wire.CodeNoSuchStatistic, "no statistic open under referenceId %d", req.ReferenceID)
	}
	return o, nil
}

func (s *Server) closeStat(c *client, m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.statOf(c, m)
	if err != nil {
		return err
	}
	delete(c.stats, o.ref)
	s.release(o.def)
	return c.conn.Reply(m, wire.EventStatisticClosed, map[string]int64{"referenceId": o.ref})
}

// release drops a client's hold of def. s.mu must be held.
func (s *Server) release(def stat.Definition) {
	_ = s.engine.Close(def)
	if !s.engine.IsOpen(def) {
		s.ha.closed(def)
	}
}

func (s *Server) get(c *client, m wire.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.statOf(c, m)
	if err != nil {
		return err
	}
	now := s.now()
	v, err := s.engine.Value(o.def, now)
	if err != nil {
		return errorCode(err)
	}
	return c.conn.Reply(m, wire.EventInfo, info(o, v, now))
}
