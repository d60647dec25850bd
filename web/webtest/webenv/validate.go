package webenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/rest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

var (
	docOnce   sync.Once
	docLoaded *openapi3.T
	docRouter routers.Router
	docErr    error
)

// LoadDoc loads and validates the document once per test binary.
func LoadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	docOnce.Do(func() {
		b, err := json.Marshal(rest.OpenAPI(api.DocHost))
		if err != nil {
			docErr = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			docErr = err
			return
		}
		if docErr = doc.Validate(context.Background()); docErr != nil {
			return
		}
		// The test servers listen on other ports than the document's.
		doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
		docLoaded = doc
		docRouter, docErr = legacy.NewRouter(doc)
	})
	if docErr != nil {
		t.Fatalf("the OpenAPI document: %v", docErr)
	}
	return docLoaded
}

func init() {
	openapi3filter.RegisterBodyDecoder("audio/wav", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
}

// ValidateAPI checks every /api/v1 exchange against the document: the
// answer's status must be declared for its operation and its body must
// match the schema (no field it does not list), and a request the service
// accepts (any status below 400) must be one the document allows. An event
// stream's body is not read here (TestAPIEventsDocumented reads it).
// Paths the document does not have (404, 405 of the router) are not
// checked.
func ValidateAPI(t testing.TB, next http.Handler) http.Handler {
	LoadDoc(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		find := r.Clone(r.Context())
		find.URL.Path = r.URL.Path
		route, params, err := docRouter.FindRoute(find)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		unescapeParams(params)
		rec := &teeWriter{ResponseWriter: w, status: http.StatusOK, events: route.Path == "/shows/{show}/events"}
		next.ServeHTTP(rec, r)

		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true, MultiError: true}
		vr := r.Clone(context.Background())
		vr.Body = io.NopCloser(bytes.NewReader(reqBody))
		in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
		if rec.status < 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("API %s %s accepted (%d) a request the document refuses: %v", r.Method, r.URL, rec.status, err)
			}
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status,
			Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Options: opts}
		if rec.stream && rec.status == http.StatusOK {
			out.Options = &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true}
		}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("API %s %s answered %d, which the document does not allow: %v\nbody: %.500s", r.Method, r.URL, rec.status, err, rec.body.String())
		}
	})
}

// unescapeParams percent-decodes path parameters, as OpenAPI validates
// them (kin-openapi's router leaves them as sent: %2B for a number's +).
func unescapeParams(params map[string]string) {
	for k, v := range params {
		if u, err := url.PathUnescape(v); err == nil {
			params[k] = u
		}
	}
}

// DocAccepts reports whether the document accepts req (its parameters,
// headers and body; not its credentials). LoadDoc first.
func DocAccepts(req *http.Request) bool {
	route, params, err := docRouter.FindRoute(req)
	if err != nil {
		return false
	}
	unescapeParams(params)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	return openapi3filter.ValidateRequest(context.Background(), in) == nil
}

// teeWriter keeps a copy of what is written (except a stream's body).
type teeWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	events bool // the event stream route
	stream bool // its body is a stream: not kept
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
		w.stream = w.events && status == http.StatusOK
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if !w.stream {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
