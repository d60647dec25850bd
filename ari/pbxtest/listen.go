package pbxtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

// The frequencies of the instance's sounds: asterisk-run's music on hold is
// a chord of 523 and 659 Hz; callers stream 440 Hz and phones 1000 Hz
// unless told otherwise.
const (
	MusicHz  = 523
	CallerHz = 440
	PhoneHz  = 1000
)

// Listener hears what a channel hears, as a person on that call would: it
// snoops the channel (spy=out: the audio Asterisk sends it) into an app of
// its own, records the snoop and analyses the recording. It never touches
// callin's application.
type Listener struct {
	p      *PBX
	client *ari.Client
	app    string
	conn   *ari.Conn
	seq    atomic.Int64

	mu      sync.Mutex
	waiters map[string]chan string   // recording name → its RecordingFinished state
	started map[string]chan struct{} // snoop channel id → closed at its StasisStart
}

var listenerSeq atomic.Int64

// Listener connects a listening app to the instance for t.
func (p *PBX) Listener(t testing.TB) *Listener {
	t.Helper()
	app := fmt.Sprintf("pbxlisten%d", listenerSeq.Add(1))
	c, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: app,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{p: p, client: c, app: app, conn: c.Connect(ctx, ari.EventOptions{}),
		waiters: map[string]chan string{}, started: map[string]chan struct{}{}}
	connected := make(chan struct{})
	go l.read(connected)
	t.Cleanup(func() { cancel(); l.conn.Close() })
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("pbxtest: the listener's app did not connect within 10 s")
	}
	return l
}

func (l *Listener) read(connected chan struct{}) {
	once := sync.OnceFunc(func() { close(connected) })
	for e := range l.conn.Events() {
		switch e := e.(type) {
		case *ari.Connected:
			once()
		case *ari.StasisStart:
			l.mu.Lock()
			if ch := l.started[e.Channel.ID]; ch != nil {
				close(ch)
				delete(l.started, e.Channel.ID)
			}
			l.mu.Unlock()
		case *ari.RecordingFinished:
			l.finished(e.Recording.Name, e.Recording.State)
		case *ari.RecordingFailed:
			l.finished(e.Recording.Name, "failed")
		}
	}
}

func (l *Listener) finished(name, state string) {
	l.mu.Lock()
	ch := l.waiters[name]
	delete(l.waiters, name)
	l.mu.Unlock()
	if ch != nil {
		ch <- state
	}
}

// Hear records for d what channel hears and returns it analysed.
func (l *Listener) Hear(ctx context.Context, channel string, d time.Duration) (*Heard, error) {
	n := l.seq.Add(1)
	snoop := fmt.Sprintf("%s-snoop-%d", l.app, n)
	name := fmt.Sprintf("%s-%d", l.app, n)
	done, started := make(chan string, 1), make(chan struct{})
	l.mu.Lock()
	l.waiters[name], l.started[snoop] = done, started
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiters, name)
		delete(l.started, snoop)
		l.mu.Unlock()
	}()
	q := url.Values{"spy": {"out"}, "app": {l.app}, "snoopId": {snoop}}
	if err := l.post(ctx, "/channels/"+channel+"/snoop", q); err != nil {
		return nil, err
	}
	defer l.client.HangupChannel(context.WithoutCancel(ctx), snoop, "")
	// The snoop's POST answers before the channel is in the app: recording
	// it then is refused (409 "Channel not in Stasis application").
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("pbxtest: the snoop on %s did not enter the listener's app within 10 s", channel)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if _, err := l.client.RecordChannel(ctx, snoop, ari.RecordParams{Name: name, Format: "wav", IfExists: ari.IfExistsOverwrite}); err != nil {
		return nil, err
	}
	select {
	case <-time.After(d): // the window to listen to: real time passing is the point
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := l.client.StopLiveRecording(ctx, name); err != nil {
		return nil, err
	}
	select {
	case state := <-done:
		if state != "done" {
			return nil, fmt.Errorf("pbxtest: recording of %s ended %s", channel, state)
		}
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("pbxtest: no RecordingFinished for %s within 10 s", name)
	}
	body, _, err := l.client.StoredRecordingFile(ctx, name)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	wav, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	l.client.DeleteStoredRecording(ctx, name)
	return Analyse(wav)
}

func (l *Listener) post(ctx context.Context, path string, q url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.p.HTTP+"/ari"+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(l.p.User, l.p.Password)
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pbxtest: POST %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// Window is a quarter second of what was heard.
type Window struct {
	RMS  float64         // of 16-bit samples (full scale 32767)
	Peak map[int]float64 // share of the window's energy at each probed frequency
}

// Heard is an analysed recording: quarter-second windows.
type Heard struct {
	Windows []Window
	Samples int
}

// Duration is the recording's length.
func (h *Heard) Duration() time.Duration {
	return time.Duration(h.Samples) * time.Second / 8000
}

// Share is the part of the windows (0 to 1) in which freq carries at least
// a third of a clearly audible window's energy. The probed frequencies are
// MusicHz, CallerHz, PhoneHz and the other tones tests play (see Analyse).
func (h *Heard) Share(freq int) float64 {
	return h.part(func(w Window) bool { return w.RMS > silenceRMS && w.Peak[freq] >= 1.0/3 })
}

// Music is the part of the windows in which the instance's music on hold
// is heard: its chord's two notes (MusicHz and 659 Hz) together carry a
// third of a clearly audible window's energy. The chord's energy is split
// between its notes, and on a loaded machine a quarter second of it comes
// with gaps and noise, so Share(MusicHz) alone, or either note alone,
// undercounts it.
func (h *Heard) Music() float64 {
	return h.part(func(w Window) bool { return w.RMS > silenceRMS && w.Peak[MusicHz]+w.Peak[659] >= 1.0/3 })
}

// Silent is the part of the windows with nothing audible (1 for nothing
// recorded).
func (h *Heard) Silent() float64 {
	if len(h.Windows) == 0 {
		return 1
	}
	return h.part(func(w Window) bool { return w.RMS <= silenceRMS })
}

// part is the part of the windows for which is says yes.
func (h *Heard) part(is func(Window) bool) float64 {
	if len(h.Windows) == 0 {
		return 0
	}
	n := 0
	for _, w := range h.Windows {
		if is(w) {
			n++
		}
	}
	return float64(n) / float64(len(h.Windows))
}

// String says what each window held, for test failures.
func (h *Heard) String() string {
	var b strings.Builder
	for i, w := range h.Windows {
		best, share := 0, 0.0
		for f, s := range w.Peak {
			if s > share {
				best, share = f, s
			}
		}
		if w.RMS <= silenceRMS {
			fmt.Fprintf(&b, "%d:silence ", i)
		} else {
			fmt.Fprintf(&b, "%d:%dHz(%.0f%%) ", i, best, 100*share)
		}
	}
	return b.String()
}

const silenceRMS = 100 // about -50 dBFS

// Probed are the frequencies Analyse measures.
var Probed = []int{MusicHz, 659, CallerHz, PhoneHz, 1400, 1800}

// Analyse decodes a 16-bit mono 8 kHz WAV file and measures, in each quarter
// second, its loudness and the share of its energy at each Probed frequency
// (Goertzel's algorithm).
func Analyse(wav []byte) (*Heard, error) {
	pcm, rate, err := pcm16(wav)
	if err != nil {
		return nil, err
	}
	if rate != 8000 {
		return nil, fmt.Errorf("pbxtest: a %d Hz recording, want 8000", rate)
	}
	h := &Heard{Samples: len(pcm)}
	const size = 2000
	for start := 0; start+size <= len(pcm); start += size {
		win := pcm[start : start+size]
		var energy float64
		for _, s := range win {
			energy += s * s
		}
		w := Window{RMS: math.Sqrt(energy / size), Peak: map[int]float64{}}
		for _, f := range Probed {
			if energy > 0 {
				w.Peak[f] = goertzel(win, f, rate) / energy
			}
		}
		h.Windows = append(h.Windows, w)
	}
	return h, nil
}

// goertzel returns the energy of samples at freq, on the scale where a pure
// sine at freq gives the samples' whole energy.
func goertzel(samples []float64, freq, rate int) float64 {
	k := math.Round(float64(len(samples)) * float64(freq) / float64(rate))
	w := 2 * math.Pi * k / float64(len(samples))
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / float64(len(samples))
}

// pcm16 reads a RIFF/WAVE file's 16-bit mono samples.
func pcm16(b []byte) ([]float64, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("pbxtest: not a WAV file")
	}
	rate := 0
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		body := b[off+8 : min(len(b), off+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, errors.New("pbxtest: short fmt chunk")
			}
			if ch, bits := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint16(body[14:]); ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("pbxtest: %d channels of %d bits, want mono 16-bit", ch, bits)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			out := make([]float64, len(body)/2)
			for i := range out {
				out[i] = float64(int16(binary.LittleEndian.Uint16(body[2*i:])))
			}
			return out, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("pbxtest: no data chunk")
}
