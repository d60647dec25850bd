package queue_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
)

// TestParseEndpoint: a phone is a plain endpoint, never a dial string with
// a second endpoint or options (issue 12: "no free dial strings anywhere").
func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ in, want string }{
			{"PJSIP/screener1", "PJSIP/screener1"},
			{"SIP/studio-2", "SIP/studio-2"},
			{"IAX2/remote_host", "IAX2/remote_host"},
			{"DAHDI/1", "DAHDI/1"},
			{"Local/200@studio", "Local/200@studio"},
			{"Local/+4420.7946_0000@from-internal", "Local/+4420.7946_0000@from-internal"},
			{"PJSIP/screener1@pbx.example.org", "PJSIP/screener1@pbx.example.org"},
			{"pjsip/screener1", "PJSIP/screener1"}, // Asterisk reads technologies in any case
			{"local/200@studio", "Local/200@studio"},
			{"iax2/x", "IAX2/x"},
			{"  PJSIP/screener1\t", "PJSIP/screener1"},
			{"PJSIP/" + strings.Repeat("a", 122), "PJSIP/" + strings.Repeat("a", 122)},
		} {
			got, err := queue.ParseEndpoint(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("ParseEndpoint(%q): got %q, %v; want %q", tc.in, got, err, tc.want)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{
			"",
			"PJSIP",
			"PJSIP/",
			"/screener1",
			"screener1",
			"Console/dsp",        // not a phone technology
			"Bogus/x",            //
			"PJSIPX/x",           //
			"PJSIP/a/b",          // a second part: an option or a URI
			"Local/200@studio/n", // Local's options
			"PJSIP/a&PJSIP/b",    // two endpoints rung at once
			"PJSIP/a,30,tT",      // Dial's timeout and options
			"PJSIP/a|b",
			"PJSIP/a(b)",
			"PJSIP/a b",
			"PJSIP /a",
			"PJSIP/a;b",
			"PJSIP/a:secret@host",
			"PJSIP/a@",
			"PJSIP/@host",
			"PJSIP/a@b@c",
			"PJSIP/a@b+c",
			"PJSIP/a\nb",
			"PJSIP/a\x00",
			"PJSIP/ä",
			"PJSIP/${EXTEN}",
			"PJSIP/" + strings.Repeat("a", 123), // over 128 characters
		} {
			got, err := queue.ParseEndpoint(in)
			if !errors.Is(err, queue.ErrInvalid) || got != "" {
				t.Errorf("ParseEndpoint(%q): got %q, %v; want ErrInvalid", in, got, err)
			}
		}
	})
	t.Run("ErrorNamesTheRule", func(t *testing.T) {
		t.Parallel()
		_, err := queue.ParseEndpoint("PJSIP/a,30")
		for _, want := range []string{`"PJSIP/a,30"`, "PJSIP, SIP, IAX2, DAHDI, Local", "e.g. PJSIP/screener1"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want it to contain %q", err, want)
			}
		}
	})
}
