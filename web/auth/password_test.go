package auth_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery"
	hash, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Format", func(t *testing.T) {
		phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
		if !phc.MatchString(hash) {
			t.Errorf("got %q, want a PHC argon2id string", hash)
		}
		again, _ := auth.HashPassword(pw)
		if again == hash {
			t.Error("two hashes of one password are equal: salt not random")
		}
	})

	t.Run("OK", func(t *testing.T) {
		if ok, err := auth.VerifyPassword(hash, pw); !ok || err != nil {
			t.Errorf("got %v, %v; want true", ok, err)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		for _, wrong := range []string{"correct horse battery ", "Correct horse battery", "", strings.Repeat("x", 2000)} {
			if ok, err := auth.VerifyPassword(hash, wrong); ok || err != nil {
				t.Errorf("%q: got %v, %v; want false, nil", wrong, ok, err)
			}
		}
	})

	t.Run("Length", func(t *testing.T) {
		for _, c := range []struct {
			pw string
			ok bool
		}{
			{"", false},
			{"elevenchars", false},
			{"twelve chars", true},
			{"ééééééééééé", false}, // 11 characters, 22 bytes
			{"éééééééééééé", true},
			{strings.Repeat("x", auth.MaxPasswordLen), true},
			{strings.Repeat("x", auth.MaxPasswordLen+1), false},
		} {
			err := auth.CheckPassword(c.pw)
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, queue.ErrInvalid)) {
				t.Errorf("CheckPassword(%d bytes): got %v, want ok=%v", len(c.pw), err, c.ok)
			}
			if _, err := auth.HashPassword(c.pw); (err == nil) != c.ok {
				t.Errorf("HashPassword(%d bytes): got %v, want ok=%v", len(c.pw), err, c.ok)
			}
		}
	})

	t.Run("MalformedHash", func(t *testing.T) {
		parts := strings.Split(hash, "$")
		for name, bad := range map[string]string{
			"empty":     "",
			"bcrypt":    "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
			"argon2i":   strings.Replace(hash, "argon2id", "argon2i", 1),
			"version":   strings.Replace(hash, "v=19", "v=16", 1),
			"huge m":    strings.Replace(hash, "m=19456", "m=4194304", 1),
			"zero t":    strings.Replace(hash, "t=2", "t=0", 1),
			"bad salt":  strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
			"short key": strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
			"missing":   strings.Join(parts[:5], "$"),
		} {
			if ok, err := auth.VerifyPassword(bad, pw); ok || err == nil {
				t.Errorf("%s: got %v, %v; want false and an error", name, ok, err)
			}
		}
	})
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := auth.HashPassword("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	hash, err := auth.HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _ := auth.VerifyPassword(hash, "correct horse battery"); !ok {
			b.Fatal("no match")
		}
	}
}
