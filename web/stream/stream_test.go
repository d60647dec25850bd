package stream

import (
	"testing"

	"github.com/callin-radio/callin/web/auth"
)

func TestEncode(t *testing.T) {
	got := string(Encode(7, "rows", []byte("<a>\r\n<b>")))
	want := "id: 7\nevent: rows\ndata: <a>\ndata: <b>\n\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := string(Encode(0, "reset", []byte("{}"))); got != "event: reset\ndata: {}\n\n" {
		t.Fatalf("without an id: got %q", got)
	}
}

// TestSlowClientIsKicked: a client whose buffer is full is kicked, and a
// set's KickAll kicks the others.
func TestSlowClientIsKicked(t *testing.T) {
	slow, other := NewClient(auth.RoleHost, 1), NewClient(auth.RoleProducer, 4)
	if !slow.Send([]byte("a")) || slow.Send([]byte("b")) {
		t.Fatal("a client of one message took two, or refused the first")
	}
	select {
	case <-slow.Gone():
	default:
		t.Fatal("the full client was not kicked")
	}
	set := Set{other: {}}
	set.KickAll()
	select {
	case <-other.Gone():
	default:
		t.Fatal("KickAll left a client")
	}
	if len(set) != 0 {
		t.Fatalf("KickAll left %d clients in the set", len(set))
	}
}
