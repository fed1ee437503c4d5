package config

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestWebAPIOptionsDocumented holds docs/options.md and the web API's
// option sections together: every option has a row in its section's table.
func TestWebAPIOptionsDocumented(t *testing.T) {
	opts := DefaultWebAPIOptions()
	sectionsDocumented(t, &Application{Type: WebAPI, Web: &opts}, "web-api")
}

// sectionsDocumented checks that docs/options.md has a table under
// "### `[section]` (typ)" for each option section of a, but [log] and the
// sections without options of their own (endpoints, client:<name>), with a
// row for each option.
func sectionsDocumented(t *testing.T, a *Application, typ string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/options.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, sec := range a.sections() {
		if name == "log" || len(sec) == 0 {
			continue
		}
		documented(t, string(b), "### `["+name+"]` ("+typ+")", sec)
	}
}

// documented checks that the table under heading in doc has a row for
// every option of sec.
func documented(t *testing.T, doc, heading string, sec section) {
	t.Helper()
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Errorf("docs/options.md has no %s", heading)
		return
	}
	table := doc[i+len(heading):]
	if j := strings.Index(table, "\n### "); j >= 0 {
		table = table[:j]
	}
	for _, opt := range slices.Sorted(maps.Keys(sec)) {
		if !strings.Contains(table, "| `"+opt+"` |") {
			t.Errorf("docs/options.md %s has no row for %s", heading, opt)
		}
	}
}

// TestInteractionServerSettingsDocumented holds docs/options.md and the
// interaction server's [settings] together: every option has a row.
func TestInteractionServerSettingsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/options.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	opts := DefaultInteractionServerOptions()
	documented(t, doc, "### `[settings]` (interaction-server)", opts.Settings.section())
}

// TestStatServerOptionsDocumented holds docs/options.md and the stat
// server's [statserver] and [ha] together: every option has a row.
func TestStatServerOptionsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/options.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	opts := DefaultStatServerOptions()
	for name, sec := range map[string]section{"statserver": opts.Settings.section(), "ha": opts.HA.section()} {
		documented(t, doc, "### `["+name+"]` (stat-server)", sec)
	}
}

// TestClusterOptionsDocumented holds docs/options.md and the cluster's
// sections together: the nodes' and clusters' [cluster-settings] and the
// proxy's [settings].
func TestClusterOptionsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/options.md")
	if err != nil {
		t.Fatal(err)
	}
	ixnOpts, proxyOpts := DefaultInteractionServerOptions(), DefaultProxyOptions()
	for heading, sec := range map[string]section{
		"### `[cluster-settings]` (interaction-server)":  ixnOpts.Cluster.section(),
		"### `[settings]` (interaction-proxy)":           proxyOpts.section(),
		"### `[cluster-settings]` (application-cluster)": (&ClusterOptions{}).section(),
	} {
		for _, missing := range undocumented(string(b), heading, sec) {
			t.Errorf("docs/options.md %s", missing)
		}
	}
}

// undocumented returns what the table under heading in doc lacks: the
// heading itself, or a row for an option of sec.
func undocumented(doc, heading string, sec section) []string {
	i := strings.Index(doc, heading)
	if i < 0 {
		return []string{"has no " + heading}
	}
	table := doc[i+len(heading):]
	if j := strings.Index(table, "\n### "); j >= 0 {
		table = table[:j]
	}
	var out []string
	for _, opt := range slices.Sorted(maps.Keys(sec)) {
		if !strings.Contains(table, "| `"+opt+"` |") {
			out = append(out, heading+" has no row for "+opt)
		}
	}
	return out
}

// TestChatServerOptionsDocumented holds docs/options.md and the chat
// server's option sections together: every option has a row.
func TestChatServerOptionsDocumented(t *testing.T) {
	opts := DefaultChatServerOptions()
	sectionsDocumented(t, &Application{Type: ChatServer, Chat: &opts}, "chat-server")
}
