package ixn

import (
	"fmt"
	"time"
)

// Publish sends client's user event with data (EventUserEvent): to the
// followers of interaction id, when given, and to the reporting clients.
func (e *Engine) Publish(now time.Time, client, id string, data map[string]string) (Output, error) {
	if len(data) == 0 {
		return Output{}, fmt.Errorf("%w: userData is required", ErrInvalid)
	}
	body := Body{InteractionID: id, Client: client, Properties: cloneProps(data)}
	var to []Target
	if id != "" {
		in, err := e.get(id)
		if err != nil {
			return Output{}, err
		}
		to = e.parties(in)
	}
	e.begin()
	if len(to) > 0 {
		e.notify("EventUserEvent", body, true, to...)
	}
	e.report(now, "EventUserEvent", body)
	return e.finish(), nil
}
