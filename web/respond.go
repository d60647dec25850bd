package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/a-h/templ"
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
	{queue.ErrConflict, http.StatusConflict, api.CodeConflict},
	{queue.ErrInvalid, http.StatusUnprocessableEntity, api.CodeInvalid},
	{errForbidden, http.StatusForbidden, api.CodeForbidden},
	{broadcast.ErrNoQuality, http.StatusNotFound, api.CodeNotFound},
	{broadcast.ErrNodeDown, http.StatusServiceUnavailable, api.CodeUnavailable},
	{errTooManyStreams, http.StatusTooManyRequests, api.CodeLimited},
	{errStreamsFull, http.StatusServiceUnavailable, api.CodeUnavailable},
	{broadcast.ErrTelephony, http.StatusBadGateway, api.CodeTelephony},
}

var errForbidden = errors.New("forbidden")

// inputError is bad input, naming the field at fault.
type inputError struct {
	status  int // 400 malformed, 422 unacceptable
	field   string
	message string
}

func (e *inputError) Error() string { return e.field + ": " + e.message }

// badRequest is a malformed request (400).
func badRequest(field, format string, args ...any) error {
	return &inputError{http.StatusBadRequest, field, fmt.Sprintf(format, args...)}
}

// invalid is a well-formed request with an unacceptable value (422).
func invalid(field, format string, args ...any) error {
	return &inputError{http.StatusUnprocessableEntity, field, fmt.Sprintf(format, args...)}
}

// classify turns an error into a status and body. Unknown errors become a
// 500 whose message says nothing of the cause.
func classify(err error) (int, api.ErrorBody) {
	var in *inputError
	if errors.As(err, &in) {
		code := api.CodeInvalid
		switch in.status {
		case http.StatusBadRequest:
			code = api.CodeBadRequest
		case http.StatusRequestEntityTooLarge:
			code = api.CodeTooLarge
		case http.StatusUnsupportedMediaType:
			code = api.CodeMediaType
		}
		return in.status, api.ErrorBody{Code: code, Message: in.Error(), Field: in.field}
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, api.ErrorBody{Code: e.code, Message: publicText(err)}
		}
	}
	return http.StatusInternalServerError, api.ErrorBody{Code: api.CodeInternal, Message: "internal error"}
}

// publicText is err's text for clients: an error in its chain with a
// Public text (the database's errors) gives that instead of its own,
// which the log keeps.
func publicText(err error) string {
	msg := err.Error()
	var p interface {
		error
		Public() string
	}
	if errors.As(err, &p) {
		msg = strings.Replace(msg, p.Error(), p.Public(), 1)
	}
	return msg
}

// writeJSON writes v with status; an encoding failure is logged.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Warn("web: write json", "path", r.URL.Path, "err", err)
	}
}

// apiFail writes err as a JSON error and logs it: server faults at error
// level, refusals at debug.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	s.logFail(r, status, err)
	s.writeJSON(w, r, status, api.Error{Error: body})
}

func (s *Server) logFail(r *http.Request, status int, err error) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		// A refusal for want of room (streams, a node down), not a fault:
		// a flood of them must not fill the log.
		s.refusals.log(s.log, "web: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		return
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "web: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
}

// render writes a templ component as HTML; a failure is logged (the
// response may be partly written by then).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Warn("web: render", "path", r.URL.Path, "err", err)
	}
}

// pageFail renders err as an HTML error page.
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	s.logFail(r, status, err)
	s.render(w, r, status, errorPage(s.page(r, "Error"), status, body.Message))
}

// recoverer turns a panic into a logged stack and a JSON 500 without
// details. http.ErrAbortHandler is re-panicked, as net/http expects.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("web: panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.writeJSON(w, r, http.StatusInternalServerError,
				api.Error{Error: api.ErrorBody{Code: api.CodeInternal, Message: "internal error"}})
		}()
		next.ServeHTTP(w, r)
	})
}

// decodeJSON reads a JSON body into v, refusing a body not sent as
// application/json (415), unknown fields, a key given twice, a key in
// another case than the schema's, trailing data and text that is not
// UTF-8 (which encoding/json would quietly turn into U+FFFD); an empty
// body leaves v as it is. The body is bounded by the bound middleware
// (413 beyond Limits.MaxBodyBytes).
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return tooLarge(mb.Limit)
		}
		return badRequest("body", "could not be read: %v", err)
	}
	if len(b) == 0 {
		return nil
	}
	if err := checkJSONType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if err := checkUTF8(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badRequest(typeErr.Field, "must be a %s", typeErr.Type)
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return badRequest("body", "malformed JSON at offset %d", syn.Offset)
		}
		if field, ok := unknownField(err); ok {
			return badRequest(field, "unknown field")
		}
		return badRequest("body", "%v", err)
	}
	if dec.More() {
		return badRequest("body", "trailing data after the JSON object")
	}
	return checkKeys(b, reflect.TypeOf(v))
}

// checkJSONType refuses (415) a body whose Content-Type is not
// application/json, or names a charset other than UTF-8: a form or
// text/plain is what a cross-site page can send without asking.
func checkJSONType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &inputError{http.StatusUnsupportedMediaType, "Content-Type", "send the body as application/json"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &inputError{http.StatusUnsupportedMediaType, "Content-Type", "the body must be UTF-8"}
	}
	return nil
}

// checkUTF8 refuses a JSON text with bytes that are not UTF-8 or with a
// \u escape of a lone surrogate: encoding/json replaces both with U+FFFD
// without a word, so a name or a reason would be stored other than sent.
func checkUTF8(b []byte) error {
	if !utf8.Valid(b) {
		return badRequest("body", "must be UTF-8 text")
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: skip it
			continue
		}
		r, ok := hex4(b[i+2:])
		if !ok || !utf16.IsSurrogate(r) {
			i += 5
			continue
		}
		// A high surrogate must be followed by a low one.
		if r < 0xDC00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if lo, ok := hex4(b[i+8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11
				continue
			}
		}
		return badRequest("body", "has a \\u escape of a lone surrogate (not UTF-8 text)")
	}
	return nil
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// unknownField extracts the name from encoding/json's unknown-field error.
func unknownField(err error) (string, bool) {
	var name string
	if _, e := fmt.Sscanf(err.Error(), "json: unknown field %q", &name); e == nil {
		return name, true
	}
	return "", false
}
