package postgres

import (
	"context"

	"github.com/callin-radio/callin/queue"
)

// WithHook returns cfg with a test hook told of each batch's fate:
// "committed", "failed" or "dropped", with the number of transitions.
// The hook must not block.
func WithHook(cfg WriterConfig, hook func(event string, n int)) WriterConfig {
	cfg.hook = hook
	return cfg
}

// Apply exposes the batch statement to benchmarks.
func (s *Store) Apply(ctx context.Context, ts []queue.Transition) (int, error) {
	return s.apply(ctx, ts)
}
