package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/web"
)

// storeIdem is web.Idempotency on the store.
type storeIdem struct{ store *postgres.Store }

// idemOutcomes are the store's outcomes as web's.
var idemOutcomes = map[postgres.IdempotencyOutcome]web.IdemOutcome{
	postgres.IdempotencyNew:      web.IdemNew,
	postgres.IdempotencyReplay:   web.IdemReplay,
	postgres.IdempotencyMismatch: web.IdemMismatch,
	postgres.IdempotencyInFlight: web.IdemInFlight,
}

func (s storeIdem) BeginIdempotent(ctx context.Context, principal, key string, hash []byte, now time.Time) (web.IdemAnswer, error) {
	got, err := s.store.BeginIdempotent(ctx, principal, key, hash, now)
	return web.IdemAnswer{Outcome: idemOutcomes[got.Outcome], Status: got.Status, ContentType: got.ContentType, Body: got.Body}, err
}

func (s storeIdem) FinishIdempotent(ctx context.Context, principal, key string, status int, contentType string, body []byte) error {
	return s.store.FinishIdempotent(ctx, principal, key, status, contentType, body)
}

func (s storeIdem) ReleaseIdempotent(ctx context.Context, principal, key string) error {
	return s.store.ReleaseIdempotent(ctx, principal, key)
}

// idemExpireEvery is how often serve deletes the idempotency keys older
// than postgres.IdempotencyTTL (a key is unused once that old even before).
const idemExpireEvery = 5 * time.Minute

// expireIdempotencyKeys deletes expired idempotency keys every
// idemExpireEvery until ctx ends.
func expireIdempotencyKeys(ctx context.Context, store *postgres.Store, log *slog.Logger) {
	t := time.NewTicker(idemExpireEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := store.ExpireIdempotencyKeys(ctx, time.Now()); err != nil {
				log.Warn("idempotency keys not expired", "err", err)
			} else if n > 0 {
				log.Debug("idempotency keys expired", "count", n)
			}
		}
	}
}
