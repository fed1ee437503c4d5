package chatserver

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestLogEventsDocumented holds docs/ha.md's "Log events" table and the
// code together: each numbered event has its row, with its level and its
// message (string values as "...", numbers as "N"), and the table lists no
// other.
func TestLogEventsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../../docs/ha.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int][2]string{}
	row := regexp.MustCompile("(?m)^\\| (\\d{5}) \\| ([A-Z]+) \\| `([^`]*)` \\|")
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var id int
		fmt.Sscan(m[1], &id)
		rows[id] = [2]string{m[2], m[3]}
	}
	placeholders := strings.NewReplacer("%s", "...", "%d", "N", "%v", "...")
	seen := map[int]bool{}
	for _, ev := range logEvents {
		if seen[ev.id] {
			t.Errorf("event %d is numbered twice", ev.id)
		}
		seen[ev.id] = true
		want := [2]string{ev.level.String(), placeholders.Replace(ev.format)}
		if got, ok := rows[ev.id]; !ok {
			t.Errorf("docs/ha.md has no row for event %d", ev.id)
		} else if got != want {
			t.Errorf("docs/ha.md event %d: %q, code logs %q", ev.id, got, want)
		}
	}
	for id := range rows {
		if !seen[id] {
			t.Errorf("docs/ha.md lists event %d, which the code does not log", id)
		}
	}
}
