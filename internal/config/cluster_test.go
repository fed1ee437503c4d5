package config_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// deploy/cluster.yaml parses: two nodes of two servers each behind both
// proxies, whose chat servers and web API reach them through the proxy
// cluster.
func TestClusterExample(t *testing.T) {
	d, err := config.Parse("cluster.yaml", deploy.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, proxy := range []string{"proxy-1", "proxy-2"} {
		nodes := d.ProxyNodes(d.Applications[proxy])
		if len(nodes) != 2 || !slices.Equal(nodes[0].Servers, []string{"ixn-a1", "ixn-a2"}) || !slices.Equal(nodes[1].Servers, []string{"ixn-b1", "ixn-b2"}) ||
			strings.Join(nodes[0].Settings.MediaList(), ",") != "chat" {
			t.Fatalf("%s nodes %+v", proxy, nodes)
		}
	}
	names, proxies := d.IxnConnections(d.Applications["gms-1"])
	if !proxies || strings.Join(names, ",") != "proxy-1,proxy-2" {
		t.Fatalf("gms-1 reaches %v (proxies %v)", names, proxies)
	}
	if !d.Reaches(d.Applications["chat-1"], "proxy-2") || !d.Reaches(d.Applications["proxy-1"], "ixn-b1") ||
		!d.ReachesNode(d.Applications["proxy-1"], "ixn-b2") || d.ReachesNode(d.Applications["chat-1"], "ixn-b2") {
		t.Fatal("Reaches does not see through the clusters")
	}
}

// check-config refuses a cluster whose parts do not fit together.
func TestClusterErrors(t *testing.T) {
	const head = "databases: {a: {driver: postgres, dsn: x}, b: {driver: postgres, dsn: y}, c: {driver: sqlite, dsn: c.db}}\napplications:\n"
	const node = "  ixn-%s: {type: interaction-server, listen: 127.0.0.1:71%s, database: %s%s}\n"
	ixn := func(name, port, db, opts string) string {
		if opts != "" {
			opts = ", options: {" + opts + "}"
		}
		return fmt.Sprintf(node, name, port, db, opts)
	}
	chat := "  chat-1: {type: chat-server, listen: 127.0.0.1:7201, database: c, connections: [pc]}\n"
	pc := "  pc: {type: application-cluster, connections: [proxy-1], options: {cluster-settings: {cluster-type: interaction-proxy}}}\n"
	tests := []struct{ name, yaml, want string }{
		{"cluster-type missing", head + ixn("a1", "01", "a", "") + "  cl: {type: application-cluster, connections: [ixn-a1]}\n",
			`application "cl": [cluster-settings] cluster-type: missing`},
		{"cluster of the wrong members", head + ixn("a1", "01", "a", "") +
			"  cl: {type: application-cluster, connections: [ixn-a1], options: {cluster-settings: {cluster-type: interaction-proxy}}}\n",
			"a cluster of type interaction-proxy connects to interaction-proxy applications only"},
		{"proxy without nodes", head + ixn("a1", "01", "a", "") + "  proxy-1: {type: interaction-proxy, listen: 127.0.0.1:7301}\n",
			"an interaction-proxy needs interaction servers"},
		{"pair that disagrees", head + ixn("a1", "01", "a", "cluster-settings: {media-types: chat}") + ixn("a2", "02", "a", "") +
			"  proxy-1: {type: interaction-proxy, listen: 127.0.0.1:7301, connections: [ixn-a1]}\n",
			"differ from those of ixn-a1"},
		{"no node takes chat", head + ixn("a1", "01", "a", "cluster-settings: {media-types: email}") +
			"  proxy-1: {type: interaction-proxy, listen: 127.0.0.1:7301, connections: [ixn-a1]}\n" + pc + chat,
			"no node of this proxy takes media type chat"},
		{"bad media type", head + ixn("a1", "01", "a", "cluster-settings: {media-types: \"chat, e mail\"}"),
			"[cluster-settings] media-types = e mail: invalid name"},
		{"bad proxy option", head + ixn("a1", "01", "a", "") +
			"  proxy-1: {type: interaction-proxy, listen: 127.0.0.1:7301, connections: [ixn-a1], options: {settings: {pull-hold-timeout: 0}}}\n",
			"pull-hold-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	ok := head + ixn("a1", "01", "a", "cluster-settings: {media-types: chat}") + ixn("b1", "02", "b", "") +
		"  proxy-1: {type: interaction-proxy, listen: 127.0.0.1:7301, connections: [ixn-a1, ixn-b1]}\n" + pc + chat
	if _, err := config.Parse("c.yaml", []byte(ok)); err != nil {
		t.Fatal(err)
	}
}
