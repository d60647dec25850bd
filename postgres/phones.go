package postgres

// Phones: the Asterisk endpoint of each person who screens, hosts or talks
// back (users.phone). The call path never reads these rows: cmd/callin keeps
// UserPhones in memory and answers broadcast from there.

import (
	"context"
	"fmt"

	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5"
)

// SetUserPhone sets the named user's phone to endpoint, as
// queue.ParseEndpoint returns it, and returns what it stored; an empty
// endpoint clears the phone. It returns an error wrapping queue.ErrInvalid
// for anything but a plain endpoint (no dial string with options ever
// reaches the table) and queue.ErrNotFound for an unknown user.
func (s *Store) SetUserPhone(ctx context.Context, name, endpoint string) (string, error) {
	var phone *string // NULL clears
	if endpoint != "" {
		ep, err := queue.ParseEndpoint(endpoint)
		if err != nil {
			return "", fmt.Errorf("postgres: set phone of %q: %w", name, err)
		}
		phone = &ep
	}
	tag, err := s.pool.Exec(ctx, `UPDATE users SET phone = $2, updated_at = now() WHERE name = $1`, name, phone)
	if err != nil {
		return "", translate("set user phone", err)
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("postgres: set phone of %q: %w", name, queue.ErrNotFound)
	}
	if phone == nil {
		return "", nil
	}
	return *phone, nil
}

// UserPhones returns the phone of every user who has one, by user name.
func (s *Store) UserPhones(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, phone FROM users WHERE phone IS NOT NULL`)
	if err != nil {
		return nil, translate("user phones", err)
	}
	out := map[string]string{}
	var name, phone string
	_, err = pgx.ForEachRow(rows, []any{&name, &phone}, func() error {
		out[name] = phone
		return nil
	})
	if err != nil {
		return nil, translate("user phones", err)
	}
	return out, nil
}
