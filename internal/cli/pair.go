package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
)

// pairOf returns the warm-standby pair chat server name belongs to, on
// store, or nil when it is in none.
func pairOf(d *config.Deployment, name string, store chat.PairStore) *chatserver.Pair {
	primary, backup, ok := d.Pair(name)
	if !ok {
		return nil
	}
	partner := backup
	if name == backup {
		partner = primary
	}
	return &chatserver.Pair{Name: primary, Partner: endpoint(d, partner), Store: store}
}

// switchoverCommand returns the switchover command: the role of the SCI's
// switchover of a Genesys primary/backup pair.
func switchoverCommand() *command {
	return &command{
		name:     "switchover",
		synopsis: "--app NAME [--config FILE]",
		summary:  "swap the roles of a warm-standby chat server pair",
		doc: `Switchover makes the backup of the chat server pair NAME belongs to (either member) the
primary, and the primary its backup, without losing a chat: the primary stops
serving, its chats continue on the other member at their next request. It asks
both members over their listeners with the deployment's admin token.`,
		example: "parley switchover --config deploy/postgres.yaml --app chat-1",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			app := fs.String("app", "", "a member of the pair (required)")
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *app == "" {
					return usageErrorf("--app is required")
				}
				return c.switchover(ctx, *file, *app)
			}
		},
	}
}

// adminClient calls the admin endpoints of a deployment's applications.
type adminClient struct {
	http  *http.Client
	token string
}

func newAdminClient(d *config.Deployment) (*adminClient, error) {
	key, err := deploymentKey(d)
	if err != nil {
		return nil, err
	}
	var certs *service.Certs
	if ca := d.Path(d.Trust.TrustedCAFile); ca != "" {
		if certs, err = service.LoadCerts("", "", "", ca); err != nil {
			return nil, err
		}
	}
	t := &service.Trust{Name: "parley-admin", Key: key, Certs: certs}
	return &adminClient{http: t.HTTPClient(30 * time.Second), token: key.AdminToken()}, nil
}

// do sends method path to ep and decodes a 200 answer into out; any other
// answer is an error carrying its body.
func (a *adminClient) do(ctx context.Context, ep service.Endpoint, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, ep.URL("http", path), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", ep.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s: HTTP %d %s", ep.Name, method, path, resp.StatusCode, oneLine(string(body)))
	}
	return json.Unmarshal(body, out)
}

// switchover asks the pair's current primary to hand its role over.
func (c *cli) switchover(ctx context.Context, file, app string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	primary, backup, ok := d.Pair(app)
	if !ok {
		return fmt.Errorf("switchover: %q is not a member of a warm-standby pair (a chat server with a backup, or its backup)", app)
	}
	admin, err := newAdminClient(d)
	if err != nil {
		return fmt.Errorf("switchover: %w", err)
	}
	from := ""
	for _, name := range []string{primary, backup} {
		var st chatserver.Status
		if err := admin.do(ctx, endpoint(d, name), http.MethodGet, "/status", &st); err == nil && st.Role == chatserver.RolePrimary {
			from = name
		}
	}
	if from == "" {
		return fmt.Errorf("switchover: neither %s nor %s answers as the primary", primary, backup)
	}
	var st chatserver.Status
	if err := admin.do(ctx, endpoint(d, from), http.MethodPost, "/admin/switchover", &st); err != nil {
		return fmt.Errorf("switchover: %w", err)
	}
	fmt.Fprintf(c.stdout, "switchover: %s is now the %s; %s takes the primary role\n", from, st.Role, st.Partner)
	return nil
}
