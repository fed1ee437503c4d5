package statserver

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

//go:embed wallboard
var wallboardFiles embed.FS

// The wallboard's figures: the shipped stat types it shows, per kind of
// object, when the configuration defines them.
var (
	boardQueue  = []string{"ChatsInQueue", "LongestWait", "ChatsHandled", "ChatsAbandoned", "AverageHandleTime", "ServiceLevel"}
	boardAgent  = []string{"AgentState", "ChatsInProgress", "ChatsHandled"}
	boardTenant = []string{"AgentsReady", "AgentsBusy", "AgentsNotReady", "ChatsInQueue", "ServiceLevel"}
)

// boardRange is the time range of the wallboard's ServiceLevel.
const boardRange = "ServiceLevel"

// openBoard opens the wallboard's statistics, held by the server for its
// life: they are replicated to the peer like any other.
func (s *Server) openBoard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	open := func(t stat.ObjectType, id string, types []string) {
		for _, st := range types {
			def, err := s.engine.Open(stat.Definition{ObjectType: t, ObjectID: id, StatType: st, TimeRange: boardRange}, now)
			if err == nil {
				s.ha.opened(def)
			}
		}
	}
	for _, q := range s.cfg.Stat.Queues {
		open(stat.Queue, q, boardQueue)
	}
	for _, a := range s.cfg.Stat.Agents {
		open(stat.Agent, a, boardAgent)
	}
	open(stat.Tenant, s.tenant(), boardTenant)
}

func (s *Server) tenant() string {
	if s.cfg.Stat.Tenant == "" {
		return stat.DefaultTenant
	}
	return s.cfg.Stat.Tenant
}

// boardRow is one object's figures on the wallboard, by stat type.
type boardRow struct {
	ID     string             `json:"id"`
	Values map[string]float64 `json:"values"`
	States map[string]string  `json:"states,omitempty"`
}

// boardData is the body of GET /wallboard/data.
type boardData struct {
	Time     int64      `json:"time"`
	StreamUp bool       `json:"streamUp"`
	Position int64      `json:"lastEventId"`
	Tenant   boardRow   `json:"tenant"`
	Queues   []boardRow `json:"queues"`
	Agents   []boardRow `json:"agents"`
}

func (s *Server) boardData() boardData {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	row := func(t stat.ObjectType, id string, types []string) boardRow {
		r := boardRow{ID: id, Values: map[string]float64{}, States: map[string]string{}}
		for _, st := range types {
			def := stat.Definition{ObjectType: t, ObjectID: id, StatType: st, TimeRange: boardRange}
			if v, err := s.value(def, now); err == nil {
				r.Values[st] = v.Number
				if v.State != "" {
					r.States[st] = v.State
				}
			}
		}
		return r
	}
	d := boardData{Time: now.UnixMilli(), StreamUp: s.streamUp, Position: s.engine.LastEventID(),
		Tenant: row(stat.Tenant, s.tenant(), boardTenant)}
	for _, q := range s.cfg.Stat.Queues {
		d.Queues = append(d.Queues, row(stat.Queue, q, boardQueue))
	}
	for _, a := range s.cfg.Stat.Agents {
		d.Agents = append(d.Agents, row(stat.Agent, a, boardAgent))
	}
	return d
}

// value is the value of def as opened with its profile and range resolved
// (the default profile; the range only where the category takes one).
// s.mu must be held.
func (s *Server) value(def stat.Definition, now time.Time) (stat.Value, error) {
	for _, d := range []stat.Definition{def, withProfile(def, ""), withProfile(def, stat.DefaultProfile)} {
		for _, rng := range []string{d.TimeRange, ""} {
			d.TimeRange = rng
			if v, err := s.engine.Value(d, now); err == nil {
				return v, nil
			}
		}
	}
	return stat.Value{}, stat.ErrNoSuchStatistic
}

func withProfile(d stat.Definition, p string) stat.Definition { d.TimeProfile = p; return d }

// wallboard adds the wallboard's routes to mux: the page (static, no
// data) to anyone, its figures to the admin and stat clients.
func (s *Server) wallboard(mux *http.ServeMux) {
	sub, _ := fs.Sub(wallboardFiles, "wallboard")
	files := http.StripPrefix("/wallboard/", http.FileServerFS(sub))
	mux.Handle("GET /wallboard/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	mux.Handle("GET /wallboard/data", s.cfg.Trust.HTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.boardData())
	}), auth.RoleAdmin, auth.RoleStatClient))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// gmsRequest is the body of POST /genesys/1/statistic (GMS Stat Service).
type gmsRequest struct {
	ObjectID         string `json:"objectId"`
	ObjectType       string `json:"objectType"`
	Tenant           string `json:"tenant"`
	StatisticType    string `json:"statisticType"`
	Metric           string `json:"metric"` // GMS's other name for statisticType
	NotificationMode string `json:"notificationMode"`
	TimeProfile      string `json:"timeProfile"`
	TimeRange        string `json:"timeRange"`
	Filter           string `json:"filter"` // filters are not supported: must be empty
}

// serveGMS answers POST /genesys/1/statistic with the statistic's value
// now. The statistic is opened at the first request and stays open for
// the server's life, so historical figures count from then on; a
// definition the configuration refuses is 403 with the code and text.
func (s *Server) serveGMS(w http.ResponseWriter, r *http.Request) {
	var req gmsRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, wire.Errorf(wire.CodeBadRequest, "want a JSON body of objectId, objectType, statisticType, ..."))
		return
	}
	def := stat.Definition{ObjectType: stat.ObjectType(req.ObjectType), ObjectID: req.ObjectID,
		StatType: cmpOr(req.StatisticType, req.Metric), TimeProfile: req.TimeProfile, TimeRange: req.TimeRange}
	if req.Filter != "" || req.Tenant != "" && req.Tenant != s.tenant() {
		writeJSON(w, http.StatusForbidden, wire.Errorf(wire.CodeInvalidStatistic, "filters and other tenants are not supported"))
		return
	}
	s.mu.Lock()
	now := s.now()
	v, err := s.gmsValue(def, now)
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusForbidden, errorCode(err))
		return
	}
	w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(1))
	writeJSON(w, http.StatusOK, infoBody{ObjectID: def.ObjectID, ObjectType: string(def.ObjectType), StatisticType: def.StatType,
		Value: v.Number, StringValue: v.State, Time: now.UnixMilli()})
}

// gmsValue opens def unless the server holds it already, and returns its
// value. s.mu must be held.
func (s *Server) gmsValue(def stat.Definition, now time.Time) (stat.Value, error) {
	if !slices.Contains(s.gms, def) {
		if s.engine.Len() >= s.cfg.Options.Settings.MaxStatistics {
			return stat.Value{}, wire.Errorf(wire.CodeTooManyStatistics, "max-statistics are open")
		}
		opened, err := s.engine.Open(def, now)
		if err != nil {
			return stat.Value{}, err
		}
		s.ha.opened(opened)
		s.gms = append(s.gms, def)
		if opened != def {
			s.gms = append(s.gms, opened)
		}
		def = opened
	}
	return s.value(def, now)
}
