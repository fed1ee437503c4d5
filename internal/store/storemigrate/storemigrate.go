package storemigrate

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	// Name is the file name, as recorded in schema_migrations.
	Name string
	SQL  string
}

// Load reads the files dir/*.sql of fsys, named NNNN_what.sql, in version
// order. A file without a version number is an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	paths, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	ms := make([]Migration, 0, len(paths))
	for _, p := range paths { // Glob returns names sorted, so versions ascend
		name := path.Base(p)
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			return nil, fmt.Errorf("migration %s: no version number: %w", name, err)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	return ms, nil
}

// destructive finds the statements an older parley could not run beside:
// those that drop or rename a table or column, or change a column's type.
var destructive = regexp.MustCompile(`(?i)\b(DROP\s+(TABLE|COLUMN)|RENAME\b|ALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE)\b`)

// Additive returns an error naming the first migration after version after
// that is not additive. In a rolling upgrade an older and a newer parley
// share one store: the newer one's migrations may add tables, columns and
// indexes, never take away or change what the older one reads and writes.
// after is the last migration of the previous release.
func Additive(ms []Migration, after int) error {
	for _, m := range ms {
		if m.Version > after && destructive.MatchString(stripComments(m.SQL)) {
			return fmt.Errorf("migration %s is not additive (%q): a previous release running beside it would fail",
				m.Name, destructive.FindString(stripComments(m.SQL)))
		}
	}
	return nil
}

// stripComments removes the SQL line comments of sql.
func stripComments(sql string) string {
	var b strings.Builder
	for line := range strings.Lines(sql) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}
