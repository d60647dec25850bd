package rest_test

import (
	"fmt"
	"testing"

	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestAPIAddShowNode: POST nodes adds a node to a running show (admins
// only), through the audited controls; the name and URL follow the
// document's patterns (422 naming the field), a new node needs a URL
// (422), and the show answered lists the node.
func TestAPIAddShowNode(t *testing.T) {
	e := webenv.New(t)
	webenv.SpreadApp(e)
	cases := []struct {
		name, role, body string
		status           int
		field            string
	}{
		{"Producer", "producer", `{"name":"C","url":"http://10.0.0.7:8088"}`, 403, ""},
		{"BadName", "admin", `{"name":"C D","url":"http://10.0.0.7:8088"}`, 422, "name"},
		{"NoName", "admin", `{"url":"http://10.0.0.7:8088"}`, 422, "name"},
		{"BadURL", "admin", `{"name":"C","url":"ftp://10.0.0.7"}`, 422, "url"},
		{"Credentials", "admin", `{"name":"C","url":"http://callin:secret@10.0.0.7:8088"}`, 422, "url"},
		{"NewWithoutURL", "admin", `{"name":"C"}`, 422, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, out := e.API(t, "POST", "/api/v1/shows/morning/nodes", tc.role, tc.body)
			if res.StatusCode != tc.status || out["field"] != nil && out["field"] != tc.field || tc.field != "" && out["field"] != tc.field {
				t.Fatalf("got %d %v, want %d naming %q", res.StatusCode, out, tc.status, tc.field)
			}
		})
	}
	res, show := e.API(t, "POST", "/api/v1/shows/morning/nodes", "admin", `{"name":"C","url":"http://10.0.0.7:8088"}`)
	if res.StatusCode != 200 || fmt.Sprint(show["nodes"]) == "" || !containsNode(show["nodes"], "C") {
		t.Fatalf("add C: %d %v", res.StatusCode, show)
	}
	if res, out := e.API(t, "POST", "/api/v1/shows/morning/nodes", "admin", `{"name":"B"}`); res.StatusCode != 200 {
		t.Fatalf("a node the show has, without a URL: %d %v", res.StatusCode, out)
	}
}

// containsNode says whether a show's nodes (as JSON decoded) name node.
func containsNode(nodes any, node string) bool {
	list, _ := nodes.([]any)
	for _, n := range list {
		if m, _ := n.(map[string]any); m["node"] == node {
			return true
		}
	}
	return false
}
