package ari

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Hangup reasons for HangupChannel (the values Asterisk accepts).
const (
	HangupNormal            = "normal"
	HangupBusy              = "busy"
	HangupCongestion        = "congestion"
	HangupNoAnswer          = "no_answer"
	HangupTimeout           = "timeout"
	HangupRejected          = "rejected"
	HangupUnallocated       = "unallocated"
	HangupNormalUnspecified = "normal_unspecified"
	HangupNumberIncomplete  = "number_incomplete"
	HangupCodecMismatch     = "codec_mismatch"
	HangupInterworking      = "interworking"
	HangupFailure           = "failure"
	HangupAnsweredElsewhere = "answered_elsewhere"
)

// OriginateParams are the parameters of POST /channels. Endpoint and either
// App or Extension (with Context) are required.
type OriginateParams struct {
	Endpoint string // e.g. "Local/101@callin" or "PJSIP/host"
	// App sends the new channel into a Stasis application; AppArgs are its
	// comma-separated arguments.
	App     string
	AppArgs string
	// Context, Extension, Priority and Label send it into the dialplan instead.
	Context   string
	Extension string
	Priority  int
	Label     string
	CallerID  string // e.g. `"Caller" <5551001>`
	// ChannelID and OtherChannelID are ids we choose (the other is the ;2
	// half of a Local channel), so they can be stored before the call.
	ChannelID      string
	OtherChannelID string
	Originator     string
	// Formats restricts the codecs, e.g. "ulaw" (see the scale trace: Local
	// channels without it run at slin192).
	Formats string
	// Timeout is how long to wait for an answer; zero means Asterisk's 30 s.
	Timeout time.Duration
	// Variables are channel variables, sent in the JSON body.
	Variables map[string]string
}

// DialplanTarget is where ContinueInDialplan sends a channel. Empty fields
// keep the channel's current value.
type DialplanTarget struct {
	Context   string
	Extension string
	Priority  int
	Label     string
}

func setIf(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

func setIfInt(q url.Values, key string, v int) {
	if v != 0 {
		q.Set(key, strconv.Itoa(v))
	}
}

func channelPath(id string, rest ...string) string {
	return "/channels/" + url.PathEscape(id) + strings.Join(rest, "")
}

// ListChannels lists every channel on the node: GET /channels.
func (c *Client) ListChannels(ctx context.Context) ([]Channel, error) {
	var v []Channel
	if err := c.do(ctx, http.MethodGet, "/channels", nil, nil, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// GetChannel returns one channel: GET /channels/{id}.
func (c *Client) GetChannel(ctx context.Context, channelID string) (*Channel, error) {
	var v Channel
	if err := c.do(ctx, http.MethodGet, channelPath(channelID), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RTPStatistics returns the RTP statistics of a channel's audio (jitter,
// loss, round-trip time; see RTPStats): GET /channels/{id}/rtp_statistics.
// A channel without RTP of its own, such as a Local one, answers 403
// "Unsupported channel type" (ErrForbidden); an unknown channel 404
// (ErrNotFound). Trace 16.
func (c *Client) RTPStatistics(ctx context.Context, channelID string) (*RTPStats, error) {
	var v RTPStats
	if err := c.do(ctx, http.MethodGet, channelPath(channelID, "/rtp_statistics"), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Originate creates a channel and dials it: POST /channels?endpoint=...
// Variables go in the JSON body {"variables": {...}}. A failure to allocate
// the channel is a 500 whose body uses the key "error"; Error.Message holds it.
func (c *Client) Originate(ctx context.Context, p OriginateParams) (*Channel, error) {
	q := url.Values{}
	q.Set("endpoint", p.Endpoint)
	setIf(q, "app", p.App)
	setIf(q, "appArgs", p.AppArgs)
	setIf(q, "context", p.Context)
	setIf(q, "extension", p.Extension)
	setIfInt(q, "priority", p.Priority)
	setIf(q, "label", p.Label)
	setIf(q, "callerId", p.CallerID)
	setIf(q, "channelId", p.ChannelID)
	setIf(q, "otherChannelId", p.OtherChannelID)
	setIf(q, "originator", p.Originator)
	setIf(q, "formats", p.Formats)
	if p.Timeout > 0 {
		q.Set("timeout", strconv.Itoa(int((p.Timeout+time.Second-1)/time.Second)))
	}
	var body any
	if len(p.Variables) > 0 {
		body = map[string]map[string]string{"variables": p.Variables}
	}
	var v Channel
	if err := c.do(ctx, http.MethodPost, "/channels", q, body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// AnswerChannel answers a channel: POST /channels/{id}/answer. A channel not
// in Stasis gives 409 (ErrConflict).
func (c *Client) AnswerChannel(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/answer"), nil, nil, nil)
}

// RingChannel sends ringing to a channel: POST /channels/{id}/ring.
func (c *Client) RingChannel(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/ring"), nil, nil, nil)
}

// StopRinging stops ringing on a channel: DELETE /channels/{id}/ring.
func (c *Client) StopRinging(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodDelete, channelPath(channelID, "/ring"), nil, nil, nil)
}

// HangupChannel hangs a channel up: DELETE /channels/{id}?reason=...
// reason is one of the Hangup constants, or "" for Asterisk's default.
func (c *Client) HangupChannel(ctx context.Context, channelID, reason string) error {
	q := url.Values{}
	setIf(q, "reason", reason)
	return c.do(ctx, http.MethodDelete, channelPath(channelID), q, nil, nil)
}

// HangupChannelCode hangs a channel up with a Q.850 cause code:
// DELETE /channels/{id}?reason_code=...
func (c *Client) HangupChannelCode(ctx context.Context, channelID string, cause int) error {
	q := url.Values{"reason_code": {strconv.Itoa(cause)}}
	return c.do(ctx, http.MethodDelete, channelPath(channelID), q, nil, nil)
}

// PlayChannel starts media on a channel with a playback id we choose:
// POST /channels/{id}/play?media=...&playbackId=... Several media URIs make
// one playback that plays them in turn. Subscribe to events before calling
// it: PlaybackStarted may arrive before the response.
func (c *Client) PlayChannel(ctx context.Context, channelID, playbackID string, media ...string) (*Playback, error) {
	q := url.Values{"media": {strings.Join(media, ",")}}
	setIf(q, "playbackId", playbackID)
	var v Playback
	if err := c.do(ctx, http.MethodPost, channelPath(channelID, "/play"), q, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// MuteChannel mutes a channel in direction dir (DirIn, DirOut, DirBoth):
// POST /channels/{id}/mute?direction=...
func (c *Client) MuteChannel(ctx context.Context, channelID, dir string) error {
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/mute"), url.Values{"direction": {dir}}, nil, nil)
}

// UnmuteChannel unmutes a channel in direction dir:
// DELETE /channels/{id}/mute?direction=... (Asterisk requires the direction).
func (c *Client) UnmuteChannel(ctx context.Context, channelID, dir string) error {
	return c.do(ctx, http.MethodDelete, channelPath(channelID, "/mute"), url.Values{"direction": {dir}}, nil, nil)
}

// HoldChannel puts a channel on hold: POST /channels/{id}/hold.
func (c *Client) HoldChannel(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/hold"), nil, nil, nil)
}

// UnholdChannel takes a channel off hold: DELETE /channels/{id}/hold.
func (c *Client) UnholdChannel(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodDelete, channelPath(channelID, "/hold"), nil, nil, nil)
}

// StartChannelMOH plays music on hold to one channel:
// POST /channels/{id}/moh?mohClass=... An empty class means the default.
// An unknown class still answers 204. Prefer bridge music (StartBridgeMOH):
// one stream serves every caller.
func (c *Client) StartChannelMOH(ctx context.Context, channelID, class string) error {
	q := url.Values{}
	setIf(q, "mohClass", class)
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/moh"), q, nil, nil)
}

// StopChannelMOH stops a channel's music on hold: DELETE /channels/{id}/moh.
func (c *Client) StopChannelMOH(ctx context.Context, channelID string) error {
	return c.do(ctx, http.MethodDelete, channelPath(channelID, "/moh"), nil, nil, nil)
}

// SetChannelVar sets a channel variable (or a function such as
// "TALK_DETECT(set)"): POST /channels/{id}/variable?variable=...&value=...
func (c *Client) SetChannelVar(ctx context.Context, channelID, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/variable"), q, nil, nil)
}

// GetChannelVar reads a channel variable: GET /channels/{id}/variable?variable=...
// An unset variable gives 404 (ErrNotFound).
func (c *Client) GetChannelVar(ctx context.Context, channelID, name string) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, channelPath(channelID, "/variable"), url.Values{"variable": {name}}, nil, &v); err != nil {
		return "", err
	}
	return v.Value, nil
}

// ContinueInDialplan sends a channel out of Stasis back to the dialplan:
// POST /channels/{id}/continue?context=...&extension=...&priority=...&label=...
func (c *Client) ContinueInDialplan(ctx context.Context, channelID string, to DialplanTarget) error {
	q := url.Values{}
	setIf(q, "context", to.Context)
	setIf(q, "extension", to.Extension)
	setIfInt(q, "priority", to.Priority)
	setIf(q, "label", to.Label)
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/continue"), q, nil, nil)
}

// SendDTMF sends DTMF digits to a channel: POST /channels/{id}/dtmf?dtmf=...
func (c *Client) SendDTMF(ctx context.Context, channelID, digits string) error {
	return c.do(ctx, http.MethodPost, channelPath(channelID, "/dtmf"), url.Values{"dtmf": {digits}}, nil, nil)
}

// RecordChannel starts recording a channel:
// POST /channels/{id}/record?name=...&format=...
func (c *Client) RecordChannel(ctx context.Context, channelID string, p RecordParams) (*LiveRecording, error) {
	var v LiveRecording
	if err := c.do(ctx, http.MethodPost, channelPath(channelID, "/record"), p.query(), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}
