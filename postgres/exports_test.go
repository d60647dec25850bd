package postgres_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

func TestShowTransitions(t *testing.T) {
	t.Parallel()
	ts := scenario(6, day)
	store := recorded(t, ts)
	ctx := context.Background()

	t.Run("All", func(t *testing.T) {
		got, err := store.ShowTransitions(ctx, "morning", day, day.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ts) {
			t.Fatalf("got %d transitions, want %d", len(got), len(ts))
		}
		for i, g := range got {
			if i > 0 && g.At.Before(got[i-1].At) {
				t.Fatalf("transition %d (%v) before the one ahead of it (%v)", i, g.At, got[i-1].At)
			}
		}
		// Every recorded transition comes back as it was, the identity
		// of its call included.
		byKey := map[string]queue.Transition{}
		for _, g := range got {
			byKey[g.CallID+"/"+strconv.Itoa(g.Seq)] = g
		}
		for _, w := range ts {
			g := byKey[w.CallID+"/"+strconv.Itoa(w.Seq)]
			g.At, w.At = g.At.UTC(), w.At.UTC()
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got %+v\nwant %+v", g, w)
			}
		}
	})
	t.Run("Range", func(t *testing.T) {
		// The first call arrives at 0 and joins at 1 s: [0, 0.5 s) holds
		// its arrival alone.
		got, err := store.ShowTransitions(ctx, "morning", day, day.Add(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Action != queue.ActionArrive || got[0].CallID != "call-00000" {
			t.Fatalf("got %+v, want the first arrival alone", got)
		}
	})
	t.Run("OtherShow", func(t *testing.T) {
		got, err := store.ShowTransitions(ctx, "evening", day, day.Add(time.Hour))
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v %v, want none", got, err)
		}
	})
}
