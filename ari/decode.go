package ari

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DecodeEvent decodes one ARI event message into its typed struct, chosen by
// the "type" field; a type we do not model becomes *RawEvent holding a copy
// of data. A modelled type whose fields fail to decode also becomes a
// *RawEvent, with Err set, so nothing is lost. DecodeEvent fails only when
// data is not a JSON object with a string "type". It does not keep data.
func DecodeEvent(data []byte) (Event, error) {
	// Peek the type without a full parse, then parse once into the right
	// struct. The peek can be fooled by a nested "type" key that comes
	// before the top-level one; the decoded Type catches that.
	typ := peekType(data)
	if typ == nil {
		return decodeSlow(data)
	}
	ev := newEvent(typ)
	if ev == nil {
		raw, err := rawEvent(data, nil)
		if err != nil || raw.EventType() == string(typ) {
			return raw, err
		}
		return decodeSlow(data)
	}
	err := json.Unmarshal(data, ev)
	switch {
	case err != nil:
		return rawEvent(data, err)
	case ev.EventType() != string(typ):
		return decodeSlow(data)
	}
	return ev, nil
}

// decodeSlow reads the top-level type with a full parse, then decodes.
func decodeSlow(data []byte) (Event, error) {
	var base EventBase
	if err := json.Unmarshal(data, &base); err != nil {
		return nil, fmt.Errorf("ari: decode event: %w", err)
	}
	if base.Type == "" {
		return nil, errors.New(`ari: decode event: no "type"`)
	}
	ev := newEvent([]byte(base.Type))
	if ev == nil {
		return rawEvent(data, nil)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return rawEvent(data, err)
	}
	return ev, nil
}

func rawEvent(data []byte, cause error) (Event, error) {
	r := &RawEvent{Raw: bytes.Clone(data)}
	if err := json.Unmarshal(data, &r.EventBase); err != nil && r.Type == "" {
		return nil, fmt.Errorf("ari: decode event: %w", err)
	}
	if cause != nil {
		r.Err = fmt.Errorf("ari: decode %s: %w", r.Type, cause)
	}
	return r, nil
}

var typeKey = []byte(`"type"`)

// peekType returns the value of the first "type" key in data, or nil.
func peekType(data []byte) []byte {
	i := bytes.Index(data, typeKey)
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(data[i+len(typeKey):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return nil
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return nil
	}
	return rest[:j]
}

// newEvent returns a new typed event for typ, or nil for a type we do not
// model.
func newEvent(typ []byte) Event {
	switch string(typ) {
	case TypeStasisStart:
		return new(StasisStart)
	case TypeStasisEnd:
		return new(StasisEnd)
	case TypeChannelStateChange:
		return new(ChannelStateChange)
	case TypeChannelHangupRequest:
		return new(ChannelHangupRequest)
	case TypeChannelDestroyed:
		return new(ChannelDestroyed)
	case TypeChannelEnteredBridge:
		return new(ChannelEnteredBridge)
	case TypeChannelLeftBridge:
		return new(ChannelLeftBridge)
	case TypeChannelDtmfReceived:
		return new(ChannelDtmfReceived)
	case TypeChannelTalkingStarted:
		return new(ChannelTalkingStarted)
	case TypeChannelTalkingFinished:
		return new(ChannelTalkingFinished)
	case TypeChannelVarset:
		return new(ChannelVarset)
	case TypePlaybackStarted:
		return new(PlaybackStarted)
	case TypePlaybackFinished:
		return new(PlaybackFinished)
	case TypePlaybackContinuing:
		return new(PlaybackContinuing)
	case TypeRecordingStarted:
		return new(RecordingStarted)
	case TypeRecordingFinished:
		return new(RecordingFinished)
	case TypeRecordingFailed:
		return new(RecordingFailed)
	case TypeBridgeCreated:
		return new(BridgeCreated)
	case TypeBridgeDestroyed:
		return new(BridgeDestroyed)
	case TypeApplicationReplaced:
		return new(ApplicationReplaced)
	}
	return nil
}

// ChannelID returns the id of the channel e is about, or "". Playback and
// recording events name their channel through a "channel:" target URI;
// bridge events and events we do not model give "".
func ChannelID(e Event) string {
	switch e := e.(type) {
	case *StasisStart:
		return e.Channel.ID
	case *StasisEnd:
		return e.Channel.ID
	case *ChannelStateChange:
		return e.Channel.ID
	case *ChannelHangupRequest:
		return e.Channel.ID
	case *ChannelDestroyed:
		return e.Channel.ID
	case *ChannelEnteredBridge:
		return e.Channel.ID
	case *ChannelLeftBridge:
		return e.Channel.ID
	case *ChannelDtmfReceived:
		return e.Channel.ID
	case *ChannelTalkingStarted:
		return e.Channel.ID
	case *ChannelTalkingFinished:
		return e.Channel.ID
	case *ChannelVarset:
		if e.Channel != nil {
			return e.Channel.ID
		}
	}
	return targetID(mediaTarget(e), "channel:")
}

// BridgeID returns the id of the bridge e is about, or "": the bridge of
// bridge events and of ChannelEnteredBridge/ChannelLeftBridge, and the
// target of playbacks and recordings on a bridge.
func BridgeID(e Event) string {
	switch e := e.(type) {
	case *ChannelEnteredBridge:
		return e.Bridge.ID
	case *ChannelLeftBridge:
		return e.Bridge.ID
	case *BridgeCreated:
		return e.Bridge.ID
	case *BridgeDestroyed:
		return e.Bridge.ID
	}
	return targetID(mediaTarget(e), "bridge:")
}

// mediaTarget is the target URI ("channel:ID", "bridge:ID") of a playback
// or recording event, or "".
func mediaTarget(e Event) string {
	if p := playbackOf(e); p != nil {
		return p.TargetURI
	}
	var r *LiveRecording
	switch e := e.(type) {
	case *RecordingStarted:
		r = &e.Recording
	case *RecordingFinished:
		r = &e.Recording
	case *RecordingFailed:
		r = &e.Recording
	}
	if r != nil {
		return r.TargetURI
	}
	return ""
}

// PlaybackID returns the playback id of a PlaybackStarted,
// PlaybackContinuing or PlaybackFinished event, or "".
func PlaybackID(e Event) string {
	if p := playbackOf(e); p != nil {
		return p.ID
	}
	return ""
}

// playbackOf is the playback a playback event is about, or nil.
func playbackOf(e Event) *Playback {
	switch e := e.(type) {
	case *PlaybackStarted:
		return &e.Playback
	case *PlaybackFinished:
		return &e.Playback
	case *PlaybackContinuing:
		return &e.Playback
	}
	return nil
}

func targetID(uri, prefix string) string {
	id, ok := strings.CutPrefix(uri, prefix)
	if !ok {
		return ""
	}
	return id
}
