package rest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/rest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/go-chi/chi/v5"
)

var update = flag.Bool("update", false, "rewrite apiclient/openapi.json from the document")

// docFile is the committed copy of the document the Go client is
// generated from (apiclient/generate.go).
const docFile = "../../apiclient/openapi.json"

// docJSON is the document as committed: indented, with the default host.
func docJSON(t testing.TB) []byte {
	t.Helper()
	b, err := json.MarshalIndent(rest.OpenAPI(api.DocHost), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := webenv.New(t)
	routed := map[string]bool{}
	err := chi.Walk(e.Srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if p, ok := strings.CutPrefix(route, "/api/v1"); ok && p != "/*" {
			routed[method+" "+p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, doc := e.API(t, "GET", "/api/v1/openapi.json", "", "")
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
	doc := webenv.LoadDoc(t)
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
		t.Fatalf("%s is not the document: run go test ./web/rest -run TestOpenAPIFileCurrent -update, then go generate ./apiclient", docFile)
	}
}

// TestValidateAPIFails: the validator refuses an undeclared status, an
// undeclared field and an accepted request the document does not allow.
func TestValidateAPIFails(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		status                   int
		answer                   string
	}{
		{"UndeclaredStatus", "GET", "/api/v1/shows", "", 409, `{"type":"urn:callin:problem:conflict","title":"Conflict","status":409,"detail":"x","code":"conflict"}`},
		{"UndeclaredField", "GET", "/api/v1/shows", "", 200, `{"shows":[],"extra":1}`},
		{"MissingField", "GET", "/api/v1/shows/morning/settings", "", 200, `{"title":"x"}`},
		{"RequestRefused", "PUT", "/api/v1/shows/morning/lines", `{"open":"yes"}`, 200, `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			h := webenv.ValidateAPI(rt, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
