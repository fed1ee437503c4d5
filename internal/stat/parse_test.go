package stat

import (
	"errors"
	"testing"
	"time"
)

func TestParseMask(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"CallWait", "CallWait"},
		{" CallWait , CallInbound ", "CallInbound,CallWait"},
		{"*", "CallInbound,CallOnHold,CallRinging,NotReadyForNextCall,WaitForNextCall,LoggedIn,CallAnswered,CallTransferMade,CallWait,CallEntered,CallDistributed,CallAbandoned"},
		{"*, ~Call*", "NotReadyForNextCall,WaitForNextCall,LoggedIn"},
		{"CallA*", "CallAnswered,CallAbandoned"},
		{"CallWait, ~CallWait", ""},
		{"~CallWait", ""},
		{"", ""},
		{"Bogus", ""},
		{"CallWait,,CallInbound", ""},
		{"Nothing*", ""},
	} {
		m, err := ParseMask(tc.in)
		got := ""
		if err == nil {
			got = m.String()
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMask(%q) error %v does not wrap ErrInvalid", tc.in, err)
		}
		if got == "" && err == nil {
			err = errors.New("empty mask accepted")
		}
		if tc.want == "" && err == nil || tc.want != "" && got != tc.want {
			t.Errorf("ParseMask(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTimeProfile(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		key, value string
		want       TimeProfile
		bad        bool
	}{
		{key: "Default,Growing", value: "00:00", want: TimeProfile{Name: "Default", Kind: Growing, Resets: []time.Duration{0}}},
		{key: "Shifts,Growing", value: "16:00, 08:00", want: TimeProfile{Name: "Shifts", Kind: Growing, Resets: []time.Duration{8 * h, 16 * h}}},
		{key: "Six,Growing", value: "00:00,+06:00", want: TimeProfile{Name: "Six", Kind: Growing, Resets: []time.Duration{0, 6 * h, 12 * h, 18 * h}}},
		{key: "Last30,Sliding", value: "1800:60", want: TimeProfile{Name: "Last30", Kind: Sliding, Window: 30 * time.Minute, Step: time.Minute}},
		{key: "Last10,Selection", value: "10", want: TimeProfile{Name: "Last10", Kind: Selection, N: 10}},
		{key: "Default", value: "00:00", bad: true},
		{key: ",Growing", value: "00:00", bad: true},
		{key: "X,Rolling", value: "00:00", bad: true},
		{key: "X,Growing", value: "24:00", bad: true},
		{key: "X,Growing", value: "7:5", bad: true},
		{key: "X,Growing", value: "+01:00", bad: true},
		{key: "X,Growing", value: "00:00,+00:00", bad: true},
		{key: "X,Sliding", value: "1800:7", bad: true},
		{key: "X,Sliding", value: "60:120", bad: true},
		{key: "X,Sliding", value: "86400:1", bad: true},
		{key: "X,Selection", value: "0", bad: true},
	} {
		p, err := ParseTimeProfile(tc.key, tc.value)
		if tc.bad {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseTimeProfile(%q, %q) = %+v, %v; want ErrInvalid", tc.key, tc.value, p, err)
			}
			continue
		}
		if err != nil || p.Name != tc.want.Name || p.Kind != tc.want.Kind || p.Window != tc.want.Window ||
			p.Step != tc.want.Step || p.N != tc.want.N || len(p.Resets) != len(tc.want.Resets) {
			t.Errorf("ParseTimeProfile(%q, %q) = %+v, %v; want %+v", tc.key, tc.value, p, err, tc.want)
			continue
		}
		for i := range p.Resets {
			if p.Resets[i] != tc.want.Resets[i] {
				t.Errorf("ParseTimeProfile(%q, %q) resets %v; want %v", tc.key, tc.value, p.Resets, tc.want.Resets)
			}
		}
	}
}

func TestGrowingPeriods(t *testing.T) {
	p, _ := ParseTimeProfile("Shifts,Growing", "08:00,16:00")
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, tc := range []struct{ t, start, next string }{
		{"2026-12-07T09:30:00Z", "2026-12-07T08:00:00Z", "2026-12-07T16:00:00Z"},
		{"2026-12-07T16:00:00Z", "2026-12-07T16:00:00Z", "2026-12-08T08:00:00Z"},
		{"2026-12-07T03:00:00Z", "2026-12-06T16:00:00Z", "2026-12-07T08:00:00Z"},
	} {
		if got := p.periodStart(at(tc.t)); !got.Equal(at(tc.start)) {
			t.Errorf("periodStart(%s) = %s; want %s", tc.t, got, tc.start)
		}
		if got := p.nextReset(at(tc.t)); !got.Equal(at(tc.next)) {
			t.Errorf("nextReset(%s) = %s; want %s", tc.t, got, tc.next)
		}
	}
}

func TestParseTimeRange(t *testing.T) {
	r, err := ParseTimeRange("SL30", " 0 - 30 ")
	if err != nil || r.Lo != 0 || r.Hi != 30*time.Second || !r.has(30*time.Second) || r.has(30001*time.Millisecond) {
		t.Fatalf("ParseTimeRange = %+v, %v", r, err)
	}
	for _, bad := range []string{"30-0", "30", "-1-5", "a-b", ""} {
		if _, err := ParseTimeRange("X", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseTimeRange(%q) = %v; want ErrInvalid", bad, err)
		}
	}
}

func TestParseStatType(t *testing.T) {
	good := map[string]string{"Category": "ServiceFactor1", "MainMask": "CallDistributed", "RelMask": "CallDistributed,CallAbandoned",
		"Objects": "Queue, Tenant", "Description": "service level"}
	st, err := ParseStatType("SL", good)
	if err != nil || st.Subject != DNAction || len(st.Objects) != 2 || !st.RelMask.Has(CallAbandoned) {
		t.Fatalf("ParseStatType = %+v, %v", st, err)
	}
	for name, opts := range map[string]map[string]string{
		"unknown option":    {"Category": "TotalNumber", "MainMask": "CallWait", "Objects": "Queue", "Mask": "x"},
		"unknown category":  {"Category": "TotalStuff", "MainMask": "CallWait", "Objects": "Queue"},
		"no main mask":      {"Category": "TotalNumber", "Objects": "Queue"},
		"missing rel mask":  {"Category": "ServiceFactor1", "MainMask": "CallDistributed", "Objects": "Queue"},
		"bad subject":       {"Category": "CurrentNumber", "MainMask": "CallWait", "Objects": "Queue", "Subject": "DNStatus"},
		"status historical": {"Category": "TotalNumber", "MainMask": "CallWait", "Objects": "Queue", "Subject": "AgentStatus"},
		"bad object":        {"Category": "TotalNumber", "MainMask": "CallWait", "Objects": "Place"},
		"no objects":        {"Category": "TotalNumber", "MainMask": "CallWait"},
		"state of a queue":  {"Category": "CurrentState", "MainMask": "*", "Objects": "Queue"},
	} {
		if _, err := ParseStatType(name, opts); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: ParseStatType error %v; want ErrInvalid", name, err)
		}
	}
}
