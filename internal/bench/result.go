package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"
)

// Result is the content of a result file: what ran, where, and each step.
type Result struct {
	Date    string  `json:"date"`
	Machine Machine `json:"machine"`
	Setup   Setup   `json:"setup"`
	Steps   []Step  `json:"steps"`
	// Capacity is, with --find-capacity, the active sessions of the largest
	// step that passed (0 when none did).
	Capacity int `json:"capacity,omitempty"`
}

// Machine is the host the run was measured on.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// Setup is what was measured: the deployment and the scenario.
type Setup struct {
	Target string `json:"target"`
	// Spawned says the generator started the deployment itself; Store and
	// Pinning then describe it (Pinning empty: processes not pinned).
	Spawned  bool   `json:"spawned"`
	Store    string `json:"store,omitempty"`
	Pinning  string `json:"pinning,omitempty"`
	AutoSave int    `json:"transcript_auto_save,omitempty"`
	// TLS says the generator's links to the chat servers ran over TLS (they
	// are authenticated in every case).
	TLS       bool      `json:"tls,omitempty"`
	Transport Transport `json:"transport"`
	// Measures says what the transport measures: the GMS path, or the
	// chat server alone (Wire).
	Measures      string  `json:"measures"`
	PollS         float64 `json:"poll_s"`
	DormantPollS  float64 `json:"dormant_poll_s"`
	SessionLength float64 `json:"session_length_s"`
	Messages      int     `json:"messages_per_party"`
	ThinkS        float64 `json:"think_s"`
	RampS         float64 `json:"ramp_s"`
	DurationS     float64 `json:"duration_s"`
	P99BoundMs    float64 `json:"p99_bound_ms"`
}

// Step is one measured load level.
type Step struct {
	Sessions int `json:"sessions"`
	Dormant  int `json:"dormant"`
	// DormantOpen is how many dormant chats were open at the window's end.
	DormantOpen       int64            `json:"dormant_open"`
	WindowS           float64          `json:"window_s"`
	SessionsCompleted int64            `json:"sessions_completed"`
	MessagesSent      int64            `json:"messages_sent"`
	MessagesReceived  int64            `json:"messages_received"`
	MessagesPerSecond float64          `json:"messages_per_second"`
	Errors            int64            `json:"errors"`
	ErrorKinds        map[string]int64 `json:"error_kinds,omitempty"`
	ErrorSamples      []string         `json:"error_samples,omitempty"`
	// FailedByCause splits Errors by kind and cause: the Chat API or wire
	// error code ("send 8200", "agent-send 8205"), "timeout" or "transport".
	FailedByCause map[string]int64 `json:"failed_by_cause,omitempty"`
	Lost          int64            `json:"lost"`
	Duplicated    int64            `json:"duplicated"`
	Reordered     int64            `json:"reordered"`
	// Latency is every delivery's; ToAgent and ToCustomer split it by
	// receiver; Requests are the customers' request round trips.
	Latency    Latency `json:"latency"`
	ToAgent    Latency `json:"latency_to_agent"`
	ToCustomer Latency `json:"latency_to_customer"`
	Requests   Latency `json:"request_round_trip"`
	// GateP99Ms is the p99 the pass criterion looks at: deliveries to
	// agents and customer request round trips, plus deliveries to
	// customers where they are pushed (over REST they include the poll
	// wait).
	GateP99Ms  float64       `json:"gate_p99_ms"`
	Passed     bool          `json:"passed"`
	Processes  []ProcessStat `json:"processes"`
	PerMessage *PerMessage   `json:"per_message,omitempty"`
	// Chaos is set when chat servers were killed during the window; such a
	// step passes with nothing lost, duplicated, stuck or ghost, whatever
	// its errors and latency (requests fail while a chat is restored).
	Chaos *ChaosStats `json:"chaos,omitempty"`
}

// ProcessStat is one process's use of the machine during the window.
type ProcessStat struct {
	Process
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPercent is of one core: 100 is a core saturated.
	CPUPercent   float64 `json:"cpu_percent"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
}

// PerMessage is CPU time per message sent in the window, in microseconds,
// by role. A field is absent when no process of that role was measured.
type PerMessage struct {
	ChatServerCPUMicros *float64 `json:"chat_server_cpu_us,omitempty"`
	WebAPICPUMicros     *float64 `json:"web_api_cpu_us,omitempty"`
	GeneratorCPUMicros  *float64 `json:"generator_cpu_us,omitempty"`
}

// NewResult returns the result of runs of cfg on this machine, with no
// steps yet.
func NewResult(cfg Config, bound time.Duration) Result {
	return Result{
		Date: time.Now().UTC().Format(time.DateOnly),
		Machine: Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(),
			OS: runtime.GOOS + "/" + runtime.GOARCH},
		Setup: Setup{Target: cfg.Target, Transport: cfg.Transport, Measures: cfg.Transport.Measures(), PollS: cfg.Poll.Seconds(),
			DormantPollS: cfg.DormantPoll.Seconds(), SessionLength: cfg.SessionLength.Seconds(),
			Messages: cfg.Messages, ThinkS: cfg.think().Seconds(), RampS: cfg.Ramp.Seconds(),
			DurationS: cfg.Duration.Seconds(), P99BoundMs: ms(bound)},
	}
}

// WriteFile writes r as indented JSON to path.
func (r Result) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// ReadResult reads a result file.
func ReadResult(path string) (Result, error) {
	var r Result
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("bench: %s: %w", path, err)
	}
	return r, nil
}
