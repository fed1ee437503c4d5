package cli

import (
	"log/slog"
	"regexp"
	"slices"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// demoHash finds the password hashes the shipped deployment files give
// their demo agents, whose passwords are their names.
var demoHash = regexp.MustCompile(`password-hash: "([^"]+)"`)

// demoAgents returns the agents of an interaction server whose password
// hash is one of the shipped demo ones: anyone who has read the
// documentation logs in as them.
func demoAgents(o *config.InteractionServerOptions) []string {
	var shipped []string
	for _, file := range [][]byte{deploy.Embedded, deploy.Postgres} {
		for _, m := range demoHash.FindAllSubmatch(file, -1) {
			shipped = append(shipped, string(m[1]))
		}
	}
	var agents []string
	for id, a := range o.Agents {
		if slices.Contains(shipped, a.PasswordHash) {
			agents = append(agents, id)
		}
	}
	slices.Sort(agents)
	return agents
}

// warnDemoPasswords logs, at error level so that it stands out, each agent
// that still has its demo password.
func warnDemoPasswords(app *config.Application, log *slog.Logger) {
	if agents := demoAgents(app.Ixn); len(agents) > 0 {
		log.Error("SECURITY: agents still have the demo passwords of the shipped deployment (their names): "+
			"anyone can log in as them; set new ones with parley hash-password", "agents", agents)
	}
}
