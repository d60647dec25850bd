package apiclient_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/callin-radio/callin/apiclient"
)

// Example_listThenStream is the README's: list the callers, then stream
// the show's events from the list's event id, typed. (Compiled, not run:
// it needs a callin.)
func Example_listThenStream() {
	ctx, token := context.Background(), "secret"
	run := func() error {
		c, _ := apiclient.NewClientWithResponses("http://127.0.0.1:8080/api/v1", apiclient.WithRequestEditorFn(
			func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}))
		list, err := c.ListCallersWithResponse(ctx, "morning", nil)
		if err := apiclient.Check(list, list.Body, err); err != nil {
			return err // *apiclient.Error: StatusCode, Problem.Code, Problem.Detail
		}
		var from string // the event the list is as of ("" when it cannot say: from now)
		if list.JSON200.EventId != nil {
			from = *list.JSON200.EventId
		}
		events := c.Stream(ctx, "morning", apiclient.StreamOptions{LastEventID: from})
		for {
			ev, err := events.Next()
			if err != nil {
				return err // ctx ended, the token was revoked (ErrStreamEnded), or a refusal
			}
			switch f, _ := ev.Value(); f := f.(type) {
			case apiclient.TransitionFrame:
				fmt.Println(f.Data.CallId, f.Data.Action, f.Data.To) // f.Data.To is an apiclient.CallState
			case apiclient.ResetFrame:
				// events were lost: list the callers again
			}
		}
	}
	_ = run
}
