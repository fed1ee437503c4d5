package ixn

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConditionMatch(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	props := map[string]string{
		"ChatSkills": "billing", "Priority": "3", "GCTI_Chat_AsyncCheckAt": "1699999999",
		"Name": "O'Brien", "Empty": "", "Version": "10",
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"", true},
		{"   ", true},
		{"GCTI_Chat_AsyncCheckAt < _current_time()", true},
		{"GCTI_Chat_AsyncCheckAt >= _current_time()", false},
		{"_current_time() > 1699999999", true},
		{"ChatSkills = 'billing' AND Priority > 2", true},
		{"ChatSkills = 'billing' AND Priority > 3", false},
		{"ChatSkills = 'sales' OR Priority >= 3", true},
		{"NOT ChatSkills = 'billing'", false},
		{"not (ChatSkills = 'sales' or Priority < 1)", true},
		{"ChatSkills != 'sales'", true},
		{"ChatSkills <> 'billing'", false},
		{`ChatSkills = "billing"`, true},
		{"Name = 'O''Brien'", true},
		{"Priority = 3.0", true},
		{"Priority <= -1", false},
		{"Version > '9'", true}, // both read as numbers: 10 > 9
		{"ChatSkills > 'a'", true},
		{"Missing = 'x'", false},
		{"NOT Missing = 'x'", true},
		{"Missing != 'x'", false},
		{"ChatSkills > 1", false}, // numeric comparison with a non-number
		{"Empty = ''", true},
		{"Priority = Version", false},
		{"(((Priority = 3)))", true},
		{"Priority = 3 AND ChatSkills = 'billing' OR Priority = 0", true},
		{"Priority = 0 OR Priority = 3 AND ChatSkills = 'sales'", false}, // AND binds tighter
	}
	for _, tt := range tests {
		c, err := ParseCondition(tt.cond)
		if err != nil {
			t.Errorf("ParseCondition(%q): %v", tt.cond, err)
			continue
		}
		if got := c.Match(props, now); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.cond, got, tt.want)
		}
		if c.String() != tt.cond {
			t.Errorf("String() = %q, want %q", c.String(), tt.cond)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	tests := []struct {
		cond string
		pos  int
		msg  string
	}{
		{"Priority", 8, "want a comparison operator, got end of condition"},
		{"Priority >", 10, "want a property, string or number, got end of condition"},
		{"Priority > 2 AND", 16, "want a property, string or number"},
		{"(Priority > 2", 13, "want ')'"},
		{"Priority > 2)", 12, `unexpected ")"`},
		{"Name = 'abc", 7, "unterminated string"},
		{"Priority ! 2", 9, "want !="},
		{"Priority > 1.2.3", 11, "invalid number"},
		{"Priority > now()", 11, `unknown function "now"`},
		{"Priority > _current_time(1)", 25, "takes no arguments"},
		{"Priority # 2", 9, "unexpected character '#'"},
		{"= 2", 0, "want a property"},
		{"Priority > 2 Priority > 3", 13, "unexpected"},
		{strings.Repeat("(", 100) + "a = 1" + strings.Repeat(")", 100), 65, "nested deeper"},
		{strings.Repeat("NOT ", 100) + "a = 1", 260, "nested deeper"},
		{strings.Repeat("a", maxConditionLen+1), maxConditionLen, "longer than"},
	}
	for _, tt := range tests {
		_, err := ParseCondition(tt.cond)
		var ce *ConditionError
		if !errors.As(err, &ce) {
			t.Errorf("ParseCondition(%.40q): error %v, want *ConditionError", tt.cond, err)
			continue
		}
		if ce.Pos != tt.pos || !strings.Contains(ce.Msg, tt.msg) {
			t.Errorf("ParseCondition(%.40q): %v; want %q at %d", tt.cond, err, tt.msg, tt.pos)
		}
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"", "GCTI_Chat_AsyncCheckAt < _current_time()", "ChatSkills = 'billing' AND Priority > 2",
		"NOT (a = 'x' OR b != \"y\")", "a <> 'it''s'", "x >= -1.5"} {
		f.Add(s)
	}
	props := map[string]string{"a": "x", "b": "2", "ChatSkills": "billing", "Priority": "3"}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := ParseCondition(src)
		if err != nil {
			var ce *ConditionError
			if !errors.As(err, &ce) || ce.Pos < 0 || ce.Pos > len(src) {
				t.Fatalf("ParseCondition(%q): bad error %v", src, err)
			}
			return
		}
		c.Match(props, time.Unix(0, 0)) // must not panic
		again, err := ParseCondition(c.String())
		if err != nil || again.Match(props, time.Unix(0, 0)) != c.Match(props, time.Unix(0, 0)) {
			t.Fatalf("reparse of %q: %v", src, err)
		}
	})
}

func TestParseOrderAndSkills(t *testing.T) {
	keys, err := ParseOrder("Priority desc, SubmittedAt")
	if err != nil || len(keys) != 2 || keys[0] != (OrderKey{"Priority", true}) || keys[1] != (OrderKey{"SubmittedAt", false}) {
		t.Errorf("ParseOrder: %v %v", keys, err)
	}
	for _, bad := range []string{"Priority sideways", "a b c", ",", "1x"} {
		if _, err := ParseOrder(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseOrder(%q): %v, want ErrInvalid", bad, err)
		}
	}
	skills, err := ParseSkills("billing:5, english:3,vip")
	if err != nil || skills["billing"] != 5 || skills["english"] != 3 || skills["vip"] != 1 {
		t.Errorf("ParseSkills: %v %v", skills, err)
	}
	for _, bad := range []string{"billing:x", ":3", "a:-1"} {
		if _, err := ParseSkills(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSkills(%q): %v, want ErrInvalid", bad, err)
		}
	}
}
