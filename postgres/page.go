package postgres

// Keyset ("cursor") pagination of the lists the API serves (issue 22,
// point 3). A page is read with the list's ORDER BY and a WHERE that
// starts strictly after the last row of the page before, never with
// OFFSET: a page costs the same wherever it is in the list, and rows
// added while a client pages through do not shift the pages (no row comes
// twice; none that existed at the start is skipped).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"iter"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// Limits of a page.
const (
	DefaultPageLimit = 100  // a PageRequest's Limit when it is 0
	MaxPageLimit     = 1000 // the largest Limit allowed
)

// PageRequest asks for one page of a list: at most Limit items (0 means
// DefaultPageLimit) after the page that gave Cursor ("" for the first
// page).
type PageRequest struct {
	Limit  int
	Cursor string
}

// Page is one page of a list: its items, in the list's order, and the
// cursor of the next page, "" when this page is the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// ErrBadCursor is wrapped by the error of a paged read given a cursor that
// no read of that list gave: malformed, or from another list. The API
// answers 400 naming the field (see CursorError).
var ErrBadCursor = errors.New("not a cursor of this list")

// CursorError is a paged read's refusal of its PageRequest: Field is
// "cursor" (errors.Is ErrBadCursor) or "limit" (outside 0..MaxPageLimit).
// It wraps queue.ErrInvalid too; errors.As it to name the field in a 400.
type CursorError struct {
	Field   string // "cursor" or "limit"
	Message string
}

func (e *CursorError) Error() string { return "postgres: " + e.Field + ": " + e.Message }

// Unwrap returns ErrBadCursor (for a cursor) and queue.ErrInvalid.
func (e *CursorError) Unwrap() []error {
	if e.Field == "cursor" {
		return []error{ErrBadCursor, queue.ErrInvalid}
	}
	return []error{queue.ErrInvalid}
}

// cursor is the sort key of a page's last row, as a cursor string holds
// it: the list it belongs to (K), a time in microseconds (T; nil for a
// NULL time), a text (S) and a number (N). Each list uses the parts its
// ORDER BY has.
type cursor struct {
	K string `json:"k"`
	T *int64 `json:"t,omitempty"`
	S string `json:"s,omitempty"`
	N int64  `json:"n,omitempty"`
}

// keyOf is the cursor of list kind after a row with time t, text s and
// number n. A zero t is a NULL time.
func keyOf(kind string, t time.Time, s string, n int64) cursor {
	c := cursor{K: kind, S: s, N: n}
	if !t.IsZero() {
		us := t.UnixMicro()
		c.T = &us
	}
	return c
}

// time returns the cursor's time (zero for NULL), at PostgreSQL's
// precision, which is the precision it was read at.
func (c cursor) time() time.Time {
	if c.T == nil {
		return time.Time{}
	}
	return time.UnixMicro(*c.T).UTC()
}

// encode makes the opaque cursor string: base64url (no padding) of the
// key as JSON. Opaque to clients, not secret: it holds only the sort key
// of a row the client has already read.
func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and numbers: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// parse checks pr for list kind: the limit to read (with the default
// applied) and the cursor after which to start (nil for the first page).
func (pr PageRequest) parse(kind string) (int, *cursor, error) {
	limit := pr.Limit
	switch {
	case limit == 0:
		limit = DefaultPageLimit
	case limit < 0 || limit > MaxPageLimit:
		return 0, nil, &CursorError{"limit", "must be between 1 and 1000"}
	}
	if pr.Cursor == "" {
		return limit, nil, nil
	}
	bad := &CursorError{"cursor", "is not a cursor this list gave"}
	if len(pr.Cursor) > 512 {
		return 0, nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(pr.Cursor)
	if err != nil {
		return 0, nil, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.K != kind {
		return 0, nil, bad
	}
	return limit, &c, nil
}

// collectPage reads a page from rows, which the query fetched with LIMIT
// limit+1: the extra row, if any, only says there is a next page, whose
// cursor is the key of the page's last row.
func collectPage[T any](rows pgx.Rows, limit int, scan pgx.RowToFunc[T], key func(T) cursor) (Page[T], error) {
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return Page[T]{}, err
	}
	out := Page[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.Next = key(items[limit-1]).encode()
	}
	return out, nil
}

// streamPageLimit is the size of the pages an iterator over a whole list
// reads.
const streamPageLimit = MaxPageLimit

// allPages yields every item of a list, reading it page by page with
// read: memory stays at one page, and no connection is held while the
// consumer (a CSV export writing to a slow client) works. Rows added while
// it runs after the point it has reached are yielded too; none is yielded
// twice. It stops at the first error, yielding it.
func allPages[T any](ctx context.Context, read func(context.Context, PageRequest) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		pr := PageRequest{Limit: streamPageLimit}
		for {
			p, err := read(ctx, pr)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.Next == "" {
				return
			}
			pr.Cursor = p.Next
		}
	}
}
