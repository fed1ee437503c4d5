package testenv

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended instead of ending
// the real one; like testing.T it leaves the goroutine on Skip and Fatal.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, args[0].(string)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own, as the testing
// package runs a test, and returns the recorder once f has returned or
// ended the test.
func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

// TestNeed checks the three outcomes of Need: a met need returns, an unmet
// one skips with the reason, and fails under PARLEY_REQUIRE_ALL=1.
func TestNeed(t *testing.T) {
	missing := errors.New("no such thing")
	for _, tc := range []struct {
		name, requireAll string
		err              error
		skipped, failed  bool
	}{
		{"met", "", nil, false, false},
		{"met, require all", "1", nil, false, false},
		{"unmet", "", missing, true, false},
		{"unmet, switch off", "0", missing, true, false},
		{"unmet, require all", "1", missing, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RequireAllVar, tc.requireAll)
			returned := false
			r := run(func(tb testing.TB) {
				Need(tb, "a widget", tc.err)
				returned = true
			})
			if r.skipped != tc.skipped || r.failed != tc.failed || returned != (tc.err == nil) {
				t.Fatalf("skipped %v, failed %v, returned %v; want %v, %v, %v",
					r.skipped, r.failed, returned, tc.skipped, tc.failed, tc.err == nil)
			}
			if tc.err != nil && (!strings.Contains(r.msg, "a widget") || !strings.Contains(r.msg, "no such thing")) {
				t.Errorf("message %q does not say what is needed and why it is missing", r.msg)
			}
		})
	}
}

// TestNeedLong checks that -short ends a long test as an unmet need does,
// a failure included under PARLEY_REQUIRE_ALL=1.
func TestNeedLong(t *testing.T) {
	short := flag.Lookup("test.short")
	old := short.Value.String()
	t.Cleanup(func() { _ = short.Value.Set(old) })
	for _, tc := range []struct {
		short, requireAll string
		skipped, failed   bool
	}{
		{"false", "1", false, false},
		{"true", "", true, false},
		{"true", "1", false, true},
	} {
		if err := short.Value.Set(tc.short); err != nil {
			t.Fatal(err)
		}
		t.Setenv(RequireAllVar, tc.requireAll)
		r := run(func(tb testing.TB) { NeedLong(tb, "starts a deployment") })
		if r.skipped != tc.skipped || r.failed != tc.failed {
			t.Errorf("-short=%s %s=%q: skipped %v, failed %v; want %v, %v",
				tc.short, RequireAllVar, tc.requireAll, r.skipped, r.failed, tc.skipped, tc.failed)
		}
	}
}

// TestNeedCommand checks that a program on PATH is found and a missing one
// is an unmet need.
func TestNeedCommand(t *testing.T) {
	t.Setenv(RequireAllVar, "")
	var path string
	if r := run(func(tb testing.TB) { path = NeedCommand(tb, "go") }); r.skipped || r.failed || path == "" {
		t.Errorf("go: path %q, skipped %v, failed %v", path, r.skipped, r.failed)
	}
	if r := run(func(tb testing.TB) { NeedCommand(tb, "parley-no-such-program") }); !r.skipped {
		t.Errorf("a missing program was not skipped: %+v", r)
	}
}
