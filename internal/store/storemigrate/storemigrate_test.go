package storemigrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/notes.txt":  {Data: []byte("ignored")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Migration{1, "0001_a.sql", "A"}) || ms[1] != (Migration{2, "0002_b.sql", "B"}) {
		t.Errorf("Load = %+v", ms)
	}
	if _, err := Load(fstest.MapFS{"m/first.sql": {}}, "m"); err == nil {
		t.Error("a file without a version number was accepted")
	}
}

func TestAdditive(t *testing.T) {
	ms := []Migration{
		{Version: 1, Name: "0001_init.sql", SQL: "CREATE TABLE a (x INTEGER);"},
		{Version: 2, Name: "0002_old.sql", SQL: "ALTER TABLE a DROP COLUMN x;"},
		{Version: 3, Name: "0003_add.sql", SQL: "-- drop column nothing, a comment\nALTER TABLE a ADD COLUMN y TEXT;\nCREATE INDEX a_y ON a (y);"},
	}
	if err := Additive(ms, 2); err != nil {
		t.Errorf("additive migrations after 2: %v", err)
	}
	if err := Additive(ms, 1); err == nil || !strings.Contains(err.Error(), "0002_old.sql") {
		t.Errorf("a dropped column after 1: %v", err)
	}
	for _, sql := range []string{"DROP TABLE a;", "ALTER TABLE a RENAME TO b;", "ALTER TABLE a ALTER COLUMN x TYPE TEXT;",
		"alter table a alter column x set data type bigint;"} {
		if Additive([]Migration{{Version: 9, Name: "0009.sql", SQL: sql}}, 1) == nil {
			t.Errorf("%q passed as additive", sql)
		}
	}
}
