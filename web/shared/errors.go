package shared

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
)

// errorTable maps errors to statuses and codes, first match wins: the one
// place domain errors become HTTP. ErrGone comes before ErrConflict so a
// caller who hung up is told apart from a lost race.
var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{queue.ErrNotFound, http.StatusNotFound, api.CodeNotFound},
	{queue.ErrGone, http.StatusConflict, api.CodeGone},
	{queue.ErrStale, http.StatusPreconditionFailed, api.CodeStale},
	{queue.ErrConflict, http.StatusConflict, api.CodeConflict},
	{queue.ErrInvalid, http.StatusUnprocessableEntity, api.CodeInvalid},
	{ErrForbidden, http.StatusForbidden, api.CodeForbidden},
	{broadcast.ErrNoQuality, http.StatusConflict, api.CodeNoMeasure}, // the caller exists: not a 404
	{broadcast.ErrNodeDown, http.StatusServiceUnavailable, api.CodeUnavailable},
	{ErrTooManyStreams, http.StatusTooManyRequests, api.CodeLimited},
	{ErrStreamsFull, http.StatusServiceUnavailable, api.CodeUnavailable},
	{broadcast.ErrTelephony, http.StatusBadGateway, api.CodeTelephony},
}

// ErrForbidden is what a role may not do (403).
var ErrForbidden = errors.New("forbidden")

// Errors of the event streams' registry (429 and 503).
var (
	ErrTooManyStreams = errors.New("too many event streams")
	ErrStreamsFull    = errors.New("the service has all the event streams it takes")
)

// InputError is bad input, naming the field at fault.
type InputError struct {
	Status  int // 400 malformed, 422 unacceptable, 413 too large, 415 not JSON
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// BadRequest is a malformed request (400).
func BadRequest(field, format string, args ...any) error {
	return &InputError{http.StatusBadRequest, field, fmt.Sprintf(format, args...)}
}

// Invalid is a well-formed request with an unacceptable value (422).
func Invalid(field, format string, args ...any) error {
	return &InputError{http.StatusUnprocessableEntity, field, fmt.Sprintf(format, args...)}
}

// Classify turns an error into a status and a problem (RFC 9457) whose
// detail never carries internal text: the packages' prefixes and the
// database's words are taken out (see Detail). Unknown errors become a
// 500 whose detail says nothing of the cause.
func Classify(err error) (int, api.Problem) {
	var in *InputError
	if errors.As(err, &in) {
		code := api.CodeInvalid
		switch in.Status {
		case http.StatusBadRequest:
			code = api.CodeBadRequest
		case http.StatusRequestEntityTooLarge:
			code = api.CodeTooLarge
		case http.StatusUnsupportedMediaType:
			code = api.CodeMediaType
		}
		p := api.NewProblem(in.Status, code, in.Error())
		p.Field = in.Field
		return in.Status, p
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			p := api.NewProblem(e.status, e.code, Detail(err))
			var fe *ForbiddenError
			if errors.As(err, &fe) {
				p.Permission = fe.Permission
			}
			return e.status, p
		}
	}
	return http.StatusInternalServerError, api.NewProblem(http.StatusInternalServerError, api.CodeInternal, "internal error")
}

// internalWords are taken out of an error's text for a client: the
// packages' prefixes and pgx's "no rows" (the log keeps them).
var internalWords = strings.NewReplacer("web: ", "", "postgres: ", "", "broadcast: ", "", "queue: ", "", "ari: ",
	"", "auth: ", "", ": no rows in result set", "")

// Detail is err's text for clients: an error in its chain with a Public
// text (the database's errors) gives that instead of its own,
// internalWords are taken out, and so is a last kindWords word after
// words that say more ("already on air: conflict" is "already on air";
// the problem's code says the kind), not after a name alone ("hold
// \"c1\": gone" stays).
func Detail(err error) string {
	msg := err.Error()
	var p interface {
		error
		Public() string
	}
	if errors.As(err, &p) {
		msg = strings.Replace(msg, p.Error(), p.Public(), 1)
	}
	msg = internalWords.Replace(msg)
	for _, kind := range kindWords {
		rest, ok := strings.CutSuffix(msg, ": "+kind.Error())
		last := rest[strings.LastIndex(rest, ": ")+1:] // with its leading space, if any
		if ok && strings.Contains(strings.TrimSpace(last), " ") && !strings.HasSuffix(last, `"`) {
			return rest
		}
	}
	return msg
}

// kindWords are the error kinds whose word Detail drops after words
// saying more; queue.ErrNotFound's stays ("show \"x\": not found").
var kindWords = []error{queue.ErrConflict, queue.ErrGone, queue.ErrInvalid}

// ForbiddenError is a refusal (403, wrapping ErrForbidden) naming the
// permission the role lacks, as GET /me lists permissions: the one the
// request needed, not the name of the operation.
type ForbiddenError struct {
	Role       string
	Permission string
	Why        string // words for people; a sentence from Role and Permission when empty
}

func (e *ForbiddenError) Error() string {
	if e.Why != "" {
		return e.Why
	}
	role := e.Role
	if role == "" {
		role = "no"
	}
	return fmt.Sprintf("your role (%s) lacks the %s permission this needs", role, e.Permission)
}

// Unwrap returns ErrForbidden.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// Forbidden is the error for a permission role lacks.
func Forbidden(role, permission string) error {
	return &ForbiddenError{Role: role, Permission: permission}
}

// NotFound is the error for an unknown show, caller or route.
func NotFound(what, key string) error {
	return fmt.Errorf("web: %s %q: %w", what, key, queue.ErrNotFound)
}

// InvalidRoute is the error for a path the API does not have.
func InvalidRoute(r *http.Request) error {
	return fmt.Errorf("web: no such API path %s: %w", r.URL.Path, queue.ErrNotFound)
}

// TooLarge is the error for a body over the limit.
func TooLarge(limit int64) error {
	return &InputError{http.StatusRequestEntityTooLarge, "body", "must be at most " + byteCount(limit)}
}

func byteCount(n int64) string {
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Explained is an error whose words for the producer come with it (a
// recording that Asterisk did not start says why); it is Err otherwise.
type Explained struct {
	Why string
	Err error
}

func (e *Explained) Error() string { return e.Err.Error() }
func (e *Explained) Unwrap() error { return e.Err }
