package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// applySQL writes a batch of transitions in one statement (so in one
// transaction): the events into call_events, and their effects on calls and
// callers. Only the events this statement really inserted (ON CONFLICT DO
// NOTHING ... RETURNING) change calls and callers, so a transition written
// twice counts once. Within the batch, a call's transitions are folded in
// seq order; across batches the single writer keeps order, and the
// first-time columns use least() and the state follows last_seq, so even a
// late older transition cannot undo a newer one.
//
// The data-modifying CTEs all see the database as it was before the
// statement: "prior" is each call before this batch, which says whether the
// call is new (counts a call for its caller) and whether it goes on air for
// the first time (counts an on-air call).
const applySQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[],
		$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
		$13::text[], $14::text[], $15::text[])
	AS i(call_id, seq, at, show, from_state, to_state, action, actor_kind, actor_name,
		number, caller_number, name, node, channel_id, payload)
),
inserted AS (
	INSERT INTO call_events (call_id, seq, at, show, from_state, to_state, action, actor_kind, actor_name, payload)
	SELECT call_id, seq, at, show, from_state, to_state, action, actor_kind, actor_name, payload::jsonb
	FROM input
	ON CONFLICT (call_id, seq) DO NOTHING
	RETURNING call_id, seq, payload
),
fresh AS (
	SELECT i.call_id, i.seq, i.at, i.show, i.from_state, i.to_state, i.number, i.caller_number,
		i.name, i.node, i.channel_id, ins.payload
	FROM input i JOIN inserted ins USING (call_id, seq)
),
per_call AS (
	SELECT call_id,
		max(seq) AS last_seq,
		(array_agg(to_state ORDER BY seq DESC))[1] AS state,
		(array_agg(show ORDER BY seq DESC))[1] AS show,
		(array_agg(number ORDER BY seq DESC))[1] AS number,
		(array_agg(caller_number ORDER BY seq DESC))[1] AS caller_number,
		(array_agg(name ORDER BY seq DESC) FILTER (WHERE name <> ''))[1] AS name,
		(array_agg(node ORDER BY seq DESC))[1] AS node,
		(array_agg(channel_id ORDER BY seq DESC))[1] AS channel_id,
		min(at) AS first_at,
		min(at) FILTER (WHERE to_state = 'arriving') AS arrived_at,
		min(at) FILTER (WHERE to_state = 'waiting' AND from_state = 'arriving') AS answered_at,
		min(at) FILTER (WHERE to_state = 'screening') AS screened_at,
		min(at) FILTER (WHERE to_state = 'ready') AS ready_at,
		min(at) FILTER (WHERE to_state = 'on_air') AS on_air_at,
		max(at) FILTER (WHERE from_state = 'on_air' AND to_state <> 'on_air') AS off_air_at,
		max(at) FILTER (WHERE to_state = 'ended') AS ended_at,
		(array_agg(payload->>'outcome' ORDER BY seq DESC) FILTER (WHERE payload ? 'outcome'))[1] AS outcome,
		(array_agg((payload->>'cause')::int ORDER BY seq DESC) FILTER (WHERE payload ? 'cause'))[1] AS hangup_cause,
		(array_agg(payload->>'reason' ORDER BY seq DESC) FILTER (WHERE payload ? 'reason'))[1] AS reason,
		(array_agg(payload->'notes' ORDER BY seq DESC) FILTER (WHERE payload ? 'notes'))[1] AS notes
	FROM fresh GROUP BY call_id
),
prior AS (
	SELECT c.id, c.on_air_at FROM calls c JOIN per_call p ON p.call_id = c.id
),
changes AS (
	SELECT p.*, pr.id IS NULL AS is_new,
		p.on_air_at IS NOT NULL AND pr.on_air_at IS NULL AS first_on_air
	FROM per_call p LEFT JOIN prior pr ON pr.id = p.call_id
),
caller_rows AS (
	INSERT INTO callers AS c (number, name, first_call_at, last_call_at, calls_count, on_air_count)
	SELECT caller_number,
		coalesce((array_agg(name ORDER BY first_at DESC) FILTER (WHERE is_new AND name IS NOT NULL))[1], ''),
		min(coalesce(arrived_at, first_at)) FILTER (WHERE is_new),
		max(coalesce(arrived_at, first_at)) FILTER (WHERE is_new),
		count(*) FILTER (WHERE is_new),
		count(*) FILTER (WHERE first_on_air)
	FROM changes
	WHERE caller_number <> '' AND (is_new OR first_on_air)
	GROUP BY caller_number
	ON CONFLICT (number) DO UPDATE SET
		-- The name of the newest call, not of an older one going on air.
		name = CASE WHEN excluded.name <> '' AND excluded.last_call_at >= coalesce(c.last_call_at, excluded.last_call_at)
			THEN excluded.name ELSE c.name END,
		first_call_at = least(c.first_call_at, excluded.first_call_at),
		last_call_at = greatest(c.last_call_at, excluded.last_call_at),
		calls_count = c.calls_count + excluded.calls_count,
		on_air_count = c.on_air_count + excluded.on_air_count
	RETURNING id, number
),
call_rows AS (
	INSERT INTO calls AS c (id, show, caller_id, number, name, node, channel_id, state, last_seq,
		arrived_at, answered_at, screened_at, ready_at, on_air_at, off_air_at, ended_at,
		outcome, hangup_cause, reason, notes_name, notes_location, notes_topic, notes_priority)
	SELECT ch.call_id, ch.show, cr.id, ch.number, coalesce(ch.name, ''), ch.node, ch.channel_id,
		ch.state, ch.last_seq,
		ch.arrived_at, ch.answered_at, ch.screened_at, ch.ready_at, ch.on_air_at, ch.off_air_at, ch.ended_at,
		ch.outcome, ch.hangup_cause, ch.reason,
		CASE WHEN ch.notes IS NOT NULL THEN coalesce(ch.notes->>'name', '') END,
		CASE WHEN ch.notes IS NOT NULL THEN coalesce(ch.notes->>'location', '') END,
		CASE WHEN ch.notes IS NOT NULL THEN coalesce(ch.notes->>'topic', '') END,
		CASE WHEN ch.notes IS NOT NULL THEN coalesce((ch.notes->>'priority')::int, 0) END
	FROM changes ch LEFT JOIN caller_rows cr ON cr.number = ch.caller_number
	ON CONFLICT (id) DO UPDATE SET
		caller_id = coalesce(c.caller_id, excluded.caller_id),
		show = CASE WHEN excluded.last_seq > c.last_seq THEN excluded.show ELSE c.show END,
		number = CASE WHEN excluded.last_seq > c.last_seq THEN excluded.number ELSE c.number END,
		name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE c.name END,
		node = CASE WHEN excluded.last_seq > c.last_seq THEN excluded.node ELSE c.node END,
		channel_id = CASE WHEN excluded.last_seq > c.last_seq THEN excluded.channel_id ELSE c.channel_id END,
		state = CASE WHEN excluded.last_seq > c.last_seq THEN excluded.state ELSE c.state END,
		last_seq = greatest(c.last_seq, excluded.last_seq),
		arrived_at = least(c.arrived_at, excluded.arrived_at),
		answered_at = least(c.answered_at, excluded.answered_at),
		screened_at = least(c.screened_at, excluded.screened_at),
		ready_at = least(c.ready_at, excluded.ready_at),
		on_air_at = least(c.on_air_at, excluded.on_air_at),
		off_air_at = greatest(c.off_air_at, excluded.off_air_at),
		ended_at = greatest(c.ended_at, excluded.ended_at),
		outcome = coalesce(excluded.outcome, c.outcome),
		hangup_cause = coalesce(excluded.hangup_cause, c.hangup_cause),
		reason = coalesce(excluded.reason, c.reason),
		notes_name = coalesce(excluded.notes_name, c.notes_name),
		notes_location = coalesce(excluded.notes_location, c.notes_location),
		notes_topic = coalesce(excluded.notes_topic, c.notes_topic),
		notes_priority = coalesce(excluded.notes_priority, c.notes_priority)
	RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM call_rows)`

// payload is what call_events.payload keeps of a transition.
type payload struct {
	Notes   *queue.Notes  `json:"notes,omitempty"`
	Outcome queue.Outcome `json:"outcome,omitempty"`
	Cause   int           `json:"cause,omitempty"`
	Reason  string        `json:"reason,omitempty"`
}

// apply writes ts (in order) with applySQL, and returns how many events
// were new.
func (s *Store) apply(ctx context.Context, ts []queue.Transition) (int, error) {
	type key struct {
		id  string
		seq int
	}
	seen := make(map[key]bool, len(ts))
	n := len(ts)
	var (
		ids, shows, froms, tos, actions, kinds, actors = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		numbers, callerNumbers, names, nodes, channels = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		payloads                                       = make([]string, 0, n)
		seqs                                           = make([]int32, 0, n)
		ats                                            = make([]time.Time, 0, n)
	)
	for _, t := range ts {
		// The same transition twice in one statement would make the
		// calls upsert touch a row twice.
		if k := (key{t.CallID, t.Seq}); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		p, err := json.Marshal(payload{Notes: t.Notes, Outcome: t.Outcome, Cause: t.Cause, Reason: t.Reason})
		if err != nil {
			return 0, fmt.Errorf("postgres: encode payload: %w", err)
		}
		ids, seqs, ats, shows = append(ids, t.CallID), append(seqs, int32(t.Seq)), append(ats, t.At), append(shows, t.Show)
		froms, tos, actions = append(froms, string(t.From)), append(tos, string(t.To)), append(actions, t.Action)
		kinds, actors = append(kinds, string(t.Actor.Kind)), append(actors, t.Actor.Name)
		numbers, callerNumbers, names = append(numbers, t.Number), append(callerNumbers, NormalizeNumber(t.Number)), append(names, t.Name)
		nodes, channels, payloads = append(nodes, t.Node), append(channels, t.ChannelID), append(payloads, string(p))
	}
	var events, calls int
	// QueryExecModeExec: no prepared statement, so Postgres plans with the
	// batch's real arrays every time. Cached, the statement switched to a
	// generic plan after five runs, one that guessed the arrays' sizes
	// wrong and ran four times slower.
	err := s.pool.QueryRow(ctx, applySQL, pgx.QueryExecModeExec, ids, seqs, ats, shows, froms, tos, actions, kinds, actors,
		numbers, callerNumbers, names, nodes, channels, payloads).Scan(&events, &calls)
	if err != nil {
		return 0, err
	}
	return events, nil
}
