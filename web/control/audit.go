package control

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// Audit returns ctl for r's principal: every change is logged to log with
// who made it, since broadcast's Controls take no actor. Every show
// control, of the console and of the API, goes through it.
func Audit(ctl Controls, log *slog.Logger, r *http.Request) Audited {
	return Audited{Controls: ctl, log: log, r: r}
}

// audit logs one show control change: who (user or token), which show,
// what, and the error if it failed.
func (c Audited) audit(show, action string, err error, attrs ...any) {
	r := c.r
	p, _ := shared.Principal(r)
	level, msg := slog.LevelInfo, "web: show control"
	attrs = append([]any{"show", show, "action", action, "user", p.Name, "kind", string(p.Kind), "role", string(p.Role)}, attrs...)
	if err != nil {
		level, msg = slog.LevelWarn, "web: show control failed"
		attrs = append(attrs, "err", err)
	}
	c.log.Log(r.Context(), level, msg, attrs...)
}

// Audited is Controls that logs each change with the principal.
type Audited struct {
	Controls
	log *slog.Logger
	r   *http.Request
}

func (c Audited) SetLinesOpen(show string, open bool) error {
	err := c.Controls.SetLinesOpen(show, open)
	c.audit(show, "lines", err, "open", open)
	return err
}

func (c Audited) SetAnnounceEvery(show string, every time.Duration) error {
	err := c.Controls.SetAnnounceEvery(show, every)
	c.audit(show, "announce_interval", err, "every", every.String())
	return err
}

func (c Audited) ClearAir(ctx context.Context, show string, actor queue.Actor, how string, opts broadcast.DropOptions) (broadcast.AirCleared, error) {
	out, err := c.Controls.ClearAir(ctx, show, actor, how, opts)
	c.audit(show, "clear_air", err, "how", how, "cleared", len(out.Cleared), "locked", len(out.Locked))
	return out, err
}

func (c Audited) StartRecording(ctx context.Context, show string) (broadcast.RecordingState, error) {
	st, err := c.Controls.StartRecording(ctx, show)
	c.audit(show, "recording", err, "on", true)
	return st, err
}

func (c Audited) StopRecording(ctx context.Context, show string) (broadcast.RecordingState, error) {
	st, err := c.Controls.StopRecording(ctx, show)
	c.audit(show, "recording", err, "on", false)
	return st, err
}

func (c Audited) StartTalkback(ctx context.Context, show string, opts broadcast.TalkbackOptions) error {
	err := c.Controls.StartTalkback(ctx, show, opts)
	c.audit(show, "talkback", err, "on", true, "endpoint", opts.Endpoint)
	return err
}

func (c Audited) StopTalkback(ctx context.Context, show string) error {
	err := c.Controls.StopTalkback(ctx, show)
	c.audit(show, "talkback", err, "on", false)
	return err
}

func (c Audited) SetCapacity(show string, n int) error {
	err := c.Controls.SetCapacity(show, n)
	c.audit(show, "capacity", err, "capacity", n)
	return err
}

func (c Audited) SetMaxOnAir(show string, n int) error {
	err := c.Controls.SetMaxOnAir(show, n)
	c.audit(show, "max_on_air", err, "max_on_air", n)
	return err
}

func (c Audited) JoinHost(ctx context.Context, show, endpoint string) (string, error) {
	ch, err := c.Controls.JoinHost(ctx, show, endpoint)
	c.audit(show, "call_host", err, "channel", ch)
	return ch, err
}

func (c Audited) HangupHost(ctx context.Context, show, channel string) error {
	err := c.Controls.HangupHost(ctx, show, channel)
	c.audit(show, "hangup_host", err, "channel", channel)
	return err
}

func (c Audited) MuteHost(ctx context.Context, show, channel string, muted bool) error {
	err := c.Controls.MuteHost(ctx, show, channel, muted)
	c.audit(show, "mute_host", err, "channel", channel, "muted", muted)
	return err
}

func (c Audited) SetStudio(ctx context.Context, show, node string) error {
	err := c.Controls.SetStudio(ctx, show, node)
	c.audit(show, "studio", err, "node", node)
	return err
}

func (c Audited) AddShowNode(ctx context.Context, show, node, url string) error {
	err := c.Controls.AddShowNode(ctx, show, node, url)
	c.audit(show, "add_node", err, "node", node, "url", url)
	return err
}

// SetAirLimit sets when every console of sh's show warns that a caller is
// on air too long: the consoles' own setting, not broadcast's.
func (c Audited) SetAirLimit(sh Show, d time.Duration) {
	sh.SetAirLimit(d)
	c.audit(sh.Key, "air_limit", nil, "minutes", int(d/time.Minute))
}
