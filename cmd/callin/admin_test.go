package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// TestUserPhone: phones set with `callin user add --phone` and `callin user
// phone`, shown by `callin user list`, against a test database.
func TestUserPhone(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	env := envMap(map[string]string{"CALLIN_DATABASE_URL": dbURL})
	ctx := context.Background()
	cmd := func(stdin string, args ...string) (string, error) {
		var out strings.Builder
		err := run(ctx, args, strings.NewReader(stdin), &out, io.Discard, env)
		return out.String(), err
	}
	phoneOf := func(name string) string {
		t.Helper()
		store, err := openStore(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		m, err := store.UserPhones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m[name]
	}

	t.Run("AddWithPhone", func(t *testing.T) {
		out, err := cmd("a-long-password-123\n", "user", "add", "--role", "screener", "--phone", "pjsip/screener1", "--password-stdin", "Sam")
		if err != nil || !strings.Contains(out, "user Sam added (screener)") || !strings.Contains(out, "sam's phone is PJSIP/screener1") {
			t.Fatalf("got %q, %v", out, err)
		}
		if got := phoneOf("sam"); got != "PJSIP/screener1" {
			t.Errorf("stored %q, want PJSIP/screener1", got)
		}
	})

	t.Run("AddWithoutPhone", func(t *testing.T) {
		out, err := cmd("a-long-password-123\n", "user", "add", "--role", "host", "--password-stdin", "hal")
		if err != nil || strings.Contains(out, "phone") {
			t.Fatalf("got %q, %v", out, err)
		}
	})

	t.Run("BadPhoneAddsNobody", func(t *testing.T) {
		_, err := cmd("a-long-password-123\n", "user", "add", "--phone", "PJSIP/a&PJSIP/b", "--password-stdin", "eve")
		if err == nil || exitCode(err) != 2 {
			t.Fatalf("got %v, want a usage error", err)
		}
		if out, _ := cmd("", "user", "list"); strings.Contains(out, "eve") {
			t.Errorf("eve was added:\n%s", out)
		}
	})

	t.Run("Set", func(t *testing.T) {
		out, err := cmd("", "user", "phone", "HAL", "Local/200@studio")
		if err != nil || !strings.Contains(out, "hal's phone is Local/200@studio") {
			t.Fatalf("got %q, %v", out, err)
		}
		if got := phoneOf("hal"); got != "Local/200@studio" {
			t.Errorf("stored %q", got)
		}
	})

	t.Run("List", func(t *testing.T) {
		out, err := cmd("", "user", "list")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out, "\n")
		if !strings.Contains(lines[0], "PHONE") || len(lines) < 3 ||
			!strings.Contains(lines[1], "hal") || !strings.Contains(lines[1], "Local/200@studio") ||
			!strings.Contains(lines[2], "sam") || !strings.Contains(lines[2], "PJSIP/screener1") {
			t.Errorf("user list:\n%s", out)
		}
	})

	t.Run("Clear", func(t *testing.T) {
		out, err := cmd("", "user", "phone", "--clear", "sam")
		if err != nil || !strings.Contains(out, "sam has no phone now") {
			t.Fatalf("got %q, %v", out, err)
		}
		if got := phoneOf("sam"); got != "" {
			t.Errorf("stored %q after --clear", got)
		}
		if out, _ := cmd("", "user", "list"); !strings.Contains(out, "sam ") || !strings.Contains(out, " - ") {
			t.Errorf("user list shows no '-' for sam's phone:\n%s", out)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := cmd("", "user", "phone", "nobody", "PJSIP/x")
		if !errors.Is(err, queue.ErrNotFound) || exitCode(err) != 1 {
			t.Errorf("got %v, want ErrNotFound (exit status 1)", err)
		}
	})
}

// TestAdminDoesNotLeakPasswords: the administration commands name a bad
// database without its password, in URL or keyword form.
func TestAdminDoesNotLeakPasswords(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://callin:s3cr%2Fet@127.0.0.1:1/callin?connect_timeout=1",
		"host=127.0.0.1 port=1 user=callin password='sp ace s3cret' connect_timeout=1",
		"host=127.0.0.1 port=x user=callin password='sp ace s3cret'", // does not parse
		"postgres://callin:s3cr/et@127.0.0.1:1/callin",               // does not parse
	} {
		var out, errOut strings.Builder
		err := run(context.Background(), []string{"user", "list"}, strings.NewReader(""), &out, &errOut,
			envMap(map[string]string{"CALLIN_DATABASE_URL": dsn}))
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		for _, secret := range []string{"s3cr", "s3cret", "sp ace"} {
			if strings.Contains(err.Error(), secret) || strings.Contains(errOut.String(), secret) {
				t.Errorf("the password leaks: %v / %s", err, errOut.String())
			}
		}
	}
}
