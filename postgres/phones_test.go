package postgres_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestUserPhones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	for _, n := range []string{"alice", "bob", "carol"} {
		if _, err := store.CreateUser(ctx, n, "screener", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := store.UserPhones(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no phones yet: got %v, %v; want an empty map", got, err)
	}

	t.Run("OK", func(t *testing.T) {
		for _, c := range []struct{ name, in, want string }{
			{"alice", "PJSIP/screener1", "PJSIP/screener1"},
			{"bob", " local/200@studio ", "Local/200@studio"}, // stored as queue.ParseEndpoint returns it
		} {
			got, err := store.SetUserPhone(ctx, c.name, c.in)
			if err != nil || got != c.want {
				t.Errorf("SetUserPhone(%s, %q): got %q, %v; want %q", c.name, c.in, got, err, c.want)
			}
		}
		got, err := store.UserPhones(ctx)
		want := map[string]string{"alice": "PJSIP/screener1", "bob": "Local/200@studio"}
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("UserPhones: got %v, %v; want %v", got, err, want)
		}
		users, err := store.ListUsers(ctx)
		if err != nil || len(users) != 3 || users[0].Phone != "PJSIP/screener1" || users[2].Phone != "" {
			t.Errorf("ListUsers: got %+v, %v; want alice's phone and none for carol", users, err)
		}
	})

	t.Run("Clear", func(t *testing.T) {
		if _, err := store.SetUserPhone(ctx, "carol", "SIP/carol"); err != nil {
			t.Fatal(err)
		}
		if got, err := store.SetUserPhone(ctx, "carol", ""); err != nil || got != "" {
			t.Fatalf("clear: got %q, %v", got, err)
		}
		got, err := store.UserPhones(ctx)
		if _, ok := got["carol"]; err != nil || ok {
			t.Errorf("UserPhones after clearing carol's: got %v, %v", got, err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, in := range []string{"PJSIP/a&PJSIP/b", "PJSIP/a,30,tT", "Local/200@studio/n", "Console/dsp", "PJSIP/a b"} {
			if _, err := store.SetUserPhone(ctx, "alice", in); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("SetUserPhone(%q): got %v, want ErrInvalid", in, err)
			}
		}
		if got, _ := store.UserPhones(ctx); got["alice"] != "PJSIP/screener1" {
			t.Errorf("a refused phone changed alice's: %q", got["alice"])
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, in := range []string{"PJSIP/x", ""} {
			if _, err := store.SetUserPhone(ctx, "nobody", in); !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("SetUserPhone(nobody, %q): got %v, want ErrNotFound", in, err)
			}
		}
	})

	t.Run("DeletedUser", func(t *testing.T) {
		if err := store.DeleteUser(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if got, _ := store.UserPhones(ctx); got["bob"] != "" {
			t.Errorf("a deleted user's phone is still listed: %v", got)
		}
	})
}

// TestUserPhoneCheck: the CHECK on users.phone, which guards rows written
// by hand, takes exactly what queue.ParseEndpoint returns.
func TestUserPhoneCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	if _, err := store.CreateUser(ctx, "alice", "screener", "x"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"PJSIP/screener1", "SIP/a-b", "IAX2/x", "DAHDI/1", "Local/200@studio", "Local/+44.20_7@from-internal",
		"PJSIP/" + strings.Repeat("a", 122),
		"PJSIP/" + strings.Repeat("a", 123),
		"pjsip/screener1", // valid, but not as ParseEndpoint spells it
		"PJSIP/a&PJSIP/b", "PJSIP/a,30", "PJSIP/a/b", "PJSIP/a|b", "PJSIP/a(b)", "PJSIP/a b", "PJSIP/a\nb",
		"PJSIP/a@b@c", "PJSIP/a@", "PJSIP/", "Console/dsp", "", " PJSIP/a",
	} {
		parsed, err := queue.ParseEndpoint(in)
		wantOK := err == nil && parsed == in
		_, dbErr := store.Pool().Exec(ctx, `UPDATE users SET phone = $1 WHERE name = 'alice'`, in)
		if gotOK := dbErr == nil; gotOK != wantOK {
			t.Errorf("phone %q: the CHECK says ok=%v (%v), queue.ParseEndpoint ok=%v", in, gotOK, dbErr, wantOK)
		}
	}
}
