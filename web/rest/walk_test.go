package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/getkin/kin-openapi/openapi3"
)

// walkRequest is one request the status walk sends.
type walkRequest struct {
	what, role, path, ctype, body string
	hdr                           []string
}

// TestAPIStatusWalk walks every operation of the document and drives it
// with bad inputs: no token, each role, no body, bad JSON, unknown
// fields, a multipart, text or oversized body, bad values of each
// parameter and header, unknown path parameters. Every answer must have
// a status the operation declares (and, through validateAPI, a body the
// document allows, and no request the document refuses may be
// accepted); every method a path does not have must be 405 with Allow
// naming the methods the document gives it (issue 22, point 5).
func TestAPIStatusWalk(t *testing.T) {
	doc := webenv.LoadDoc(t)
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Find(path)
		for method, op := range item.Operations() {
			t.Run(method+" "+path, func(t *testing.T) {
				declared := map[int]bool{}
				for code := range op.Responses.Map() {
					n, _ := strconv.Atoi(code)
					declared[n] = true
				}
				e := walkEnv(t)
				seen := map[int]int{}
				for _, req := range walkRequests(path, op) {
					status, field := walk(t, e, method, req)
					seen[status]++
					if !declared[status] {
						t.Errorf("%s (%s): answered %d, which the document does not declare", req.what, req.path, status)
					}
					// A request refused for its input must break a rule
					// of the document, unless no schema can say it.
					// (A body sent where the operation takes none is
					// outside what the document describes.)
					refused := status == 400 || status == 422 && field != ""
					if refused && !inexpressible[field] && (op.RequestBody != nil || req.body == "") && docAccepts(method, req) {
						t.Errorf("%s (%s): refused %d naming %q, but the document accepts it: put the rule in the schema", req.what, req.path, status, field)
					}
				}
				if len(seen) < 2 {
					t.Errorf("the walk saw only %v: it drives nothing", seen)
				}
			})
		}
		t.Run("methods "+path, func(t *testing.T) {
			e := walkEnv(t)
			var allow []string
			for _, m := range methods {
				if item.GetOperation(m) != nil || m == http.MethodHead && item.Get != nil {
					allow = append(allow, m)
				}
			}
			for _, m := range methods {
				if slices.Contains(allow, m) {
					continue
				}
				res, body := e.API(t, m, "/api/v1"+fillPath(path, nil), "producer", "")
				if res.StatusCode != 405 || res.Header.Get("Allow") != strings.Join(allow, ", ") || m != http.MethodHead && body["code"] != "method_not_allowed" {
					t.Errorf("%s: %d Allow %q %v, want 405 Allow %q", m, res.StatusCode, res.Header.Get("Allow"), body, strings.Join(allow, ", "))
				}
			}
		})
	}
}

// walkEnv is a server with every optional part, on fakes, a caller c1 in
// line and a recording r1.
func walkEnv(t *testing.T) *webenv.Env {
	recs := &webtest.Recordings{Recs: []queue.Recording{{Name: "r1", Show: "morning", Format: "wav",
		Ended: time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC), Duration: time.Minute, Calls: []string{"c1"}}}}
	e := webenv.New(t, func(c *core.Config) {
		c.Recordings, c.Pages, c.Idempotency = recs, &fakePages{}, &fakeIdem{keys: map[string]*idemRow{}}
	})
	e.App.Arrive("c1", "+15550001", "Ann")
	return e
}

// fillPath is path with its parameters: those of bad, else good ones.
func fillPath(path string, bad map[string]string) string {
	good := map[string]string{"show": "morning", "call": "c1", "number": "%2B15550001", "recording": "r1"}
	for name, v := range good {
		if b, ok := bad[name]; ok {
			v = b
		}
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	return path
}

// walkRequests are the requests the walk sends to one operation.
func walkRequests(path string, op *openapi3.Operation) []walkRequest {
	p := fillPath(path, nil)
	sep := "?"
	for _, ref := range op.Parameters {
		if ref.Value.In == "query" && ref.Value.Required {
			p += sep + ref.Value.Name + "=ann" // q, the only one
			sep = "&"
		}
	}
	huge := `{"text":"` + strings.Repeat("x", 70<<10) + `"}`
	out := []walkRequest{{what: "no token", path: p}}
	for _, role := range []string{"host", "screener", "producer", "admin"} {
		out = append(out,
			walkRequest{what: role + ", no body", role: role, path: p},
			walkRequest{what: role + ", {}", role: role, path: p, ctype: "application/json", body: `{}`})
	}
	for _, b := range []struct{ what, ctype, body string }{
		{"bad JSON", "application/json", `{`}, {"unknown field", "application/json", `{"zzz":1}`}, {"an array", "application/json", `[]`},
		{"null", "application/json", `null`}, {"wrong types", "application/json", `{"topic":1,"reason":2,"text":3,"open":"yes","capacity":"x","media":"m","endpoint":4}`},
		{"multipart", "multipart/form-data; boundary=x", "--x--\r\n"}, {"text", "text/plain", "hi"}, {"form", "application/x-www-form-urlencoded", "a=b"},
		{"huge", "application/json", huge},
	} {
		out = append(out, walkRequest{what: b.what, role: "producer", path: p, ctype: b.ctype, body: b.body})
	}
	for name, bad := range map[string][]string{"show": {"evening", "BAD"}, "call": {"nobody"}, "number": {"abc", "1234567890123456789012345"}, "recording": {"nope"}} {
		if !strings.Contains(path, "{"+name+"}") {
			continue
		}
		for _, v := range bad {
			out = append(out, walkRequest{what: name + "=" + v, role: "producer", path: fillPath(path, map[string]string{name: v})})
		}
	}
	for _, ref := range op.Parameters {
		prm := ref.Value
		for _, v := range []string{"ten", "-1", "0", "99999999", "", strings.Repeat("x", 600), "2025-13-45", "2025-11-26T08:00:00Z"} {
			switch prm.In {
			case "query":
				if !prm.Required {
					out = append(out, walkRequest{what: prm.Name + "=" + v, role: "producer", path: p + sep + prm.Name + "=" + v})
				}
			case "header":
				out = append(out, walkRequest{what: prm.Name + ": " + v, role: "producer", path: p, hdr: []string{prm.Name, v}})
			}
		}
	}
	if strings.HasSuffix(path, "/calls") || strings.HasSuffix(path, "/transitions") {
		for _, q := range []string{"from=2025-11-26T08:00:00Z&to=2025-11-20T08:00:00Z", "from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", "format=xml"} {
			out = append(out, walkRequest{what: q, role: "producer", path: p + sep + q})
		}
	}
	return out
}

// methods are the methods a path may have, in Allow's order.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// inexpressible are the fields a refusal may name for a rule no schema
// can state: a range of times, reversed or over 31 days (from and to are
// each a date-time); a cursor the list did not give (opaque).
var inexpressible = map[string]bool{"from": true, "to": true, "cursor": true}

// docAccepts reports whether the document accepts the request w.
func docAccepts(method string, w walkRequest) bool {
	return webenv.DocAccepts(w.request(context.Background(), method, "/api/v1"))
}

// request is w as an HTTP request to base.
func (w walkRequest) request(ctx context.Context, method, base string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, method, base+w.path, strings.NewReader(w.body))
	if w.role != "" {
		req.Header.Set("Authorization", "Bearer "+w.role)
	}
	if w.ctype != "" {
		req.Header.Set("Content-Type", w.ctype)
	}
	for i := 0; i+1 < len(w.hdr); i += 2 {
		req.Header.Set(w.hdr[i], w.hdr[i+1])
	}
	return req
}

// walk sends one request to e and returns its status and the field a problem
// names; an event stream's body is not read (the stream goes on).
func walk(t *testing.T, e *webenv.Env, method string, w walkRequest) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(w.request(ctx, method, e.TS.URL+"/api/v1"))
	if err != nil {
		t.Fatalf("%s %s: %v", method, w.path, err)
	}
	defer res.Body.Close()
	var p struct{ Field string }
	if res.Header.Get("Content-Type") == "application/problem+json" {
		_ = json.NewDecoder(res.Body).Decode(&p)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode, p.Field
}
