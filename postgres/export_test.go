package postgres

import (
	"context"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
)

// BatchFate is what became of a batch: "committed", "failed" or
// "dropped", with the number of transitions.
type BatchFate = batchFate

// WithBatches returns cfg with s told of each batch's fate; s must have
// been Init'ed.
func WithBatches(cfg WriterConfig, s *testsignal.Signal[BatchFate]) WriterConfig {
	cfg.batches = *s
	return cfg
}

// Apply exposes the batch statement to benchmarks.
func (s *Store) Apply(ctx context.Context, ts []queue.Transition) (int, error) {
	return s.apply(ctx, ts)
}
