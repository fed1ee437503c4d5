package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// drainPoll is how often drain asks a chat server how many chats it holds.
const drainPoll = time.Second

// drainCommand returns the drain command and its usage text.
func drainCommand() *command {
	return &command{
		name:     "drain",
		synopsis: "[--config FILE] [--app NAME] [--wait D] [--enable]",
		summary:  "disable a chat server and wait for its chats to end (before stopping it)",
		doc: `Drain asks the chat server NAME to take no new chats (POST /admin/disable,
with the admin credential) and waits until it holds none (sessions_current
at /kpi) or --wait passes, whichever is first; the chats left are restored
on the other chat servers once it stops (docs/ha.md). It exits 0 either
way, and 1 when the server cannot be disabled. With --enable it instead
waits, up to --wait, for the server to answer and enables it again (POST
/admin/enable), as a chat server that restarts after a drain must be.
The Helm chart runs the first before a chat server's pod stops and the
second after it starts. --enable lifts the disabling of POST /admin/disable
only: a chat server with disabled: true in the deployment file stays
disabled (docs/options.md). NAME defaults to the host name, which is the pod's
name in Kubernetes.`,
		example: "parley drain --config /etc/parley/parley.yaml --app chat-1 --wait 60s",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			app := fs.String("app", "", "the `NAME` of the chat server (default: the host name)")
			wait := fs.Duration("wait", time.Minute, "how long to wait, at most")
			enable := fs.Bool("enable", false, "enable the chat server instead, once it answers")
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *wait <= 0 {
					return usageErrorf("--wait %s: want a positive duration", *wait)
				}
				name := *app
				if name == "" {
					host, err := os.Hostname()
					if err != nil {
						return fmt.Errorf("drain: --app not given and no host name: %w", err)
					}
					name = host
				}
				ctx, cancel := context.WithTimeout(ctx, *wait)
				defer cancel()
				return c.drain(ctx, *file, name, *enable)
			}
		},
	}
}

// drainer talks to one chat server's admin endpoints as the administrator.
type drainer struct {
	client *http.Client
	base   string // http(s)://host:port
	token  string // the admin credential
}

func (c *cli) drain(ctx context.Context, file, name string, enable bool) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	app, err := d.App(name)
	if err != nil {
		return err
	}
	if app.Type != config.ChatServer {
		return fmt.Errorf("drain: application %q is a %s, not a chat-server", name, app.Type)
	}
	trust, err := newTrust(d, app, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	dr := drainer{client: trust.HTTPClient(5 * time.Second), base: endpoint(d, name).URL("http", ""), token: trust.Key.AdminToken()}
	if enable {
		return dr.enable(ctx, c.stdout, name)
	}
	if app.Disabled {
		fmt.Fprintf(c.stdout, "%s: also disabled by the deployment file's disabled key\n", name)
	}
	if err := dr.post(ctx, "/admin/disable"); err != nil {
		return fmt.Errorf("drain: %s: %w", name, err)
	}
	fmt.Fprintf(c.stdout, "%s: disabled; waiting for its chats to end\n", name)
	for {
		n, err := dr.current(ctx)
		if err == nil && n == 0 {
			fmt.Fprintf(c.stdout, "%s: drained\n", name)
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(c.stdout, "%s: %d chats left after the wait; they are restored elsewhere once it stops\n", name, n)
			return nil
		case <-time.After(drainPoll):
		}
	}
}

// enable enables the chat server, retrying while it does not answer yet.
func (dr drainer) enable(ctx context.Context, out io.Writer, name string) error {
	for {
		err := dr.post(ctx, "/admin/enable")
		if err == nil {
			fmt.Fprintf(out, "%s: enabled\n", name)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain --enable: %s: %w", name, err)
		case <-time.After(drainPoll):
		}
	}
}

// post sends an admin request without a body.
func (dr drainer) post(ctx context.Context, path string) error {
	resp, err := dr.do(ctx, http.MethodPost, path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// current returns sessions_current from /kpi.
func (dr drainer) current(ctx context.Context) (int64, error) {
	resp, err := dr.do(ctx, http.MethodGet, "/kpi")
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	var kpi struct {
		Current *int64 `json:"sessions_current"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&kpi); err != nil || kpi.Current == nil {
		return -1, fmt.Errorf("GET /kpi: no sessions_current (%v)", err)
	}
	return *kpi.Current, nil
}

// do sends an admin request and returns a 200 answer; any other is an
// error with its status.
func (dr drainer) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, dr.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+dr.token)
	resp, err := dr.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, body)
	}
	return resp, nil
}
