package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// Idempotency keys (issue 22, point 1): a POST of the API that carries
// an Idempotency-Key header is done once per principal and key. A retry
// with the same key and the same request (method, path and body) within
// 24 h gets the first answer again, marked Idempotent-Replayed: true; the
// same key with another request is 422, and one still being answered 409.
// An answer of 500 or more is not kept (the key is released, so a retry
// acts afresh). One middleware (idempotent) does it for every POST.

// Headers of idempotent requests.
const (
	idemHeader     = "Idempotency-Key"
	replayedHeader = "Idempotent-Replayed"
)

// idemRecorder keeps an answer to store it before it is sent.
type idemRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *idemRecorder) Header() http.Header { return w.header }
func (w *idemRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *idemRecorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// idempotent is the middleware of the API's POSTs: see above. Without
// Config.Idempotency, or without the header, a request passes as it is.
func (s *API) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(idemHeader)
		if r.Method != http.MethodPost || s.Cfg.Idempotency == nil || key == "" && len(r.Header.Values(idemHeader)) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if len(r.Header.Values(idemHeader)) != 1 || len(key) > 255 || strings.IndexFunc(key, shared.Unprintable) >= 0 || strings.TrimSpace(key) == "" {
			s.APIFail(w, r, shared.BadRequest(idemHeader, "must be one header of 1 to 255 printable characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		if err != nil { // too large: the handler refuses it as it would
			next.ServeHTTP(w, r)
			return
		}
		p, _ := shared.Principal(r)
		principal := fmt.Sprintf("%s:%d", p.Kind, p.ID)
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n", r.Method, r.URL.EscapedPath())
		h.Write(body)
		got, err := s.Cfg.Idempotency.BeginIdempotent(r.Context(), principal, key, h.Sum(nil), s.Cfg.Now())
		switch {
		case err != nil:
			s.APIFail(w, r, err)
		case got.Outcome == core.IdemReplay:
			w.Header().Set("Content-Type", got.ContentType)
			w.Header().Set(replayedHeader, "true")
			w.WriteHeader(got.Status)
			_, _ = w.Write(got.Body)
		case got.Outcome == core.IdemMismatch:
			s.APIFail(w, r, shared.Invalid(idemHeader, "was used for another request in the last 24 hours"))
		case got.Outcome == core.IdemInFlight:
			s.APIFail(w, r, fmt.Errorf("%s: the first request with this key is still being answered: %w", idemHeader, queue.ErrConflict))
		default:
			s.serveOnce(w, r, next, principal, key)
		}
	})
}

// serveOnce serves a request that reserved its key, keeps its answer (or
// releases the key after a 5xx or a panic) and sends it.
func (s *API) serveOnce(w http.ResponseWriter, r *http.Request, next http.Handler, principal, key string) {
	rec := &idemRecorder{header: w.Header()}
	// Keep or release the key with a context of its own: the client may be
	// gone, and a retry must find the answer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	answered := false
	defer func() {
		if !answered { // the handler panicked: nothing to keep
			_ = s.Cfg.Idempotency.ReleaseIdempotent(ctx, principal, key)
		}
	}()
	next.ServeHTTP(rec, r)
	answered = true
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	var err error
	if rec.status >= http.StatusInternalServerError {
		err = s.Cfg.Idempotency.ReleaseIdempotent(ctx, principal, key)
	} else {
		err = s.Cfg.Idempotency.FinishIdempotent(ctx, principal, key, rec.status, rec.header.Get("Content-Type"), rec.body.Bytes())
	}
	if err != nil {
		s.Log.Warn("web: idempotency key not kept", "path", r.URL.Path, "key", key, "err", err)
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// errReader returns its error (io.EOF for nil) once the body read before
// is used up.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}
