package ixn

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// checkLock refuses an operation on interaction id by client while another
// client holds its lock.
func (e *Engine) checkLock(id, client string) error {
	if holder, ok := e.locks[id]; ok && holder != client {
		return fmt.Errorf("%w: %s is locked by %s", ErrLocked, id, holder)
	}
	return nil
}

// Lock locks interaction id for the client by.Client (EventLocked): until
// it unlocks it or disconnects, routing, views and pulls skip it and other
// clients cannot change it. Locking it again is a no-op.
func (e *Engine) Lock(now time.Time, by Actor, id string) (Output, error) {
	in, err := e.acting(by, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	if _, ok := e.locks[id]; !ok {
		e.locks[id] = by.Client
		e.lockEvent(now, "EventLocked", in, by.Client)
	}
	return e.finish(), nil
}

// Unlock releases by.Client's lock of interaction id (EventUnlocked), and
// routes it again.
func (e *Engine) Unlock(now time.Time, by Actor, id string) (Output, error) {
	in, err := e.acting(by, id)
	if err != nil {
		return Output{}, err
	}
	if _, ok := e.locks[id]; !ok {
		return Output{}, fmt.Errorf("%w: %s is not locked", ErrInvalidState, id)
	}
	e.begin()
	e.unlock(now, in)
	e.route(now)
	return e.finish(), nil
}

// ReleaseLocks releases every lock of client, which disconnected.
func (e *Engine) ReleaseLocks(now time.Time, client string) Output {
	e.begin()
	for _, id := range slices.Sorted(maps.Keys(e.locks)) {
		if e.locks[id] == client {
			if in := e.ixns[id]; in != nil {
				e.unlock(now, in)
			}
		}
	}
	e.route(now)
	return e.finish()
}

func (e *Engine) unlock(now time.Time, in *Interaction) {
	client := e.locks[in.ID]
	delete(e.locks, in.ID)
	e.lockEvent(now, "EventUnlocked", in, client)
}

// lockEvent tells in's followers and the reporting clients that client
// locked or unlocked it.
func (e *Engine) lockEvent(now time.Time, name string, in *Interaction, client string) {
	body := Body{InteractionID: in.ID, Queue: in.Queue, LockedBy: client}
	e.notify(name, body, true, e.parties(in)...)
	e.report(now, name, body)
}
