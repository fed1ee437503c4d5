package chat

import (
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// noticeTypes are the notices a party may send, each tried against every
// include-notices and async-idle-notices level.
var noticeTypes = []transcript.EventType{
	transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted, transcript.CustomNotice,
	transcript.TypingStarted, transcript.TypingStopped, transcript.NicknameUpdated,
}

// countedAt lists, per level, the notices that count as activity, as the
// Genesys option reference defines the levels (written out, not derived
// from ParseNoticeLevel, so that a wrong set there fails here).
var countedAt = map[string][]transcript.EventType{
	"none":   nil,
	"major":  {transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted},
	"major2": {transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted, transcript.CustomNotice},
	"typing": {transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted, transcript.TypingStarted},
	"all": {transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted, transcript.CustomNotice,
		transcript.TypingStarted, transcript.TypingStopped, transcript.NicknameUpdated},
}

func level(t *testing.T, name string) NoticeSet {
	t.Helper()
	set, err := ParseNoticeLevel(name)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// notify sends a notice of type typ from party id.
func (tm *timed) notify(id string, typ transcript.EventType) {
	tm.t.Helper()
	notify := func() (Step, error) { return tm.s.Notify(tm.now, id, Notice{Type: typ, Text: "x"}) }
	if typ == transcript.FileUploaded || typ == transcript.FileDeleted {
		notify = func() (Step, error) { return tm.s.FileNotice(tm.now, id, typ, nil) }
	}
	if _, err := notify(); err != nil {
		tm.t.Fatal(err)
	}
}

// resets reports whether act, done 200 s into a 255 s countdown, restarted
// it: whether nothing fires when the original countdown would have.
func (tm *timed) resets(act func()) bool {
	tm.advance(200 * sec)
	act()
	st, _ := tm.advance(55 * sec)
	return len(st.Events) == 0
}

// idleOnly are rules with [inactivity-control] at the test's 255 s and
// no other timer running.
func idleOnly() Rules {
	r := rules()
	r.FlexDisconnect = 0
	return r
}

func TestInactivityResetByNoticeLevel(t *testing.T) {
	for lvl, counted := range countedAt {
		for _, typ := range noticeTypes {
			t.Run(lvl+"/"+string(typ), func(t *testing.T) {
				r := idleOnly()
				r.Idle.Notices = level(t, lvl)
				tm := newTimed(t, r, false)
				tm.join("c", transcript.Client)
				tm.join("a", transcript.Agent)
				if got, want := tm.resets(func() { tm.notify("c", typ) }), slices.Contains(counted, typ); got != want {
					t.Errorf("include-notices=%s: %s resets = %v, want %v", lvl, typ, got, want)
				}
			})
		}
	}
}

// TestInactivityResetRulesAtNone: messages, joins and leaves visible to all
// count at every include-notices level, even none; what is not visible to
// all never counts.
func TestInactivityResetRulesAtNone(t *testing.T) {
	withSecondAgent := func(tm *timed) { tm.join("a2", transcript.Agent) }
	withVIPSupervisor := func(tm *timed) { tm.joinAs("sup", transcript.Supervisor, transcript.VisVIP) }
	tests := []struct {
		name   string
		act    func(tm *timed)
		resets bool
		before func(tm *timed) // what must be in the session first; may be nil
	}{
		{"client message", func(tm *timed) { tm.send("c", "x") }, true, nil},
		{"agent message", func(tm *timed) { tm.send("a", "x") }, true, nil},
		{"agent INT message", func(tm *timed) {
			ok(tm.t)(tm.s.Send(tm.now, "a", Message{Text: "x", Visibility: transcript.VisInt}))
		}, false, nil},
		{"second agent joins", func(tm *timed) { tm.join("a2", transcript.Agent) }, true, nil},
		{"second agent leaves", func(tm *timed) { ok(tm.t)(tm.s.Leave(tm.now, "a2", "a2", KeepAlive, "")) }, true, withSecondAgent},
		{"agent removes a second agent", func(tm *timed) { ok(tm.t)(tm.s.Leave(tm.now, "a2", "a", KeepAlive, "")) }, true, withSecondAgent},
		{"bot joins", func(tm *timed) { tm.join("bot", transcript.External) }, true, nil},
		{"supervisor joins unseen (VIP)", func(tm *timed) { tm.joinAs("sup", transcript.Supervisor, transcript.VisVIP) }, false, nil},
		{"supervisor leaves unseen (VIP)", func(tm *timed) { ok(tm.t)(tm.s.Leave(tm.now, "sup", "sup", KeepAlive, "")) }, false, withVIPSupervisor},
		{"agent INT notice", func(tm *timed) {
			ok(tm.t)(tm.s.Notify(tm.now, "a", Notice{Type: transcript.PushURL, Text: "u", Visibility: transcript.VisInt}))
		}, false, nil},
		{"system notice", func(tm *timed) { ok(tm.t)(tm.s.SystemNotice(tm.now, transcript.Notice, "x")) }, false, nil},
		{"save announcement", func(tm *timed) { tm.s.Announce(tm.now, "save") }, false, nil},
		{"user data update", func(tm *timed) { tm.s.UpdateData("c", map[string]string{"k": "v"}) }, false, nil},
		{"client polls", func(tm *timed) { tm.s.Touch(tm.now, "c") }, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idleOnly()
			r.Idle.Notices = level(t, "none")
			tm := newTimed(t, r, false)
			tm.join("c", transcript.Client)
			tm.join("a", transcript.Agent)
			if tt.before != nil {
				tt.before(tm)
			}
			if got := tm.resets(func() { tt.act(tm) }); got != tt.resets {
				t.Errorf("resets = %v, want %v", got, tt.resets)
			}
		})
	}
}

func (tm *timed) joinAs(id string, typ transcript.PartyType, vis transcript.Visibility) {
	tm.t.Helper()
	if _, _, err := tm.s.Join(tm.now, transcript.Party{ID: id, Type: typ, Visibility: vis}, ""); err != nil {
		tm.t.Fatal(err)
	}
}

// asyncOnly are rules with the async countdown at 255 s and the other
// timers off.
func asyncOnly() Rules {
	r := idleOnly()
	r.Idle.Enabled = false
	r.AsyncAlert = 255 * sec
	return r
}

func TestAsyncResetByNoticeLevel(t *testing.T) {
	for lvl, counted := range countedAt {
		for _, typ := range noticeTypes {
			t.Run(lvl+"/"+string(typ), func(t *testing.T) {
				r := asyncOnly()
				r.AsyncNotices = level(t, lvl)
				tm := newTimed(t, r, true)
				tm.join("c", transcript.Client)
				if got, want := tm.resets(func() { tm.notify("c", typ) }), slices.Contains(counted, typ); got != want {
					t.Errorf("async-idle-notices=%s: %s resets = %v, want %v", lvl, typ, got, want)
				}
			})
		}
	}
}

// TestAsyncResetRules: agents joining and leaving count, bots never do, and
// only what all parties see counts.
func TestAsyncResetRules(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(tm *timed)
		act    func(tm *timed)
		resets bool
	}{
		{"agent joins", nil, func(tm *timed) { tm.join("a", transcript.Agent) }, true},
		{"agent leaves, keeping the chat", func(tm *timed) { tm.join("a", transcript.Agent) },
			func(tm *timed) { ok(tm.t)(tm.s.Leave(tm.now, "a", "a", KeepAlive, "")) }, true},
		{"client message", nil, func(tm *timed) { tm.send("c", "x") }, true},
		{"agent message", func(tm *timed) { tm.join("a", transcript.Agent) }, func(tm *timed) { tm.send("a", "x") }, true},
		{"agent INT message", func(tm *timed) { tm.join("a", transcript.Agent) }, func(tm *timed) {
			ok(tm.t)(tm.s.Send(tm.now, "a", Message{Text: "x", Visibility: transcript.VisInt}))
		}, false},
		{"bot joins", nil, func(tm *timed) { tm.join("bot", transcript.External) }, false},
		{"bot message", func(tm *timed) { tm.join("bot", transcript.External) }, func(tm *timed) { tm.send("bot", "x") }, false},
		{"bot push URL", func(tm *timed) { tm.join("bot", transcript.External) }, func(tm *timed) { tm.notify("bot", transcript.PushURL) }, false},
		{"bot leaves", func(tm *timed) { tm.join("bot", transcript.External) },
			func(tm *timed) { ok(tm.t)(tm.s.Leave(tm.now, "bot", "bot", KeepAlive, "")) }, false},
		{"client polls", nil, func(tm *timed) { tm.s.Touch(tm.now, "c") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTimed(t, asyncOnly(), true)
			tm.join("c", transcript.Client)
			if tt.setup != nil {
				tt.setup(tm)
			}
			if got := tm.resets(func() { tt.act(tm) }); got != tt.resets {
				t.Errorf("resets = %v, want %v", got, tt.resets)
			}
		})
	}
}

// TestActivityAfterAlertStartsOver: after an alert, activity resets the
// countdown to the first alert, not to the close.
func TestActivityAfterAlertStartsOver(t *testing.T) {
	for _, async := range []bool{false, true} {
		r := idleOnly()
		r.Idle.Enabled = !async
		r.AsyncAlert, r.AsyncClose = 255*sec, 45*sec
		tm := newTimed(t, r, async)
		tm.join("c", transcript.Client)
		tm.join("a", transcript.Agent)
		if st, _ := tm.advance(255 * sec); len(notices(st)) != 1 {
			t.Fatalf("async=%v: no alert", async)
		}
		tm.send("c", "still here")
		if st, _ := tm.advance(254 * sec); len(st.Events) != 0 {
			t.Fatalf("async=%v: fired %v before a full timeout-alert after the activity", async, notices(st))
		}
		st, _ := tm.advance(sec)
		if got := notices(st); len(got) != 1 || got[0] != IdleAlertNotice+":closing soon" || st.Closed {
			t.Errorf("async=%v: after activity got %q closed=%v, want the first alert again", async, got, st.Closed)
		}
	}
}
