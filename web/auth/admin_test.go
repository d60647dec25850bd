package auth_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

func TestAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	if err := auth.AddUser(ctx, store, " Alice ", auth.RoleAdmin, password); err != nil {
		t.Fatal(err)
	}

	t.Run("AddUser", func(t *testing.T) {
		users, err := store.ListUsers(ctx)
		if err != nil || len(users) != 1 || users[0].Name != "alice" || users[0].Role != "admin" {
			t.Fatalf("got %+v, %v; want alice the admin", users, err)
		}
		_, _, hash, _ := store.UserPassword(ctx, "alice")
		if ok, err := auth.VerifyPassword(hash, password); !ok || err != nil {
			t.Errorf("stored hash does not verify: %v", err)
		}
	})

	t.Run("AddUserErrors", func(t *testing.T) {
		for _, c := range []struct {
			name, role, pw string
			want           error
		}{
			{"ALICE", "host", password, queue.ErrConflict},
			{"bob", "host", "short", queue.ErrInvalid},
			{"bob", "root", password, queue.ErrInvalid},
			{"", "host", password, queue.ErrInvalid},
			{"bob smith", "host", password, queue.ErrInvalid},
			{"_bob", "host", password, queue.ErrInvalid},
		} {
			if err := auth.AddUser(ctx, store, c.name, auth.Role(c.role), c.pw); !errors.Is(err, c.want) {
				t.Errorf("AddUser(%q, %q, %q): got %v, want %v", c.name, c.role, c.pw, err, c.want)
			}
		}
	})

	t.Run("UserName", func(t *testing.T) {
		for in, want := range map[string]string{"Alice": "alice", " bob.smith@example.org ": "bob.smith@example.org", "a-b_c": "a-b_c"} {
			if got, err := auth.UserName(in); err != nil || got != want {
				t.Errorf("UserName(%q): got %q, %v; want %q", in, got, err, want)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for name, err := range map[string]error{
			"SetPassword": auth.SetPassword(ctx, store, "nobody", password),
			"SetRole":     auth.SetRole(ctx, store, "nobody", auth.RoleHost),
			"DeleteUser":  auth.DeleteUser(ctx, store, "nobody"),
			"RevokeToken": auth.RevokeToken(ctx, store, "nothing"),
		} {
			if !errors.Is(err, queue.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
		if err := auth.SetPassword(ctx, store, "alice", "short"); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("SetPassword short: got %v, want ErrInvalid", err)
		}
		if err := auth.SetRole(ctx, store, "alice", "root"); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("SetRole root: got %v, want ErrInvalid", err)
		}
	})

	t.Run("CreateToken", func(t *testing.T) {
		tok, err := auth.CreateToken(ctx, store, " automation ", auth.RoleProducer, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^callin_[a-z2-7]{52}$`).MatchString(tok) {
			t.Errorf("token %q: want callin_ and 52 base32 characters", tok)
		}
		tokens, err := store.ListTokens(ctx)
		if err != nil || len(tokens) != 1 {
			t.Fatalf("got %+v, %v", tokens, err)
		}
		if got := tokens[0]; got.Name != "automation" || got.Role != "producer" || got.Prefix != tok[:15] || got.CreatedBy != "alice" {
			t.Errorf("listed: got %+v, want automation, producer, prefix %q", got, tok[:15])
		}
		other, err := auth.CreateToken(ctx, store, "second", auth.RoleHost, "alice")
		if err != nil || other == tok {
			t.Errorf("second token: %q, %v", other, err)
		}
		for _, c := range []struct {
			name string
			role auth.Role
			want error
		}{
			{"automation", auth.RoleHost, queue.ErrConflict},
			{" ", auth.RoleHost, queue.ErrInvalid},
			{"x", "root", queue.ErrInvalid},
		} {
			if _, err := auth.CreateToken(ctx, store, c.name, c.role, "alice"); !errors.Is(err, c.want) {
				t.Errorf("CreateToken(%q, %q): got %v, want %v", c.name, c.role, err, c.want)
			}
		}
	})
}
