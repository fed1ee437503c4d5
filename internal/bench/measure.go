package bench

import "time"

// sampleCPU returns the CPU seconds each process has used so far, by pid;
// a process /proc does not show is left out.
func sampleCPU(procs []Process) map[int]float64 {
	out := make(map[int]float64, len(procs))
	for _, p := range procs {
		if s, err := cpuSeconds(p.PID); err == nil {
			out[p.PID] = s
		}
	}
	return out
}

// processStats returns each process's CPU use over the window between two
// samples, and its peak memory so far.
func processStats(procs []Process, before, after map[int]float64, window time.Duration) []ProcessStat {
	var out []ProcessStat
	for _, p := range procs {
		b, ok1 := before[p.PID]
		a, ok2 := after[p.PID]
		if !ok1 || !ok2 {
			continue
		}
		ps := ProcessStat{Process: p, CPUSeconds: a - b, CPUPercent: 100 * (a - b) / window.Seconds()}
		ps.PeakRSSBytes, _ = peakRSS(p.PID) // 0 when unknown
		out = append(out, ps)
	}
	return out
}

// fill completes a step with the session figures, once sessions have ended.
func (r *runner) fill(s *Step) {
	st := r.st
	s.ErrorKinds, s.Errors, s.ErrorSamples = st.errors()
	if r.comet != nil {
		if bad := r.comet.badEnvelopes.Load(); bad > 0 {
			s.ErrorKinds["cometd-error-envelope"] = bad
			s.Errors += bad
		}
	}
	s.SessionsCompleted = st.completed.Load()
	s.MessagesSent, s.MessagesReceived = st.sentWindow.Load(), st.receivedWindow.Load()
	if s.WindowS > 0 {
		s.MessagesPerSecond = float64(s.MessagesReceived) / s.WindowS
	}
	s.Lost, s.Duplicated, s.Reordered = st.lost.Load(), st.duplicated.Load(), st.reorder.Load()
	s.Latency, s.ToAgent = st.all.Summary(), st.toAgent.Summary()
	s.ToCustomer, s.Requests = st.toCustomer.Summary(), st.requests.Summary()
	s.GateP99Ms = max(s.ToAgent.P99, s.Requests.P99)
	if r.cfg.Transport.pushed() {
		s.GateP99Ms = max(s.GateP99Ms, s.ToCustomer.P99)
	}
	s.Passed = s.Errors == 0 && s.Lost == 0 && s.Duplicated == 0 &&
		s.GateP99Ms <= ms(r.cfg.P99Bound) && (r.cfg.Sessions == 0 || s.MessagesReceived > 0)
	s.PerMessage = perMessage(s.Processes, s.MessagesSent)
	if s.Errors > 0 {
		s.FailedByCause = st.failures()
	}
	if r.chaos != nil {
		s.Chaos = r.chaos.stats()
		s.Passed = s.Lost == 0 && s.Duplicated == 0 && s.Chaos.Stuck == 0 && s.Chaos.Ghost == 0 &&
			s.ErrorKinds["chaos-kill"] == 0 && s.MessagesReceived > 0
	}
}

// perMessage divides each role's CPU time by the messages sent.
func perMessage(procs []ProcessStat, sent int64) *PerMessage {
	if sent == 0 {
		return nil
	}
	sum := map[string]*float64{}
	for _, p := range procs {
		if sum[p.Role] == nil {
			sum[p.Role] = new(float64)
		}
		*sum[p.Role] += p.CPUSeconds * 1e6 / float64(sent)
	}
	pm := &PerMessage{ChatServerCPUMicros: sum["chat-server"], WebAPICPUMicros: sum["web-api"],
		GeneratorCPUMicros: sum["bench"]}
	return pm
}
