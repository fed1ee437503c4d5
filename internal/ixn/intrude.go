package ixn

import (
	"fmt"
	"time"
)

// Intrude makes supervisor, a logged-in agent configured as a supervisor,
// a party of interaction id, which another agent handles (EventPartyAdded
// with kind "intrude"): it may then join its chat, to monitor, coach or
// barge in, and leaves it with LeaveInteraction. It counts against the
// supervisor's capacity like any interaction it holds.
func (e *Engine) Intrude(now time.Time, supervisor, id string) (Output, error) {
	a, err := e.loggedIn(supervisor)
	if err != nil {
		return Output{}, err
	}
	if !a.Supervisor {
		return Output{}, fmt.Errorf("%w: %s", ErrNotSupervisor, supervisor)
	}
	in, err := e.get(id)
	switch {
	case err != nil:
		return Output{}, err
	case in.State != StateHandling:
		return Output{}, fmt.Errorf("%w: %s is %s, not handled by an agent", ErrInvalidState, id, in.State)
	case in.holds(supervisor):
		return Output{}, fmt.Errorf("%w: %s holds %s already", ErrInvalidState, supervisor, id)
	}
	e.begin()
	e.hold(now, in, supervisor, "intrude")
	return e.finish(), nil
}
