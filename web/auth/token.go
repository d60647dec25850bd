package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/callin-radio/callin/queue"
)

// API tokens are "callin_" and 32 random bytes in lower-case base32: 52
// letters and digits, which a double click selects whole. Only their SHA-256
// is stored: for a secret this random a slow hash would add nothing.
const (
	tokenPrefix     = "callin_"
	tokenRandomLen  = 32
	tokenDisplayLen = len(tokenPrefix) + 8 // what api_tokens.prefix keeps
)

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newToken() string {
	var b [tokenRandomLen]byte
	_, _ = rand.Read(b[:])
	return tokenPrefix + tokenEncoding.EncodeToString(b[:])
}

// tokenHash returns the SHA-256 of a well-formed token.
func tokenHash(token string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return nil, false
	}
	if b, err := tokenEncoding.DecodeString(rest); err != nil || len(b) != tokenRandomLen {
		return nil, false
	}
	h := sha256.Sum256([]byte(token))
	return h[:], true
}

// bearer returns the principal of an Authorization header's bearer token.
func (s *Service) bearer(ctx context.Context, header string) (Principal, error) {
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, fmt.Errorf("%w: want Authorization: Bearer <token>", ErrUnauthenticated)
	}
	hash, ok := tokenHash(strings.TrimSpace(token))
	if !ok {
		return Principal{}, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	now := s.now()
	id, name, role, err := s.store.TokenRole(ctx, hash, now)
	if errors.Is(err, queue.ErrNotFound) {
		s.outage.forget(hash)
		return Principal{}, fmt.Errorf("%w: unknown or revoked token", ErrUnauthenticated)
	}
	if err != nil {
		if p, ok := s.outage.recall(hash, now); ok {
			s.log.Warn("auth: database unreachable; token accepted as recently confirmed", "token", p.Name, "err", err)
			return p, nil
		}
		return Principal{}, fmt.Errorf("auth: bearer token: %w", err)
	}
	r, err := ParseRole(role)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Kind: KindToken, ID: id, Name: name, Role: r, Key: credentialKey(KindToken, hash)}
	s.outage.confirm(hash, p, now)
	return p, nil
}
