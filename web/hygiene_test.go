package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// The tests of issue 21 ("Hostile clients, round two") that web answers
// alone, on the fakes, over httptest's real listener.

// apiWith sends an API request as role with a Content-Type of its own
// ("" for none).
func apiWith(e *webenv.Env, t *testing.T, method, path, role, contentType, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.TS.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+role)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("Content-Type") == "application/problem+json" {
		_ = json.NewDecoder(res.Body).Decode(&out)
	}
	return res, out
}

// TestJSONIsStrict (point 9): the schemas are closed as the README says:
// a key twice, a key in another case and a body not sent as
// application/json are refused, and nothing changes.
func TestJSONIsStrict(t *testing.T) {
	e := webenv.New(t)
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		code, field                           string
	}{
		{"DuplicateKey", "PUT", "/api/v1/shows/morning/lines", "application/json", `{"open":false,"open":true}`, 400, api.CodeBadRequest, "open"},
		{"WrongCase", "PUT", "/api/v1/shows/morning/lines", "application/json", `{"OPEN":true}`, 400, api.CodeBadRequest, "OPEN"},
		{"WrongCaseNested", "PUT", "/api/v1/callers/+15550001/notes", "application/json", `{"Topic":"bins"}`, 400, api.CodeBadRequest, "Topic"},
		{"DuplicateNested", "PUT", "/api/v1/callers/+15550001/notes", "application/json", `{"topic":"a","topic":"b"}`, 400, api.CodeBadRequest, "topic"},
		{"TextPlain", "PUT", "/api/v1/shows/morning/lines", "text/plain", `{"open":true}`, 415, api.CodeMediaType, "Content-Type"},
		{"NoContentType", "PUT", "/api/v1/shows/morning/lines", "", `{"open":true}`, 415, api.CodeMediaType, "Content-Type"},
		{"Form", "PUT", "/api/v1/shows/morning/lines", "application/x-www-form-urlencoded", `{"open":true}`, 415, api.CodeMediaType, "Content-Type"},
		{"Latin1", "PUT", "/api/v1/shows/morning/lines", "application/json; charset=iso-8859-1", `{"open":true}`, 415, api.CodeMediaType, "Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := apiWith(e, t, tc.method, tc.path, "producer", tc.contentType, tc.body)
			code, field := webenv.ErrCode(body)
			if res.StatusCode != tc.status || code != tc.code || field != tc.field {
				t.Errorf("got %d %s %q, want %d %s %q (%v)", res.StatusCode, code, field, tc.status, tc.code, tc.field, body)
			}
		})
	}
	// Lines stay open: none of the refused bodies closed them.
	if res, body := e.API(t, "GET", "/api/v1/shows/morning", "producer", ""); res.StatusCode != 200 || body["lines_open"] != true {
		t.Errorf("the show after refused bodies: %d %v", res.StatusCode, body)
	}
	// What is right still passes, with or without a charset.
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		if res, body := apiWith(e, t, "PUT", "/api/v1/shows/morning/lines", "producer", ct, `{"open":true}`); res.StatusCode != 200 {
			t.Errorf("%s: %d %v", ct, res.StatusCode, body)
		}
	}
}
