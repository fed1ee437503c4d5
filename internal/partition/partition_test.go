package partition_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/partition"
)

// echo serves lines back on a loopback port until the test ends.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through c and reports whether it came back.
func roundTrip(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func dial(t *testing.T, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCutAndMend(t *testing.T) {
	p := partition.Start(t, echo(t))
	before := dial(t, p.Addr())
	if !roundTrip(before) {
		t.Fatal("no echo through the proxy")
	}
	p.Cut()
	if roundTrip(before) {
		t.Error("a connection made before the cut still works")
	}
	if roundTrip(dial(t, p.Addr())) {
		t.Error("a connection made during the cut works")
	}
	p.Mend()
	if !roundTrip(dial(t, p.Addr())) {
		t.Error("no echo after the mend")
	}
}
