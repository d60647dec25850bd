package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/go-chi/chi/v5"
)

var update = flag.Bool("update", false, "rewrite apiclient/openapi.json from the document")

// docFile is the committed copy of the document the Go client is
// generated from (apiclient/generate.go).
const docFile = "../apiclient/openapi.json"

// docJSON is the document as committed: indented, with the default host.
func docJSON(t testing.TB) []byte {
	t.Helper()
	b, err := json.MarshalIndent(openAPI(docHost), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	routed := map[string]bool{}
	err := chi.Walk(e.srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if p, ok := strings.CutPrefix(route, "/api/v1"); ok && p != "/*" {
			routed[method+" "+p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, doc := e.api(t, "GET", "/api/v1/openapi.json", "", "")
	if res.StatusCode != 200 || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: got %d %v", res.StatusCode, doc["openapi"])
	}
	documented := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routed but not documented: %v; documented but not routed: %v", missing, extra)
	}
	if len(routed) < 35 {
		t.Fatalf("only %d API routes found: %v", len(routed), routed)
	}
}

// TestOpenAPIValid: the document is valid OpenAPI 3.0, every operation
// has a unique operationId, and every schema is closed.
func TestOpenAPIValid(t *testing.T) {
	doc := loadDoc(t)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s: no operationId", method, path)
			}
			if was, ok := ids[op.OperationID]; ok {
				t.Errorf("%s %s: operationId %s is also %s's", method, path, op.OperationID, was)
			}
			ids[op.OperationID] = method + " " + path
		}
	}
	for name, s := range doc.Components.Schemas {
		if s.Value.Type.Is("object") && (s.Value.AdditionalProperties.Has == nil || *s.Value.AdditionalProperties.Has) {
			t.Errorf("schema %s allows properties it does not list", name)
		}
	}
}

// TestOpenAPIFileCurrent: the committed copy is the document. Run with
// -update to rewrite it, then go generate ./apiclient.
func TestOpenAPIFileCurrent(t *testing.T) {
	want := docJSON(t)
	if *update {
		if err := os.WriteFile(docFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the document: run go test ./web -run TestOpenAPIFileCurrent -update, then go generate ./apiclient", docFile)
	}
}

var (
	docOnce   sync.Once
	docLoaded *openapi3.T
	docRouter routers.Router
	docErr    error
)

// loadDoc loads and validates the document once per test binary.
func loadDoc(t testing.TB) *openapi3.T {
	t.Helper()
	docOnce.Do(func() {
		b, err := json.Marshal(openAPI(docHost))
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

// validateAPI checks every /api/v1 exchange against the document: the
// answer's status must be declared for its operation and its body must
// match the schema (no field it does not list), and a request the service
// accepts (any status below 400) must be one the document allows. An event
// stream's body is not read here (TestAPIEventsDocumented reads it).
// Paths the document does not have (404, 405 of the router) are not
// checked.
func validateAPI(t testing.TB, next http.Handler) http.Handler {
	loadDoc(t)
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

// TestValidateAPIFails: the validator refuses an undeclared status, an
// undeclared field and an accepted request the document does not allow.
func TestValidateAPIFails(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		status                   int
		answer                   string
	}{
		{"UndeclaredStatus", "GET", "/api/v1/shows", "", 409, `{"error":{"code":"conflict","message":"x"}}`},
		{"UndeclaredField", "GET", "/api/v1/shows", "", 200, `{"shows":[],"extra":1}`},
		{"MissingField", "GET", "/api/v1/shows/morning/settings", "", 200, `{"title":"x"}`},
		{"RequestRefused", "PUT", "/api/v1/shows/morning/lines", `{"open":"yes"}`, 200, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			h := validateAPI(rt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(httptest.NewRecorder(), req)
			if rt.errors == 0 {
				t.Fatal("the validator let it pass")
			}
		})
	}
}

// recordingT counts errors instead of failing.
type recordingT struct {
	testing.TB
	errors int
}

func (r *recordingT) Errorf(string, ...any) { r.errors++ }
