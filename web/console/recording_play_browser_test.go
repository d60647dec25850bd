package console_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// wavRecordings serve every kept recording as a real WAV file (a second
// of 8 kHz silence, as Asterisk records), which a browser can play.
type wavRecordings struct{ *webtest.Recordings }

func (w wavRecordings) RecordingFile(ctx context.Context, show, name string) (io.ReadCloser, string, error) {
	body, ctype, err := w.Recordings.RecordingFile(ctx, show, name)
	if err != nil {
		return nil, "", err
	}
	body.Close()
	return io.NopCloser(bytes.NewReader(silentWAV(8000))), ctype, nil
}

// silentWAV is a 16-bit mono PCM WAV file of n samples at 8 kHz.
func silentWAV(n int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(8000))
	le(uint32(16000)) // bytes a second
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	b.Write(make([]byte, 2*n))
	return b.Bytes()
}

// TestBrowserRecordingPlays: the recordings page's player plays a kept
// recording: its audio element reaches canplay (issue 23, point 5: the
// page's Content-Security-Policy had no media-src, so the player refused
// the file while its download worked).
func TestBrowserRecordingPlays(t *testing.T) {
	ctx := browser(t)
	recs := wavRecordings{&webtest.Recordings{Recs: []queue.Recording{
		{Name: "r1", Show: "morning", Format: "wav", Started: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC), Duration: time.Second},
	}}}
	e := webenv.New(t, func(c *core.Config) { c.Recordings = recs })
	login(t, ctx, e, "producer")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+"/shows/morning/recordings"),
		chromedp.WaitVisible("", css(`[data-testid=recording-row] audio`))); err != nil {
		t.Fatalf("recordings page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const a = document.querySelector("[data-testid=recording-row] audio");
		window.played = "";
		a.addEventListener("canplay", () => { window.played = "canplay"; });
		a.addEventListener("error", () => { window.played = "error " + (a.error && a.error.code); });
		a.load();
	})()`)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Poll[string](`window.played || null`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || got != "canplay" {
		t.Errorf("the recording's player: %q (%v), want canplay", got, err)
	}
}
