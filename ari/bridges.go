package ari

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AddChannelParams are the parameters of POST /bridges/{id}/addChannel.
type AddChannelParams struct {
	// Channels are the ids to add (at least one).
	Channels []string
	// Role is RoleParticipant, RoleAnnouncer or "" (participant). A holding
	// bridge takes one announcer; bridge music on hold is already one.
	Role string
	// Mute mutes the channels' audio into the bridge.
	Mute bool
	// AbsorbDTMF keeps the channels' DTMF from reaching the other members.
	AbsorbDTMF bool
	// InhibitConnectedLineUpdates keeps the bridge from rewriting
	// connected-line data.
	InhibitConnectedLineUpdates bool
}

// Recording behaviours when a recording of that name exists.
const (
	IfExistsFail      = "fail"
	IfExistsOverwrite = "overwrite"
	IfExistsAppend    = "append"
)

// RecordParams are the parameters of POST /bridges/{id}/record and
// POST /channels/{id}/record. Name and Format are required.
type RecordParams struct {
	Name        string        // recording name, also its live recording id
	Format      string        // file format, e.g. "wav"
	MaxDuration time.Duration // zero means no limit (whole seconds are sent)
	MaxSilence  time.Duration // zero means no limit (whole seconds are sent)
	IfExists    string        // IfExistsFail (Asterisk's default), IfExistsOverwrite or IfExistsAppend
	Beep        bool          // play a beep first
	TerminateOn string        // DTMF that stops it: "none", "any", "*" or "#"
}

func (p RecordParams) query() url.Values {
	q := url.Values{"name": {p.Name}, "format": {p.Format}}
	setIfInt(q, "maxDurationSeconds", int(p.MaxDuration/time.Second))
	setIfInt(q, "maxSilenceSeconds", int(p.MaxSilence/time.Second))
	setIf(q, "ifExists", p.IfExists)
	if p.Beep {
		q.Set("beep", "true")
	}
	setIf(q, "terminateOn", p.TerminateOn)
	return q
}

func bridgePath(id string, rest ...string) string {
	return "/bridges/" + url.PathEscape(id) + strings.Join(rest, "")
}

// CreateBridge creates a bridge with an id and name we choose:
// POST /bridges?type=...&bridgeId=...&name=... bridgeType is BridgeHolding or
// BridgeMixing (Asterisk also takes comma-separated flags such as
// "mixing,dtmf_events"). A duplicate id gives 409 (ErrConflict).
func (c *Client) CreateBridge(ctx context.Context, bridgeID, bridgeType, name string) (*Bridge, error) {
	q := url.Values{}
	setIf(q, "type", bridgeType)
	setIf(q, "bridgeId", bridgeID)
	setIf(q, "name", name)
	var v Bridge
	if err := c.do(ctx, http.MethodPost, "/bridges", q, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// GetBridge returns one bridge: GET /bridges/{id}.
func (c *Client) GetBridge(ctx context.Context, bridgeID string) (*Bridge, error) {
	var v Bridge
	if err := c.do(ctx, http.MethodGet, bridgePath(bridgeID), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ListBridges lists every bridge on the node: GET /bridges.
func (c *Client) ListBridges(ctx context.Context) ([]Bridge, error) {
	var v []Bridge
	if err := c.do(ctx, http.MethodGet, "/bridges", nil, nil, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// AddChannel adds channels to a bridge: POST /bridges/{id}/addChannel?channel=...
// A channel already in another bridge is moved (ChannelLeftBridge, then
// ChannelEnteredBridge). Errors: 400 (ErrInvalid) for an unknown channel,
// 422 (ErrInvalid) for a channel not in Stasis, 404 for an unknown bridge.
func (c *Client) AddChannel(ctx context.Context, bridgeID string, p AddChannelParams) error {
	q := url.Values{"channel": {strings.Join(p.Channels, ",")}}
	setIf(q, "role", p.Role)
	if p.Mute {
		q.Set("mute", "true")
	}
	if p.AbsorbDTMF {
		q.Set("absorbDTMF", "true")
	}
	if p.InhibitConnectedLineUpdates {
		q.Set("inhibitConnectedLineUpdates", "true")
	}
	return c.do(ctx, http.MethodPost, bridgePath(bridgeID, "/addChannel"), q, nil, nil)
}

// RemoveChannel removes channels from a bridge:
// POST /bridges/{id}/removeChannel?channel=... A channel not in the bridge
// gives 422 (ErrInvalid).
func (c *Client) RemoveChannel(ctx context.Context, bridgeID string, channelIDs ...string) error {
	q := url.Values{"channel": {strings.Join(channelIDs, ",")}}
	return c.do(ctx, http.MethodPost, bridgePath(bridgeID, "/removeChannel"), q, nil, nil)
}

// StartBridgeMOH plays music on hold into a bridge: POST /bridges/{id}/moh?mohClass=...
// An empty class means the default. The music is the bridge's announcer, and
// Asterisk removes it for good when the bridge empties: start it again when
// a caller joins an empty holding bridge.
func (c *Client) StartBridgeMOH(ctx context.Context, bridgeID, class string) error {
	q := url.Values{}
	setIf(q, "mohClass", class)
	return c.do(ctx, http.MethodPost, bridgePath(bridgeID, "/moh"), q, nil, nil)
}

// StopBridgeMOH stops a bridge's music on hold: DELETE /bridges/{id}/moh.
// A bridge playing no music gives 409 (ErrConflict).
func (c *Client) StopBridgeMOH(ctx context.Context, bridgeID string) error {
	return c.do(ctx, http.MethodDelete, bridgePath(bridgeID, "/moh"), nil, nil, nil)
}

// PlayBridge starts media in a bridge with a playback id we choose:
// POST /bridges/{id}/play?media=...&playbackId=...
func (c *Client) PlayBridge(ctx context.Context, bridgeID, playbackID string, media ...string) (*Playback, error) {
	q := url.Values{"media": {strings.Join(media, ",")}}
	setIf(q, "playbackId", playbackID)
	var v Playback
	if err := c.do(ctx, http.MethodPost, bridgePath(bridgeID, "/play"), q, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// RecordBridge starts recording a bridge's mix:
// POST /bridges/{id}/record?name=...&format=...
func (c *Client) RecordBridge(ctx context.Context, bridgeID string, p RecordParams) (*LiveRecording, error) {
	var v LiveRecording
	if err := c.do(ctx, http.MethodPost, bridgePath(bridgeID, "/record"), p.query(), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// DestroyBridge destroys a bridge: DELETE /bridges/{id}. Its channels get
// ChannelLeftBridge and stay in Stasis.
func (c *Client) DestroyBridge(ctx context.Context, bridgeID string) error {
	return c.do(ctx, http.MethodDelete, bridgePath(bridgeID), nil, nil, nil)
}

// Playback control operations for ControlPlayback.
const (
	PlaybackOpRestart = "restart"
	PlaybackOpPause   = "pause"
	PlaybackOpUnpause = "unpause"
	PlaybackOpReverse = "reverse"
	PlaybackOpForward = "forward"
)

// GetPlayback returns a playback: GET /playbacks/{id}. A finished playback
// gives 404 (ErrNotFound).
func (c *Client) GetPlayback(ctx context.Context, playbackID string) (*Playback, error) {
	var v Playback
	if err := c.do(ctx, http.MethodGet, "/playbacks/"+url.PathEscape(playbackID), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// StopPlayback stops a playback: DELETE /playbacks/{id}. Its PlaybackFinished
// says state "done"; the next queued playback starts.
func (c *Client) StopPlayback(ctx context.Context, playbackID string) error {
	return c.do(ctx, http.MethodDelete, "/playbacks/"+url.PathEscape(playbackID), nil, nil, nil)
}

// ControlPlayback pauses, unpauses, restarts, rewinds or fast-forwards a
// playback: POST /playbacks/{id}/control?operation=...
func (c *Client) ControlPlayback(ctx context.Context, playbackID, operation string) error {
	q := url.Values{"operation": {operation}}
	return c.do(ctx, http.MethodPost, "/playbacks/"+url.PathEscape(playbackID)+"/control", q, nil, nil)
}

// GetLiveRecording returns a recording in progress: GET /recordings/live/{name}.
func (c *Client) GetLiveRecording(ctx context.Context, name string) (*LiveRecording, error) {
	var v LiveRecording
	if err := c.do(ctx, http.MethodGet, "/recordings/live/"+url.PathEscape(name), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// StopLiveRecording stops a recording and keeps the file:
// POST /recordings/live/{name}/stop.
func (c *Client) StopLiveRecording(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/recordings/live/"+url.PathEscape(name)+"/stop", nil, nil, nil)
}

// CancelLiveRecording stops a recording and discards the file:
// DELETE /recordings/live/{name}.
func (c *Client) CancelLiveRecording(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/recordings/live/"+url.PathEscape(name), nil, nil, nil)
}
