package ari_test

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/ari"
)

// A Stasis application reads one ordered stream per node, reconciles on
// every Connected, and routes events by channel and bridge.
func ExampleClient_Connect() {
	ctx := context.Background()
	c, err := ari.NewClient(ari.Config{URL: "http://127.0.0.1:8088", Username: "callin", Password: "callin", App: "callin"})
	if err != nil {
		panic(err)
	}
	conn := c.Connect(ctx, ari.EventOptions{})
	defer conn.Close()
	for ev := range conn.Events() {
		switch e := ev.(type) {
		case *ari.Connected:
			// Events were lost while disconnected: the truth is what
			// Asterisk lists now.
			bridges, _ := c.ListBridges(ctx)
			channels, _ := c.ListChannels(ctx)
			slog.Info("reconcile", "bridges", len(bridges), "channels", len(channels))
		case *ari.Disconnected:
			slog.Warn("ARI down", "err", e.Err, "retry_in", e.RetryIn, "final", e.Final)
		case *ari.StasisStart:
			// Answer off the reading goroutine in a real application.
			if err := c.AnswerChannel(ctx, e.Channel.ID); errors.Is(err, ari.ErrNotFound) {
				slog.Info("caller already gone", "channel", e.Channel.ID)
			}
		default:
			slog.Debug("event", "type", ev.EventType(), "channel", ari.ChannelID(ev), "bridge", ari.BridgeID(ev))
		}
	}
	if errors.Is(conn.Err(), ari.ErrApplicationReplaced) {
		slog.Error("another service took the application name on this node")
	}
}

// Subscribe first, then act: the playback's events may arrive before the
// REST response. Here the caller hears a prompt before being hung up.
func ExampleClient_PlayChannel() {
	ctx := context.Background()
	c, _ := ari.NewClient(ari.Config{URL: "http://127.0.0.1:8088", App: "callin"})
	conn := c.Connect(ctx, ari.EventOptions{})
	defer conn.Close()

	// In a real application the events come from a per-call router fed by
	// conn.Events(); this reads the stream directly for brevity.
	const playbackID = "pb-goodbye-1" // chosen by us, known before the call
	if _, err := c.PlayChannel(ctx, "caller-1", playbackID, "sound:goodbye"); err != nil {
		return
	}
	timeout := time.After(30 * time.Second) // a bogus: URI never finishes
	for {
		select {
		case ev := <-conn.Events():
			if f, ok := ev.(*ari.PlaybackFinished); ok && f.Playback.ID == playbackID {
				c.HangupChannel(ctx, "caller-1", ari.HangupNormal)
				return
			}
		case <-timeout:
			c.HangupChannel(ctx, "caller-1", ari.HangupNormal)
			return
		}
	}
}
