package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// originates wraps a node's Telephony to list the endpoints it originates.
type originates struct {
	broadcast.Telephony
	mu  sync.Mutex
	eps []string
}

func (o *originates) Originate(ctx context.Context, p ari.OriginateParams) (*ari.Channel, error) {
	o.mu.Lock()
	o.eps = append(o.eps, p.Endpoint)
	o.mu.Unlock()
	return o.Telephony.Originate(ctx, p)
}

func (o *originates) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.eps...)
}

// TestPhoneRuleBeforeRinging (issue 21, point 4): a person's phone that the
// installation's rule does not allow (one stored before the rule, or by
// hand) is never originated: Screen and a talkback with it answer a
// *queue.FieldError for "phone" naming the rule, and the caller stays as
// they were. Before, Screen originated whatever the phone said, e.g.
// Local/0019005550100@from-internal (toll fraud) or a trunk.
func TestPhoneRuleBeforeRinging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	tel := &originates{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password())}
	rule, err := queue.ParsePhoneRule("PJSIP/*, !PJSIP/carrier")
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, srv, broadcast.Config{
		Nodes:     []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}},
		Phones:    phones{"sam": "Local/0019005550100@from-internal", "kim": "PJSIP/carrier", "pat": "PJSIP/pat"},
		PhoneRule: rule,
	})
	w := e.w("show1")
	w.nodeUp()
	_, id := dial(t, srv, w, "show1", "1")
	for _, who := range []string{"sam", "kim"} {
		c, err := e.app.Screen(ctx, "show1", id, producer, who)
		var fe *queue.FieldError
		if !errors.As(err, &fe) || fe.Field != "phone" || !strings.Contains(fe.Message, "PJSIP/*, !PJSIP/carrier") {
			t.Fatalf("screen by %s: %+v, %v; want a FieldError for phone naming the rule", who, c, err)
		}
		if got, _ := e.app.Call("show1", id); got.State != queue.StateWaiting || got.Pending != "" {
			t.Errorf("caller after a refused screen by %s: %s pending %q, want waiting", who, got.State, got.Pending)
		}
	}
	if err := e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{User: "sam"}); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("talkback from a disallowed phone: %v, want ErrInvalid", err)
	}
	if eps := tel.all(); len(eps) != 0 {
		t.Fatalf("originated %v, want nothing", eps)
	}
	if _, err := e.app.Screen(ctx, "show1", id, producer, "pat"); err != nil {
		t.Fatalf("screen by pat: %v", err)
	}
	if eps := tel.all(); len(eps) != 1 || eps[0] != "PJSIP/pat" {
		t.Errorf("originated %v, want PJSIP/pat", eps)
	}
}
