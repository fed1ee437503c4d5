package auth

import (
	"sync"
	"time"
)

// Backoff throttles guessing: it counts the failures of each key (an agent
// id, a client address) and, past Free of them, makes the key wait before
// its next attempt, Base after the first further failure and twice as long
// after each next one, up to Max. A success forgets the key. Its table is
// bounded: past MaxKeys it forgets the keys whose wait is long over, and
// then the oldest. It is safe for concurrent use; time is passed in.
type Backoff struct {
	Free      int
	Base, Max time.Duration
	MaxKeys   int

	mu   sync.Mutex // guards keys
	keys map[string]*backoffKey
}

// backoffKey is one key's failures and when it may try again.
type backoffKey struct {
	fails int
	until time.Time
	last  time.Time
}

// Wait returns how long key must still wait at now before an attempt; 0
// means it may try.
func (b *Backoff) Wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.keys[key]
	if k == nil || !now.Before(k.until) {
		return 0
	}
	return k.until.Sub(now)
}

// Fail counts a failed attempt of key at now.
func (b *Backoff) Fail(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		b.keys = make(map[string]*backoffKey)
	}
	k := b.keys[key]
	if k == nil {
		b.pruneLocked(now)
		k = &backoffKey{}
		b.keys[key] = k
	}
	k.fails++
	k.last = now
	if over := k.fails - b.Free; over > 0 {
		k.until = now.Add(min(b.Base<<min(over-1, 30), b.Max))
	}
}

// Succeed forgets key's failures.
func (b *Backoff) Succeed(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, key)
}

// pruneLocked makes room for one more key. b.mu must be held.
func (b *Backoff) pruneLocked(now time.Time) {
	if b.MaxKeys <= 0 || len(b.keys) < b.MaxKeys {
		return
	}
	var oldest string
	for key, k := range b.keys {
		if now.Sub(k.last) > b.Max && !now.Before(k.until) {
			delete(b.keys, key)
		} else if oldest == "" || k.last.Before(b.keys[oldest].last) {
			oldest = key
		}
	}
	if len(b.keys) >= b.MaxKeys {
		delete(b.keys, oldest)
	}
}
