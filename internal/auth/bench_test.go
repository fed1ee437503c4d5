package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// BenchmarkVerifyGrant is what a chat server spends on each agent join.
func BenchmarkVerifyGrant(b *testing.B) {
	key, err := auth.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok := key.SignGrant(auth.Grant{Agent: "alice", Session: "0001KASJD8Q2N7XZ", PartyType: "Agent", Visibility: "ALL", Expires: now.Add(time.Minute)})
	b.ReportAllocs()
	for b.Loop() {
		g, err := key.VerifyGrant(tok, now)
		if err != nil || g.Check("0001KASJD8Q2N7XZ", "alice", "Agent", "ALL") != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignGrant is what an interaction server spends on each accept.
func BenchmarkSignGrant(b *testing.B) {
	key, err := auth.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	g := auth.Grant{Agent: "alice", Session: "0001KASJD8Q2N7XZ", PartyType: "Agent", Visibility: "ALL", Expires: time.Now().Add(time.Minute)}
	b.ReportAllocs()
	for b.Loop() {
		_ = key.SignGrant(g)
	}
}

// BenchmarkSignRequest is what a web API spends signing each request to a
// chat server (its status polls, file transfers, location look-ups).
func BenchmarkSignRequest(b *testing.B) {
	key, err := auth.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:7021/status", nil)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		key.SignRequest(req, "gms-1", "chat-1", now)
	}
}
