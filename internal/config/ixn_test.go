package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
)

const ixnDB = "databases: {main: {driver: sqlite, dsn: x.db}}\n"

func parseIxn(t *testing.T, options string) (*config.InteractionServerOptions, error) {
	t.Helper()
	d, err := config.Parse("ixn.yaml", []byte(ixnDB+"applications:\n  ixn-1:\n    type: interaction-server\n    listen: 127.0.0.1:7010\n    database: main\n    options:\n"+options))
	if err != nil {
		return nil, err
	}
	return d.Applications["ixn-1"].Ixn, nil
}

func TestInteractionServerOptions(t *testing.T) {
	o, err := parseIxn(t, `
      settings: {invite-timeout: 20, async-last-agent-attempts: 5, allow-multiple-agent-connections: force-logout}
      queue:default: {routing: builtin}
      queue:async-chat-main-queue: {routing: external}
      view:async-chat-main-check-view:
        queue: async-chat-main-queue
        condition: GCTI_Chat_AsyncCheckAt < _current_time()
        order: Priority desc, SubmittedAt
        check-interval: 60
        action: route
      agent:alice: {password-hash: "`+ixn.HashPassword("alice", "parley-test-salt-alice", ixn.MinPasswordIterations)+`", capacity-chat: 3, skills: "billing:5,english:3"}
`)
	if err != nil {
		t.Fatal(err)
	}
	s := o.Settings
	if s.InviteTimeout != 20*time.Second || s.RerouteExclude != 60*time.Second || s.AsyncLastAgentAttempts != 5 ||
		s.AllowMultipleAgentConnections != "force-logout" || s.RequiredSkillKey != "RequiredSkill" {
		t.Errorf("settings %+v", s)
	}
	if q := o.Queues["async-chat-main-queue"]; q == nil || q.Routing != "external" || len(o.QueueNames()) != 2 {
		t.Errorf("queues %v", o.QueueNames())
	}
	v := o.Views["async-chat-main-check-view"]
	if v == nil || v.Queue != "async-chat-main-queue" || v.CheckInterval != time.Minute || v.Action != "route" || !v.Enabled {
		t.Errorf("view %+v", v)
	}
	a := o.Agents["alice"]
	if a == nil || a.Place != "alice" || a.CapacityChat != 3 || a.Skills != "billing:5,english:3" {
		t.Errorf("agent %+v", a)
	}
}

func TestInteractionServerDefaults(t *testing.T) {
	o, err := parseIxn(t, "      log: {verbose: standard}\n")
	if err != nil {
		t.Fatal(err)
	}
	if names := o.QueueNames(); len(names) != 1 || names[0] != "default" {
		t.Errorf("queues %v, want [default]", names)
	}
	if o.Settings.InviteTimeout != 30*time.Second || o.Settings.AllowMultipleAgentConnections != "true" || o.Settings.AsyncLastAgentAttempts != 3 {
		t.Errorf("settings %+v", o.Settings)
	}
}

func TestInteractionServerErrors(t *testing.T) {
	hash := ixn.HashPassword("x", "parley-test-salt-x", ixn.MinPasswordIterations)
	tests := []struct {
		options string
		want    string
	}{
		{"      queue:q: {routing: magic}\n", `[queue:q] routing = "magic": want one of builtin, external`},
		{"      queue:q: {routng: builtin}\n", `[queue:q] routng: unknown option`},
		{"      view:v: {queue: nope}\n", `[view:v] queue = nope: no such queue (have default)`},
		{"      view:v: {queue: default, condition: \"a =\"}\n", `[view:v] condition = "a =": want a property, string or number, got end of condition at offset 3`},
		{"      view:v: {queue: default, order: \"a up\"}\n", `[view:v] order = "a up": want "name [asc|desc]"`},
		{"      view:v: {queue: default, action: delete}\n", `[view:v] action = "delete": want one of none, route, stop`},
		{"      view:v: {condition: \"a = 1\"}\n", `[view:v] queue: missing`},
		{"      agent:bob: {password-hash: plain}\n", `[agent:bob] password-hash: want pbkdf2-sha256$<iterations>$<salt>$<key>, from parley hash-password`},
		{"      agent:bob: {password-hash: \"sha256:" + strings.Repeat("0", 64) + "\"}\n", `[agent:bob] password-hash: want pbkdf2-sha256$`},
		{"      agent:bob: {password-hash: \"" + hash + "\", salt: s}\n", `[agent:bob] salt: unknown option`},
		{"      agent:bob: {password-hash: \"" + hash + "\", skills: \"a:b\"}\n", `[agent:bob] skills = "a:b": want name:level`},
		{"      agent:bob: {password-hash: \"" + hash + "\", capacity-chat: 101}\n", `[agent:bob] capacity-chat = 101: out of range 0-100`},
		{"      agent:b/b: {password-hash: \"" + hash + "\"}\n", `[agent:b/b]: invalid name`},
		{"      settings: {invite-timeout: 0}\n", `[settings] invite-timeout = 0: out of range 1-3600`},
		{"      settings: {allow-multiple-agent-connections: maybe}\n", `want one of true, false, force-logout`},
		{"      inactivity-control: {enabled: true}\n", `unknown section for interaction-server (want agent:<id>, client:<name>, cluster-settings, log, not-ready-reason:<code>, queue:<name>, settings, view:<name>)`},
		{"      skill:x: {a: 1}\n", `[skill:x]: unknown section`},
	}
	for _, tt := range tests {
		_, err := parseIxn(t, tt.options)
		var ce *config.Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("options %q:\n got %v\nwant one line containing %q", tt.options, err, tt.want)
		}
	}
}
