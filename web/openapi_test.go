package web

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

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
	if len(routed) < 20 {
		t.Fatalf("only %d API routes found: %v", len(routed), routed)
	}
}
