package chatserver

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/parley-chat/parley/internal/transcript"
)

// watchedStore is the intermediate transcript store as the server uses
// it: every answer tells whether the store is reachable, and each change
// is logged once, as the numbered events 59520 (UNAVAILABLE) and 59521
// (AVAILABLE) an alarm rule matches. An answer about the data (not found,
// stale epoch, index conflict, exists) is an available store; an answer
// to a cancelled request tells nothing.
type watchedStore struct {
	transcript.Store
	s    *Server
	down atomic.Bool // the last answer said the store is unavailable
}

func (w *watchedStore) observe(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	down := err != nil && !errors.Is(err, transcript.ErrNotFound) && !errors.Is(err, transcript.ErrStaleEpoch) &&
		!errors.Is(err, transcript.ErrIndexConflict) && !errors.Is(err, transcript.ErrExists)
	// Lock-free on the hot path: only a change swaps, and one caller wins
	// it and logs it.
	if w.down.Load() == down || !w.down.CompareAndSwap(!down, down) {
		return err
	}
	if down {
		w.s.event(evStoreUnavailable, "intermediate transcript store", err)
	} else {
		w.s.event(evStoreAvailable, "intermediate transcript store")
	}
	return err
}

func (w *watchedStore) Create(ctx context.Context, s transcript.Session) error {
	return w.observe(w.Store.Create(ctx, s))
}

func (w *watchedStore) Append(ctx context.Context, id string, epoch int64, events []transcript.Event) error {
	return w.observe(w.Store.Append(ctx, id, epoch, events))
}

func (w *watchedStore) Load(ctx context.Context, id string) (transcript.Snapshot, error) {
	snap, err := w.Store.Load(ctx, id)
	return snap, w.observe(err)
}

func (w *watchedStore) Header(ctx context.Context, id string) (transcript.Session, error) {
	h, err := w.Store.Header(ctx, id)
	return h, w.observe(err)
}

func (w *watchedStore) Claim(ctx context.Context, id, owner, incarnation string, epoch int64) (int64, error) {
	n, err := w.Store.Claim(ctx, id, owner, incarnation, epoch)
	return n, w.observe(err)
}

func (w *watchedStore) Delete(ctx context.Context, id string, epoch int64) error {
	return w.observe(w.Store.Delete(ctx, id, epoch))
}

func (w *watchedStore) Sessions(ctx context.Context, owner string) ([]transcript.Session, error) {
	ss, err := w.Store.Sessions(ctx, owner)
	return ss, w.observe(err)
}

var _ transcript.Store = (*watchedStore)(nil)
