package partition

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards the connections made to Addr to its backend.
type Proxy struct {
	ln      net.Listener
	backend string
	wg      sync.WaitGroup // the accept loop and every forwarded pair

	mu    sync.Mutex // guards cut and conns
	cut   bool
	conns map[net.Conn]struct{}
}

// Start proxies a new loopback port to backend (host:port) until the test
// ends, when the proxy is closed and its goroutines have returned.
func Start(t testing.TB, backend string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		p.ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's address, to give the peer instead of the backend's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection through the proxy and refuses new ones (they
// are accepted and closed at once) until Mend.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Mend lets new connections through again.
func (p *Proxy) Mend() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

// forward copies both ways between c and a new connection to the backend.
func (p *Proxy) forward(c net.Conn) {
	b, err := net.Dial("tcp", p.backend)
	if err != nil || !p.track(c, b) {
		c.Close()
		if b != nil {
			b.Close()
		}
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(b, c)
		b.Close()
	}()
	io.Copy(c, b)
	c.Close()
	<-done
}

// track records a forwarded pair, unless the proxy is cut.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}
