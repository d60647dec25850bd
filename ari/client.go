package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultRequestTimeout bounds one REST call when Config.HTTPClient is nil.
// Asterisk answers in milliseconds; the slowest call seen in the traces
// (GET /channels with 1,200 channels) took 86 ms, addChannel under 600
// callers up to 609 ms.
const DefaultRequestTimeout = 10 * time.Second

// maxBody caps how much of a response we read. GET /channels for 1,200
// channels is about 454 KB.
const maxBody = 32 << 20

// Config describes one Asterisk node.
type Config struct {
	// URL is the node's HTTP base, e.g. "http://127.0.0.1:8088"; the client
	// appends "/ari/...".
	URL string
	// Username and Password are the ARI user (basic auth).
	Username string
	Password string
	// App is the Stasis application name.
	App string
	// HTTPClient makes the REST calls. Nil means a client with
	// DefaultRequestTimeout and a transport of its own. The WebSocket never
	// uses it: each dial gets a fresh TCP connection (see Connect).
	HTTPClient *http.Client
	// Logger receives connection and error logs. Nil means slog.Default().
	Logger *slog.Logger
}

// Client talks to the ARI of one Asterisk node. Its methods are safe for
// concurrent use. Every REST method returns *Error for an HTTP error status
// (test it with errors.Is against ErrNotFound, ErrConflict, ErrInvalid,
// ErrUnauthorized) and a wrapped transport error otherwise.
type Client struct {
	base     string // scheme://host[:port][/prefix], no trailing slash
	user     string
	password string
	app      string
	http     *http.Client
	log      *slog.Logger
}

// NewClient returns a Client for the node cfg describes.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ari: bad URL %q: %w", cfg.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ari: bad URL %q: want http(s)://host:port", cfg.URL)
	}
	if cfg.App == "" {
		return nil, errors.New("ari: Config.App is empty")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Many callers act at once (8 workers promote and admit in the
		// scale trace); keep enough idle connections to reuse them.
		tr.MaxIdleConnsPerHost = 32
		hc = &http.Client{Timeout: DefaultRequestTimeout, Transport: tr}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{
		base:     strings.TrimRight(u.String(), "/"),
		user:     cfg.Username,
		password: cfg.Password,
		app:      cfg.App,
		http:     hc,
		log:      log.With("ari", u.Host, "app", cfg.App),
	}, nil
}

// App returns the Stasis application name.
func (c *Client) App() string { return c.app }

// URL returns the node's base URL.
func (c *Client) URL() string { return c.base }

// Sentinel errors an *Error matches with errors.Is, by HTTP status.
var (
	// ErrNotFound matches status 404.
	ErrNotFound = errors.New("ari: not found")
	// ErrConflict matches status 409 (e.g. channel not in Stasis for answer
	// and play, duplicate id, bridge not playing music).
	ErrConflict = errors.New("ari: conflict")
	// ErrInvalid matches status 400 and 422 (e.g. addChannel: 400 for an
	// unknown channel, 422 for a channel not in Stasis).
	ErrInvalid = errors.New("ari: invalid request")
	// ErrUnauthorized matches status 401.
	ErrUnauthorized = errors.New("ari: unauthorized")
	// ErrForbidden matches status 403 (e.g. rtp_statistics of a channel
	// with no RTP of its own, such as a Local channel: trace 16).
	ErrForbidden = errors.New("ari: forbidden")
)

// Error is an error status returned by Asterisk. Status codes differ by
// operation, so Status and Message are kept as Asterisk sent them.
type Error struct {
	Method  string // HTTP method
	Path    string // request path, without the query
	Status  int    // HTTP status code
	Message string // Asterisk's "message" (or "error"), or the text of a non-JSON body
}

// Error formats e as "ari: METHOD PATH: STATUS MESSAGE".
func (e *Error) Error() string {
	return fmt.Sprintf("ari: %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// Is reports whether target is the sentinel for e's status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrInvalid:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// errorMessage extracts Asterisk's message from an error body: JSON
// {"message": ...} or {"error": ...} (originate), an HTML page (its <p> or
// <title>), plain text, or nothing (the status text).
func errorMessage(status int, body []byte) string {
	body = bytes.TrimSpace(body)
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &m) == nil {
		if m.Message != "" {
			return m.Message
		}
		if m.Error != "" {
			return m.Error
		}
	}
	if len(body) > 0 && body[0] == '<' {
		for _, tag := range []string{"p", "title", "h1"} {
			if s := between(body, "<"+tag+">", "</"+tag+">"); s != "" {
				return s
			}
		}
	}
	if len(body) == 0 || body[0] == '<' {
		return http.StatusText(status)
	}
	const max = 200
	if len(body) > max {
		body = body[:max]
	}
	return string(body)
}

func between(b []byte, open, close string) string {
	_, rest, ok := bytes.Cut(b, []byte(open))
	if !ok {
		return ""
	}
	in, _, ok := bytes.Cut(rest, []byte(close))
	if !ok {
		return ""
	}
	return string(bytes.TrimSpace(in))
}

// do sends one REST request. path is below /ari (e.g. "/channels/x/answer");
// query may be nil; body, if not nil, is sent as JSON; out, if not nil,
// receives the decoded JSON response.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	path = "/ari" + path
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("ari: %s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("ari: %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ari: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if out == nil && resp.StatusCode < 300 {
		// Nothing to decode (a subscription's answer lists every channel
		// the app is subscribed to: at a big line, kilobytes each time).
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("ari: %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return &Error{Method: method, Path: path, Status: resp.StatusCode, Message: errorMessage(resp.StatusCode, data)}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ari: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Info returns the node's system information: GET /asterisk/info.
func (c *Client) Info(ctx context.Context) (*AsteriskInfo, error) {
	var v AsteriskInfo
	if err := c.do(ctx, http.MethodGet, "/asterisk/info", nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Ping checks that the node answers: GET /asterisk/ping.
func (c *Client) Ping(ctx context.Context) (*AsteriskPing, error) {
	var v AsteriskPing
	if err := c.do(ctx, http.MethodGet, "/asterisk/ping", nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ListApplications lists the registered Stasis applications: GET /applications.
func (c *Client) ListApplications(ctx context.Context) ([]Application, error) {
	var v []Application
	if err := c.do(ctx, http.MethodGet, "/applications", nil, nil, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// GetApplication returns one application (our own when name is ""):
// GET /applications/{name}. An application with no WebSocket connected is
// unregistered, so this answers ErrNotFound.
func (c *Client) GetApplication(ctx context.Context, name string) (*Application, error) {
	if name == "" {
		name = c.app
	}
	var v Application
	if err := c.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(name), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// SubscribeApplication subscribes an application (our own when name is "")
// to an event source such as "channel:ID", "bridge:ID" or "endpoint:TECH/RES":
// POST /applications/{name}/subscription?eventSource=...
func (c *Client) SubscribeApplication(ctx context.Context, name string, eventSources ...string) (*Application, error) {
	if name == "" {
		name = c.app
	}
	q := url.Values{"eventSource": {strings.Join(eventSources, ",")}}
	var v Application
	if err := c.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(name)+"/subscription", q, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Subscribe subscribes our app to event sources such as "channel:ID", as
// SubscribeApplication does, without reading the answer (the app's whole
// list of subscriptions): POST /applications/{app}/subscription.
func (c *Client) Subscribe(ctx context.Context, eventSources ...string) error {
	q := url.Values{"eventSource": {strings.Join(eventSources, ",")}}
	return c.do(ctx, http.MethodPost, "/applications/"+url.PathEscape(c.app)+"/subscription", q, nil, nil)
}

// UnsubscribeApplication removes event sources from an application (our own
// when name is ""): DELETE /applications/{name}/subscription?eventSource=...
func (c *Client) UnsubscribeApplication(ctx context.Context, name string, eventSources ...string) (*Application, error) {
	if name == "" {
		name = c.app
	}
	q := url.Values{"eventSource": {strings.Join(eventSources, ",")}}
	var v Application
	if err := c.do(ctx, http.MethodDelete, "/applications/"+url.PathEscape(name)+"/subscription", q, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}
