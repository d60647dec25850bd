package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// problem is the error body shared with the console and API: RFC 9457
// problem details (web/api.Problem has the same members), with a stable
// code and the request id the answer's X-Request-Id names.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// problemTitles are the titles of this package's codes.
var problemTitles = map[string]string{codeUnauthorized: "Not authenticated", codeForbidden: "Not permitted",
	codeRateLimited: "Too many requests", codeInternal: "Internal error", codeUnavailable: "Service busy"}

// The error codes this package answers with.
const (
	codeUnauthorized = "unauthorized" // 401
	codeForbidden    = "forbidden"    // 403
	codeRateLimited  = "rate_limited" // 429
	codeInternal     = "internal"     // 500
	codeUnavailable  = "unavailable"  // 503
)

func writeError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "60")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "urn:callin:problem:" + code, Title: problemTitles[code], Status: status,
		Detail: message, Code: code, RequestID: h.Get("X-Request-Id")})
}

// codeFor is the code of the statuses this package answers with.
func codeFor(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return codeUnauthorized
	case http.StatusForbidden:
		return codeForbidden
	case http.StatusTooManyRequests:
		return codeRateLimited
	case http.StatusServiceUnavailable:
		return codeUnavailable
	}
	return codeInternal
}

// RequireSession is middleware for the console: it lets through requests
// with a live session cookie, with the user's Principal in their context.
// State-changing requests (not GET, HEAD or OPTIONS) must also pass the
// cross-origin check and carry the session's CSRF token (see CSRFToken), or
// get 403. Without a session, a browser asking for a page (a GET accepting
// text/html, not from htmx) is redirected (303) to the login page with
// ?next=; htmx requests get 401 and an HX-Redirect to the login page; others
// get 401. All errors are JSON.
func (s *Service) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, secret, err := s.session(r)
		if err != nil {
			s.denySession(w, r, err)
			return
		}
		if err := s.checkCSRF(r, secret); err != nil {
			writeError(w, http.StatusForbidden, codeForbidden, "CSRF check failed: "+err.Error())
			return
		}
		ctx := context.WithValue(WithPrincipal(r.Context(), p), sessionKey{}, secret)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequireBearer is middleware for the API: it lets through requests with a
// live bearer token, with the token's Principal in their context, and
// answers others 401 with a WWW-Authenticate header. Bearer requests need
// no CSRF token.
func (s *Service) RequireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			s.denyBearer(w, r, fmt.Errorf("%w: no bearer token", ErrUnauthenticated))
			return
		}
		p, err := s.bearer(r.Context(), h)
		if err != nil {
			s.denyBearer(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequireAny is middleware for routes both automation and the console
// call: RequireBearer for requests with an Authorization header,
// RequireSession (with its CSRF check) for the others.
func (s *Service) RequireAny(next http.Handler) http.Handler {
	bearer, session := s.RequireBearer(next), s.RequireSession(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			bearer.ServeHTTP(w, r)
		} else {
			session.ServeHTTP(w, r)
		}
	})
}

func (s *Service) denySession(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ErrUnauthenticated) {
		s.log.Error("authenticate session", "err", err, "path", r.URL.Path)
		writeError(w, http.StatusInternalServerError, codeInternal, "could not check the session")
		return
	}
	htmx := r.Header.Get("HX-Request") == "true"
	if !htmx && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, s.loginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if htmx {
		back := "/"
		if u, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && u.Path != "" {
			back = u.RequestURI()
		}
		w.Header().Set("HX-Redirect", s.loginURL(back))
	}
	writeError(w, http.StatusUnauthorized, codeUnauthorized, unauthMessage(err))
}

func (s *Service) denyBearer(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, ErrUnauthenticated) {
		s.log.Error("authenticate bearer token", "err", err, "path", r.URL.Path)
		writeError(w, http.StatusInternalServerError, codeInternal, "could not check the token")
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="callin"`)
	writeError(w, http.StatusUnauthorized, codeUnauthorized, unauthMessage(err))
}

// unauthMessage is err's text without the package prefix, for clients.
func unauthMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "auth: ")
}

func (s *Service) loginURL(next string) string {
	return s.loginPath + "?next=" + url.QueryEscape(next)
}

// LoginHandler returns the handler of the login form's POST (fields
// "username", "password" and optional "next", a local path to go to after).
// On success it sets the session cookie, ends the session the browser had
// before, if any, and redirects (303) to next, or to "/"; for htmx it
// answers 200 with HX-Redirect. On failure it calls fail with the status
// (401 wrong name or password, 403 cross-origin, 429 rate limited, with a
// Retry-After header set, 503 too many logins hashing at once, with
// Retry-After, 500) and a message for people, so the console can
// draw its login page again; a nil fail answers the JSON error instead.
func (s *Service) LoginHandler(fail func(w http.ResponseWriter, r *http.Request, status int, message string)) http.Handler {
	if fail == nil {
		fail = func(w http.ResponseWriter, _ *http.Request, status int, message string) {
			writeError(w, status, codeFor(status), message)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A cross-site login form would log the victim in as the attacker.
		if err := s.origins.Check(r); err != nil {
			fail(w, r, http.StatusForbidden, "Cross-origin login refused.")
			return
		}
		// The whole form first: a body cut short or too long runs no login.
		if err := parseForm(w, r); err != nil {
			switch {
			case r.Context().Err() != nil || errors.Is(err, io.ErrUnexpectedEOF):
				s.log.Debug("login: the client left before sending its form", "ip", s.clientIP(r), "err", err)
				// Nothing to answer: nobody is listening.
			case errors.Is(err, errMultipart):
				fail(w, r, http.StatusUnsupportedMediaType, "Send the login form as application/x-www-form-urlencoded.")
			case isTooLarge(err):
				fail(w, r, http.StatusRequestEntityTooLarge, "The login form is too large.")
			default:
				fail(w, r, http.StatusBadRequest, "The login form could not be read.")
			}
			return
		}
		if r.Context().Err() != nil {
			return // the client left: no login for nobody
		}
		sess, err := s.login(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"),
			s.clientIP(r), r.UserAgent(), s.deviceCookie(r))
		var limited *rateLimitError
		switch {
		case err != nil && r.Context().Err() != nil:
			// The client left during the login: not a server fault.
			s.log.Debug("login: the client left before the answer", "ip", s.clientIP(r), "err", err)
			return
		case errors.As(err, &limited):
			secs := int(math.Ceil(limited.retry.Seconds()))
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %d seconds.", secs))
			return
		case errors.Is(err, ErrBusy):
			w.Header().Set("Retry-After", "5")
			fail(w, r, http.StatusServiceUnavailable, "Too many logins at once. Try again in 5 seconds.")
			return
		case errors.Is(err, ErrBadCredentials):
			fail(w, r, http.StatusUnauthorized, "Wrong user name or password.")
			return
		case err != nil:
			s.log.Error("login", "err", err)
			fail(w, r, http.StatusInternalServerError, "Login failed. Please try again.")
			return
		}
		if c, err := r.Cookie(s.cookieName(r)); err == nil {
			if err := s.Logout(r.Context(), c.Value); err != nil {
				s.log.Warn("end previous session", "err", err)
			}
		}
		s.SetSessionCookie(w, r, sess)
		s.setDeviceCookie(w, r, sess)
		redirect(w, r, localPath(r.PostFormValue("next")))
	})
}

// LogoutHandler returns the handler of the logout POST: it checks the
// request like RequireSession does (cross-origin, CSRF token; 403 if
// refused), ends the session, clears the cookie and redirects (303, or
// HX-Redirect for htmx) to the login page. It may be mounted with or without
// RequireSession in front; a request without a session cookie is just
// redirected.
func (s *Service) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(s.cookieName(r)); err == nil {
			if secret, ok := decodeSessionToken(c.Value); ok {
				if err := s.checkCSRF(r, secret); err != nil {
					writeError(w, http.StatusForbidden, codeForbidden, "CSRF check failed: "+err.Error())
					return
				}
				if err := s.Logout(r.Context(), c.Value); err != nil {
					s.log.Error("logout", "err", err)
					writeError(w, http.StatusInternalServerError, codeInternal, "could not end the session")
					return
				}
			}
		}
		s.ClearSessionCookie(w, r)
		redirect(w, r, s.loginPath)
	})
}

// maxFormBytes bounds the forms this package reads: a login, a logout,
// the CSRF field of a console form. None is more than a few fields.
const maxFormBytes = 64 << 10

// errMultipart refuses a multipart form: nothing here takes uploads, and
// Go's default parse of one keeps up to 32 MB in memory.
var errMultipart = errors.New("multipart form refused")

// parseForm reads r's URL-encoded form, at most maxFormBytes of it, once;
// w, if not nil, is told to close the connection after a body that is too
// long.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm != nil {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		r.PostForm = url.Values{} // and never parse it later either
		return errMultipart
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	return r.ParseForm()
}

// isTooLarge reports whether err is a body over its bound.
func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath returns next if it is a path on this site, else "/": a login
// link must not send people elsewhere ("//evil.example", "/\\evil.example",
// "/a/../%5Cevil.example"). The path is judged as the browser will follow
// it: after http.Redirect's path.Clean and with any backslash (which
// browsers read as a slash) or control character refused outright.
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return "/"
	}
	// Decoded, the path must not hold what a browser reads as a slash or
	// a host either: %5C is a backslash, %2F a slash.
	if strings.ContainsAny(u.Path, "\\") {
		return "/"
	}
	clean := path.Clean(u.EscapedPath())
	if strings.HasSuffix(u.Path, "/") && !strings.HasSuffix(clean, "/") {
		clean += "/"
	}
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") || strings.HasPrefix(path.Clean(u.Path), "//") {
		return "/"
	}
	if u.RawQuery != "" {
		clean += "?" + u.RawQuery
	}
	return clean
}

// clientIP is r's client address as the Service's trusted proxies say
// (Config.Proxies; none: the connection's).
func (s *Service) clientIP(r *http.Request) string {
	return s.proxies.String(r)
}
