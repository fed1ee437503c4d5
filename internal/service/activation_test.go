package service_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/service"
)

func TestActivatedNames(t *testing.T) {
	const pid = 4242
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
		err  bool
	}{
		{"nothing passed", nil, nil, false},
		{"names, pid matches", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "chat-1:chat-1/admin"}, []string{"chat-1", "chat-1/admin"}, false},
		{"pid unset: ours", map[string]string{"LISTEN_FDS": "1", "LISTEN_FDNAMES": "gms-1"}, []string{"gms-1"}, false},
		{"another process's", map[string]string{"LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "gms-1"}, nil, false},
		{"names unset", map[string]string{"LISTEN_PID": "4242", "LISTEN_FDS": "2"}, []string{"unknown", "unknown"}, false},
		{"zero", map[string]string{"LISTEN_FDS": "0"}, nil, false},
		{"names without a count", map[string]string{"LISTEN_FDNAMES": "chat-1"}, nil, false},
		{"too few names", map[string]string{"LISTEN_FDS": "2", "LISTEN_FDNAMES": "chat-1"}, nil, true},
		{"too many names", map[string]string{"LISTEN_FDS": "1", "LISTEN_FDNAMES": "a:b"}, nil, true},
		{"count not a number", map[string]string{"LISTEN_FDS": "two"}, nil, true},
		{"negative count", map[string]string{"LISTEN_FDS": "-1"}, nil, true},
		{"pid not a number", map[string]string{"LISTEN_PID": "me", "LISTEN_FDS": "1"}, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := service.ActivatedNames(pid, func(k string) string { return c.env[k] })
			if c.err != (err != nil) || c.err && !errors.Is(err, service.ErrActivation) {
				t.Fatalf("err = %v, want an error: %v", err, c.err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("names = %q, want %q", got, c.want)
			}
		})
	}
}

func TestActivationEnv(t *testing.T) {
	env := []string{"PATH=/bin", "LISTEN_PID=1", "LISTEN_FDS=3", "LISTEN_FDNAMES=a:b:c", "HOME=/h"}
	got := service.ActivationEnv(env, []string{"chat-1", "chat-1/admin"})
	want := []string{"PATH=/bin", "HOME=/h", "LISTEN_FDS=2", "LISTEN_FDNAMES=chat-1:chat-1/admin"}
	if !slices.Equal(got, want) {
		t.Errorf("env = %q, want %q", got, want)
	}
	if got := service.ActivationEnv(env, nil); !slices.Equal(got, []string{"PATH=/bin", "HOME=/h"}) {
		t.Errorf("no names: env = %q", got)
	}
	if env[1] != "LISTEN_PID=1" {
		t.Error("ActivationEnv changed its argument")
	}
}

// TestInheritListeners hands a child process (this test binary) listeners
// as the protocol passes them; the child takes them by name, finds the
// variables unset, and answers on each with its name.
func TestInheritListeners(t *testing.T) {
	if os.Getenv("ACTIVATION_CHILD") == "1" {
		activationChild()
		return
	}
	names := []string{"chat-1", "chat-1/admin"}
	var files []*os.File
	var addrs []string
	for range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := service.ListenerFile(ln)
		if err != nil {
			t.Fatal(err)
		}
		ln.Close() // the child holds the only copy once it starts
		defer f.Close()
		files, addrs = append(files, f), append(addrs, ln.Addr().String())
	}
	out, err := runChild(t, service.ActivationEnv(os.Environ(), names), files)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for i, name := range names {
		if !strings.Contains(out, fmt.Sprintf("listener %s on %s\n", name, addrs[i])) {
			t.Errorf("child output lacks %s on %s:\n%s", name, addrs[i], out)
		}
	}
	if !strings.Contains(out, "env unset\n") {
		t.Errorf("variables still set in the child:\n%s", out)
	}
}

// TestInheritListenersRefuses: a descriptor that is no socket, or two of a
// name, are refused, and the variables are unset all the same.
func TestInheritListenersRefuses(t *testing.T) {
	if os.Getenv("ACTIVATION_CHILD") == "1" {
		activationChild()
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	out, err := runChild(t, service.ActivationEnv(os.Environ(), []string{"chat-1"}), []*os.File{r})
	if err == nil || !strings.Contains(out, "not an open listening socket") || !strings.Contains(out, "env unset\n") {
		t.Errorf("a pipe as chat-1: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := service.ListenerFile(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err = runChild(t, service.ActivationEnv(os.Environ(), []string{"gms-1", "gms-1"}), []*os.File{f, f})
	if err == nil || !strings.Contains(out, `two descriptors are named "gms-1"`) {
		t.Errorf("two named gms-1: %v\n%s", err, out)
	}
}

func runChild(t *testing.T, env []string, files []*os.File) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(env, "ACTIVATION_CHILD=1")
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// activationChild is the child of the tests above: it takes its listeners,
// reports them and whether the variables are gone, and exits 1 on an error.
func activationChild() {
	lns, err := service.InheritListeners()
	if os.Getenv("LISTEN_FDS") == "" && os.Getenv("LISTEN_FDNAMES") == "" && os.Getenv("LISTEN_PID") == "" {
		fmt.Println("env unset")
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	names := make([]string, 0, len(lns))
	for name := range lns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ln := lns[name]
		go func() { // proves it is a live listener: one round trip
			c, err := ln.Accept()
			if err == nil {
				io.WriteString(c, name)
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != name {
			fmt.Printf("%s answered %q\n", name, got)
			os.Exit(1)
		}
		fmt.Printf("listener %s on %s\n", name, ln.Addr())
	}
	os.Exit(0)
}
