package chat

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

const sec = time.Second

func rules() Rules {
	return Rules{
		FlexDisconnect: 45 * sec,
		FlexPush:       120 * sec,
		Idle: IdleRules{
			Enabled: true, Notices: major, Alert: 255 * sec, Alert2: 0, Close: 45 * sec,
			MessageAlert: "closing soon", MessageAlert2: "closing very soon", MessageClose: "closed",
		},
		AsyncAlert: 86400 * sec, AsyncClose: 3600 * sec, AsyncNotices: major,
	}
}

// timed is a session on a manual clock.
type timed struct {
	t   *testing.T
	s   *Session
	now time.Time
}

func newTimed(t *testing.T, r Rules, async bool) *timed {
	s := New("S", t0, Options{Rules: r, Async: async, SaveNotices: major2})
	return &timed{t: t, s: s, now: t0}
}

func (tm *timed) join(id string, typ transcript.PartyType) {
	tm.t.Helper()
	if _, _, err := tm.s.Join(tm.now, transcript.Party{ID: id, Type: typ}, ""); err != nil {
		tm.t.Fatal(err)
	}
}

// advance moves the clock and ticks, returning what fired.
func (tm *timed) advance(d time.Duration) (Step, []string) {
	tm.now = tm.now.Add(d)
	return tm.s.Tick(tm.now)
}

func (tm *timed) send(id, text string) {
	tm.t.Helper()
	if _, err := tm.s.Send(tm.now, id, Message{Text: text}); err != nil {
		tm.t.Fatal(err)
	}
}

// notices returns the inactivity events of st as noticeType:text.
func notices(st Step) []string {
	var out []string
	for _, e := range st.Events {
		if e.Type == transcript.IdleAlert || e.Type == transcript.IdleClose {
			out = append(out, e.NoticeType+":"+e.Text)
		}
	}
	return out
}

func leftReasons(st Step) map[string]transcript.Reason {
	out := map[string]transcript.Reason{}
	for _, e := range st.Events {
		if e.Type == transcript.ParticipantLeft {
			out[e.PartyID] = e.Reason
		}
	}
	return out
}

func TestFlexDisconnectTimeout(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	if st, _ := tm.advance(44 * sec); len(st.Events) != 0 {
		t.Fatalf("fired early: %+v", st.Events)
	}
	tm.s.Touch(tm.now, "c") // a poll resets it
	if st, _ := tm.advance(44 * sec); len(st.Events) != 0 {
		t.Fatalf("fired although the client polled: %+v", st.Events)
	}
	st, _ := tm.advance(sec)
	if got := leftReasons(st); got["c"] != transcript.ReasonDisconnect || len(got) != 1 {
		t.Fatalf("left = %v, want the client with reason 3", got)
	}
	if tm.s.Closed() {
		t.Error("session closed although the agent is still in it")
	}
}

func TestLastClientTimingOutClosesSession(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	st, _ := tm.advance(45 * sec)
	if !st.Closed || !tm.s.Closed() {
		t.Fatal("session open after its only party timed out")
	}
	if !tm.s.Deadline().IsZero() {
		t.Error("a closed session still has a deadline")
	}
}

func TestPushTimeoutChecksLiveness(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	tm.s.SetPush(tm.now, "c", true)
	if st, checks := tm.advance(100 * sec); len(st.Events)+len(checks) != 0 {
		t.Fatal("flex-disconnect-timeout still applies to a pushed client")
	}
	_, checks := tm.advance(20 * sec)
	if len(checks) != 1 || checks[0] != "c" {
		t.Fatalf("checks = %v, want a liveness check of c", checks)
	}
	if st, _ := tm.s.Confirm(tm.now, "c", true); len(st.Events) != 0 {
		t.Fatal("a confirmed client was removed")
	}
	_, checks = tm.advance(120 * sec)
	if len(checks) != 1 {
		t.Fatalf("no second check after flex-push-timeout")
	}
	st, _ := tm.s.Confirm(tm.now, "c", false)
	if leftReasons(st)["c"] != transcript.ReasonDisconnect {
		t.Errorf("an unconfirmed client was not removed with reason 3: %+v", st.Events)
	}
}

func TestPushCheckUnansweredRemoves(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	tm.s.SetPush(tm.now, "c", true)
	if _, checks := tm.advance(120 * sec); len(checks) != 1 {
		t.Fatal("no check")
	}
	st, _ := tm.advance(120 * sec)
	if leftReasons(st)["c"] != transcript.ReasonDisconnect {
		t.Errorf("a client whose check went unanswered stays: %+v", st.Events)
	}
}

func TestUnsubscribeSwitchesBack(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	tm.s.SetPush(tm.now, "c", true)
	tm.advance(100 * sec)
	tm.s.SetPush(tm.now, "c", false)
	if st, _ := tm.advance(44 * sec); len(st.Events) != 0 {
		t.Fatal("fired early after unsubscribe")
	}
	if st, _ := tm.advance(sec); leftReasons(st)["c"] != transcript.ReasonDisconnect {
		t.Error("flex-disconnect-timeout not back after unsubscribe")
	}
}

func TestInactivityAlertsAndClose(t *testing.T) {
	tests := []struct {
		name   string
		alert2 time.Duration
		steps  []time.Duration
		want   []string
	}{
		{"alert then close", 0, []time.Duration{255 * sec, 45 * sec}, []string{"IDLE_CONTROL_ALERT:closing soon", "IDLE_CONTROL_CLOSE:closed"}},
		{"alert, alert2, close", 30 * sec, []time.Duration{255 * sec, 30 * sec, 45 * sec},
			[]string{"IDLE_CONTROL_ALERT:closing soon", "IDLE_CONTROL_ALERT:closing very soon", "IDLE_CONTROL_CLOSE:closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idleOnly()
			r.Idle.Alert2 = tt.alert2
			tm := newTimed(t, r, false)
			tm.join("c", transcript.Client)
			tm.join("a", transcript.Agent)
			var got []string
			var last Step
			for _, d := range tt.steps {
				if early, _ := tm.advance(d - sec); len(early.Events) != 0 {
					t.Fatalf("fired a second early: %v", notices(early))
				}
				last, _ = tm.advance(sec)
				got = append(got, notices(last)...)
			}
			if !equal(got, tt.want) {
				t.Errorf("notices = %q, want %q", got, tt.want)
			}
			if !last.Closed || leftReasons(last)["c"] != transcript.ReasonIdle || leftReasons(last)["a"] != transcript.ReasonIdle {
				t.Errorf("close step = %+v, want both parties out with reason 7", last.Events)
			}
		})
	}
}

func TestInactivityResetRules(t *testing.T) {
	tests := []struct {
		name   string
		act    func(tm *timed)
		resets bool
	}{
		{"client message", func(tm *timed) { tm.send("c", "x") }, true},
		{"agent message", func(tm *timed) { tm.send("a", "x") }, true},
		{"INT message", func(tm *timed) {
			tm.s.Send(tm.now, "a", Message{Text: "x", Visibility: transcript.VisInt})
		}, false},
		{"push URL (major)", func(tm *timed) { tm.s.Notify(tm.now, "a", Notice{Type: transcript.PushURL, Text: "u"}) }, true},
		{"typing (not in major)", func(tm *timed) { tm.s.Notify(tm.now, "c", Notice{Type: transcript.TypingStarted}) }, false},
		{"custom notice (not in major)", func(tm *timed) { tm.s.Notify(tm.now, "c", Notice{Type: transcript.CustomNotice, Text: "n"}) }, false},
		{"agent joins", func(tm *timed) { tm.join("a2", transcript.Agent) }, true},
		{"protocol request", func(tm *timed) { tm.s.Touch(tm.now, "c") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idleOnly()
			tm := newTimed(t, r, false)
			tm.join("c", transcript.Client)
			tm.join("a", transcript.Agent)
			tm.advance(200 * sec)
			tt.act(tm)
			st, _ := tm.advance(55 * sec) // 255 s after the start
			if fired := len(notices(st)) > 0; fired == tt.resets {
				t.Errorf("alert fired = %v at 255 s, want reset = %v", fired, tt.resets)
			}
		})
	}
}

func TestInactivityNeedsClientAndAgent(t *testing.T) {
	r := idleOnly()
	tm := newTimed(t, r, false)
	tm.join("c", transcript.Client)
	if st, _ := tm.advance(1000 * sec); len(st.Events) != 0 {
		t.Fatal("inactivity control ran without an agent")
	}
	tm.join("a", transcript.Agent)
	if _, err := tm.s.Leave(tm.now, "a", "a", KeepAlive, ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := tm.advance(1000 * sec); len(st.Events) != 0 {
		t.Fatal("inactivity control still ran after the last agent left")
	}
	r.Idle.Enabled = false
	tm.s.SetRules(r)
	tm.join("a2", transcript.Agent)
	if st, _ := tm.advance(1000 * sec); len(st.Events) != 0 {
		t.Fatal("inactivity control ran after it was disabled at run time")
	}
}

func TestRulesChangeAppliesAtNextActivity(t *testing.T) {
	r := idleOnly()
	tm := newTimed(t, r, false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	r.Idle.Alert = 10 * sec
	tm.s.SetRules(r)
	if st, _ := tm.advance(10 * sec); len(st.Events) != 0 {
		t.Fatal("the new timeout applied before any activity")
	}
	tm.send("c", "x")
	if st, _ := tm.advance(10 * sec); len(notices(st)) != 1 {
		t.Fatal("the new timeout did not apply after the next activity")
	}
}

func TestAsyncIdle(t *testing.T) {
	r := idleOnly()
	r.Idle.Enabled = false
	tm := newTimed(t, r, true)
	tm.join("c", transcript.Client)
	tm.join("bot", transcript.External)
	tm.advance(80000 * sec)
	tm.s.Send(tm.now, "bot", Message{Text: "bot chatter does not count"})
	st, _ := tm.advance(6400 * sec) // 86400 s after the client joined
	if got := notices(st); len(got) != 1 || got[0] != "IDLE_CONTROL_ALERT:closing soon" {
		t.Fatalf("notices = %q, want the async alert", got)
	}
	checkAt := tm.now.Add(3600 * sec).Unix()
	if st.Properties[AsyncStatusProperty] != AsyncStatusIdle || st.Properties[AsyncCheckAtProperty] != itoa(checkAt) {
		t.Errorf("properties = %v, want status 3 and check at %d", st.Properties, checkAt)
	}
	st, _ = tm.advance(3600 * sec)
	if !st.Closed || leftReasons(st)["c"] != transcript.ReasonIdle {
		t.Errorf("async close step = %+v", st.Events)
	}
}

func TestAsyncCustomerActivityMarksForRouting(t *testing.T) {
	r := idleOnly()
	tm := newTimed(t, r, true)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	if _, err := tm.s.Leave(tm.now, "a", "a", KeepAlive, ""); err != nil {
		t.Fatal(err)
	}
	if tm.s.Closed() {
		t.Fatal("KeepAlive closed the async chat")
	}
	st, err := tm.s.Send(tm.now.Add(time.Hour), "c", Message{Text: "any news?"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Properties[AsyncStatusProperty] != AsyncStatusActivity {
		t.Errorf("properties = %v, want the async status 2", st.Properties)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestBothInactivityConfigurations: in an async chat with
// [inactivity-control] on, both countdowns run at once and independently:
// one's alert does not reset the other, the regular one stops when the last
// agent leaves, and the async one keeps running with only the customer.
func TestBothInactivityConfigurations(t *testing.T) {
	r := idleOnly()
	r.Idle.Alert, r.Idle.Close = 100*sec, 1000*sec
	r.AsyncAlert, r.AsyncClose = 300*sec, 50*sec
	tm := newTimed(t, r, true)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	if st, _ := tm.advance(100 * sec); len(notices(st)) != 1 || len(st.Properties) != 0 {
		t.Fatalf("at 100 s: notices %q properties %v, want the regular alert only", notices(st), st.Properties)
	}
	st, _ := tm.advance(200 * sec) // the regular alert did not reset the async countdown
	if len(notices(st)) != 1 || st.Properties[AsyncStatusProperty] != AsyncStatusIdle {
		t.Fatalf("at 300 s: notices %q properties %v, want the async alert", notices(st), st.Properties)
	}
	ok(t)(tm.s.Leave(tm.now, "a", "a", KeepAlive, "")) // qualified: the async countdown starts over
	if st, _ := tm.advance(299 * sec); len(st.Events) != 0 {
		t.Fatalf("fired %q with no agent left before async-idle-alert", notices(st))
	}
	if st, _ := tm.advance(sec); len(notices(st)) != 1 || st.Closed {
		t.Fatalf("no async alert 300 s after the agent left: %q", notices(st))
	}
	st, _ = tm.advance(50 * sec)
	if !st.Closed || leftReasons(st)["c"] != transcript.ReasonIdle {
		t.Errorf("async close: closed=%v left=%v, want the client out with reason 7", st.Closed, leftReasons(st))
	}
}

// TestEmptyMessageTexts: an empty message-alert, message-alert2 or
// message-close sends no notice, and the countdown still alerts (setting the
// async properties) and closes on time.
func TestEmptyMessageTexts(t *testing.T) {
	for _, async := range []bool{false, true} {
		r := idleOnly()
		r.Idle = IdleRules{Enabled: !async, Alert: 10 * sec, Alert2: 5 * sec, Close: 5 * sec}
		r.AsyncAlert, r.AsyncClose = 10*sec, 5*sec
		tm := newTimed(t, r, async)
		tm.join("c", transcript.Client)
		tm.join("a", transcript.Agent)
		st, _ := tm.advance(10 * sec)
		if len(st.Events) != 0 {
			t.Errorf("async=%v: alert with an empty text sent %+v", async, st.Events)
		}
		if async != (st.Properties[AsyncStatusProperty] == AsyncStatusIdle) {
			t.Errorf("async=%v: alert properties %v", async, st.Properties)
		}
		if !async {
			if st, _ := tm.advance(5 * sec); len(st.Events) != 0 || st.Closed {
				t.Errorf("second alert with an empty text sent %+v", st.Events)
			}
		}
		st, _ = tm.advance(5 * sec)
		if !st.Closed || len(notices(st)) != 0 || leftReasons(st)["c"] != transcript.ReasonIdle {
			t.Errorf("async=%v: close step %+v, want a silent close with reason 7", async, st.Events)
		}
	}
}

// TestTimeoutBoundaries drives each timer with the smallest and largest value
// its option accepts (internal/config): it fires exactly then, not 1 ms
// earlier.
func TestTimeoutBoundaries(t *testing.T) {
	const day, day20 = 86400 * sec, 1728000 * sec
	type setup struct {
		async bool
		edit  func(r *Rules, d time.Duration)
		// before runs once the parties are in, to reach the timer under test.
		before func(tm *timed)
		want   string // what fires: a notice text or a left reason
	}
	afterAlert := func(tm *timed) { tm.advance(tm.s.opts.Rules.Idle.Alert) }
	options := map[string]setup{
		"flex-disconnect-timeout": {edit: func(r *Rules, d time.Duration) { r.FlexDisconnect = d }, want: "left:3"},
		"flex-push-timeout": {edit: func(r *Rules, d time.Duration) { r.FlexPush = d },
			before: func(tm *timed) { tm.s.SetPush(tm.now, "c", true) }, want: "check"},
		"timeout-alert":    {edit: func(r *Rules, d time.Duration) { r.Idle.Enabled, r.Idle.Alert = true, d }, want: "closing soon"},
		"timeout-alert2":   {edit: func(r *Rules, d time.Duration) { r.Idle.Enabled, r.Idle.Alert2 = true, d }, before: afterAlert, want: "closing very soon"},
		"timeout-close":    {edit: func(r *Rules, d time.Duration) { r.Idle.Enabled, r.Idle.Close = true, d }, before: afterAlert, want: "left:7"},
		"async-idle-alert": {async: true, edit: func(r *Rules, d time.Duration) { r.AsyncAlert = d }, want: "closing soon"},
		"async-idle-close": {async: true, edit: func(r *Rules, d time.Duration) { r.AsyncClose = d },
			before: func(tm *timed) { tm.advance(tm.s.opts.Rules.AsyncAlert) }, want: "left:7"},
	}
	bounds := map[string][2]time.Duration{
		"flex-disconnect-timeout": {sec, day20}, "flex-push-timeout": {sec, day20},
		"timeout-alert": {sec, day}, "timeout-alert2": {sec, day}, "timeout-close": {sec, day},
		"async-idle-alert": {sec, day20}, "async-idle-close": {sec, day20},
	}
	for name, o := range options {
		for _, d := range bounds[name] {
			t.Run(name+"="+d.String(), func(t *testing.T) {
				r := Rules{Idle: IdleRules{Alert: 7 * sec, Close: 7 * sec, MessageAlert: "closing soon", MessageAlert2: "closing very soon"},
					AsyncAlert: 7 * sec, AsyncClose: 7 * sec}
				o.edit(&r, d)
				tm := newTimed(t, r, o.async)
				tm.join("c", transcript.Client)
				tm.join("a", transcript.Agent)
				if o.before != nil {
					o.before(tm)
				}
				if st, checks := tm.advance(d - time.Millisecond); len(st.Events)+len(checks) != 0 {
					t.Fatalf("fired 1 ms early: %+v %v", st.Events, checks)
				}
				st, checks := tm.advance(time.Millisecond)
				var got []string
				for _, e := range st.Events {
					switch e.Type {
					case transcript.IdleAlert, transcript.IdleClose:
						got = append(got, e.Text)
					case transcript.ParticipantLeft:
						got = append(got, "left:"+strconv.Itoa(int(e.Reason)))
					}
				}
				if len(checks) > 0 {
					got = append(got, "check")
				}
				if !slices.Contains(got, o.want) {
					t.Errorf("at %s fired %q, want %q", d, got, o.want)
				}
			})
		}
	}
}

// TestTimeoutAlert2Zero: timeout-alert2 = 0 (its minimum) means no second
// alert: timeout-close follows the first alert directly.
func TestTimeoutAlert2Zero(t *testing.T) {
	r := idleOnly()
	r.Idle.Alert2 = 0
	tm := newTimed(t, r, false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	tm.advance(255 * sec)
	st, _ := tm.advance(45 * sec)
	if got := notices(st); !st.Closed || len(got) != 1 || got[0] != IdleCloseNotice+":closed" {
		t.Errorf("after the alert and timeout-close: notices %q closed=%v, want the close", got, st.Closed)
	}
}

// TestClientSeesItsOwnLeaveReason: the ParticipantLeft a client reads in its
// own transcript carries the quit-reason-code of why it was removed.
func TestClientSeesItsOwnLeaveReason(t *testing.T) {
	idle := idleOnly()
	tests := []struct {
		name  string
		rules Rules
		async bool
		cause func(tm *timed)
		want  string
	}{
		{"flex-disconnect-timeout", rules(), false, func(tm *timed) { tm.advance(45 * sec) }, "3"},
		{"push not confirmed", rules(), false, func(tm *timed) {
			tm.s.SetPush(tm.now, "c", true)
			tm.advance(120 * sec)
			ok(tm.t)(tm.s.Confirm(tm.now, "c", false))
		}, "3"},
		{"bad secure key", rules(), false, func(tm *timed) { ok(tm.t)(tm.s.Remove(tm.now, "c", transcript.ReasonBadKey)) }, "6"},
		{"inactivity", idle, false, func(tm *timed) { tm.advance(255 * sec); tm.advance(45 * sec) }, "7"},
		{"async inactivity", idle, true, func(tm *timed) { tm.advance(86400 * sec); tm.advance(3600 * sec) }, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rules
			r.Idle.Enabled = !tt.async
			tm := newTimed(t, r, tt.async)
			tm.join("c", transcript.Client)
			tm.join("a", transcript.Agent)
			tt.cause(tm)
			var got []string
			for _, e := range tm.s.Visible(1, transcript.Client) {
				if e.Type == transcript.ParticipantLeft && e.PartyID == "c" {
					got = append(got, transcript.NewAPIMessage(e, nil).EventAttributes.System["quit-reason-code"])
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("client's own leave reasons = %q, want [%s]", got, tt.want)
			}
		})
	}
}

// TestRulesChangeAtTimeout: a change applies at the session's next timeout.
// An alert due after [inactivity-control] was disabled does not fire; new
// timeout lengths apply from the next stage on.
func TestRulesChangeAtTimeout(t *testing.T) {
	r := idleOnly()
	tm := newTimed(t, r, false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	r.Idle.Close = 10 * sec
	tm.s.SetRules(r)
	if st, _ := tm.advance(255 * sec); len(notices(st)) != 1 {
		t.Fatal("the alert armed before the change did not fire at its deadline")
	}
	if st, _ := tm.advance(10 * sec); !st.Closed {
		t.Fatal("the new timeout-close did not apply to the stage after the change")
	}

	r = idleOnly()
	tm = newTimed(t, r, false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	off := r
	off.Idle.Enabled = false
	tm.s.SetRules(off)
	if st, _ := tm.advance(255 * sec); len(st.Events) != 0 {
		t.Fatalf("an alert fired after [inactivity-control] was disabled: %q", notices(st))
	}
	if !tm.s.Deadline().IsZero() && tm.s.Deadline().Before(tm.now.Add(time.Hour)) {
		t.Errorf("deadline %v: the disabled countdown still runs", tm.s.Deadline())
	}
}

// TestFlexDisconnectChangeAtNextRequest: a new flex-disconnect-timeout
// applies to a client from its next request.
func TestFlexDisconnectChangeAtNextRequest(t *testing.T) {
	tm := newTimed(t, rules(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	r := rules()
	r.FlexDisconnect = 5 * sec
	tm.s.SetRules(r)
	if st, _ := tm.advance(10 * sec); len(st.Events) != 0 {
		t.Fatal("the new timeout applied before the client's next request")
	}
	tm.s.Touch(tm.now, "c")
	if st, _ := tm.advance(5 * sec); leftReasons(st)["c"] != transcript.ReasonDisconnect {
		t.Errorf("the new timeout did not apply after the next request: %+v", st.Events)
	}
}

// TestIdleEventsCarryCountdown: the alerts are IdleAlert events whose
// userData says what comes next and in how many seconds (what the Genesys
// widget counts down from), the close an IdleClose; both keep Chat Server's
// noticeType for the transcript.
func TestIdleEventsCarryCountdown(t *testing.T) {
	r := idleOnly()
	r.Idle.Alert2 = 30 * sec
	async := idleOnly()
	async.Idle.Enabled = false
	tests := []struct {
		name  string
		r     Rules
		async bool
		steps []time.Duration
		want  []string // type noticeType next-type next-secs text
	}{
		{"alert, alert2, close", r, false, []time.Duration{255 * sec, 30 * sec, 45 * sec}, []string{
			"IdleAlert IDLE_CONTROL_ALERT IDLE_CONTROL_ALERT 30 closing soon",
			"IdleAlert IDLE_CONTROL_ALERT IDLE_CONTROL_CLOSE 45 closing very soon",
			"IdleClose IDLE_CONTROL_CLOSE   closed",
		}},
		{"async alert, close", async, true, []time.Duration{86400 * sec, 3600 * sec}, []string{
			"IdleAlert IDLE_CONTROL_ALERT IDLE_CONTROL_CLOSE 3600 closing soon",
			"IdleClose IDLE_CONTROL_CLOSE   closed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTimed(t, tt.r, tt.async)
			tm.join("c", transcript.Client)
			if !tt.async {
				tm.join("a", transcript.Agent)
			}
			var got []string
			for _, d := range tt.steps {
				st, _ := tm.advance(d)
				for _, e := range st.Events {
					if e.Type == transcript.IdleAlert || e.Type == transcript.IdleClose {
						got = append(got, strings.Join([]string{string(e.Type), e.NoticeType,
							e.UserData[NextIdleTimerTypeKey], e.UserData[NextIdleTimerSecsKey], e.Text}, " "))
					}
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
