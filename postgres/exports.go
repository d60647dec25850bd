package postgres

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// ShowTransitions returns a show's transitions made in [from, to), in
// order of time (then call and Seq), each with its call's identity as the
// history last has it (number, name, node, channel).
func (s *Store) ShowTransitions(ctx context.Context, show string, from, to time.Time) ([]queue.Transition, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+transitionColumns+`
		FROM call_events e LEFT JOIN calls c ON c.id = e.call_id
		WHERE e.show = $1 AND e.at >= $2 AND e.at < $3
		ORDER BY e.at, e.call_id, e.seq`, show, from, to)
	if err != nil {
		return nil, translate("show transitions", err)
	}
	out, err := pgx.CollectRows(rows, scanTransition)
	return out, translate("show transitions", err)
}

// transitionColumns are read by scanTransition, in its order.
const transitionColumns = `e.call_id, e.seq, e.at, e.show, e.from_state, e.to_state, e.action,
	e.actor_kind, e.actor_name, e.payload,
	coalesce(c.number, ''), coalesce(c.name, ''), coalesce(c.node, ''), coalesce(c.channel_id, '')`

func scanTransition(row pgx.CollectableRow) (queue.Transition, error) {
	var t queue.Transition
	var p []byte
	err := row.Scan(&t.CallID, &t.Seq, &t.At, &t.Show, &t.From, &t.To, &t.Action, &t.Actor.Kind, &t.Actor.Name, &p,
		&t.Number, &t.Name, &t.Node, &t.ChannelID)
	if err != nil {
		return t, err
	}
	var pl payload
	if err := json.Unmarshal(p, &pl); err != nil {
		return t, err
	}
	t.Notes, t.Outcome, t.Cause, t.Reason = pl.Notes, pl.Outcome, pl.Cause, pl.Reason
	return t, nil
}

// ShowTransitionsPage returns a page of ShowTransitions: a show's
// transitions made in [from, to), in order of time, then call and Seq.
// The log is append-only, so a client paging through it while the show
// runs sees each transition once. Errors: a *CursorError for a bad limit
// or cursor.
func (s *Store) ShowTransitionsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[queue.Transition], error) {
	limit, after, err := pr.parse("transitions")
	if err != nil {
		return Page[queue.Transition]{}, err
	}
	// The first page starts after (from, "", 0): no call has an empty id.
	at, callID, seq := from, "", int64(0)
	if after != nil {
		at, callID, seq = after.time(), after.S, after.N
	}
	rows, err := s.pool.Query(ctx, `SELECT `+transitionColumns+`
		FROM call_events e LEFT JOIN calls c ON c.id = e.call_id
		WHERE e.show = $1 AND e.at >= $2 AND e.at < $3
		  AND e.at >= $4 AND (e.at, e.call_id, e.seq) > ($4, $5, $6)
		ORDER BY e.at, e.call_id, e.seq LIMIT $7`, show, from, to, at, callID, seq, limit+1)
	if err != nil {
		return Page[queue.Transition]{}, translate("show transitions page", err)
	}
	page, err := collectPage(rows, limit, scanTransition, func(t queue.Transition) cursor {
		return keyOf("transitions", t.At, t.CallID, int64(t.Seq))
	})
	return page, translate("show transitions page", err)
}

// EachShowTransition yields ShowTransitions one by one, for an export to
// stream, a page at a time (ShowTransitionsPage). It stops at the first
// error, yielding it.
func (s *Store) EachShowTransition(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.Transition, error] {
	return allPages(ctx, func(ctx context.Context, pr PageRequest) (Page[queue.Transition], error) {
		return s.ShowTransitionsPage(ctx, show, from, to, pr)
	})
}
