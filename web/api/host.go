package api

import (
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// HostLine is one of the host's lines, ringing or on air: schema
// HostLine.
type HostLine struct {
	ChannelID string              `json:"channel_id"`
	Endpoint  string              `json:"endpoint,omitempty" doc:"The phone callin rang (Call host); absent for a host who dialled in."`
	State     broadcast.HostState `json:"state" doc:"ringing until the host answers, then on_air; failed when Asterisk answered the line but did not put it on air: callin hung it up, and it stays listed, saying why, until the next host/call or a host/hangup of it."`
	Since     time.Time           `json:"since" doc:"When callin rang the line, when it went on air, or when it failed."`
	Muted     bool                `json:"muted" doc:"The host's voice is kept off the air."`
	Error     string              `json:"error,omitempty" doc:"Why a failed line is not on air."`
}

// HostLines are a show's host lines: schema HostLines (also the data of a
// host event).
type HostLines struct {
	HostLines []HostLine `json:"host_lines"`
}

// HostLineRef names a host line: the body of host/hangup.
type HostLineRef struct {
	ChannelID string `json:"channel_id" doc:"The host line's channel_id."`
}

// HostMute mutes or unmutes a host line: the body of host/mute.
type HostMute struct {
	ChannelID string `json:"channel_id" doc:"The host line's channel_id."`
	Muted     bool   `json:"muted"`
}
