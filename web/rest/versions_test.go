package rest_test

import (
	"testing"

	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestAPINotesVersions: PUT replaces the whole notes and refuses a partial
// body; PATCH merges (RFC 7396: absent stays, null clears); every answer
// has an ETag, and a change at a stale If-Match is a 412 problem that
// changes nothing (issue 22, point 2).
func TestAPINotesVersions(t *testing.T) {
	e := webenv.New(t)
	const path = "/api/v1/callers/+15550001/notes"
	full := `{"topic":"buses","notes":"good talker","rating":4,"do_not_air":false,"contest_winner":false}`
	res, body := e.API(t, "PUT", path, "screener", full)
	first := res.Header.Get("ETag")
	if res.StatusCode != 200 || first == "" {
		t.Fatalf("put: %d %v ETag %q", res.StatusCode, body, first)
	}

	// A partial PUT would blank what it left out: refused, naming a member.
	res, body = e.API(t, "PUT", path, "screener", `{"rating":3}`)
	if res.StatusCode != 422 || body["field"] != "topic" {
		t.Errorf("partial put: %d %v, want 422 naming topic", res.StatusCode, body)
	}

	// PATCH changes the rating only.
	res, body = e.API(t, "PATCH", path, "screener", `{"rating":3}`, "Content-Type", "application/merge-patch+json", "If-Match", first)
	second := res.Header.Get("ETag")
	if res.StatusCode != 200 || body["rating"] != 3.0 || body["topic"] != "buses" || body["notes"] != "good talker" || second == "" || second == first {
		t.Fatalf("patch: %d %v ETag %q after %q", res.StatusCode, body, second, first)
	}
	res, body = e.API(t, "GET", path, "host", "")
	if res.Header.Get("ETag") != second || body["notes"].(map[string]any)["rating"] != 3.0 {
		t.Errorf("get: ETag %q, want %q; %v", res.Header.Get("ETag"), second, body)
	}

	// Another producer's change at the version read first: 412, nothing changed.
	res, body = e.API(t, "PATCH", path, "producer", `{"topic":"trains"}`, "If-Match", first)
	if res.StatusCode != 412 || body["code"] != "precondition_failed" || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("stale patch: %d %v, want a 412 problem", res.StatusCode, body)
	}
	if res, _ = e.API(t, "PUT", path, "producer", full, "If-Match", first); res.StatusCode != 412 {
		t.Errorf("stale put: %d, want 412", res.StatusCode)
	}
	if _, body = e.API(t, "GET", path, "host", ""); body["notes"].(map[string]any)["topic"] != "buses" {
		t.Errorf("a stale change changed the notes: %v", body)
	}

	// null clears; * matches any version.
	res, body = e.API(t, "PATCH", path, "producer", `{"topic":null}`, "If-Match", "*")
	if res.StatusCode != 200 || body["topic"] != "" || body["notes"] != "good talker" {
		t.Errorf("null topic: %d %v", res.StatusCode, body)
	}
	if res, body = e.API(t, "PATCH", path, "producer", `[1]`); res.StatusCode != 400 {
		t.Errorf("a patch that is no object: %d %v, want 400", res.StatusCode, body)
	}
	if res, _ = e.API(t, "PATCH", path, "host", `{"rating":1}`); res.StatusCode != 403 {
		t.Errorf("host patches notes: %d, want 403", res.StatusCode)
	}
}

// TestAPISettingsVersions: GET and PATCH settings carry an ETag; a PATCH
// (an RFC 7396 merge patch) at a stale If-Match is a 412 that changes
// nothing; a setting cannot be cleared with null (issue 22, point 2).
func TestAPISettingsVersions(t *testing.T) {
	e := webenv.New(t)
	const path = "/api/v1/shows/morning/settings"
	res, _ := e.API(t, "GET", path, "host", "")
	first := res.Header.Get("ETag")
	if res.StatusCode != 200 || first == "" {
		t.Fatalf("get: %d ETag %q", res.StatusCode, first)
	}
	res, body := e.API(t, "PATCH", path, "producer", `{"capacity":7}`, "Content-Type", "application/merge-patch+json", "If-Match", first)
	second := res.Header.Get("ETag")
	if res.StatusCode != 200 || body["capacity"] != 7.0 || second == "" || second == first {
		t.Fatalf("patch: %d %v ETag %q after %q", res.StatusCode, body, second, first)
	}
	res, body = e.API(t, "PATCH", path, "producer", `{"capacity":9}`, "If-Match", first)
	if res.StatusCode != 412 || body["code"] != "precondition_failed" {
		t.Errorf("stale patch: %d %v, want 412", res.StatusCode, body)
	}
	if res, body = e.API(t, "GET", path, "host", ""); body["capacity"] != 7.0 || res.Header.Get("ETag") != second {
		t.Errorf("after a stale patch: %v ETag %q, want capacity 7 and %q", body, res.Header.Get("ETag"), second)
	}
	if res, body = e.API(t, "PATCH", path, "producer", `{"capacity":null}`); res.StatusCode != 422 || body["field"] != "capacity" {
		t.Errorf("null capacity: %d %v, want 422 naming capacity", res.StatusCode, body)
	}
}
