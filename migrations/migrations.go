// Package migrations holds callin's database schema as numbered SQL files,
// embedded in the binary, and reads them; postgres.Migrate applies them in
// order, each in one transaction.
//
// A file is named NNN_name.sql, numbered from 1 with no gap. The SQL above
// the line "---- create above / drop below ----" is the migration; the SQL
// below it undoes it, for an operator to run by hand (callin never migrates
// down). Files are never edited once released: a change of schema is a new
// file with the next number. The layout is tern's, which applied these files
// until callin had its own runner, so the files and the databases it
// migrated stay as they were.
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// FS holds the migration files, named NNN_name.sql.
//
//go:embed *.sql
var FS embed.FS

// DownMarker separates a file's migration from the SQL that undoes it.
const DownMarker = "---- create above / drop below ----"

// Migration is one file: the schema version it brings the database to, and
// its SQL.
type Migration struct {
	Version int    // the number in the file name; the schema's version once applied
	Name    string // the file name
	Up      string // the SQL above DownMarker
	Down    string // the SQL below it, if any
}

// All returns the migrations embedded in FS, in order.
func All() ([]Migration, error) { return Load(FS) }

var fileName = regexp.MustCompile(`\A(\d+)_.+\.sql\z`)

// Load reads the .sql files at the top of fsys, in order of their numbers.
// It returns an error naming the file when a name is not NNN_name.sql, when
// two files share a number or a number is missing, or when a file has no
// SQL above DownMarker.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	byVersion := make(map[int]Migration, len(names))
	for _, name := range names {
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migrations: %s: the name is not NNN_name.sql", name)
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migrations: %s: the number must be 1 or more", name)
		}
		if other, ok := byVersion[v]; ok {
			return nil, fmt.Errorf("migrations: %s and %s have the same number", other.Name, name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		up, down, _ := strings.Cut(string(b), DownMarker)
		if !hasSQL(up) {
			return nil, fmt.Errorf("migrations: %s: no SQL above %q", name, DownMarker)
		}
		byVersion[v] = Migration{Version: v, Name: name, Up: strings.TrimSpace(up), Down: strings.TrimSpace(down)}
	}
	if len(byVersion) == 0 {
		return nil, errors.New("migrations: none found")
	}
	out := make([]Migration, len(byVersion))
	for i := range out {
		m, ok := byVersion[i+1]
		if !ok {
			return nil, fmt.Errorf("migrations: migration %d is missing", i+1)
		}
		out[i] = m
	}
	return out, nil
}

// hasSQL reports whether sql has a line that is neither blank nor a
// comment.
func hasSQL(sql string) bool {
	for line := range strings.Lines(sql) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return true
		}
	}
	return false
}
