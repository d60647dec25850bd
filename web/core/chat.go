package core

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/callin-radio/callin/queue"
)

// ChatKeep is how many chat messages a show keeps.
const ChatKeep = 50

// ChatMsg is one message of the show chat; ID is the chat store's (0 when
// the chat is in memory only).
type ChatMsg struct {
	ID   int64
	At   time.Time
	From string
	Text string
}

// ChatOf is a stored message as the console shows it.
func ChatOf(m queue.ShowMessage) ChatMsg {
	return ChatMsg{ID: m.ID, At: m.At, From: m.Author, Text: m.Body}
}

// chatLog is a show's last chatKeep messages. It is safe for concurrent
// use.
type chatLog struct {
	mu   sync.Mutex
	msgs []ChatMsg
}

// add appends a message.
func (l *chatLog) add(m ChatMsg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = lastChat(append(l.msgs, m))
}

// List returns the messages, oldest first; the caller may keep it.
func (l *chatLog) List() []ChatMsg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// load puts the show's recent messages from store before those added
// since, retrying every retry until the store answers or ctx ends; loaded
// is called once they are in.
func (l *chatLog) load(ctx context.Context, store Chat, show string, retry time.Duration, log *slog.Logger, loaded func()) {
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		// A slow database must not hold a retry back for long.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msgs, err := store.ShowMessages(lctx, show, ChatKeep)
		cancel()
		if err != nil {
			log.Warn("web: load chat", "show", show, "err", err)
			wait.Reset(retry)
			continue
		}
		l.mu.Lock()
		all := make([]ChatMsg, 0, len(msgs)+len(l.msgs))
		seen := map[int64]bool{}
		for _, m := range msgs {
			all = append(all, ChatOf(m))
			seen[m.ID] = true
		}
		for _, m := range l.msgs { // added while loading; maybe loaded too
			if !seen[m.ID] {
				all = append(all, m)
			}
		}
		l.msgs = lastChat(all)
		l.mu.Unlock()
		loaded()
		return
	}
}

// lastChat keeps the last chatKeep messages.
func lastChat(msgs []ChatMsg) []ChatMsg {
	if len(msgs) > ChatKeep {
		return append([]ChatMsg(nil), msgs[len(msgs)-ChatKeep:]...)
	}
	return msgs
}
