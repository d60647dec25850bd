package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
)

// AdminStore is what the account commands (callin user ..., callin token
// ..., the console's admin pages) need from the database; *postgres.Store
// implements it. List users and tokens with the store's own ListUsers and
// ListTokens: they involve no rule of this package.
type AdminStore interface {
	// CreateUser adds a user and returns its id; queue.ErrConflict if the
	// name is taken.
	CreateUser(ctx context.Context, name, role, passwordHash string) (int64, error)
	// SetUserPassword replaces a user's password hash and ends their
	// sessions; queue.ErrNotFound for an unknown user.
	SetUserPassword(ctx context.Context, name, passwordHash string) error
	// SetUserRole changes a user's role and ends their sessions;
	// queue.ErrNotFound for an unknown user.
	SetUserRole(ctx context.Context, name, role string) error
	// DeleteUser removes a user and their sessions; queue.ErrNotFound for
	// an unknown user.
	DeleteUser(ctx context.Context, name string) error
	// CreateToken stores a token by its SHA-256 and returns its id;
	// queue.ErrConflict if a live token has the name.
	CreateToken(ctx context.Context, name, role string, hash []byte, prefix, createdBy string) (int64, error)
	// RevokeToken revokes the live token of that name; queue.ErrNotFound
	// if there is none.
	RevokeToken(ctx context.Context, name string) error
}

// userName is what a user name may be once folded to lower case; the
// users table checks the same.
var userName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

func foldName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// UserName returns name as stored, trimmed and in lower case, or an error
// wrapping queue.ErrInvalid if it is not 1 to 64 letters, digits and . _ @ -
// starting with a letter or digit.
func UserName(name string) (string, error) {
	n := foldName(name)
	if !userName.MatchString(n) {
		return "", fmt.Errorf("auth: user name %q: want 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit: %w", name, queue.ErrInvalid)
	}
	return n, nil
}

// AddUser creates a user with a role and a password (see CheckPassword). It
// returns errors wrapping queue.ErrInvalid for a bad name, role or password
// and queue.ErrConflict if the name is taken.
func AddUser(ctx context.Context, store AdminStore, name string, role Role, password string) error {
	n, err := UserName(name)
	if err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := store.CreateUser(ctx, n, string(role), hash); err != nil {
		return fmt.Errorf("auth: add user %q: %w", n, err)
	}
	return nil
}

// SetPassword replaces a user's password and ends all their sessions. It
// returns errors wrapping queue.ErrInvalid for a bad password and
// queue.ErrNotFound for an unknown user.
func SetPassword(ctx context.Context, store AdminStore, name, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := store.SetUserPassword(ctx, foldName(name), hash); err != nil {
		return fmt.Errorf("auth: set password of %q: %w", name, err)
	}
	return nil
}

// SetRole changes a user's role and ends all their sessions. It returns
// errors wrapping queue.ErrInvalid for an unknown role and queue.ErrNotFound
// for an unknown user.
func SetRole(ctx context.Context, store AdminStore, name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := store.SetUserRole(ctx, foldName(name), string(role)); err != nil {
		return fmt.Errorf("auth: set role of %q: %w", name, err)
	}
	return nil
}

// DeleteUser removes a user and ends their sessions. It returns an error
// wrapping queue.ErrNotFound for an unknown user.
func DeleteUser(ctx context.Context, store AdminStore, name string) error {
	if err := store.DeleteUser(ctx, foldName(name)); err != nil {
		return fmt.Errorf("auth: delete user %q: %w", name, err)
	}
	return nil
}

// MaxTokenName is the most characters a token's name may have.
const MaxTokenName = 40

// TokenName returns name trimmed, or an error wrapping queue.ErrInvalid if
// it is not 1 to MaxTokenName printable characters (letters, marks,
// digits, punctuation, symbols and the plain space: no control codes, no
// newlines, no invisible or direction-changing format characters, which
// forged rows in callin token list). A token's name cannot pass for a
// user's: wherever a token acts it is shown as "token:NAME" (see
// ActorName), and user names have no colon.
func TokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	ok := utf8.ValidString(name) && n >= 1 && n <= MaxTokenName
	for _, r := range name {
		ok = ok && unicode.IsPrint(r)
	}
	if !ok {
		return "", fmt.Errorf("auth: token name %q: want 1 to %d printable characters: %w", name, MaxTokenName, queue.ErrInvalid)
	}
	return name, nil
}

// ActorName is how p is named where it acts (the chat, blocks, caller
// notes): a user by their name, a token as "token:NAME", which no user
// name can be (user names have no colon).
func ActorName(p Principal) string {
	if p.Kind == KindToken {
		return "token:" + p.Name
	}
	return p.Name
}

// CreateToken creates an API token with a role and returns it: the only
// time it is seen in full, since only its hash is kept. name (see
// TokenName) identifies it for RevokeToken; createdBy is the creating
// user's name, for the record. It returns errors wrapping queue.ErrInvalid
// for a bad name or role and queue.ErrConflict if a live token has the name.
func CreateToken(ctx context.Context, store AdminStore, name string, role Role, createdBy string) (string, error) {
	name, err := TokenName(name)
	if err != nil {
		return "", err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", err
	}
	token := newToken()
	hash, _ := tokenHash(token)
	if _, err := store.CreateToken(ctx, name, string(role), hash, token[:tokenDisplayLen], createdBy); err != nil {
		return "", fmt.Errorf("auth: create token %q: %w", name, err)
	}
	return token, nil
}

// RevokeToken revokes the live API token of that name: requests bearing it
// fail from then on. It returns an error wrapping queue.ErrNotFound if there
// is none.
func RevokeToken(ctx context.Context, store AdminStore, name string) error {
	if err := store.RevokeToken(ctx, strings.TrimSpace(name)); err != nil {
		return fmt.Errorf("auth: revoke token %q: %w", name, err)
	}
	return nil
}
