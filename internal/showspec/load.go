package showspec

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
)

// Store is the shows table; *postgres.Store has it.
type Store interface {
	UpsertShow(ctx context.Context, sh postgres.Show) (postgres.Show, error)
	ListShows(ctx context.Context) ([]postgres.Show, error)
}

// Show is a stored show as a service runs it: the Stasis application's
// configuration and what its talkback may use.
type Show struct {
	broadcast.ShowConfig
	Talkback Talkback
}

// Load stores specs (those given on the command line; the table keeps
// them for the next start and for other instances) and returns every
// stored show on one of nodes. A show on another node is logged and left
// out: it is not run here.
func Load(ctx context.Context, store Store, specs []Spec, nodes []string, log *slog.Logger) ([]Show, error) {
	for _, s := range specs {
		if _, err := store.UpsertShow(ctx, s.Row()); err != nil {
			return nil, fmt.Errorf("show %q: %w", s.Key, err)
		}
	}
	rows, err := store.ListShows(ctx)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	var shows []Show
	for _, r := range rows {
		sc, tb, err := FromRow(r)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(nodes, sc.Node) {
			log.Warn("show's node is not configured: the show is not run here", "show", sc.Key, "node", sc.Node)
			continue
		}
		sc.Nodes = slices.DeleteFunc(sc.Nodes, func(n string) bool {
			if slices.Contains(nodes, n) {
				return false
			}
			log.Warn("a node of the show is not configured: its callers are not taken", "show", sc.Key, "node", n)
			return true
		})
		shows = append(shows, Show{ShowConfig: sc, Talkback: tb})
	}
	return shows, nil
}
