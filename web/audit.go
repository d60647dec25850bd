package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// controls returns the show controls for r's principal: every change is
// logged with who made it, since broadcast's Controls take no actor.
func (s *core) controls(r *http.Request) auditedControls {
	return auditedControls{Controls: s.cfg.Controls, s: s, r: r}
}

// audit logs one show control change: who (user or token), which show,
// what, and the error if it failed.
func (s *core) audit(r *http.Request, show, action string, err error, attrs ...any) {
	p, _ := shared.Principal(r)
	level, msg := slog.LevelInfo, "web: show control"
	attrs = append([]any{"show", show, "action", action, "user", p.Name, "kind", string(p.Kind), "role", string(p.Role)}, attrs...)
	if err != nil {
		level, msg = slog.LevelWarn, "web: show control failed"
		attrs = append(attrs, "err", err)
	}
	s.log.Log(r.Context(), level, msg, attrs...)
}

// auditedControls is Controls that logs each change with the principal.
type auditedControls struct {
	Controls
	s *core
	r *http.Request
}

func (c auditedControls) SetLinesOpen(show string, open bool) error {
	err := c.Controls.SetLinesOpen(show, open)
	c.s.audit(c.r, show, "lines", err, "open", open)
	return err
}

func (c auditedControls) SetAnnounceEvery(show string, every time.Duration) error {
	err := c.Controls.SetAnnounceEvery(show, every)
	c.s.audit(c.r, show, "announce_interval", err, "every", every.String())
	return err
}

func (c auditedControls) ClearAir(ctx context.Context, show string, actor queue.Actor, how string, opts broadcast.DropOptions) (broadcast.AirCleared, error) {
	out, err := c.Controls.ClearAir(ctx, show, actor, how, opts)
	c.s.audit(c.r, show, "clear_air", err, "how", how, "cleared", len(out.Cleared), "locked", len(out.Locked))
	return out, err
}

func (c auditedControls) StartRecording(ctx context.Context, show string) (broadcast.RecordingState, error) {
	st, err := c.Controls.StartRecording(ctx, show)
	c.s.audit(c.r, show, "recording", err, "on", true)
	return st, err
}

func (c auditedControls) StopRecording(ctx context.Context, show string) (broadcast.RecordingState, error) {
	st, err := c.Controls.StopRecording(ctx, show)
	c.s.audit(c.r, show, "recording", err, "on", false)
	return st, err
}

func (c auditedControls) StartTalkback(ctx context.Context, show string, opts broadcast.TalkbackOptions) error {
	err := c.Controls.StartTalkback(ctx, show, opts)
	c.s.audit(c.r, show, "talkback", err, "on", true, "endpoint", opts.Endpoint)
	return err
}

func (c auditedControls) StopTalkback(ctx context.Context, show string) error {
	err := c.Controls.StopTalkback(ctx, show)
	c.s.audit(c.r, show, "talkback", err, "on", false)
	return err
}

func (c auditedControls) SetCapacity(show string, n int) error {
	err := c.Controls.SetCapacity(show, n)
	c.s.audit(c.r, show, "capacity", err, "capacity", n)
	return err
}

func (c auditedControls) SetMaxOnAir(show string, n int) error {
	err := c.Controls.SetMaxOnAir(show, n)
	c.s.audit(c.r, show, "max_on_air", err, "max_on_air", n)
	return err
}

func (c auditedControls) JoinHost(ctx context.Context, show, endpoint string) (string, error) {
	ch, err := c.Controls.JoinHost(ctx, show, endpoint)
	c.s.audit(c.r, show, "call_host", err, "channel", ch)
	return ch, err
}

// SetAirLimit sets when every console of h's show warns that a caller is
// on air too long: the consoles' own setting, not broadcast's.
func (c auditedControls) SetAirLimit(h *hub, d time.Duration) {
	h.setAirLimit(d)
	c.s.audit(c.r, h.key, "air_limit", nil, "minutes", int(d/time.Minute))
}
