package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireAllVar is the environment variable that, set to "1", turns every
// unmet need into a failure instead of a skip.
const RequireAllVar = "PARLEY_REQUIRE_ALL"

// ErrShort is the reason a long test gives under go test -short.
var ErrShort = errors.New("testenv: -short is set")

// RequireAll reports whether the require-everything switch is on.
func RequireAll() bool { return os.Getenv(RequireAllVar) == "1" }

// Need returns when err is nil. Otherwise it ends the test: it skips it,
// saying that it needs what and why it is missing (err), or, when
// PARLEY_REQUIRE_ALL=1, fails it with the same words. Like t.Skip and
// t.Fatal it must be called from the goroutine running the test.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("needs %s: %v", what, err)
	if RequireAll() {
		t.Fatalf("%s (%s=1 makes this a failure)", msg, RequireAllVar)
	}
	t.Skip(msg)
}

// NeedLong ends the test as Need does when go test runs with -short: the
// test is long because of why (for example, "starts a deployment").
func NeedLong(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		Need(t, "a long run ("+why+")", ErrShort)
	}
}

// NeedCommand returns the path of the program name on PATH, or ends the
// test as Need does when there is none.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	Need(t, name+" on PATH", err)
	return path
}
