package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// TestAvailabilityStore runs the chat.AvailabilityStore conformance suite.
// open must return a fresh store that stays usable until the test ends;
// subtests run in parallel, each on its own store.
func TestAvailabilityStore(t *testing.T, open func(t *testing.T) chat.AvailabilityStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s chat.AvailabilityStore)
	}{
		{"NeverSetIsEnabled", testAvailabilityDefault},
		{"SetAndClear", testAvailabilitySetAndClear},
		{"PerServer", testAvailabilityPerServer},
		{"Concurrent", testAvailabilityConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// wantDisabled fails the test unless s reports want for server.
func wantDisabled(t *testing.T, s chat.AvailabilityStore, server string, want bool) {
	t.Helper()
	got, err := s.Disabled(t.Context(), server)
	if err != nil || got != want {
		t.Fatalf("Disabled(%s) = %v, %v; want %v", server, got, err, want)
	}
}

func setDisabled(t *testing.T, s chat.AvailabilityStore, server string, disabled bool) {
	t.Helper()
	if err := s.SetDisabled(t.Context(), server, disabled); err != nil {
		t.Fatalf("SetDisabled(%s, %v): %v", server, disabled, err)
	}
}

func testAvailabilityDefault(t *testing.T, s chat.AvailabilityStore) {
	wantDisabled(t, s, "chat-1", false)
	wantDisabled(t, s, "", false)
}

func testAvailabilitySetAndClear(t *testing.T, s chat.AvailabilityStore) {
	setDisabled(t, s, "chat-1", true)
	wantDisabled(t, s, "chat-1", true)
	setDisabled(t, s, "chat-1", true) // again: not an error
	wantDisabled(t, s, "chat-1", true)
	setDisabled(t, s, "chat-1", false)
	wantDisabled(t, s, "chat-1", false)
	setDisabled(t, s, "chat-1", false)
	wantDisabled(t, s, "chat-1", false)
}

func testAvailabilityPerServer(t *testing.T, s chat.AvailabilityStore) {
	setDisabled(t, s, "chat-1", true)
	wantDisabled(t, s, "chat-2", false)
	wantDisabled(t, s, "Chat-1", false) // names are compared exactly
	setDisabled(t, s, "chat-2", true)
	setDisabled(t, s, "chat-1", false)
	wantDisabled(t, s, "chat-1", false)
	wantDisabled(t, s, "chat-2", true)
}

func testAvailabilityConcurrent(t *testing.T, s chat.AvailabilityStore) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("chat-%d", i)
			for _, d := range []bool{true, false, i%2 == 0} {
				if err := s.SetDisabled(t.Context(), name, d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 8 {
		wantDisabled(t, s, fmt.Sprintf("chat-%d", i), i%2 == 0)
	}
}
