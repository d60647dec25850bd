package api

import "testing"

// TestReplayHeaderDeclared: every POST's answers declare the
// Idempotent-Replayed header its Idempotency-Key may bring; a GET's do not.
func TestReplayHeaderDeclared(t *testing.T) {
	doc := Document(DocHost, []Op{
		{Method: "POST", Path: "/x", ID: "postX", OK: content{}, Accepted: "begun"},
		{Method: "GET", Path: "/x", ID: "getX", OK: content{}},
	})
	item := doc["paths"].(map[string]any)["/x"].(map[string]any)
	header := func(method, status string) bool {
		res := item[method].(map[string]any)["responses"].(map[string]any)[status].(map[string]any)
		h, _ := res["headers"].(map[string]any)
		return h["Idempotent-Replayed"] != nil
	}
	if !header("post", "200") || !header("post", "202") {
		t.Error("a POST's 200 and 202 do not declare Idempotent-Replayed")
	}
	if header("get", "200") {
		t.Error("a GET declares Idempotent-Replayed")
	}
}
