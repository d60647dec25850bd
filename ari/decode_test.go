package ari_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

// modelled maps every event type we decode into a struct to that struct.
var modelled = map[string]reflect.Type{
	ari.TypeStasisStart:            reflect.TypeFor[*ari.StasisStart](),
	ari.TypeStasisEnd:              reflect.TypeFor[*ari.StasisEnd](),
	ari.TypeChannelStateChange:     reflect.TypeFor[*ari.ChannelStateChange](),
	ari.TypeChannelHangupRequest:   reflect.TypeFor[*ari.ChannelHangupRequest](),
	ari.TypeChannelDestroyed:       reflect.TypeFor[*ari.ChannelDestroyed](),
	ari.TypeChannelEnteredBridge:   reflect.TypeFor[*ari.ChannelEnteredBridge](),
	ari.TypeChannelLeftBridge:      reflect.TypeFor[*ari.ChannelLeftBridge](),
	ari.TypeChannelDtmfReceived:    reflect.TypeFor[*ari.ChannelDtmfReceived](),
	ari.TypeChannelTalkingStarted:  reflect.TypeFor[*ari.ChannelTalkingStarted](),
	ari.TypeChannelTalkingFinished: reflect.TypeFor[*ari.ChannelTalkingFinished](),
	ari.TypeChannelVarset:          reflect.TypeFor[*ari.ChannelVarset](),
	ari.TypePlaybackStarted:        reflect.TypeFor[*ari.PlaybackStarted](),
	ari.TypePlaybackFinished:       reflect.TypeFor[*ari.PlaybackFinished](),
	ari.TypeRecordingStarted:       reflect.TypeFor[*ari.RecordingStarted](),
	ari.TypeRecordingFinished:      reflect.TypeFor[*ari.RecordingFinished](),
	ari.TypeRecordingFailed:        reflect.TypeFor[*ari.RecordingFailed](),
	ari.TypeBridgeCreated:          reflect.TypeFor[*ari.BridgeCreated](),
	ari.TypeBridgeDestroyed:        reflect.TypeFor[*ari.BridgeDestroyed](),
	ari.TypeApplicationReplaced:    reflect.TypeFor[*ari.ApplicationReplaced](),
}

// TestDecodeTraceEvents decodes every event Asterisk sent in traces 01–07
// and checks that each field of the typed struct holds what the JSON said:
// the struct is encoded again and every key it produces must equal the
// original's.
func TestDecodeTraceEvents(t *testing.T) {
	t.Parallel()
	for _, file := range traceFiles {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			typed := map[string]int{}
			for i, data := range traceEvents(t, file) {
				var orig map[string]any
				if err := json.Unmarshal(data, &orig); err != nil {
					t.Fatal(err)
				}
				typ := orig["type"].(string)
				ev, err := ari.DecodeEvent(data)
				if err != nil {
					t.Fatalf("event %d (%s): %v", i, typ, err)
				}
				if got := ev.EventType(); got != typ {
					t.Errorf("event %d: EventType() = %q, want %q", i, got, typ)
				}
				if ev.Base().Application != "callin" || ev.Base().Timestamp.IsZero() {
					t.Errorf("event %d (%s): base = %+v, want application callin and a timestamp", i, typ, *ev.Base())
				}
				wantType, ok := modelled[typ]
				if !ok {
					raw, isRaw := ev.(*ari.RawEvent)
					if !isRaw {
						t.Fatalf("event %d: %s decoded as %T, want *ari.RawEvent", i, typ, ev)
					}
					if !bytes.Equal(raw.Raw, data) || raw.Err != nil {
						t.Errorf("event %d: RawEvent = %s, %v; want the input and no error", i, raw.Raw, raw.Err)
					}
					continue
				}
				if reflect.TypeOf(ev) != wantType {
					t.Fatalf("event %d: %s decoded as %T, want %v", i, typ, ev, wantType)
				}
				typed[typ]++
				enc, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				var back map[string]any
				if err := json.Unmarshal(enc, &back); err != nil {
					t.Fatal(err)
				}
				if path, ok := subset(back, orig, typ); !ok {
					t.Errorf("event %d (%s): field %s differs from the JSON\n got %s\nwant %s", i, typ, path, enc, data)
				}
				checkIDs(t, i, ev, orig)
			}
			if len(typed) == 0 {
				t.Error("no typed events")
			}
		})
	}
}

// subset reports whether every key of got has the same value in want
// (recursively for objects); a key missing from want must hold a zero value.
func subset(got, want any, path string) (string, bool) {
	switch g := got.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			return path, false
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok {
				if gv == nil || gv == "" || gv == false || gv == float64(0) {
					continue
				}
				return path + "." + k, false
			}
			if p, ok := subset(gv, wv, path+"."+k); !ok {
				return p, false
			}
		}
		return path, true
	default:
		return path, reflect.DeepEqual(got, want)
	}
}

// checkIDs compares ChannelID and BridgeID with the ids in the JSON.
func checkIDs(t *testing.T, i int, ev ari.Event, orig map[string]any) {
	t.Helper()
	id := func(key string) string {
		if m, ok := orig[key].(map[string]any); ok {
			s, _ := m["id"].(string)
			return s
		}
		return ""
	}
	wantCh, wantBr := id("channel"), id("bridge")
	for _, key := range []string{"playback", "recording"} {
		if m, ok := orig[key].(map[string]any); ok {
			target := m["target_uri"].(string)
			fmt.Sscanf(target, "channel:%s", &wantCh)
			fmt.Sscanf(target, "bridge:%s", &wantBr)
		}
	}
	if got := ari.ChannelID(ev); got != wantCh {
		t.Errorf("event %d (%s): ChannelID = %q, want %q", i, ev.EventType(), got, wantCh)
	}
	if got := ari.BridgeID(ev); got != wantBr {
		t.Errorf("event %d (%s): BridgeID = %q, want %q", i, ev.EventType(), got, wantBr)
	}
}

// TestDecodeTraceFields spot-checks fields the application depends on.
func TestDecodeTraceFields(t *testing.T) {
	t.Parallel()
	find := func(t *testing.T, file string, match func(ari.Event) bool) ari.Event {
		t.Helper()
		for _, data := range traceEvents(t, file) {
			ev, err := ari.DecodeEvent(data)
			if err != nil {
				t.Fatal(err)
			}
			if match(ev) {
				return ev
			}
		}
		t.Fatalf("%s: no matching event", file)
		return nil
	}
	t.Run("StasisStart", func(t *testing.T) {
		ev := find(t, traceFiles[0], func(e ari.Event) bool { _, ok := e.(*ari.StasisStart); return ok }).(*ari.StasisStart)
		want := time.Date(2026, 11, 26, 6, 8, 54, 762e6, time.UTC)
		if ev.Channel.ID != "a1-in" || ev.Channel.State != ari.StateRing || len(ev.Args) != 1 || ev.Args[0] != "show1" ||
			ev.Channel.Caller.Number != "5551001" || !ev.Channel.CreationTime.Equal(want) || !ev.Timestamp.Equal(want) {
			t.Errorf("got %+v", ev)
		}
	})
	t.Run("ChannelDestroyed", func(t *testing.T) {
		ev := find(t, traceFiles[3], func(e ari.Event) bool { _, ok := e.(*ari.ChannelDestroyed); return ok }).(*ari.ChannelDestroyed)
		if ev.Cause != 16 || ev.CauseTxt != "Normal Clearing" {
			t.Errorf("got cause %d %q, want 16 Normal Clearing", ev.Cause, ev.CauseTxt)
		}
	})
	t.Run("SoftHangupRequest", func(t *testing.T) {
		ev := find(t, traceFiles[3], func(e ari.Event) bool {
			h, ok := e.(*ari.ChannelHangupRequest)
			return ok && h.Soft
		}).(*ari.ChannelHangupRequest)
		if ev.Cause != 32 {
			t.Errorf("got cause %d, want 32 (soft-hangup flag)", ev.Cause)
		}
	})
	t.Run("PlaybackFinishedFailed", func(t *testing.T) {
		ev := find(t, traceFiles[2], func(e ari.Event) bool { _, ok := e.(*ari.PlaybackFinished); return ok }).(*ari.PlaybackFinished)
		if ev.Playback.ID != "c-pb1" || ev.Playback.State != ari.PlaybackFailed || ari.ChannelID(ev) != "c1-in" || ari.PlaybackID(ev) != "c-pb1" {
			t.Errorf("got %+v", ev.Playback)
		}
	})
	t.Run("TalkingFinished", func(t *testing.T) {
		ev := find(t, traceFiles[5], func(e ari.Event) bool { _, ok := e.(*ari.ChannelTalkingFinished); return ok }).(*ari.ChannelTalkingFinished)
		if ev.Duration != 2985 || ev.Channel.ID != "f-in" {
			t.Errorf("got %d on %s, want 2985 on f-in", ev.Duration, ev.Channel.ID)
		}
	})
	t.Run("Dtmf", func(t *testing.T) {
		ev := find(t, traceFiles[5], func(e ari.Event) bool { _, ok := e.(*ari.ChannelDtmfReceived); return ok }).(*ari.ChannelDtmfReceived)
		if ev.Digit != "1" || ev.DurationMs != 150 {
			t.Errorf("got %q %d, want 1 150", ev.Digit, ev.DurationMs)
		}
	})
	t.Run("EnteredBridge", func(t *testing.T) {
		ev := find(t, traceFiles[0], func(e ari.Event) bool { _, ok := e.(*ari.ChannelEnteredBridge); return ok }).(*ari.ChannelEnteredBridge)
		if ev.Bridge.ID != "a-hold" || ev.Bridge.BridgeType != ari.BridgeHolding || len(ev.Bridge.Channels) != 1 || ev.Channel.ID != "a1-in" {
			t.Errorf("got bridge %+v channel %s", ev.Bridge, ev.Channel.ID)
		}
	})
}

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	t.Run("NestedTypeFirst", func(t *testing.T) {
		data := []byte(`{"userevent":{"type":"StasisEnd"},"type":"ChannelUserevent","application":"callin","timestamp":"2026-11-26T06:08:54.762+0000"}`)
		ev, err := ari.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := ev.(*ari.RawEvent)
		if !ok || raw.Type != "ChannelUserevent" || !bytes.Equal(raw.Raw, data) {
			t.Errorf("got %T %+v, want RawEvent ChannelUserevent", ev, ev)
		}
	})
	t.Run("NestedTypeOfModelledEvent", func(t *testing.T) {
		data := []byte(`{"x":{"type":"StasisEnd"},"type":"StasisStart","args":["a"],"channel":{"id":"c1"}}`)
		ev, err := ari.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := ev.(*ari.StasisStart); !ok || s.Channel.ID != "c1" {
			t.Errorf("got %T %+v, want StasisStart on c1", ev, ev)
		}
	})
	t.Run("PlaybackContinuing", func(t *testing.T) {
		ev, err := ari.DecodeEvent([]byte(`{"type":"PlaybackContinuing","playback":{"id":"p1","media_uri":"sound:a","next_media_uri":"sound:b","target_uri":"channel:c1","state":"playing"}}`))
		if err != nil {
			t.Fatal(err)
		}
		p, ok := ev.(*ari.PlaybackContinuing)
		if !ok || p.Playback.NextMediaURI != "sound:b" {
			t.Fatalf("got %T %+v, want PlaybackContinuing", ev, ev)
		}
		if got := ari.ChannelID(ev); got != "c1" {
			t.Errorf("ChannelID = %q, want c1", got)
		}
		if got := ari.PlaybackID(ev); got != "p1" {
			t.Errorf("PlaybackID = %q, want p1", got)
		}
	})
	t.Run("SpacesAroundColon", func(t *testing.T) {
		ev, err := ari.DecodeEvent([]byte(`{ "type" : "StasisEnd", "channel": {"id": "c1"} }`))
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := ev.(*ari.StasisEnd); !ok || s.Channel.ID != "c1" {
			t.Errorf("got %T %+v", ev, ev)
		}
	})
	t.Run("BadFieldKeptRaw", func(t *testing.T) {
		data := []byte(`{"type":"ChannelDestroyed","cause":"sixteen","channel":{"id":"c1"}}`)
		ev, err := ari.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := ev.(*ari.RawEvent)
		if !ok || raw.Type != ari.TypeChannelDestroyed || raw.Err == nil || !bytes.Equal(raw.Raw, data) {
			t.Errorf("got %T %+v, want RawEvent with Err", ev, ev)
		}
	})
	t.Run("ReusedBuffer", func(t *testing.T) {
		buf := []byte(`{"type":"Unknown","application":"callin"}`)
		ev, err := ari.DecodeEvent(buf)
		if err != nil {
			t.Fatal(err)
		}
		copy(buf, bytes.Repeat([]byte("x"), len(buf)))
		if got := string(ev.(*ari.RawEvent).Raw); got != `{"type":"Unknown","application":"callin"}` {
			t.Errorf("Raw changed with the input buffer: %s", got)
		}
	})
	for name, data := range map[string]string{
		"NotJSON":    `not json`,
		"NoType":     `{"application":"callin"}`,
		"NumberType": `{"type":5}`,
		"Truncated":  `{"type":"StasisStart","channel":{"id":`,
	} {
		t.Run("Err"+name, func(t *testing.T) {
			ev, err := ari.DecodeEvent([]byte(data))
			if err == nil {
				t.Errorf("got %T %+v, want an error", ev, ev)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev             ari.Event
		channel, bridg string
	}{
		{&ari.PlaybackStarted{Playback: ari.Playback{TargetURI: "bridge:b1"}}, "", "b1"},
		{&ari.PlaybackFinished{Playback: ari.Playback{TargetURI: "channel:c1"}}, "c1", ""},
		{&ari.RecordingStarted{Recording: ari.LiveRecording{TargetURI: "bridge:air"}}, "", "air"},
		{&ari.ChannelVarset{}, "", ""},
		{&ari.ChannelLeftBridge{Channel: ari.Channel{ID: "c2"}, Bridge: ari.Bridge{ID: "b2"}}, "c2", "b2"},
		{&ari.Connected{}, "", ""},
		{&ari.RawEvent{}, "", ""},
	}
	for _, tt := range tests {
		if got := ari.ChannelID(tt.ev); got != tt.channel {
			t.Errorf("ChannelID(%T) = %q, want %q", tt.ev, got, tt.channel)
		}
		if got := ari.BridgeID(tt.ev); got != tt.bridg {
			t.Errorf("BridgeID(%T) = %q, want %q", tt.ev, got, tt.bridg)
		}
	}
}

func TestErrorIs(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]error{400: ari.ErrInvalid, 422: ari.ErrInvalid, 404: ari.ErrNotFound, 409: ari.ErrConflict, 401: ari.ErrUnauthorized} {
		err := fmt.Errorf("wrapped: %w", &ari.Error{Status: status})
		if !errors.Is(err, want) {
			t.Errorf("status %d: errors.Is(%v) = false", status, want)
		}
		for _, other := range []error{ari.ErrInvalid, ari.ErrNotFound, ari.ErrConflict, ari.ErrUnauthorized} {
			if other != want && errors.Is(err, other) {
				t.Errorf("status %d matches %v too", status, other)
			}
		}
	}
	if err := (&ari.Error{Status: 500}); errors.Is(err, ari.ErrInvalid) || errors.Is(err, ari.ErrNotFound) {
		t.Error("500 matches a 4xx sentinel")
	}
}
