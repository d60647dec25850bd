package auth

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/clientaddr"
)

// Store is what a Service needs from the database; *postgres.Store
// implements it. Methods return errors wrapping queue.ErrNotFound as stated,
// and other errors when the database fails.
type Store interface {
	// UserPassword returns the id, role and password hash of the named
	// user, or queue.ErrNotFound.
	UserPassword(ctx context.Context, name string) (id int64, role, passwordHash string, err error)
	// CreateSession stores a session: idHash is the SHA-256 of its secret
	// id, expires its absolute expiry. It returns queue.ErrNotFound for an
	// unknown user.
	CreateSession(ctx context.Context, idHash []byte, userID int64, now, expires time.Time, userAgent string) error
	// SessionUser returns the user of the session with idHash if it
	// expires after now and was last seen after idleSince, and marks it
	// seen at now; otherwise queue.ErrNotFound.
	SessionUser(ctx context.Context, idHash []byte, now, idleSince time.Time) (userID int64, name, role string, err error)
	// DeleteSession removes a session; an unknown one is not an error.
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteExpiredSessions removes sessions expired by now or last seen
	// before idleSince.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
	// TrimSessions removes the sessions of a user beyond the keep most
	// recently seen (the newest first among equals) and returns their id
	// hashes.
	TrimSessions(ctx context.Context, userID int64, keep int) ([][]byte, error)
	// TokenRole returns the id, name and role of the live token whose
	// secret has SHA-256 hash, and marks it used at now; queue.ErrNotFound
	// for an unknown or revoked token.
	TokenRole(ctx context.Context, hash []byte, now time.Time) (id int64, name, role string, err error)
}

// Errors a Service returns, besides database failures.
var (
	// ErrUnauthenticated means a request has no valid credentials: no
	// session cookie or bearer token, or one that is unknown, expired or
	// revoked.
	ErrUnauthenticated = errors.New("auth: not authenticated")
	// ErrBadCredentials means a login's user name or password is wrong. It
	// wraps ErrUnauthenticated.
	ErrBadCredentials = fmt.Errorf("auth: wrong user name or password: %w", ErrUnauthenticated)
	// ErrRateLimited means too many login attempts came from the client's
	// address, or too many failed for the user name from that address;
	// the error's text says when to try again.
	ErrRateLimited = errors.New("auth: too many login attempts")
)

// rateLimitError is ErrRateLimited with the wait.
type rateLimitError struct{ retry time.Duration }

func (e *rateLimitError) Error() string {
	return fmt.Sprintf("auth: too many login attempts; try again in %s", e.retry.Round(time.Second))
}

func (e *rateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Config configures a Service. Only Store is required.
type Config struct {
	Store  Store
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default: time.Now
	// SecureCookies marks the session cookie Secure (and names it with the
	// __Host- prefix) even on plain HTTP requests: set it behind a proxy
	// that terminates TLS. TLS requests always get a secure cookie.
	SecureCookies bool
	// IdleTimeout ends a session not used for this long; default 12 hours,
	// so a console left open through a long show survives.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after login whatever its use;
	// default 7 days.
	MaxAge time.Duration
	// LoginPath is where RequireSession sends browsers without a session;
	// default "/login".
	LoginPath string
	// TrustedOrigins are origins ("https://automation.example") whose
	// cross-origin browser requests are allowed (see
	// http.CrossOriginProtection.AddTrustedOrigin). They still need a
	// session and its CSRF token.
	TrustedOrigins []string
	// OutageGrace is how long a session or token the database confirmed
	// keeps working while the database cannot be reached (default
	// DefaultOutageGrace; negative: never), so that a PostgreSQL outage
	// does not stop producers running the show.
	OutageGrace time.Duration
	// MaxSessions bounds the sessions of one user (default
	// DefaultMaxSessions): a login beyond it ends that user's sessions
	// seen longest ago, so that logins by the hundred cannot pile up
	// sessions (nor, through them, event streams).
	MaxSessions int
	// LoginsPerUser bounds the successful logins of one user an hour
	// (default DefaultLoginsPerUser), a quarter of them at once: beyond
	// them a login is refused (ErrRateLimited) before its password is
	// hashed.
	LoginsPerUser int
	// Proxies are the trusted proxies whose forwarding header says the
	// client's address, which login limits key on; nil: none, the
	// connection's address.
	Proxies *clientaddr.Proxies
}

// DefaultHashWait is how long a login waits for a password hashing slot
// before it is refused with ErrBusy (503 with Retry-After): a burst of
// logins beyond what half the CPUs hash in that time (about 150 on two
// cores) is turned away rather than queued.
const DefaultHashWait = 3 * time.Second

// DefaultMaxSessions is Config.MaxSessions's default: room for a user's
// every browser and device, and more.
const DefaultMaxSessions = 32

// DefaultLoginsPerUser is Config.LoginsPerUser's default: 5 at once,
// then one every 3 minutes; more than a user logs in in a day's work, on
// every device (a login from a known device counts too).
const DefaultLoginsPerUser = 20

// Service authenticates requests and logs users in and out. It is safe for
// concurrent use.
type Service struct {
	store     Store
	log       *slog.Logger
	now       func() time.Time
	secure    bool
	idle      time.Duration
	maxAge    time.Duration
	loginPath string
	origins   *http.CrossOriginProtection
	limits    *loginLimiter
	hashWait  time.Duration // the longest a login waits for a hashing slot (password.go)
	dummyHash string        // verified for unknown users, so they take as long as known ones
	outage    *outageCache  // credentials usable while the database is down
	sessions  int           // the most sessions of one user
	proxies   *clientaddr.Proxies
}

// Session is a new login.
type Session struct {
	// Token is the session's secret id as the cookie carries it: 32
	// random bytes in unpadded base64url.
	Token     string
	Principal Principal
	Expires   time.Time // the absolute expiry

	device string // a device cookie for the browser that logged in (device.go)
}

// Session cookie names: browsers accept a __Host- cookie only if it is
// Secure, has Path=/ and no Domain, so no subdomain can plant one.
const (
	cookieName       = "callin_session"
	secureCookieName = "__Host-callin_session"
	sessionIDLen     = 32
)

// New returns a Service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: new: no store")
	}
	s := &Service{
		store:     cfg.Store,
		log:       cfg.Logger,
		now:       cfg.Now,
		secure:    cfg.SecureCookies,
		idle:      cfg.IdleTimeout,
		maxAge:    cfg.MaxAge,
		loginPath: cfg.LoginPath,
		origins:   http.NewCrossOriginProtection(),
		limits:    newLoginLimiter(cmp.Or(max(0, cfg.LoginsPerUser), DefaultLoginsPerUser)),
		proxies:   cfg.Proxies,
		hashWait:  DefaultHashWait,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.idle <= 0 {
		s.idle = 12 * time.Hour
	}
	if s.maxAge <= 0 {
		s.maxAge = 7 * 24 * time.Hour
	}
	if s.loginPath == "" {
		s.loginPath = "/login"
	}
	grace := cfg.OutageGrace
	if grace == 0 {
		grace = DefaultOutageGrace
	}
	s.outage = newOutageCache(grace)
	s.sessions = cfg.MaxSessions
	if s.sessions <= 0 {
		s.sessions = DefaultMaxSessions
	}
	for _, o := range cfg.TrustedOrigins {
		if err := s.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("auth: new: %w", err)
		}
	}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	var err error
	if s.dummyHash, err = HashPassword(hex.EncodeToString(pw[:])); err != nil {
		return nil, fmt.Errorf("auth: new: %w", err)
	}
	return s, nil
}

// Login checks a user's name (case-insensitive) and password and, if they
// match, creates a session; ip and userAgent are the client's, for rate
// limiting and the record. It returns ErrBadCredentials for a wrong name or
// password (taking as long for an unknown name as for a known one) and an
// error wrapping ErrRateLimited when the address has tried too often, the
// name has failed too often from that address, or from everywhere (see
// limit.go: a stranger cannot lock a user out of other addresses, nor
// out of a device they logged in from).
func (s *Service) Login(ctx context.Context, name, password, ip, userAgent string) (Session, error) {
	return s.login(ctx, name, password, ip, userAgent, "")
}

// login is Login from a browser that brings device, its device cookie
// ("" when none).
func (s *Service) login(ctx context.Context, name, password, ip, userAgent, device string) (Session, error) {
	// Input is cleaned here, at the boundary: a name no user can have
	// (a NUL, bytes that are not UTF-8: PostgreSQL refuses both with
	// 22021) is looked up nowhere, yet fails and counts like any other,
	// under its cleaned form ("alice\x00" counts as alice).
	raw := foldName(name)
	name = cleanText(raw, 128) // 128 bounds the limiter's keys
	possible := name == raw && userName.MatchString(name)
	now := s.now()
	var (
		id         int64
		role, hash string
		err        error
	)
	known, looked := false, false
	lookup := func() error {
		looked = true
		if !possible {
			return nil
		}
		id, role, hash, err = s.store.UserPassword(ctx, name)
		known = err == nil
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			return fmt.Errorf("auth: login: %w", err)
		}
		return nil
	}
	// A device cookie is checked first: it decides which limits apply.
	// Checking it costs a lookup, not a password hash.
	devID := ""
	var lookupErr error
	if device != "" && wellFormedDevice(device) {
		if lookupErr = lookup(); lookupErr == nil && known {
			devID = deviceID(device, hash, name)
		}
	}
	if retry, ok := s.limits.take(ip, name, devID, now); !ok {
		s.log.Warn("login rate limited", "user", name, "ip", ip, "known_device", devID != "", "retry", retry)
		return Session{}, &rateLimitError{retry: retry}
	}
	// Every attempt from here on counts as a failure until it succeeds,
	// whatever the error: a database fault, a client that leaves.
	if !looked {
		lookupErr = lookup()
	}
	if lookupErr != nil {
		return Session{}, lookupErr
	}
	if !known {
		hash = s.dummyHash
	}
	ok, err := s.verify(ctx, hash, password)
	if err != nil {
		return Session{}, fmt.Errorf("auth: login %q: %w", name, err)
	}
	if !ok || !known {
		s.log.Info("login failed", "user", name, "ip", ip, "known_device", devID != "")
		return Session{}, ErrBadCredentials
	}
	s.limits.success(ip, name, devID, now)
	r, err := ParseRole(role)
	if err != nil {
		return Session{}, fmt.Errorf("auth: login %q: %w", name, err)
	}

	var secret [sessionIDLen]byte
	_, _ = rand.Read(secret[:])
	idHash := sha256.Sum256(secret[:])
	sess := Session{
		Token:     base64.RawURLEncoding.EncodeToString(secret[:]),
		Principal: Principal{Kind: KindUser, ID: id, Name: name, Role: r, Key: credentialKey(KindUser, idHash[:])},
		Expires:   now.Add(s.maxAge),
		device:    device,
	}
	if devID == "" {
		sess.device = newDeviceCookie(hash, name)
	}
	userAgent = cleanText(userAgent, 256)
	if err := s.store.CreateSession(ctx, idHash[:], id, now, sess.Expires, userAgent); err != nil {
		return Session{}, fmt.Errorf("auth: login %q: %w", name, err)
	}
	// A user holds at most s.sessions: the ones seen longest ago end (an
	// event stream of theirs within its next recheck).
	ended, err := s.store.TrimSessions(ctx, id, s.sessions)
	if err != nil {
		s.log.Warn("end a user's oldest sessions", "user", name, "err", err)
	}
	for _, h := range ended {
		s.outage.forget(h)
	}
	if len(ended) > 0 {
		s.log.Info("login ended the user's oldest sessions", "user", name, "ended", len(ended), "kept", s.sessions)
	}
	// Logins are rare: a good moment to sweep sessions nobody will use.
	if _, err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.idle)); err != nil {
		s.log.Warn("delete expired sessions", "err", err)
	}
	s.log.Info("login", "user", name, "role", r, "ip", ip)
	return sess, nil
}

// verify runs VerifyPassword once a hashing slot is free (password.go's
// argonSlots: half the CPUs), waiting at most s.hashWait (ErrBusy).
func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	return verifyPassword(ctx, s.hashWait, hash, password)
}

// Logout ends the session whose cookie value is token. An unknown or
// malformed token is not an error: there is nothing to end.
func (s *Service) Logout(ctx context.Context, token string) error {
	secret, ok := decodeSessionToken(token)
	if !ok {
		return nil
	}
	h := sha256.Sum256(secret)
	s.outage.forget(h[:])
	if err := s.store.DeleteSession(ctx, h[:]); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// Authenticate returns who made r: the bearer token's principal if r has an
// Authorization header, else the session cookie's. It returns an error
// wrapping ErrUnauthenticated when the credentials are missing or not
// valid. It checks no CSRF token: the middleware does.
func (s *Service) Authenticate(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return s.bearer(r.Context(), h)
	}
	p, _, err := s.session(r)
	return p, err
}

// session returns the principal of r's session cookie and the session's
// secret id.
func (s *Service) session(r *http.Request) (Principal, []byte, error) {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return Principal{}, nil, fmt.Errorf("%w: no session", ErrUnauthenticated)
	}
	secret, ok := decodeSessionToken(c.Value)
	if !ok {
		return Principal{}, nil, fmt.Errorf("%w: malformed session cookie", ErrUnauthenticated)
	}
	h := sha256.Sum256(secret)
	now := s.now()
	id, name, role, err := s.store.SessionUser(r.Context(), h[:], now, now.Add(-s.idle))
	if errors.Is(err, queue.ErrNotFound) {
		s.outage.forget(h[:])
		return Principal{}, nil, fmt.Errorf("%w: session expired or ended", ErrUnauthenticated)
	}
	if err != nil {
		if p, ok := s.outage.recall(h[:], now); ok {
			s.log.Warn("auth: database unreachable; session accepted as recently confirmed", "user", p.Name, "err", err)
			return p, secret, nil
		}
		return Principal{}, nil, fmt.Errorf("auth: session: %w", err)
	}
	ro, err := ParseRole(role)
	if err != nil {
		return Principal{}, nil, err
	}
	p := Principal{Kind: KindUser, ID: id, Name: name, Role: ro, Key: credentialKey(KindUser, h[:])}
	s.outage.confirm(h[:], p, now)
	return p, secret, nil
}

func decodeSessionToken(token string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return b, err == nil && len(b) == sessionIDLen
}

// secureRequest reports whether r's cookie must be Secure.
func (s *Service) secureRequest(r *http.Request) bool { return s.secure || r.TLS != nil }

func (s *Service) cookieName(r *http.Request) string {
	if s.secureRequest(r) {
		return secureCookieName
	}
	return cookieName
}

// SetSessionCookie sets sess's cookie on w: HttpOnly, SameSite=Lax, Path=/,
// expiring with the session, and Secure with the __Host- prefix when r came
// over TLS or Config.SecureCookies is set.
func (s *Service) SetSessionCookie(w http.ResponseWriter, r *http.Request, sess Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    sess.Token,
		Path:     "/",
		Expires:  sess.Expires,
		HttpOnly: true,
		Secure:   s.secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to forget its session cookie.
func (s *Service) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// CSRF token transport: the console puts the token in forms as a hidden
// field and in htmx requests as a header (hx-headers on <body>).
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

type sessionKey struct{}

// CSRFToken returns the CSRF token of r's session, for the console to put
// in its forms and htmx headers, or "" if r has no session cookie. The token
// is an HMAC of the session's secret id: only the holder of the cookie can
// compute it, it needs no storage and no server key (a key would add nothing:
// whoever knows the secret id already is the user), and it lasts as long as
// the session, across restarts.
func (s *Service) CSRFToken(r *http.Request) string {
	secret, ok := r.Context().Value(sessionKey{}).([]byte)
	if !ok {
		c, err := r.Cookie(s.cookieName(r))
		if err != nil {
			return ""
		}
		if secret, ok = decodeSessionToken(c.Value); !ok {
			return ""
		}
	}
	return csrfToken(secret)
}

func csrfToken(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("callin csrf token v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF returns why r, a request of the session with secret id secret,
// must be refused: a cross-origin browser request, or a missing or wrong
// CSRF token. Safe methods pass.
func (s *Service) checkCSRF(r *http.Request, secret []byte) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if err := s.origins.Check(r); err != nil {
		return err
	}
	tok := r.Header.Get(CSRFHeader)
	if tok == "" {
		if err := parseForm(nil, r); err != nil {
			return fmt.Errorf("reading the form: %w", err)
		}
		tok = r.PostFormValue(CSRFField)
	}
	if tok == "" {
		return errors.New("missing CSRF token")
	}
	if !hmac.Equal([]byte(tok), []byte(csrfToken(secret))) {
		return errors.New("wrong CSRF token")
	}
	return nil
}

// cleanText returns s as valid UTF-8 text of at most max bytes, cut on a
// character boundary, with invalid bytes and control characters dropped:
// what may be logged and stored (PostgreSQL refuses a NUL and bytes that
// are not UTF-8).
func cleanText(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "") {
		if unicode.IsControl(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
