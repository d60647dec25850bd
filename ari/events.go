package ari

import "encoding/json"

// Event is one message from the ARI event WebSocket. Every concrete event is
// a pointer to one of the structs below; events we do not model arrive as
// *RawEvent with their type and the JSON as Asterisk sent it.
type Event interface {
	// EventType is the ARI "type" field, e.g. "StasisStart".
	EventType() string
	// Base gives the fields every event carries.
	Base() *EventBase
}

// EventBase holds the fields common to every ARI event.
type EventBase struct {
	Type        string `json:"type"`
	Application string `json:"application"`
	Timestamp   Time   `json:"timestamp"`
	AsteriskID  string `json:"asterisk_id,omitempty"`
}

// EventType returns the ARI type name.
func (b *EventBase) EventType() string { return b.Type }

// Base returns b.
func (b *EventBase) Base() *EventBase { return b }

// Event type names we decode into typed structs.
const (
	TypeStasisStart            = "StasisStart"
	TypeStasisEnd              = "StasisEnd"
	TypeChannelStateChange     = "ChannelStateChange"
	TypeChannelHangupRequest   = "ChannelHangupRequest"
	TypeChannelDestroyed       = "ChannelDestroyed"
	TypeChannelEnteredBridge   = "ChannelEnteredBridge"
	TypeChannelLeftBridge      = "ChannelLeftBridge"
	TypeChannelDtmfReceived    = "ChannelDtmfReceived"
	TypeChannelTalkingStarted  = "ChannelTalkingStarted"
	TypeChannelTalkingFinished = "ChannelTalkingFinished"
	TypeChannelVarset          = "ChannelVarset"
	TypePlaybackStarted        = "PlaybackStarted"
	TypePlaybackFinished       = "PlaybackFinished"
	TypePlaybackContinuing     = "PlaybackContinuing"
	TypeRecordingStarted       = "RecordingStarted"
	TypeRecordingFinished      = "RecordingFinished"
	TypeRecordingFailed        = "RecordingFailed"
	TypeBridgeCreated          = "BridgeCreated"
	TypeBridgeDestroyed        = "BridgeDestroyed"
	TypeApplicationReplaced    = "ApplicationReplaced"
)

// StasisStart: a channel entered the application.
type StasisStart struct {
	EventBase
	Args           []string `json:"args"`
	Channel        Channel  `json:"channel"`
	ReplaceChannel *Channel `json:"replace_channel,omitempty"`
}

// StasisEnd: a channel left the application.
type StasisEnd struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelStateChange: a channel's state changed (Ring to Up on answer).
type ChannelStateChange struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelHangupRequest: someone asked for the channel to hang up. When Soft is
// true, Cause is Asterisk's soft-hangup flag (32 explicit, 4 shutdown), not a
// Q.850 cause; the real cause arrives in ChannelDestroyed.
type ChannelHangupRequest struct {
	EventBase
	Cause     int     `json:"cause"`
	TechCause int     `json:"tech_cause,omitempty"`
	Soft      bool    `json:"soft,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelDestroyed: the channel is gone. Cause is the Q.850 cause.
type ChannelDestroyed struct {
	EventBase
	Cause     int     `json:"cause"`
	CauseTxt  string  `json:"cause_txt"`
	TechCause int     `json:"tech_cause,omitempty"`
	Channel   Channel `json:"channel"`
}

// ChannelEnteredBridge: a channel joined a bridge.
type ChannelEnteredBridge struct {
	EventBase
	Bridge  Bridge  `json:"bridge"`
	Channel Channel `json:"channel"`
}

// ChannelLeftBridge: a channel left a bridge.
type ChannelLeftBridge struct {
	EventBase
	Bridge  Bridge  `json:"bridge"`
	Channel Channel `json:"channel"`
}

// ChannelDtmfReceived: a DTMF digit arrived on a channel.
type ChannelDtmfReceived struct {
	EventBase
	Digit      string  `json:"digit"`
	DurationMs int     `json:"duration_ms"`
	Channel    Channel `json:"channel"`
}

// ChannelTalkingStarted: TALK_DETECT heard speech begin.
type ChannelTalkingStarted struct {
	EventBase
	Channel Channel `json:"channel"`
}

// ChannelTalkingFinished: TALK_DETECT heard speech end; Duration in ms.
type ChannelTalkingFinished struct {
	EventBase
	Channel  Channel `json:"channel"`
	Duration int     `json:"duration"`
}

// ChannelVarset: a channel (or global, when Channel is nil) variable was set.
type ChannelVarset struct {
	EventBase
	Variable string   `json:"variable"`
	Value    string   `json:"value"`
	Channel  *Channel `json:"channel,omitempty"`
}

// PlaybackStarted: a playback began.
type PlaybackStarted struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackFinished: a playback ended. Playback.State is "done" or "failed";
// "failed" also when the channel hung up before the media played.
type PlaybackFinished struct {
	EventBase
	Playback Playback `json:"playback"`
}

// PlaybackContinuing: a playback of several media URIs moved on to the next.
type PlaybackContinuing struct {
	EventBase
	Playback Playback `json:"playback"`
}

// RecordingStarted: a live recording began.
type RecordingStarted struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFinished: a live recording ended.
type RecordingFinished struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// RecordingFailed: a live recording failed.
type RecordingFailed struct {
	EventBase
	Recording LiveRecording `json:"recording"`
}

// BridgeCreated: a bridge was created.
type BridgeCreated struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// BridgeDestroyed: a bridge was destroyed.
type BridgeDestroyed struct {
	EventBase
	Bridge Bridge `json:"bridge"`
}

// ApplicationReplaced: another WebSocket took our application name on this
// node. The connection that receives it no longer gets events.
type ApplicationReplaced struct {
	EventBase
}

// RawEvent is any event we do not model, kept as Asterisk sent it.
type RawEvent struct {
	EventBase
	Raw json.RawMessage `json:"-"`
	// Err is set when the event has a type we model but its fields did not
	// decode; Raw still holds it.
	Err error `json:"-"`
}
