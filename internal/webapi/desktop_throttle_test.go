package webapi_test

import (
	"fmt"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// TestDesktopLoginBackoff fails six logins from one address, each for
// another agent id (so that the interaction server's per-agent backoff is
// not what stops them): the seventh, alice's right password, is refused
// with 113 unforwarded, and counted.
func TestDesktopLoginBackoff(t *testing.T) {
	dc := startDeskCluster(t)
	d := dc.desk()
	for i := range 6 {
		d.wantCode(wire.RequestAgentLogin, map[string]string{"agentId": fmt.Sprint("guess-", i), "password": "x"}, wire.CodeLoginFailed)
	}
	d.wantCode(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}, wire.CodeRateLimited)
	if n := dc.web.srv.Refused("login-backoff"); n != 1 {
		t.Errorf("refused{login-backoff} = %v, want 1", n)
	}
}
