package control

import (
	"net/http"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// The host's line after Call host, like a caller's card (issue 23, point
// 6): hang it up, ringing or on air, and mute or unmute it. Muting is
// allowed to whoever may mute a caller on air, the host included (their
// cough key); hanging up stays with those who may call the host. Both
// answer the show's host lines; a hung-up line leaves them once Asterisk
// says it ended (a host event).
var (
	hangupHostControl = Control{Console: "hangup-host", Method: "POST", Path: "/host/hangup", Perm: auth.ActionLines,
		Form: func(r *http.Request) (Input, error) { return hostInput(r.PostFormValue("channel"), false) },
		JSON: func(r *http.Request) (Input, error) {
			var in api.HostLineRef
			if err := shared.DecodeJSON(r, &in); err != nil {
				return Input{}, err
			}
			return hostInput(in.ChannelID, false)
		},
		Do: func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
			return Result{}, ctl.HangupHost(r.Context(), sh.Key, in.Channel)
		},
		Said:   func(Input, Result) string { return "Hanging up the host's line." },
		Answer: hostAnswer}
	muteHostControl = Control{Console: "mute-host", Method: "POST", Path: "/host/mute", Perm: auth.ActionMute,
		Form: func(r *http.Request) (Input, error) {
			return hostInput(r.PostFormValue("channel"), r.PostFormValue("muted") == "true")
		},
		JSON: func(r *http.Request) (Input, error) {
			var in api.HostMute
			if err := shared.DecodeJSON(r, &in); err != nil {
				return Input{}, err
			}
			return hostInput(in.ChannelID, in.Muted)
		},
		Do: func(r *http.Request, ctl Audited, sh Show, in Input) (Result, error) {
			return Result{}, ctl.MuteHost(r.Context(), sh.Key, in.Channel, in.Muted)
		},
		Said: func(in Input, _ Result) string {
			if in.Muted {
				return "The host is muted."
			}
			return "The host is unmuted."
		},
		Answer: hostAnswer}
)

// hostInput checks a host line's channel.
func hostInput(channel string, muted bool) (Input, error) {
	if channel == "" {
		return Input{}, shared.Invalid("channel_id", "is required (a host line's channel_id)")
	}
	return Input{Channel: channel, Muted: muted}, nil
}

// hostAnswer is the show's host lines now.
func hostAnswer(sh Show, _ Input, _ Result) (any, error) {
	snap, err := sh.Snapshot()
	return api.HostLines{HostLines: from.HostLines(snap.Media.HostLines)}, err
}
