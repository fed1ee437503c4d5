package config

import (
	"strings"
	"testing"
)

const statBase = `
databases: {main: {driver: sqlite, dsn: p.db}}
applications:
  ixn-1:
    type: interaction-server
    listen: 127.0.0.1:7010
    database: main
    options:
      agent:alice: {password-hash: "pbkdf2-sha256$1000$cGFybGV5LXRlc3Qtc2FsdC1hbGljZQ$eAr0mFoiHQh9dyB/Sk/MIr51rvCiPeCfzAtr3cGQ0fg"}
      agent:bob: {password-hash: "pbkdf2-sha256$1000$cGFybGV5LXRlc3Qtc2FsdC1hbGljZQ$eAr0mFoiHQh9dyB/Sk/MIr51rvCiPeCfzAtr3cGQ0fg"}
  stat-1:
    type: stat-server
    listen: 127.0.0.1:7030
    connections: [ixn-1]
    options:
      statserver: {debug-level: HA}
      ha: {chunk-size: 10, connect-timeout: 2}
      TimeProfiles: {"Shift,Growing": "08:00,16:00"}
      TimeRanges: {Quick: "0-10"}
      agent-group:Sales: {agents: "alice, bob"}
      QuickAnswers: {Category: TotalNumberInTimeRange, MainMask: CallDistributed, Objects: Queue}
      client:board: {type: stat-client}
  stat-2: {type: stat-server, listen: 127.0.0.1:7031, connections: [ixn-1, stat-1]}
`

func TestStatServerOptions(t *testing.T) {
	d, err := Parse("s.yaml", []byte(statBase))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Applications["stat-1"].Stat
	if s.Settings.DebugLevel != "HA" || s.HA.ChunkSize != 10 || s.HA.ConnectTimeout.Seconds() != 2 ||
		s.TimeProfiles["Shift,Growing"] != "08:00,16:00" || s.TimeRanges["Quick"] != "0-10" ||
		s.Groups["Sales"].Agents != "alice, bob" || d.Applications["stat-1"].Clients["board"].Type != "stat-client" {
		t.Fatalf("options not read: %+v", s)
	}
	cfg, errs := s.Definitions([]string{"alice"}, []string{"default"})
	if len(errs) > 0 || cfg.StatTypes["QuickAnswers"].Category != "TotalNumberInTimeRange" || cfg.StatTypes["ChatsInQueue"].Name == "" ||
		len(cfg.Groups["Sales"]) != 2 || cfg.Profiles["Default"].Name == "" {
		t.Fatalf("Definitions = %+v, %v", cfg, errs)
	}
	if p := d.StatPrimary(d.Applications["stat-2"]); p == nil || p.Name != "stat-1" {
		t.Errorf("StatPrimary(stat-2) = %v", p)
	}
	if b := d.StatBackup(d.Applications["stat-1"]); b == nil || b.Name != "stat-2" {
		t.Errorf("StatBackup(stat-1) = %v", b)
	}
}

func TestStatServerOptionErrors(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"debug-level: HA", "debug-level: all", `[statserver] debug-level = "all": want one of none, HA`},
		{"chunk-size: 10", "chunk-size: 0", "[ha] chunk-size = 0: out of range 1-100000"},
		{`"08:00,16:00"`, `"25:00"`, `[TimeProfiles] Shift,Growing: time profile "Shift,Growing": "25:00": want hh:mm`},
		{`"0-10"`, `"10-0"`, "[TimeRanges] Quick"},
		{"MainMask: CallDistributed", `MainMask: "CallDistributed, ~Bogus"`, `[QuickAnswers]: stat type "QuickAnswers": MainMask: mask item "~Bogus" matches no action`},
		{`agents: "alice, bob"`, `agents: ""`, "[agent-group:Sales] agents: missing"},
		{"connections: [ixn-1, stat-1]", "connections: [ixn-1, stat-1, ixn-1x]", "no such application"},
		{`agents: "alice, bob"`, `agents: "alice, carol"`, `[agent-group:Sales] agents = carol: no such agent`},
	} {
		_, err := Parse("s.yaml", []byte(strings.Replace(statBase, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: error %v; want %q", c.from, c.to, err, c.want)
		}
	}
	chain := strings.Replace(statBase, "connections: [ixn-1]\n", "connections: [ixn-1, stat-2]\n", 1)
	if _, err := Parse("s.yaml", []byte(chain)); err == nil || !strings.Contains(err.Error(), "cannot be a backup itself") {
		t.Errorf("a pair of mutual backups: %v", err)
	}
}
