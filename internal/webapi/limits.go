package webapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/service"
)

// The reasons a request is refused for a limit, the label of
// parley_webapi_refused_total: an operator watching them sees an attack.
const (
	refusedUploadSize = "upload-size" // an upload declared larger than upload-max-file-size
)

// newRefused returns the counter of refusals by reason, registered on reg.
func newRefused(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_webapi_refused_total", Help: "Requests refused for a limit, by reason.",
	}, []string{"reason"})
	reg.MustRegister(c)
	return c
}

// refuse counts one refusal for reason.
func (m *metrics) refuse(reason string) { m.refused.WithLabelValues(reason).Inc() }

// httpLimits are the public listener's limits, from [limits].
func (s *Server) httpLimits() service.HTTPLimits {
	l := s.cfg.Options.Limits
	return service.HTTPLimits{
		ReadTimeout: l.HTTPReadTimeout, WriteTimeout: l.HTTPWriteTimeout, IdleTimeout: l.HTTPIdleTimeout,
		MaxConns: l.MaxConnections, MaxConnsPerAddr: l.MaxConnectionsPerAddress, Refused: s.metrics.refuse,
	}
}
