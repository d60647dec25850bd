package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// ShowTransitions returns a show's transitions made in [from, to), in
// order of time (then call and Seq), each with its call's identity as the
// history last has it (number, name, node, channel).
func (s *Store) ShowTransitions(ctx context.Context, show string, from, to time.Time) ([]queue.Transition, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.call_id, e.seq, e.at, e.show, e.from_state, e.to_state, e.action,
			e.actor_kind, e.actor_name, e.payload,
			coalesce(c.number, ''), coalesce(c.name, ''), coalesce(c.node, ''), coalesce(c.channel_id, '')
		FROM call_events e LEFT JOIN calls c ON c.id = e.call_id
		WHERE e.show = $1 AND e.at >= $2 AND e.at < $3
		ORDER BY e.at, e.call_id, e.seq`, show, from, to)
	if err != nil {
		return nil, translate("show transitions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (queue.Transition, error) {
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
	})
	return out, translate("show transitions", err)
}
