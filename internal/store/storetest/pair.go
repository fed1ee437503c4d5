package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// TestPairStore runs the chat.PairStore conformance suite. open must return
// a fresh store that stays usable until the test ends; subtests run in
// parallel, each on its own store.
func TestPairStore(t *testing.T, open func(t *testing.T) chat.PairStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s chat.PairStore)
	}{
		{"NeverRecorded", testPairNever},
		{"TakeAndHandBack", testPairTake},
		{"StaleEpoch", testPairStale},
		{"RaceOneWinner", testPairRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

func wantPrimary(t *testing.T, s chat.PairStore, pair, member string, epoch int64) {
	t.Helper()
	m, e, err := s.Primary(t.Context(), pair)
	if err != nil || m != member || e != epoch {
		t.Fatalf("Primary(%s) = %q, %d, %v; want %q, %d", pair, m, e, err, member, epoch)
	}
}

func testPairNever(t *testing.T, s chat.PairStore) {
	wantPrimary(t, s, "chat-1", "", 0)
}

func testPairTake(t *testing.T, s chat.PairStore) {
	for i, member := range []string{"chat-1", "chat-1b", "chat-1"} {
		e, err := s.TakePrimary(t.Context(), "chat-1", member, int64(i))
		if err != nil || e != int64(i+1) {
			t.Fatalf("TakePrimary(%s, %d) = %d, %v; want %d", member, i, e, err, i+1)
		}
		wantPrimary(t, s, "chat-1", member, int64(i+1))
	}
	wantPrimary(t, s, "chat-2", "", 0) // per pair
}

func testPairStale(t *testing.T, s chat.PairStore) {
	if _, err := s.TakePrimary(t.Context(), "chat-1", "chat-1", 0); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []int64{0, 2} {
		if _, err := s.TakePrimary(t.Context(), "chat-1", "chat-1b", stale); !errors.Is(err, chat.ErrPairTaken) {
			t.Fatalf("TakePrimary at epoch %d of 1 = %v; want ErrPairTaken", stale, err)
		}
	}
	wantPrimary(t, s, "chat-1", "chat-1", 1)
}

func testPairRace(t *testing.T, s chat.PairStore) {
	members := []string{"chat-1", "chat-1b", "chat-1c", "chat-1d"}
	won := make(chan string, len(members))
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			_, err := s.TakePrimary(t.Context(), "chat-1", m, 0)
			switch {
			case err == nil:
				won <- m
			case !errors.Is(err, chat.ErrPairTaken):
				t.Errorf("TakePrimary(%s): %v", m, err)
			}
		})
	}
	wg.Wait()
	close(won)
	var winners []string
	for m := range won {
		winners = append(winners, m)
	}
	if len(winners) != 1 {
		t.Fatalf("winners %v; want exactly one", winners)
	}
	wantPrimary(t, s, "chat-1", winners[0], 1)
}
