package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/service"
)

// blocker is a Service that returns stopErr once cancelled, or never
// returns while release is open.
func blocker(stopErr error, release <-chan struct{}) service.Func {
	return func(ctx context.Context) error {
		<-ctx.Done()
		if release != nil {
			<-release
		}
		return stopErr
	}
}

func TestGroupStopsAllWhenCtxDone(t *testing.T) {
	var g service.Group
	stopped := make(chan string, 2)
	for _, name := range []string{"a", "b"} {
		g.Add(name, service.Func(func(ctx context.Context) error {
			<-ctx.Done()
			stopped <- name
			return nil
		}))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if len(stopped) != 2 {
		t.Fatalf("%d services stopped, want 2", len(stopped))
	}
}

func TestGroupFirstErrorCancelsOthers(t *testing.T) {
	boom := errors.New("boom")
	var g service.Group
	g.Add("ok", blocker(nil, nil))
	g.Add("late", blocker(errors.New("late error"), nil))
	g.Add("bad", service.Func(func(context.Context) error { return boom }))
	err := g.Run(t.Context())
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
	if got, want := err.Error(), "bad: boom"; got != want {
		t.Errorf("Run error %q, want %q", got, want)
	}
}

func TestGroupBoundedStop(t *testing.T) {
	release := make(chan struct{})
	defer close(release) // lets the stuck goroutine end with the test
	g := service.Group{Grace: 20 * time.Millisecond}
	g.Add("quick", blocker(nil, nil))
	g.Add("stuck", blocker(nil, release))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := g.Run(ctx)
	if !errors.Is(err, service.ErrStopTimeout) {
		t.Fatalf("Run = %v, want ErrStopTimeout", err)
	}
	if got, want := err.Error(), service.ErrStopTimeout.Error()+": stuck"; got != want {
		t.Errorf("Run error %q, want %q", got, want)
	}
}

func TestGroupEmptyWaitsForCtx(t *testing.T) {
	var g service.Group
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before ctx was cancelled", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
