package ari

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is the layout Asterisk uses for every timestamp in ARI JSON:
// milliseconds and a numeric zone without a colon ("2026-11-26T06:08:54.762+0000").
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Time is a timestamp in Asterisk's JSON layout. The zero Time encodes as "".
type Time struct{ time.Time }

// MarshalJSON encodes t in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes TimeLayout, RFC 3339 or an empty string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) || bytes.Equal(b, []byte(`""`)) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("ari: time %s is not a string", b)
	}
	if v, ok := parseTime(b[1 : len(b)-1]); ok {
		t.Time = v
		return nil
	}
	s := string(b[1 : len(b)-1])
	v, err := time.Parse(TimeLayout, s)
	if err != nil {
		v, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("ari: bad time %q", s)
		}
	}
	t.Time = v
	return nil
}

// Channel states as Asterisk names them.
const (
	StateDown = "Down"
	StateRing = "Ring"
	StateUp   = "Up"
)

// Bridge types for CreateBridge.
const (
	BridgeHolding = "holding"
	BridgeMixing  = "mixing"
)

// Bridge roles for AddChannel. A holding bridge has one announcer (bridge music
// on hold is itself that announcer) and any number of participants.
const (
	RoleParticipant = "participant"
	RoleAnnouncer   = "announcer"
)

// Mute directions.
const (
	DirIn   = "in"
	DirOut  = "out"
	DirBoth = "both"
)

// Playback states.
const (
	PlaybackQueued  = "queued"
	PlaybackPlaying = "playing"
	PlaybackDone    = "done"
	PlaybackFailed  = "failed"
)

// CallerID is a name and number pair.
type CallerID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// DialplanCEP is a dialplan location: context, extension, priority.
type DialplanCEP struct {
	Context  string `json:"context"`
	Exten    string `json:"exten"`
	Priority int64  `json:"priority"`
	AppName  string `json:"app_name"`
	AppData  string `json:"app_data"`
}

// Channel is an Asterisk channel as ARI describes it.
type Channel struct {
	ID           string            `json:"id"`
	ProtocolID   string            `json:"protocol_id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	Caller       CallerID          `json:"caller"`
	Connected    CallerID          `json:"connected"`
	AccountCode  string            `json:"accountcode"`
	Dialplan     DialplanCEP       `json:"dialplan"`
	CreationTime Time              `json:"creationtime"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars,omitempty"`
}

// Bridge is an Asterisk bridge.
type Bridge struct {
	ID           string   `json:"id"`
	Technology   string   `json:"technology"`
	BridgeType   string   `json:"bridge_type"`
	BridgeClass  string   `json:"bridge_class"`
	Creator      string   `json:"creator"`
	Name         string   `json:"name"`
	Channels     []string `json:"channels"`
	VideoMode    string   `json:"video_mode,omitempty"`
	CreationTime Time     `json:"creationtime"`
}

// Playback is a media playback on a channel or bridge.
type Playback struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	TargetURI    string `json:"target_uri"`
	Language     string `json:"language"`
	State        string `json:"state"`
}

// LiveRecording is a recording in progress (or just ended).
type LiveRecording struct {
	Name            string `json:"name"`
	Format          string `json:"format"`
	TargetURI       string `json:"target_uri"`
	State           string `json:"state"`
	Duration        int    `json:"duration,omitempty"`
	TalkingDuration int    `json:"talking_duration,omitempty"`
	SilenceDuration int    `json:"silence_duration,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

// Application is a Stasis application's registration.
type Application struct {
	Name        string   `json:"name"`
	ChannelIDs  []string `json:"channel_ids"`
	BridgeIDs   []string `json:"bridge_ids"`
	EndpointIDs []string `json:"endpoint_ids"`
	DeviceNames []string `json:"device_names"`
}

// AsteriskInfo is GET /asterisk/info, reduced to what we read.
type AsteriskInfo struct {
	Build  json.RawMessage `json:"build,omitempty"`
	System struct {
		Version  string `json:"version"`
		EntityID string `json:"entity_id"`
	} `json:"system"`
	Config json.RawMessage `json:"config,omitempty"`
	Status struct {
		StartupTime    Time `json:"startup_time"`
		LastReloadTime Time `json:"last_reload_time"`
	} `json:"status"`
}

// AsteriskPing is GET /asterisk/ping.
type AsteriskPing struct {
	AsteriskID string `json:"asterisk_id"`
	Ping       string `json:"ping"`
	Timestamp  string `json:"timestamp"`
}

// RTPStats is GET /channels/{id}/rtp_statistics: the RTP and RTCP
// statistics of a SIP channel's audio (trace 16). Asterisk names some
// fields from the RTCP report's side, not its own: TxJitter is the jitter
// Asterisk measures on the audio it receives from the phone (in trace 16 it
// matched LocalNormDevJitter) and RxJitter the jitter the phone reports in
// RTCP; RxPloss counts packets from the phone that Asterisk found missing
// and TxPloss those the phone reports missing. local_* are Asterisk's own
// measurements, remote_* and the round-trip times come from the phone's
// RTCP reports, so they stay 0 for a phone that sends none (the sipp
// caller of trace 16). Jitter and round-trip times are in seconds; the
// normdev fields are running averages. MES is the media experience score
// (0 to 100; Asterisk 21 and later, 0 before).
type RTPStats struct {
	TxCount      int64 `json:"txcount"`      // packets sent to the phone
	RxCount      int64 `json:"rxcount"`      // packets received from it
	TxOctetCount int64 `json:"txoctetcount"` // octets sent
	RxOctetCount int64 `json:"rxoctetcount"` // octets received
	TxPloss      int64 `json:"txploss"`      // packets the phone reports lost (RTCP)
	RxPloss      int64 `json:"rxploss"`      // packets from the phone Asterisk found lost

	TxJitter float64 `json:"txjitter"` // seconds: Asterisk's measure of the phone's audio
	RxJitter float64 `json:"rxjitter"` // seconds: the phone's measure, from RTCP

	RemoteMaxJitter     float64 `json:"remote_maxjitter"`
	RemoteMinJitter     float64 `json:"remote_minjitter"`
	RemoteNormDevJitter float64 `json:"remote_normdevjitter"`
	RemoteStdevJitter   float64 `json:"remote_stdevjitter"`
	LocalMaxJitter      float64 `json:"local_maxjitter"`
	LocalMinJitter      float64 `json:"local_minjitter"`
	LocalNormDevJitter  float64 `json:"local_normdevjitter"`
	LocalStdevJitter    float64 `json:"local_stdevjitter"`

	RemoteMaxRxPloss     float64 `json:"remote_maxrxploss"`
	RemoteMinRxPloss     float64 `json:"remote_minrxploss"`
	RemoteNormDevRxPloss float64 `json:"remote_normdevrxploss"`
	RemoteStdevRxPloss   float64 `json:"remote_stdevrxploss"`
	LocalMaxRxPloss      float64 `json:"local_maxrxploss"`
	LocalMinRxPloss      float64 `json:"local_minrxploss"`
	LocalNormDevRxPloss  float64 `json:"local_normdevrxploss"`
	LocalStdevRxPloss    float64 `json:"local_stdevrxploss"`

	RTT        float64 `json:"rtt"` // seconds, the last round trip measured by RTCP
	MaxRTT     float64 `json:"maxrtt"`
	MinRTT     float64 `json:"minrtt"`
	NormDevRTT float64 `json:"normdevrtt"`
	StdevRTT   float64 `json:"stdevrtt"`

	TxMES            float64 `json:"txmes"`
	RxMES            float64 `json:"rxmes"`
	RemoteMaxMES     float64 `json:"remote_maxmes"`
	RemoteMinMES     float64 `json:"remote_minmes"`
	RemoteNormDevMES float64 `json:"remote_normdevmes"`
	RemoteStdevMES   float64 `json:"remote_stdevmes"`
	LocalMaxMES      float64 `json:"local_maxmes"`
	LocalMinMES      float64 `json:"local_minmes"`
	LocalNormDevMES  float64 `json:"local_normdevmes"`
	LocalStdevMES    float64 `json:"local_stdevmes"`

	LocalSSRC       uint32 `json:"local_ssrc"`
	RemoteSSRC      uint32 `json:"remote_ssrc"`
	ChannelUniqueID string `json:"channel_uniqueid"` // the channel whose RTP this is
}

// parseTime parses TimeLayout without allocating (every event carries two
// or three timestamps). It reports false for anything else, and for values
// out of range, which time.Parse then handles or rejects.
func parseTime(b []byte) (time.Time, bool) {
	if !timeShape(b) {
		return time.Time{}, false
	}
	ok := true
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				ok = false
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	zh, zm := num(24, 2), num(26, 2)
	if !ok || !clockRange(month, day, hour, minute, sec, zm) {
		return time.Time{}, false
	}
	loc := time.UTC
	if off := (zh*60 + zm) * 60; off != 0 {
		if b[23] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	v := time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, loc)
	if v.Day() != day { // e.g. February 30th
		return time.Time{}, false
	}
	return v, true
}

// timeShape reports whether b has TimeLayout's length and separators.
func timeShape(b []byte) bool {
	return len(b) == len(TimeLayout) && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' &&
		b[16] == ':' && b[19] == '.' && (b[23] == '+' || b[23] == '-')
}

// clockRange reports whether a parsed timestamp's fields are in range
// (the day of the month is checked against the month afterwards).
func clockRange(month, day, hour, minute, sec, zoneMinute int) bool {
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && sec <= 59 && zoneMinute <= 59
}
