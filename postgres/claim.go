package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/queue"
)

// NodeClaim is one service instance's claim on an Asterisk node: a
// session-level advisory lock on a connection of its own, so that of
// several instances sharing the database exactly one drives each node. The
// lock goes with the connection: when the instance ends, or its connection
// does, another may claim the node.
type NodeClaim struct {
	conn *pgx.Conn
	key  int64
}

// nodeKey is the advisory lock key of a node: 64 bits of FNV-1a of its
// name, in a space of its own ("callin node ...").
func nodeKey(node string) int64 {
	h := fnv.New64a()
	h.Write([]byte("callin node " + node))
	return int64(h.Sum64())
}

// ClaimNode claims node for this instance, and records url as where the
// instance driving it is reached (NodeDriver). When alive is not 0, the
// claim also ends once its connection has been idle that long (the
// server ends the session, idle_session_timeout): an instance whose host
// died lets go of its nodes then, not when PostgreSQL at last notices the
// dead connection; the holder keeps it alive with Check. It returns an
// error wrapping queue.ErrConflict when another session holds the claim,
// and another error when the database does not answer.
func (s *Store) ClaimNode(ctx context.Context, node, url string, alive time.Duration) (*NodeClaim, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: claim node %s: %w", node, err)
	}
	if alive > 0 {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`SET idle_session_timeout = %d`, alive.Milliseconds())); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, translate("claim node "+node, err)
		}
	}
	key := nodeKey(node)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, translate("claim node "+node, err)
	}
	if !ok {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: claim node %s: another instance holds it: %w", node, queue.ErrConflict)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO node_drivers (node, url) VALUES ($1, $2)
		ON CONFLICT (node) DO UPDATE SET url = excluded.url, since = now()`, node, url); err != nil {
		conn.Close(context.WithoutCancel(ctx)) // the lock goes with it
		return nil, translate("claim node "+node, err)
	}
	return &NodeClaim{conn: conn, key: key}, nil
}

// NodeDriver returns where the instance that last claimed node is reached
// ("" when it gave no URL), or queue.ErrNotFound when none ever did.
func (s *Store) NodeDriver(ctx context.Context, node string) (string, error) {
	var url string
	err := s.pool.QueryRow(ctx, `SELECT url FROM node_drivers WHERE node = $1`, node).Scan(&url)
	return url, translate("node driver "+node, err)
}

// Check reports whether the claim's connection still answers: while it
// does, the claim is held.
func (c *NodeClaim) Check(ctx context.Context) error {
	_, err := c.conn.Exec(ctx, `SELECT 1`)
	return err
}

// Release gives the claim up (or lets it go with its connection, if that
// is gone already).
func (c *NodeClaim) Release(ctx context.Context) {
	_, _ = c.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, c.key) // a connection that is gone took the lock with it
	_ = c.conn.Close(ctx)
}
