package auth

import (
	"context"
	"encoding/base64"
)

// Role is what a user or token may do. Roles are not ranked: each has its
// own set of permissions (see Can).
type Role string

// Roles.
const (
	RoleAdmin    Role = "admin"    // users, shows, tokens, and every action
	RoleProducer Role = "producer" // every caller action
	RoleScreener Role = "screener" // screen, notes, ready, drop a waiting caller
	RoleHost     Role = "host"     // view, take next, mute, lock, drop an on-air caller
)

// PrincipalKind says how a request was authenticated.
type PrincipalKind string

// Principal kinds.
const (
	KindUser  PrincipalKind = "user"  // a console session
	KindToken PrincipalKind = "token" // an API bearer token
)

// Principal is who is making a request.
type Principal struct {
	Kind PrincipalKind
	ID   int64  // users.id or api_tokens.id
	Name string // user name or token name
	Role Role
	// Key names the credential (one session, one token) without
	// revealing it: a prefix of the hash the database keeps. Per-credential
	// limits and ending a session's event streams go by it.
	Key string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the auth middleware put in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// credentialKey is Principal.Key for a credential's SHA-256.
func credentialKey(kind PrincipalKind, hash []byte) string {
	return string(kind) + ":" + base64.RawURLEncoding.EncodeToString(hash[:12])
}
