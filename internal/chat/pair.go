package chat

import (
	"context"
	"errors"
)

// ErrPairTaken is returned by PairStore.TakePrimary when the pair's epoch is
// no longer the one the caller read: another member took the primary role
// since (or at the same moment).
var ErrPairTaken = errors.New("chat: the pair's primary changed since it was read")

// PairStore keeps which member of a warm-standby pair of chat servers is the
// primary (docs/ha.md, "Chat server: primary/backup"). A pair is named by its
// configured primary's application name; its epoch rises by one at each
// change, so that of two members taking the role at once exactly one wins,
// and a member cut off from the store can take nothing. Implementations are
// safe for concurrent use.
type PairStore interface {
	// Primary returns the member recorded as the pair's primary and the
	// pair's epoch. A pair never recorded has no primary: "", 0 and a nil
	// error. It returns an error only when the store cannot be read.
	Primary(ctx context.Context, pair string) (member string, epoch int64, err error)
	// TakePrimary records member as the pair's primary at epoch+1, durably,
	// if the pair's epoch is still epoch (0 for a pair never recorded), and
	// returns the new epoch. When the epoch changed meanwhile it records
	// nothing and returns ErrPairTaken; on any other error nothing is
	// recorded either.
	TakePrimary(ctx context.Context, pair, member string, epoch int64) (int64, error)
}
