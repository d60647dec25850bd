package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/callin-radio/callin/internal/sse"
	"github.com/callin-radio/callin/queue"
)

// apiStream reads the show's API event stream, measuring the delay from
// each transition's at to its receipt; the tracking stream also follows
// the callers. ready gets nil once the stream is open.
func (l *load) apiStream(ctx context.Context, tracking bool, ready chan<- error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/api/v1/shows/"+loadShow+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	body, ok := openStream(http.DefaultClient, req, "event stream", ready)
	if !ok {
		return
	}
	defer body.Close()
	_ = sse.Read(body, func(name, data string) {
		if name != "transition" {
			return
		}
		now := time.Now()
		var t queue.Transition
		if json.Unmarshal([]byte(data), &t) != nil {
			return
		}
		l.rep.FanOut.add(now.Sub(t.At))
		if t.To == queue.StateOnAir {
			l.rep.FanOutOnAir.add(now.Sub(t.At))
		}
		if tracking {
			l.track(t, now)
		}
	})
	if !l.ended.Load() {
		l.mu.Lock()
		l.rep.APIKicked++
		l.mu.Unlock()
	}
}

// openStream opens the stream req asks for with c and tells ready whether
// it is open (nil) or why not; the caller closes the body it gets.
func openStream(c *http.Client, req *http.Request, what string, ready chan<- error) (io.ReadCloser, bool) {
	resp, err := c.Do(req)
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = fmt.Errorf("%s: %s", what, resp.Status)
	}
	ready <- err
	if err != nil {
		return nil, false
	}
	return resp.Body, true
}

var dataCall = regexp.MustCompile(`data-call="([^"]+)"`)

// consoleStream reads the console's live fragments and notes when each
// caller first appears in the on-air fragment.
func (l *load) consoleStream(ctx context.Context, jar http.CookieJar, ready chan<- error) {
	shown := map[string]time.Time{}
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/shows/"+loadShow+"/live", nil)
	body, ok := openStream(c, req, "console stream", ready)
	if !ok {
		return
	}
	defer body.Close()
	_ = sse.Read(body, func(name, data string) {
		if name != "onair" {
			return
		}
		now := time.Now()
		for _, m := range dataCall.FindAllStringSubmatch(data, -1) {
			if _, ok := shown[m[1]]; !ok {
				shown[m[1]] = now
			}
		}
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended.Load() {
		l.rep.ConsoleKicked++
	}
	l.shownAt = append(l.shownAt, shown)
}

// login logs the load test's producer in to the console.
func login(ctx context.Context, base string, jar http.CookieJar, password string) error {
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login",
		strings.NewReader(url.Values{"username": {"loadtest"}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
		return fmt.Errorf("login: %s at %s", resp.Status, resp.Request.URL.Path)
	}
	return nil
}
