package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

// TestSchemaReflection: the reflector's rules on a small type: a field is
// required unless omitempty or omitzero, a listed type is a reference, a
// pointer is its element, kinds, enums and docs apply, a nested struct
// is inlined and closed, an unexported field is left out.
func TestSchemaReflection(t *testing.T) {
	type inner struct {
		N int `json:"n"`
	}
	type sample struct {
		A   string        `json:"a" doc:"The a."`
		B   int           `json:"b,omitempty" api:"priority"`
		C   *Notes        `json:"c,omitempty"`
		D   []Notes       `json:"d"`
		E   string        `json:"e,omitempty" enum:"x,y"`
		F   inner         `json:"f"`
		G   time.Time     `json:"g,omitzero"`
		H   queue.Outcome `json:"h"`
		low int
	}
	got := objectSchema(reflect.TypeFor[sample](), map[reflect.Type]string{reflect.TypeFor[Notes](): "Notes"})
	want := obj(map[string]any{
		"a": describe(str, "The a."), "b": fieldKinds["priority"], "c": ref("Notes"), "d": arrayOf(ref("Notes")),
		"e": enum("x", "y"), "f": obj(map[string]any{"n": integer}, "n"), "g": dateTime,
		"h": typeSchema[reflect.TypeFor[queue.Outcome]()],
	}, "a", "d", "f", "h")
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("got  %s\nwant %s", gb, wb)
	}
}

// TestNumberPattern: the document's pattern for {number} takes what
// queue.NormalizeNumber takes, and refuses what it refuses.
func TestNumberPattern(t *testing.T) {
	re := regexp.MustCompile(NumberPattern)
	for _, n := range []string{"+15550001", "tel:+1 (555) 000-1", "555.000/1", "1", "+", "", "abc", "12345678901234567890",
		"123456789012345678901", "+1-", "--1--", "1 2 3", "+1+2", "tel:", "1x"} {
		if got, want := re.MatchString(n), queue.NormalizeNumber(n) != ""; got != want {
			t.Errorf("%q: the pattern says %v, NormalizeNumber %v", n, got, want)
		}
	}
}
