package webapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
)

// clientFrom returns an HTTP client whose connections leave from the
// loopback address ip (Linux routes all of 127.0.0.0/8 to lo), so that a
// test has as many client addresses as it likes.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 256}}
}

// postAs posts form to u with client and decodes the envelope.
func postAs(client *http.Client, u string, form url.Values) (envelope, error) {
	resp, err := client.PostForm(u, form)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	var env envelope
	err = jsonDecode(resp.Body, &env)
	return env, err
}

// floodConns is how many connections the flooder posts on, within
// max-connections-per-address.
const floodConns = 200

// floodChat is one of the legitimate chats: its customer's own address,
// its chat, its agent.
type floodChat struct {
	client *http.Client
	c      customer
	a      *agent
}

// BenchmarkFloodIsolation measures what a flood of requestChat from one
// address (floodConns connections posting as fast as they can, past
// new-chats-per-address) does to 50 chats of 50 other addresses: each
// customer sends 20 messages, one at a time, and the time from the send to
// the agent's push is measured, first unloaded, then under the flood (from
// a second after it started, once its first chats are made and it is
// refused). It
// reports the p50 and p99 of both runs, the errors the 50 chats saw, and
// the flood's rate and refusals. Run it with -benchtime=1x.
func BenchmarkFloodIsolation(b *testing.B) {
	cs := startChat(b, "chat-1", nil)
	w := startWeb(b, func(o *config.WebAPIOptions) { o.Limits.NewChatsPerAddress = 30 }, cs)
	chats := make([]floodChat, 50)
	for i := range chats {
		client := clientFrom(fmt.Sprintf("127.0.1.%d", i+1))
		env, err := postAs(client, w.base, url.Values{"nickname": {fmt.Sprint("customer-", i)}})
		if err != nil || env.StatusCode != 0 {
			b.Skipf("chat from 127.0.1.%d: %+v %v (this benchmark needs the loopback range)", i+1, env, err)
		}
		c := customer{w: w, chatID: env.ChatID, userID: env.UserID, key: env.SecureKey, alias: env.Alias}
		chats[i] = floodChat{client: client, c: c, a: joinAgent(b, cs.addr, c.chatID)}
	}
	for b.Loop() {
		quiet, quietErrs := converse(b, w, chats, "quiet")
		stop := make(chan struct{})
		var sent, refused atomic.Int64
		var wg sync.WaitGroup
		flooder := clientFrom("127.0.0.9")
		for range floodConns {
			wg.Go(func() { flood(w.base, flooder, stop, &sent, &refused) })
		}
		// The flood's first 30 chats are within the limit, and its
		// connections open: measure once it is refused, a second on.
		time.Sleep(time.Second)
		start := time.Now()
		loaded, loadedErrs := converse(b, w, chats, "flood")
		close(stop)
		wg.Wait()
		rate := float64(sent.Load()) / time.Since(start.Add(-time.Second)).Seconds()
		b.ReportMetric(pct(quiet, 50), "quiet-p50-ms")
		b.ReportMetric(pct(quiet, 99), "quiet-p99-ms")
		b.ReportMetric(pct(loaded, 50), "flood-p50-ms")
		b.ReportMetric(pct(loaded, 99), "flood-p99-ms")
		b.ReportMetric(float64(quietErrs+loadedErrs), "chat-errors")
		b.ReportMetric(rate, "flood-req/s")
		b.ReportMetric(float64(refused.Load()), "flood-refused")
	}
}

// converse has every chat's customer send 20 messages, 250 ms apart
// (within party-message-rate), the chats in parallel, and returns each message's delivery time to the agent, in ms,
// and how many requests failed.
func converse(b *testing.B, w *web, chats []floodChat, round string) ([]float64, int) {
	var mu sync.Mutex
	var lat []float64
	var errs atomic.Int64
	var wg sync.WaitGroup
	for i, fc := range chats {
		wg.Go(func() {
			for n := range 20 {
				time.Sleep(250 * time.Millisecond)
				text := fmt.Sprintf("%s-%d-%d", round, i, n)
				start := time.Now()
				env, err := postAs(fc.client, w.base+"/"+fc.c.chatID+"/send", url.Values{"userId": {fc.c.userID},
					"secureKey": {fc.c.key}, "alias": {fc.c.alias}, "message": {text}})
				if err != nil || env.StatusCode != 0 {
					errs.Add(1)
					continue
				}
				if at, ok := fc.a.pushedAt(text, 10*time.Second); ok {
					mu.Lock()
					lat = append(lat, float64(at.Sub(start))/float64(time.Millisecond))
					mu.Unlock()
				} else {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return lat, int(errs.Load())
}

// flood requests chats from client until stop closes.
func flood(u string, client *http.Client, stop <-chan struct{}, sent, refused *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		env, err := postAs(client, u, url.Values{"nickname": {"flood"}})
		sent.Add(1)
		if err == nil && env.StatusCode != 0 {
			refused.Add(1)
		}
	}
}

// pushedAt waits up to within for the agent's push of a message with
// text, and returns when it arrived.
func (a *agent) pushedAt(text string, within time.Duration) (time.Time, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for ctx.Err() == nil {
		a.mu.Lock()
		i := slices.IndexFunc(a.seen, func(m transcript.APIMessage) bool { return m.Type == transcript.Message && m.Text == text })
		var at time.Time
		if i >= 0 {
			at = a.seenAt[i]
		}
		a.mu.Unlock()
		if i >= 0 {
			return at, true
		}
		time.Sleep(time.Millisecond)
	}
	return time.Time{}, false
}

// pct is the p-th percentile of ms.
func pct(ms []float64, p int) float64 {
	if len(ms) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ms))
	return s[min(len(s)-1, len(s)*p/100)]
}
