package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestConsoleRecordings: producers list a show's recordings, play and
// download the kept ones; a deleted one shows when it went; hosts may not
// see the page; a show without recordings kept says so with 404.
func TestConsoleRecordings(t *testing.T) {
	recs := &webtest.Recordings{Recs: []queue.Recording{
		{Name: "r2", Show: "morning", Format: "wav", Started: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC), Duration: time.Hour, Calls: []string{"c1", "c2"}},
		{Name: "r1", Show: "morning", Format: "wav", Started: time.Date(2025, 11, 25, 8, 0, 0, 0, time.UTC), Duration: 90 * time.Second, Calls: []string{"c1"},
			Deleted: time.Date(2025, 11, 27, 8, 0, 0, 0, time.UTC)},
	}}
	e := webenv.New(t, func(c *core.Config) { c.Recordings = recs })
	res, body := e.Console(t, "GET", "/shows/morning/recordings", "producer", "", false)
	if res.StatusCode != 200 {
		t.Fatalf("page: %d %q", res.StatusCode, body)
	}
	if n := strings.Count(body, `data-testid="recording-row"`); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if n := strings.Count(body, `data-testid="recording-download"`); n != 1 {
		t.Errorf("%d downloads, want 1 (the deleted one has none)", n)
	}
	if !strings.Contains(body, `src="/shows/morning/recordings/r2/file"`) || strings.Contains(body, "/recordings/r1/file") {
		t.Error("the kept recording should play, the deleted one not")
	}
	if _, show := e.Console(t, "GET", "/shows/morning", "producer", "", false); !strings.Contains(show, `href="/shows/morning/recordings"`) {
		t.Error("the show page does not link to its recordings")
	}

	res, file := e.Console(t, "GET", "/shows/morning/recordings/r2/file?download=1", "producer", "", false)
	if res.StatusCode != 200 || file != "RIFFr2" || res.Header.Get("Content-Type") != "audio/wav" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("download: %d %q %s %s", res.StatusCode, file, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if res, _ := e.Console(t, "GET", "/shows/morning/recordings/r1/file", "producer", "", false); res.StatusCode != 404 {
		t.Errorf("deleted file: %d, want 404", res.StatusCode)
	}
	if res, _ := e.Console(t, "GET", "/shows/morning/recordings", "host", "", false); res.StatusCode != 403 {
		t.Errorf("host: %d, want 403", res.StatusCode)
	}
	if _, show := e.Console(t, "GET", "/shows/morning", "host", "", false); strings.Contains(show, `href="/shows/morning/recordings"`) {
		t.Error("the host sees a link to a page they may not open")
	}

	none := webenv.New(t)
	if res, _ := none.Console(t, "GET", "/shows/morning/recordings", "producer", "", false); res.StatusCode != 404 {
		t.Errorf("no recordings kept: %d, want 404", res.StatusCode)
	}
	if _, show := none.Console(t, "GET", "/shows/morning", "producer", "", false); strings.Contains(show, `/recordings"`) {
		t.Error("a link to recordings that are not kept")
	}
}
