package config

// HealthService is the [health-service] section of a chat server: its
// health metrics (the KPI counters of GET /kpi) written to the log, as
// Genesys's Chat Server does. Changes apply at once.
type HealthService struct {
	// LogOutputTimeout is log-output-timeout, 0-86400 s, default 0: how
	// often the metrics are logged; 0 turns the output off.
	LogOutputTimeout int
	// LogOutputProviso is log-output-proviso, update (default) or always:
	// update logs only when a metric changed since the last output.
	LogOutputProviso string
	// LogOutputContent is log-output-content, set (default), new or all:
	// the non-zero metrics, those changed since the last output, or every
	// one.
	LogOutputContent string
}

func defaultHealthService() HealthService {
	return HealthService{LogOutputProviso: "update", LogOutputContent: "set"}
}

func (h HealthService) validate() []*Error {
	return collect("health-service",
		intIn("log-output-timeout", h.LogOutputTimeout, 0, 86400),
		oneOf("log-output-proviso", h.LogOutputProviso, "update", "always"),
		oneOf("log-output-content", h.LogOutputContent, "set", "new", "all"),
	)
}

func (h *HealthService) section() section {
	return section{
		"log-output-timeout": &h.LogOutputTimeout,
		"log-output-proviso": &h.LogOutputProviso,
		"log-output-content": &h.LogOutputContent,
	}
}
