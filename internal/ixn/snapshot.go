package ixn

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// DefaultSnapshotSize is max-interactions-per-snapshot's default.
const DefaultSnapshotSize = 500

// snapshot is a client's list of interaction ids, taken at one moment.
type snapshot struct {
	client string
	ids    []string
}

// TakeSnapshot takes, for client, the ids of the interactions of queue
// (empty: every queue) that match c, oldest submission first, at most
// Config.SnapshotSize. It returns the snapshot's id and size; the snapshot
// lasts until the client releases it or disconnects.
func (e *Engine) TakeSnapshot(now time.Time, client, queue string, c Condition) (string, int, error) {
	if queue != "" {
		if err := e.checkQueue(queue); err != nil {
			return "", 0, err
		}
	}
	var list []*Interaction
	for _, in := range e.ixns {
		if (queue == "" || in.Queue == queue) && c.Match(in.Properties, now) {
			list = append(list, in)
		}
	}
	slices.SortFunc(list, func(a, b *Interaction) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), cmp.Compare(a.ID, b.ID))
	})
	s := &snapshot{client: client}
	for _, in := range list[:min(len(list), cmp.Or(e.cfg.SnapshotSize, DefaultSnapshotSize))] {
		s.ids = append(s.ids, in.ID)
	}
	e.lastSnapshot++
	id := "snapshot-" + strconv.FormatInt(e.lastSnapshot, 10)
	e.snapshots[id] = s
	return id, len(s.ids), nil
}

// SnapshotInteractions returns up to count (< 1: all) of the interactions
// of client's snapshot id from position from (0-based), as they are now;
// those stopped since it was taken are left out.
func (e *Engine) SnapshotInteractions(client, id string, from, count int) ([]Interaction, error) {
	s, err := e.snapshotOf(client, id)
	if err != nil {
		return nil, err
	}
	if from < 0 {
		return nil, fmt.Errorf("%w: from must not be negative", ErrInvalid)
	}
	ids := s.ids[min(from, len(s.ids)):]
	if count > 0 {
		ids = ids[:min(count, len(ids))]
	}
	out := []Interaction{}
	for _, ixn := range ids {
		if in := e.ixns[ixn]; in != nil {
			out = append(out, in.clone())
		}
	}
	return out, nil
}

// ReleaseSnapshot forgets client's snapshot id.
func (e *Engine) ReleaseSnapshot(client, id string) error {
	if _, err := e.snapshotOf(client, id); err != nil {
		return err
	}
	delete(e.snapshots, id)
	return nil
}

// ReleaseSnapshots forgets every snapshot of client, which disconnected.
func (e *Engine) ReleaseSnapshots(client string) {
	for id, s := range e.snapshots {
		if s.client == client {
			delete(e.snapshots, id)
		}
	}
}

// snapshotOf returns client's snapshot id; another client's is unknown to it.
func (e *Engine) snapshotOf(client, id string) (*snapshot, error) {
	s, ok := e.snapshots[id]
	if !ok || s.client != client {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchSnapshot, id)
	}
	return s, nil
}
