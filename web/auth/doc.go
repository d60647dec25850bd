// Package auth decides who is making a request and what they may do.
//
// People use the console with a session: Service.Login checks a user name
// and password (argon2id, rate limited per client address, and locked with
// exponential backoff per user name and client address) and creates a
// session whose random id goes in a cookie and whose SHA-256 goes in the
// database. Sessions end after Config.IdleTimeout without requests, after
// Config.MaxAge in any case, on logout, and when the user's password or role
// changes. Every state-changing session request must carry the session's
// CSRF token (form field "csrf_token" or header "X-CSRF-Token") and pass
// net/http's cross-origin check.
//
// Automation uses the API with a bearer token ("Authorization: Bearer
// callin_..."), stored as a SHA-256 and revocable; bearer requests carry no
// ambient credentials, so they need no CSRF token.
//
// Either way the middleware puts a Principal in the request's context, and
// Require checks it against the one permission table, Can. Failures are
// answered as RFC 9457 problems (application/problem+json: type, title, status, detail, code), with the codes
// "unauthorized" (401), "forbidden" (403), "rate_limited" (429) and
// "internal" (500); a browser asking for a page without a session
// is redirected to the login page instead.
//
// The package keeps no state of its own but the login rate limiter: users,
// sessions and tokens live behind Store and AdminStore, which
// *postgres.Store implements with plain values so that neither package
// imports the other.
package auth
