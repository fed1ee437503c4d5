package webapi

import "github.com/prometheus/client_golang/prometheus"

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
