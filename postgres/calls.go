package postgres

import (
	"context"
	"iter"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

const callColumns = `id, show, number, name, node, channel_id, state, last_seq,
	arrived_at, answered_at, screened_at, ready_at, on_air_at, off_air_at, ended_at,
	coalesce(outcome, ''), coalesce(hangup_cause, 0), coalesce(reason, ''),
	coalesce(notes_name, ''), coalesce(notes_location, ''), coalesce(notes_topic, ''),
	coalesce(notes_priority, 0)`

func scanCall(row pgx.CollectableRow) (Call, error) {
	var c Call
	var times [7]*time.Time
	err := row.Scan(&c.ID, &c.Show, &c.Number, &c.Name, &c.Node, &c.ChannelID, &c.State, &c.LastSeq,
		&times[0], &times[1], &times[2], &times[3], &times[4], &times[5], &times[6],
		&c.Outcome, &c.Cause, &c.Reason,
		&c.Notes.Name, &c.Notes.Location, &c.Notes.Topic, &c.Notes.Priority)
	c.ArrivedAt, c.AnsweredAt, c.ScreenedAt, c.ReadyAt = timeOf(times[0]), timeOf(times[1]), timeOf(times[2]), timeOf(times[3])
	c.OnAirAt, c.OffAirAt, c.EndedAt = timeOf(times[4]), timeOf(times[5]), timeOf(times[6])
	return c, err
}

// Call returns one call by its id, or queue.ErrNotFound.
func (s *Store) Call(ctx context.Context, id string) (Call, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, id)
	if err != nil {
		return Call{}, translate("call", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCall)
	return c, translate("call", err)
}

// CallerCalls returns a number's last calls, newest first, at most limit.
func (s *Store) CallerCalls(ctx context.Context, number string, limit int) ([]Call, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE caller_id = (SELECT id FROM callers WHERE number = $1)
		ORDER BY arrived_at DESC NULLS LAST, id LIMIT $2`, NormalizeNumber(number), limit)
	if err != nil {
		return nil, translate("caller calls", err)
	}
	out, err := pgx.CollectRows(rows, scanCall)
	return out, translate("caller calls", err)
}

// ShowCalls returns a show's calls that arrived in [from, to), in order of
// arrival.
func (s *Store) ShowCalls(ctx context.Context, show string, from, to time.Time) ([]Call, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE show = $1 AND arrived_at >= $2 AND arrived_at < $3
		ORDER BY arrived_at, id`, show, from, to)
	if err != nil {
		return nil, translate("show calls", err)
	}
	out, err := pgx.CollectRows(rows, scanCall)
	return out, translate("show calls", err)
}

// ShowCallsPage returns a page of ShowCalls: a show's calls that arrived
// in [from, to), in order of arrival (then id). Errors: a *CursorError for
// a bad limit or cursor.
func (s *Store) ShowCallsPage(ctx context.Context, show string, from, to time.Time, pr PageRequest) (Page[Call], error) {
	limit, after, err := pr.parse("calls")
	if err != nil {
		return Page[Call]{}, err
	}
	// The first page starts after (from, ""): no call has an empty id.
	at, id := from, ""
	if after != nil {
		at, id = after.time(), after.S
	}
	// arrived_at >= $4 repeats the row comparison's first column, so
	// the index on (show, arrived_at) bounds the scan.
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE show = $1 AND arrived_at >= $2 AND arrived_at < $3
		  AND arrived_at >= $4 AND (arrived_at, id) > ($4, $5)
		ORDER BY arrived_at, id LIMIT $6`, show, from, to, at, id, limit+1)
	if err != nil {
		return Page[Call]{}, translate("show calls page", err)
	}
	page, err := collectPage(rows, limit, scanCall, func(c Call) cursor { return keyOf("calls", c.ArrivedAt, c.ID, 0) })
	return page, translate("show calls page", err)
}

// EachShowCall yields ShowCalls one by one, for an export to stream: it
// reads them a page at a time (ShowCallsPage), so memory stays at one
// page whatever the range. It stops at the first error, yielding it.
func (s *Store) EachShowCall(ctx context.Context, show string, from, to time.Time) iter.Seq2[Call, error] {
	return allPages(ctx, func(ctx context.Context, pr PageRequest) (Page[Call], error) {
		return s.ShowCallsPage(ctx, show, from, to, pr)
	})
}

// CallerCallsPage returns a page of a number's calls, newest first (then
// by id), calls without an arrival time last: CallerCalls with paging.
// Errors: a *CursorError for a bad limit or cursor.
func (s *Store) CallerCallsPage(ctx context.Context, number string, pr PageRequest) (Page[Call], error) {
	limit, after, err := pr.parse("caller-calls")
	if err != nil {
		return Page[Call]{}, err
	}
	args := []any{NormalizeNumber(number), limit + 1}
	var where string
	switch {
	case after == nil:
	case after.T == nil: // past the calls with a time, among those without
		where, args = ` AND arrived_at IS NULL AND id > $3`, append(args, after.S)
	default:
		where = ` AND (arrived_at < $3 OR (arrived_at = $3 AND id > $4) OR arrived_at IS NULL)`
		args = append(args, after.time(), after.S)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE caller_id = (SELECT id FROM callers WHERE number = $1)`+where+`
		ORDER BY arrived_at DESC NULLS LAST, id LIMIT $2`, args...)
	if err != nil {
		return Page[Call]{}, translate("caller calls page", err)
	}
	page, err := collectPage(rows, limit, scanCall, func(c Call) cursor { return keyOf("caller-calls", c.ArrivedAt, c.ID, 0) })
	return page, translate("caller calls page", err)
}

// ShowDay returns a show's figures for the day containing day, in day's
// location.
func (s *Store) ShowDay(ctx context.Context, show string, day time.Time) (Day, error) {
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, day.Location())
	end := time.Date(y, m, d+1, 0, 0, 0, 0, day.Location())
	out := Day{Show: show, Start: start, Outcomes: map[queue.Outcome]int{},
		PerHour: make([]int, int(end.Sub(start).Round(time.Hour)/time.Hour))}

	// Hours are counted from start in Go's location, so the database's
	// time zone does not matter.
	rows, err := s.pool.Query(ctx, `SELECT floor(extract(epoch FROM arrived_at - $2) / 3600)::int AS hour,
			coalesce(outcome, ''), count(*)
		FROM calls WHERE show = $1 AND arrived_at >= $2 AND arrived_at < $3
		GROUP BY 1, 2`, show, start, end)
	if err != nil {
		return Day{}, translate("show day", err)
	}
	var hour, n int
	var outcome string
	_, err = pgx.ForEachRow(rows, []any{&hour, &outcome, &n}, func() error {
		out.Calls += n
		if outcome != "" {
			out.Outcomes[queue.Outcome(outcome)] += n
		}
		if hour >= 0 && hour < len(out.PerHour) {
			out.PerHour[hour] += n
		}
		return nil
	})
	if err != nil {
		return Day{}, translate("show day", err)
	}

	var avg, p50, p90, longest float64 // seconds
	err = s.pool.QueryRow(ctx, `WITH waits AS (
			SELECT extract(epoch FROM coalesce(on_air_at, ended_at) - coalesce(answered_at, arrived_at)) AS w
			FROM calls
			WHERE show = $1 AND arrived_at >= $2 AND arrived_at < $3
			  AND answered_at IS NOT NULL AND coalesce(on_air_at, ended_at) IS NOT NULL)
		SELECT count(*), coalesce(avg(w), 0), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY w), 0),
			coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY w), 0), coalesce(max(w), 0)
		FROM waits`, show, start, end).Scan(&out.Wait.N, &avg, &p50, &p90, &longest)
	if err != nil {
		return Day{}, translate("show day", err)
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)).Round(time.Millisecond) }
	out.Wait.Avg, out.Wait.P50, out.Wait.P90, out.Wait.Longest = sec(avg), sec(p50), sec(p90), sec(longest)
	return out, nil
}

// OpenCalls returns a show's calls that have not ended, in order of arrival:
// what a restarted service compares with what Asterisk reports.
func (s *Store) OpenCalls(ctx context.Context, show string) ([]Call, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+callColumns+` FROM calls
		WHERE show = $1 AND ended_at IS NULL ORDER BY arrived_at NULLS LAST, id`, show)
	if err != nil {
		return nil, translate("open calls", err)
	}
	out, err := pgx.CollectRows(rows, scanCall)
	return out, translate("open calls", err)
}
