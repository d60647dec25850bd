package main

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/shared"
)

// storePages is web.Pages on the store: its pages as web's, and a refused
// limit or cursor (*postgres.CursorError) as a 400 naming the field.
type storePages struct{ store *postgres.Store }

// webPage is p as web's page, or err as web answers it.
func webPage[T any](p postgres.Page[T], err error) (web.Page[T], error) {
	var ce *postgres.CursorError
	if errors.As(err, &ce) {
		return web.Page[T]{}, shared.BadRequest(ce.Field, "%s", ce.Message)
	}
	return web.Page[T]{Items: p.Items, Next: p.Next}, err
}

func storeReq(pr web.PageRequest) postgres.PageRequest {
	return postgres.PageRequest{Limit: pr.Limit, Cursor: pr.Cursor}
}

func (p storePages) ShowCallsPage(ctx context.Context, show string, from, to time.Time, pr web.PageRequest) (web.Page[queue.CallRecord], error) {
	return webPage(p.store.ShowCallsPage(ctx, show, from, to, storeReq(pr)))
}

func (p storePages) ShowTransitionsPage(ctx context.Context, show string, from, to time.Time, pr web.PageRequest) (web.Page[queue.Transition], error) {
	return webPage(p.store.ShowTransitionsPage(ctx, show, from, to, storeReq(pr)))
}

func (p storePages) ShowRecordingsPage(ctx context.Context, show, callID string, pr web.PageRequest) (web.Page[queue.Recording], error) {
	return webPage(p.store.ShowRecordingsPage(ctx, show, callID, storeReq(pr)))
}

func (p storePages) CallerCallsPage(ctx context.Context, number string, pr web.PageRequest) (web.Page[queue.CallRecord], error) {
	return webPage(p.store.CallerCallsPage(ctx, number, storeReq(pr)))
}

func (p storePages) ShowMessagesPage(ctx context.Context, show string, pr web.PageRequest) (web.Page[queue.ShowMessage], error) {
	return webPage(p.store.ShowMessagesPage(ctx, show, storeReq(pr)))
}

func (p storePages) EachShowCall(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.CallRecord, error] {
	return p.store.EachShowCall(ctx, show, from, to)
}

func (p storePages) EachShowTransition(ctx context.Context, show string, from, to time.Time) iter.Seq2[queue.Transition, error] {
	return p.store.EachShowTransition(ctx, show, from, to)
}
