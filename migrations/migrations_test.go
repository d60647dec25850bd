package migrations_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/callin-radio/callin/migrations"
	"github.com/jackc/tern/v2/migrate"
)

// TestFiles checks what tern needs of the files: numbered from 1 with no
// gap or duplicate, each with SQL before its down marker.
func TestFiles(t *testing.T) {
	paths, err := migrate.FindMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no migrations")
	}
	all, _ := fs.Glob(migrations.FS, "*.sql")
	if len(all) != len(paths) {
		t.Errorf("files: got %d .sql files, tern sees %d: a name without NNN_ prefix?", len(all), len(paths))
	}
	for _, p := range paths {
		b, err := fs.ReadFile(migrations.FS, p)
		if err != nil {
			t.Fatal(err)
		}
		up, down, ok := strings.Cut(string(b), "---- create above / drop below ----")
		if !ok || strings.TrimSpace(up) == "" || strings.TrimSpace(down) == "" {
			t.Errorf("%s: want SQL above and below the down marker", p)
		}
		// tern runs files through text/template.
		if strings.Contains(string(b), "{{") {
			t.Errorf("%s: contains {{, which tern would take for a template", p)
		}
	}
}
