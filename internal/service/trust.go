package service

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// Endpoint is another application as this one reaches it.
type Endpoint struct {
	Name string // its application name, which it must prove
	Addr string // host:port to dial
	TLS  bool   // it serves TLS
}

// URL returns the URL of path on e with scheme "ws" or "http", turned into
// "wss" or "https" when e serves TLS.
func (e Endpoint) URL(scheme, path string) string {
	if e.TLS {
		scheme += "s"
	}
	return scheme + "://" + e.Addr + path
}

// Trust is how an application proves itself and admits others: the Gate of
// its listener, its credentials and TLS configuration for what it dials. A
// nil *Trust admits every peer and dials in plain text: it is for tests
// that run roles in one process, never for a deployment (the cli always
// builds one).
type Trust struct {
	Name  string           // the application's name
	Gate  *auth.Gate       // admits the peers of its listener
	Key   auth.Key         // the deployment key
	Certs *Certs           // nil without TLS material
	Now   func() time.Time // nil: time.Now
}

// Listen listens on addr, with TLS when the application has a certificate
// (see Wrap).
func (t *Trust) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return t.Wrap(ln), nil
}

// Wrap returns ln serving TLS when the application has a certificate, ln
// itself otherwise: how a listener bound elsewhere (inherited from the
// process that started this one) serves as Listen's would.
func (t *Trust) Wrap(ln net.Listener) net.Listener {
	if t == nil || !t.Certs.Serves() {
		return ln
	}
	return tls.NewListener(ln, t.Certs.ServerConfig())
}

// WireOptions returns opts with the TLS configuration of a dial.
func (t *Trust) WireOptions(opts wire.Options) wire.Options {
	if t != nil && t.Certs != nil {
		opts.TLS = t.Certs.ClientConfig()
	}
	return opts
}

// Handshake proves the application to the server e on c (see
// auth.Handshake); with a nil t it does nothing.
func (t *Trust) Handshake(ctx context.Context, c *wire.Conn, e Endpoint) error {
	if t == nil {
		return nil
	}
	return auth.Handshake(ctx, c, auth.Credentials{Name: t.Name, Key: t.Key}, e.Name)
}

// Guard is Gate.Guard for a connection accepted from r; with a nil t the
// peer is admitted at once, in every one of roles.
func (t *Trust) Guard(c *wire.Conn, r *http.Request, roles []auth.Role, admit func(auth.Identity) wire.Handler) wire.Handler {
	if t == nil {
		return admit(auth.Identity{Roles: roles})
	}
	return t.Gate.Guard(c, auth.CertName(r.TLS), roles, admit)
}

// HTTP is Gate.HTTP; with a nil t it returns h.
func (t *Trust) HTTP(h http.Handler, roles ...auth.Role) http.Handler {
	if t == nil {
		return h
	}
	return t.Gate.HTTP(h, roles...)
}

// HTTPClient returns a client for requests to other applications: their
// TLS roots and this application's client certificate.
func (t *Trust) HTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t != nil && t.Certs != nil {
		tr.TLSClientConfig = t.Certs.ClientConfig()
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Instrument counts the peers the Gate refuses in reg, by reason
// (parley_auth_refused_total), and logs each refusal at warn level without
// anything secret. Call it once, before serving; a nil t does nothing.
func (t *Trust) Instrument(reg *prometheus.Registry, log *slog.Logger) {
	if t == nil || t.Gate == nil {
		return
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_auth_refused_total",
		Help: "Connections and requests refused by authentication or role, by reason."}, []string{"reason"})
	reg.MustRegister(refused)
	t.Gate.Refused = func(peer, reason string) {
		refused.WithLabelValues(reason).Inc()
		log.Warn("peer refused", "peer", peer, "reason", reason)
	}
}

// Refuse counts and logs a refusal the role decided after the opening
// exchange (a registration in a role the peer lacks, a join without a valid
// grant), as the Gate does its own; with a nil t it does nothing.
func (t *Trust) Refuse(peer, reason string) {
	if t != nil && t.Gate != nil && t.Gate.Refused != nil {
		t.Gate.Refused(peer, reason)
	}
}

// Sign signs r for the application e (auth.Key.SignRequest); with a nil t
// it does nothing.
func (t *Trust) Sign(r *http.Request, e Endpoint) {
	if t == nil {
		return
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	t.Key.SignRequest(r, t.Name, e.Name, now())
}
