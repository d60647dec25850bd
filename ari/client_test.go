package ari_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

// request is what the test server saw.
type request struct {
	Method, Path, Body string
	Query              url.Values
	User, Password     string
	ContentType        string
}

// restServer answers every request with status and body, and records it.
type restServer struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	status int
	body   string
	ctype  string
}

func newRESTServer(t *testing.T) *restServer {
	s := &restServer{status: 204}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		s.mu.Lock()
		s.got = append(s.got, request{Method: r.Method, Path: r.URL.EscapedPath(), Body: string(b), Query: r.URL.Query(),
			User: u, Password: p, ContentType: r.Header.Get("Content-Type")})
		status, body, ctype := s.status, s.body, s.ctype
		s.mu.Unlock()
		if ctype == "" {
			ctype = "application/json"
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *restServer) respond(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.ctype = status, body, ""
}

func (s *restServer) last(t *testing.T) request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		t.Fatal("no request")
	}
	return s.got[len(s.got)-1]
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newClient(t *testing.T, url string) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: url, Username: "callin", Password: "secret", App: "callin", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestRESTEncoding checks method, path, query, body and auth of every call.
func TestRESTEncoding(t *testing.T) {
	t.Parallel()
	srv := newRESTServer(t)
	c := newClient(t, srv.URL+"/") // a trailing slash must not double
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		method string
		path   string
		query  url.Values
		body   string
	}{
		{"Info", func() error { _, err := c.Info(ctx); return err }, "GET", "/ari/asterisk/info", q(), ""},
		{"Ping", func() error { _, err := c.Ping(ctx); return err }, "GET", "/ari/asterisk/ping", q(), ""},
		{"ListApplications", func() error { _, err := c.ListApplications(ctx); return err }, "GET", "/ari/applications", q(), ""},
		{"GetApplication", func() error { _, err := c.GetApplication(ctx, ""); return err }, "GET", "/ari/applications/callin", q(), ""},
		{"SubscribeApplication", func() error { _, err := c.SubscribeApplication(ctx, "", "channel:c1", "bridge:b1"); return err },
			"POST", "/ari/applications/callin/subscription", q("eventSource", "channel:c1,bridge:b1"), ""},
		{"UnsubscribeApplication", func() error { _, err := c.UnsubscribeApplication(ctx, "other", "bridge:b1"); return err },
			"DELETE", "/ari/applications/other/subscription", q("eventSource", "bridge:b1"), ""},
		{"ListChannels", func() error { _, err := c.ListChannels(ctx); return err }, "GET", "/ari/channels", q(), ""},
		{"GetChannel", func() error { _, err := c.GetChannel(ctx, "a1-in"); return err }, "GET", "/ari/channels/a1-in", q(), ""},
		{"GetChannelEscaped", func() error { _, err := c.GetChannel(ctx, "e-bad-in;2"); return err }, "GET", "/ari/channels/e-bad-in%3B2", q(), ""},
		{"Originate", func() error {
			_, err := c.Originate(ctx, ari.OriginateParams{Endpoint: "Local/101@callin", Context: "sim-caller", Extension: "s", Priority: 1,
				CallerID: `"Caller a1" <5551001>`, ChannelID: "a1-phone", OtherChannelID: "a1-in", Timeout: 30 * time.Second})
			return err
		}, "POST", "/ari/channels", q("endpoint", "Local/101@callin", "context", "sim-caller", "extension", "s", "priority", "1",
			"callerId", `"Caller a1" <5551001>`, "channelId", "a1-phone", "otherChannelId", "a1-in", "timeout", "30"), ""},
		{"OriginateApp", func() error {
			_, err := c.Originate(ctx, ari.OriginateParams{Endpoint: "Local/s@sim-caller", App: "callin", AppArgs: "show1,x", Label: "l",
				Formats: "ulaw", Originator: "o1", Variables: map[string]string{"CALLERID(name)": "Bob"}})
			return err
		}, "POST", "/ari/channels", q("endpoint", "Local/s@sim-caller", "app", "callin", "appArgs", "show1,x", "label", "l",
			"formats", "ulaw", "originator", "o1"), `{"variables":{"CALLERID(name)":"Bob"}}`},
		{"Answer", func() error { return c.AnswerChannel(ctx, "a1-in") }, "POST", "/ari/channels/a1-in/answer", q(), ""},
		{"Ring", func() error { return c.RingChannel(ctx, "a1-in") }, "POST", "/ari/channels/a1-in/ring", q(), ""},
		{"StopRinging", func() error { return c.StopRinging(ctx, "a1-in") }, "DELETE", "/ari/channels/a1-in/ring", q(), ""},
		{"Hangup", func() error { return c.HangupChannel(ctx, "a1-in", "") }, "DELETE", "/ari/channels/a1-in", q(), ""},
		{"HangupReason", func() error { return c.HangupChannel(ctx, "d3-in", ari.HangupBusy) }, "DELETE", "/ari/channels/d3-in", q("reason", "busy"), ""},
		{"HangupCode", func() error { return c.HangupChannelCode(ctx, "d4-in;2", 17) }, "DELETE", "/ari/channels/d4-in%3B2", q("reason_code", "17"), ""},
		{"PlayChannel", func() error { _, err := c.PlayChannel(ctx, "c1-in", "c-pb1", "sound:hello-world"); return err },
			"POST", "/ari/channels/c1-in/play", q("media", "sound:hello-world", "playbackId", "c-pb1"), ""},
		{"PlayChannelMany", func() error {
			_, err := c.PlayChannel(ctx, "c1-in", "c-pb2", "sound:you-are-caller", "number:5")
			return err
		},
			"POST", "/ari/channels/c1-in/play", q("media", "sound:you-are-caller,number:5", "playbackId", "c-pb2"), ""},
		{"Mute", func() error { return c.MuteChannel(ctx, "f-in", ari.DirIn) }, "POST", "/ari/channels/f-in/mute", q("direction", "in"), ""},
		{"Unmute", func() error { return c.UnmuteChannel(ctx, "f-in", ari.DirBoth) }, "DELETE", "/ari/channels/f-in/mute", q("direction", "both"), ""},
		{"Hold", func() error { return c.HoldChannel(ctx, "a1-in") }, "POST", "/ari/channels/a1-in/hold", q(), ""},
		{"Unhold", func() error { return c.UnholdChannel(ctx, "a1-in") }, "DELETE", "/ari/channels/a1-in/hold", q(), ""},
		{"StartChannelMOH", func() error { return c.StartChannelMOH(ctx, "a1-in", "default") }, "POST", "/ari/channels/a1-in/moh", q("mohClass", "default"), ""},
		{"StartChannelMOHDefault", func() error { return c.StartChannelMOH(ctx, "a1-in", "") }, "POST", "/ari/channels/a1-in/moh", q(), ""},
		{"StopChannelMOH", func() error { return c.StopChannelMOH(ctx, "a1-in") }, "DELETE", "/ari/channels/a1-in/moh", q(), ""},
		{"SetVar", func() error { return c.SetChannelVar(ctx, "f-in", "TALK_DETECT(set)", "") }, "POST", "/ari/channels/f-in/variable",
			q("variable", "TALK_DETECT(set)", "value", ""), ""},
		{"GetVar", func() error { _, err := c.GetChannelVar(ctx, "f-in", "CALLERID(num)"); return err }, "GET", "/ari/channels/f-in/variable",
			q("variable", "CALLERID(num)"), ""},
		{"Continue", func() error {
			return c.ContinueInDialplan(ctx, "a1-in", ari.DialplanTarget{Context: "callin", Extension: "bye", Priority: 2, Label: "end"})
		}, "POST", "/ari/channels/a1-in/continue", q("context", "callin", "extension", "bye", "priority", "2", "label", "end"), ""},
		{"SendDTMF", func() error { return c.SendDTMF(ctx, "f-phone", "1#") }, "POST", "/ari/channels/f-phone/dtmf", q("dtmf", "1#"), ""},
		{"RecordChannel", func() error {
			_, err := c.RecordChannel(ctx, "f-in", ari.RecordParams{Name: "r1", Format: "wav"})
			return err
		}, "POST", "/ari/channels/f-in/record", q("name", "r1", "format", "wav"), ""},
		{"CreateBridge", func() error { _, err := c.CreateBridge(ctx, "a-hold", ari.BridgeHolding, "show1 hold"); return err },
			"POST", "/ari/bridges", q("type", "holding", "bridgeId", "a-hold", "name", "show1 hold"), ""},
		{"GetBridge", func() error { _, err := c.GetBridge(ctx, "a-hold"); return err }, "GET", "/ari/bridges/a-hold", q(), ""},
		{"ListBridges", func() error { _, err := c.ListBridges(ctx); return err }, "GET", "/ari/bridges", q(), ""},
		{"AddChannel", func() error {
			return c.AddChannel(ctx, "a-hold", ari.AddChannelParams{Channels: []string{"a1-in"}, Role: ari.RoleParticipant})
		}, "POST", "/ari/bridges/a-hold/addChannel", q("channel", "a1-in", "role", "participant"), ""},
		{"AddChannelAll", func() error {
			return c.AddChannel(ctx, "air", ari.AddChannelParams{Channels: []string{"b1", "b2"}, Mute: true, AbsorbDTMF: true, InhibitConnectedLineUpdates: true})
		}, "POST", "/ari/bridges/air/addChannel", q("channel", "b1,b2", "mute", "true", "absorbDTMF", "true", "inhibitConnectedLineUpdates", "true"), ""},
		{"RemoveChannel", func() error { return c.RemoveChannel(ctx, "a-hold", "a2-in") }, "POST", "/ari/bridges/a-hold/removeChannel", q("channel", "a2-in"), ""},
		{"StartBridgeMOH", func() error { return c.StartBridgeMOH(ctx, "a-hold", "default") }, "POST", "/ari/bridges/a-hold/moh", q("mohClass", "default"), ""},
		{"StopBridgeMOH", func() error { return c.StopBridgeMOH(ctx, "a-hold") }, "DELETE", "/ari/bridges/a-hold/moh", q(), ""},
		{"PlayBridge", func() error { _, err := c.PlayBridge(ctx, "c-air", "c-pb5", "sound:hello-world"); return err },
			"POST", "/ari/bridges/c-air/play", q("media", "sound:hello-world", "playbackId", "c-pb5"), ""},
		{"RecordBridge", func() error {
			_, err := c.RecordBridge(ctx, "air", ari.RecordParams{Name: "show1-2026", Format: "wav", MaxDuration: time.Hour,
				MaxSilence: 30 * time.Second, IfExists: ari.IfExistsOverwrite, Beep: true, TerminateOn: "none"})
			return err
		}, "POST", "/ari/bridges/air/record", q("name", "show1-2026", "format", "wav", "maxDurationSeconds", "3600", "maxSilenceSeconds", "30",
			"ifExists", "overwrite", "beep", "true", "terminateOn", "none"), ""},
		{"DestroyBridge", func() error { return c.DestroyBridge(ctx, "a-hold") }, "DELETE", "/ari/bridges/a-hold", q(), ""},
		{"GetPlayback", func() error { _, err := c.GetPlayback(ctx, "c-pb1"); return err }, "GET", "/ari/playbacks/c-pb1", q(), ""},
		{"StopPlayback", func() error { return c.StopPlayback(ctx, "c-pb3") }, "DELETE", "/ari/playbacks/c-pb3", q(), ""},
		{"ControlPlayback", func() error { return c.ControlPlayback(ctx, "c-pb3", ari.PlaybackOpPause) }, "POST", "/ari/playbacks/c-pb3/control", q("operation", "pause"), ""},
		{"GetLiveRecording", func() error { _, err := c.GetLiveRecording(ctx, "r1"); return err }, "GET", "/ari/recordings/live/r1", q(), ""},
		{"StopLiveRecording", func() error { return c.StopLiveRecording(ctx, "r1") }, "POST", "/ari/recordings/live/r1/stop", q(), ""},
		{"CancelLiveRecording", func() error { return c.CancelLiveRecording(ctx, "r1") }, "DELETE", "/ari/recordings/live/r1", q(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := srv.last(t)
			want := request{Method: tt.method, Path: tt.path, Query: tt.query, Body: tt.body, User: "callin", Password: "secret"}
			if tt.body != "" {
				want.ContentType = "application/json"
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestRESTDecoding checks that responses decode into the models.
func TestRESTDecoding(t *testing.T) {
	t.Parallel()
	srv := newRESTServer(t)
	c := newClient(t, srv.URL)
	ctx := context.Background()

	srv.respond(200, `{"id":"a1-in","name":"Local/101@callin-000002c0;2","state":"Ring","caller":{"name":"Caller a1","number":"5551001"},"creationtime":"2026-11-26T06:08:54.762+0000"}`)
	ch, err := c.GetChannel(ctx, "a1-in")
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID != "a1-in" || ch.State != ari.StateRing || ch.Caller.Number != "5551001" || ch.CreationTime.UnixMilli() != 1795673334762 {
		t.Errorf("GetChannel = %+v", ch)
	}

	srv.respond(200, `[{"id":"a-hold","bridge_type":"holding","channels":["a1-in","a2-in"]},{"id":"air","bridge_type":"mixing","channels":[]}]`)
	bs, err := c.ListBridges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].ID != "a-hold" || len(bs[0].Channels) != 2 || bs[1].BridgeType != ari.BridgeMixing {
		t.Errorf("ListBridges = %+v", bs)
	}

	srv.respond(201, `{"id":"c-pb1","media_uri":"sound:hello-world","target_uri":"channel:c1-in","language":"en","state":"queued"}`)
	pb, err := c.PlayChannel(ctx, "c1-in", "c-pb1", "sound:hello-world")
	if err != nil {
		t.Fatal(err)
	}
	if pb.ID != "c-pb1" || pb.State != ari.PlaybackQueued {
		t.Errorf("PlayChannel = %+v", pb)
	}

	srv.respond(200, `{"value":"5551001"}`)
	v, err := c.GetChannelVar(ctx, "a1-in", "CALLERID(num)")
	if err != nil || v != "5551001" {
		t.Errorf("GetChannelVar = %q, %v", v, err)
	}

	srv.respond(200, `{"not json`)
	if _, err := c.GetBridge(ctx, "x"); err == nil {
		t.Error("GetBridge with a broken body: no error")
	}
}

// TestRESTErrors checks the mapping of error statuses and bodies, with the
// bodies the traces show.
func TestRESTErrors(t *testing.T) {
	t.Parallel()
	srv := newRESTServer(t)
	c := newClient(t, srv.URL)
	ctx := context.Background()
	tests := []struct {
		name    string
		status  int
		body    string
		call    func() error
		path    string
		message string
		is      error
	}{
		{"ChannelNotFound", 404, `{"message":"Channel not found"}`, func() error { return c.AnswerChannel(ctx, "nope") },
			"/ari/channels/nope/answer", "Channel not found", ari.ErrNotFound},
		{"AnswerNotInStasis", 409, `{"message":"Channel not in Stasis application"}`, func() error { return c.AnswerChannel(ctx, "e-phone") },
			"/ari/channels/e-phone/answer", "Channel not in Stasis application", ari.ErrConflict},
		{"AddChannelUnknown", 400, `{"message":"Channel not found"}`, func() error {
			return c.AddChannel(ctx, "e-hold", ari.AddChannelParams{Channels: []string{"nope"}})
		}, "/ari/bridges/e-hold/addChannel", "Channel not found", ari.ErrInvalid},
		{"AddChannelNotInStasis", 422, `{"message":"Channel not in Stasis application"}`, func() error {
			return c.AddChannel(ctx, "e-hold", ari.AddChannelParams{Channels: []string{"e-phone"}})
		}, "/ari/bridges/e-hold/addChannel", "Channel not in Stasis application", ari.ErrInvalid},
		{"OriginateErrorKey", 500, `{"error":"Allocation failed"}`, func() error {
			_, err := c.Originate(ctx, ari.OriginateParams{Endpoint: "Bogus/x", App: "callin"})
			return err
		}, "/ari/channels", "Allocation failed", nil},
		{"Unauthorized", 401, `{"message":"Authentication required"}`, func() error { _, err := c.Info(ctx); return err },
			"/ari/asterisk/info", "Authentication required", ari.ErrUnauthorized},
		{"HTML", 400, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n<address>Asterisk/22.10.1</address>\r\n</body></html>\r\n",
			func() error { _, err := c.ListBridges(ctx); return err }, "/ari/bridges", "HTTP request is missing param: [app]", ari.ErrInvalid},
		{"Empty", 404, ``, func() error { return c.StopPlayback(ctx, "gone") }, "/ari/playbacks/gone", "Not Found", ari.ErrNotFound},
		{"Text", 503, "busy, try later\n", func() error { return c.StopPlayback(ctx, "p") }, "/ari/playbacks/p", "busy, try later", nil},
		{"DuplicateBridge", 409, `{"message":"Bridge with id 'e-hold' already exists"}`, func() error {
			_, err := c.CreateBridge(ctx, "e-hold", ari.BridgeHolding, "")
			return err
		}, "/ari/bridges", "Bridge with id 'e-hold' already exists", ari.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.respond(tt.status, tt.body)
			err := tt.call()
			var ae *ari.Error
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *ari.Error", err, err)
			}
			want := ari.Error{Method: srv.last(t).Method, Path: tt.path, Status: tt.status, Message: tt.message}
			if *ae != want {
				t.Errorf("got  %+v\nwant %+v", *ae, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestRESTTransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, url)
	_, err := c.Ping(context.Background())
	var ae *ari.Error
	if err == nil || errors.As(err, &ae) {
		t.Errorf("err = %v, want a transport error", err)
	}
}

func TestRESTContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.AnswerChannel(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	for _, cfg := range []ari.Config{
		{URL: "127.0.0.1:8088", App: "callin"},
		{URL: "ftp://127.0.0.1", App: "callin"},
		{URL: "http://127.0.0.1:8088"},
	} {
		if _, err := ari.NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v): no error", cfg)
		}
	}
}
