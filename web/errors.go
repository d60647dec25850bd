package web

import (
	"fmt"
	"net/http"

	"github.com/callin-radio/callin/queue"
)

// forbidden is the error for an action the role may not perform.
func forbidden(action string) error {
	return fmt.Errorf("web: your role may not %s: %w", action, errForbidden)
}

// notFound is the error for an unknown show, caller or route.
func notFound(what, key string) error {
	return fmt.Errorf("web: %s %q: %w", what, key, queue.ErrNotFound)
}

// invalidRoute is the error for a path the API does not have.
func invalidRoute(r *http.Request) error {
	return fmt.Errorf("web: no such API path %s: %w", r.URL.Path, queue.ErrNotFound)
}
