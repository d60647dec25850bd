package queue_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
)

func TestCallerNotesValidate(t *testing.T) {
	t.Parallel()
	ok := queue.CallerNotes{Number: "+1 555 0100", Topic: "potholes", Notes: "two\nlines\tand a tab", Rating: 5,
		DoNotAir: true, ContestWinner: true}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid notes: %v", err)
	}
	for _, tc := range []struct {
		field string
		n     queue.CallerNotes
	}{
		{"number", queue.CallerNotes{}},
		{"number", queue.CallerNotes{Number: "javascript:alert(1)"}},
		{"topic", queue.CallerNotes{Number: "+1555", Topic: "a\nb"}},
		{"topic", queue.CallerNotes{Number: "+1555", Topic: "\u202eevil"}},
		{"topic", queue.CallerNotes{Number: "+1555", Topic: strings.Repeat("é", queue.MaxNotesTopic+1)}},
		{"notes", queue.CallerNotes{Number: "+1555", Notes: "bad \xff byte"}},
		{"notes", queue.CallerNotes{Number: "+1555", Notes: "nul\x00"}},
		{"notes", queue.CallerNotes{Number: "+1555", Notes: strings.Repeat("x", queue.MaxNotesText+1)}},
		{"rating", queue.CallerNotes{Number: "+1555", Rating: queue.MaxRating + 1}},
		{"rating", queue.CallerNotes{Number: "+1555", Rating: -1}},
	} {
		err := tc.n.Validate()
		var fe *queue.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("%+v: got %v, want a FieldError for %s wrapping ErrInvalid", tc.n, err, tc.field)
		}
	}
}

func TestCallerNotesClean(t *testing.T) {
	t.Parallel()
	got := queue.CallerNotes{Number: " +1 (555) 0100 ", Topic: "  rates ", Notes: " a\r\nb \n"}.Clean()
	want := queue.CallerNotes{Number: "+15550100", Topic: "rates", Notes: "a\nb"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !want.SameAs(queue.CallerNotes{Number: "+15550100", Topic: "rates", Notes: "a\nb", By: "x"}) {
		t.Error("SameAs looks at who wrote them")
	}
	if want.Empty() || !(queue.CallerNotes{Number: "+1", By: "x"}).Empty() {
		t.Error("Empty is wrong")
	}
}
