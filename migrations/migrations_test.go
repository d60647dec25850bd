package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/callin-radio/callin/migrations"
)

// TestFiles checks the embedded files: numbered from 1 with no gap, each
// with SQL above the down marker and the SQL that undoes it below.
func TestFiles(t *testing.T) {
	t.Parallel()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no migrations")
	}
	for i, m := range all {
		if m.Version != i+1 {
			t.Errorf("%s: version %d at place %d", m.Name, m.Version, i+1)
		}
		if m.Down == "" {
			t.Errorf("%s: want the SQL that undoes it below the down marker", m.Name)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	const marker = "\n" + migrations.DownMarker + "\n"
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := migrations.Load(fstest.MapFS{
			"002_b.sql":  file("-- b\nCREATE TABLE b ();" + marker + "DROP TABLE b;"),
			"001_a.sql":  file("CREATE TABLE a ();\n"),
			"README.txt": file("not a migration"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []migrations.Migration{
			{Version: 1, Name: "001_a.sql", Up: "CREATE TABLE a ();"},
			{Version: 2, Name: "002_b.sql", Up: "-- b\nCREATE TABLE b ();", Down: "DROP TABLE b;"},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d migrations, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("migration %d: got %+v, want %+v", i+1, got[i], want[i])
			}
		}
	})

	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string // in the error
	}{
		{"ErrNone", fstest.MapFS{}, "none found"},
		{"ErrName", fstest.MapFS{"001_a.sql": file("SELECT 1"), "b.sql": file("SELECT 1")}, "b.sql: the name"},
		{"ErrZero", fstest.MapFS{"000_a.sql": file("SELECT 1")}, "1 or more"},
		{"ErrDuplicate", fstest.MapFS{"001_a.sql": file("SELECT 1"), "1_b.sql": file("SELECT 1")}, "same number"},
		{"ErrGap", fstest.MapFS{"001_a.sql": file("SELECT 1"), "003_c.sql": file("SELECT 1")}, "migration 2 is missing"},
		{"ErrNoSQL", fstest.MapFS{"001_a.sql": file("-- only a comment" + marker + "DROP TABLE a;")}, "001_a.sql: no SQL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := migrations.Load(tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
