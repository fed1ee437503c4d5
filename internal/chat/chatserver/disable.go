package chatserver

import "fmt"

// disabledBy names who disables the server now: the deployment file, an
// operator's admin call, both, or nobody (nil).
func (s *Server) disabledBy() []string {
	var by []string
	if s.fileDisabled.Load() {
		by = append(by, "deployment")
	}
	if s.disabled.Load() {
		by = append(by, "admin")
	}
	return by
}

// SetDeploymentDisabled applies the deployment file's disabled key, re-read
// on SIGHUP: set, the server takes no new chats and keeps serving its
// current ones, whatever the operator's flag (POST /admin/enable does not
// undo it); cleared, only the operator's flag counts. The file keeps it
// across restarts.
func (s *Server) SetDeploymentDisabled(disabled bool) {
	if s.fileDisabled.Swap(disabled) != disabled {
		s.logAvailability(disabled, fmt.Sprintf("the deployment file (disabled: %t)", disabled))
	}
}

// logAvailability logs a change of one of the disabled flags, made by by,
// as the numbered event an alarm rule matches.
func (s *Server) logAvailability(disabled bool, by string) {
	if disabled {
		s.event(evDisabled, by)
		return
	}
	s.event(evEnabled, by)
}
