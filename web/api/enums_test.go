package api

import (
	"fmt"
	"strings"
	"testing"
)

// TestEnumsShared: every enum of more than one value is a schema of its
// own that fields and parameters refer to ($ref), so a generated client
// has one type per enum (issue 22, point 7); only a frame's event name,
// one value (the discriminator's), is inline.
func TestEnumsShared(t *testing.T) {
	doc := Document(DocHost, FixedOps)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["enum"].([]string); ok && len(e) > 1 && !strings.HasPrefix(path, "/components/schemas/") {
				t.Errorf("%s: an enum of its own (%v), not a $ref to a shared one", path, e)
			} else if ok && len(e) > 1 && strings.Count(path, "/") != 3 {
				t.Errorf("%s: an enum inside a schema (%v), not a $ref to a shared one", path, e)
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("", doc["paths"])
	walk("/components/schemas", schemas)
	if s, ok := schemas["CallState"].(map[string]any); !ok || len(s["enum"].([]string)) != len(states) {
		t.Fatalf("no CallState schema of every state: %v", schemas["CallState"])
	}
}

// TestEventsDocumentedAsStream: the event stream's answer is a
// text/event-stream of Event frames, a oneOf whose discriminator is the
// event name, mapping each name to its frame; every frame but end has an
// id, reset's included.
func TestEventsDocumentedAsStream(t *testing.T) {
	doc := Document(DocHost, FixedOps)
	op := doc["paths"].(map[string]any)["/shows/{show}/events"].(map[string]any)["get"].(map[string]any)
	content := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
	if len(content) != 1 || fmt.Sprint(content["text/event-stream"]) != fmt.Sprint(mediaSchema(ref("Event"))) {
		t.Fatalf("the stream's 200: %v, want text/event-stream of Event", content)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	ev := schemas["Event"].(map[string]any)
	d, _ := ev["discriminator"].(map[string]any)
	mapping, _ := d["mapping"].(map[string]any)
	if d["propertyName"] != "event" || len(mapping) != len(ev["oneOf"].([]any)) {
		t.Fatalf("Event's discriminator %v for %d frames", d, len(ev["oneOf"].([]any)))
	}
	for name, target := range mapping {
		frame := schemas[strings.TrimPrefix(target.(string), "#/components/schemas/")].(map[string]any)
		props := frame["properties"].(map[string]any)
		if e := props["event"].(map[string]any)["enum"].([]string); len(e) != 1 || e[0] != name {
			t.Errorf("%s maps to %s, whose event is %v", name, target, e)
		}
		if _, hasID := props["id"]; hasID == (name == "end") {
			t.Errorf("frame %s: id %v", name, hasID)
		}
	}
}
