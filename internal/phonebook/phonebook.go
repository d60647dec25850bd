// Package phonebook keeps every user's phone (the one callin rings when
// they screen a caller or talk back) in memory for the call path, reread
// from the store for changes made elsewhere, and says which phones the
// shows' call-back trunks rule out.
package phonebook

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/internal/tick"
	"github.com/callin-radio/callin/queue"
)

// Every is how often a service rereads every user's phone (Run): a phone
// set by another instance, or by `callin user phone`, rings within this
// time. A settings page of this instance calls Reload or SetPhone and is
// seen at once.
const Every = 30 * time.Second

// readTimeout bounds one reread: a database that does not answer is an
// outage, and the phones known before go on ringing.
const readTimeout = 10 * time.Second

// Store is what a Book reads and writes; *postgres.Store has it.
type Store interface {
	UserPhones(ctx context.Context) (map[string]string, error)
	SetUserPhone(ctx context.Context, name, endpoint string) (string, error)
}

// Book is broadcast.Phones for the call path (and web.Phones for the
// settings pages): every user's phone, in memory. Phone never waits on the
// database or on a lock; Reload, SetPhone and Run replace the whole map,
// and a failed read keeps the last good one, so phones keep ringing
// through a database outage.
type Book struct {
	store Store
	log   *slog.Logger
	m     atomic.Pointer[map[string]string] // never changed in place

	// mu makes writers take turns with the read they publish: a Reload
	// that began before a SetPhone cannot put back the phone it replaced.
	mu     sync.Mutex
	failed bool // the last read failed (logged once per outage)

	// reloaded is told the outcome of every reload of Run (a test signal).
	reloaded testsignal.Signal[error]
}

var _ broadcast.Phones = (*Book)(nil)

// Load reads every user's phone. It fails only if that first read does:
// the service starts with the database, as it does for the blocklist.
func Load(ctx context.Context, store Store, log *slog.Logger) (*Book, error) {
	p := &Book{store: store, log: log}
	empty := map[string]string{}
	p.m.Store(&empty)
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Phone returns the endpoint of user's phone, by the name they log in
// with (folded as web/auth folds it). It is safe for concurrent use and
// answers from memory.
func (p *Book) Phone(user string) (string, bool) {
	m := *p.m.Load()
	if ep, ok := m[user]; ok {
		return ep, true
	}
	ep, ok := m[strings.ToLower(strings.TrimSpace(user))]
	return ep, ok
}

// Reload rereads every user's phone. On an error it keeps the phones it
// had and returns the error.
func (p *Book) Reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, err := p.store.UserPhones(ctx)
	if err != nil {
		return fmt.Errorf("phones: %w", err)
	}
	p.m.Store(&m)
	return nil
}

// SetPhone sets user's phone in the database (an empty endpoint clears it;
// see postgres.Store.SetUserPhone for the rule and the errors) and, once
// stored, in memory, so the next Screen rings it. It returns the endpoint
// as stored.
func (p *Book) SetPhone(ctx context.Context, user, endpoint string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	user = strings.ToLower(strings.TrimSpace(user))
	ep, err := p.store.SetUserPhone(ctx, user, endpoint)
	if err != nil {
		return "", err
	}
	m := maps.Clone(*p.m.Load())
	if ep == "" {
		delete(m, user)
	} else {
		m[user] = ep
	}
	p.m.Store(&m)
	return ep, nil
}

// RuleFor is rule with the endpoints the shows' call-backs dial
// through kept out (a trunk: "PJSIP/carrier" of callback=PJSIP/{number}@carrier
// or of SIP/carrier/{number}), so that no person's phone is the trunk
// itself even under a broad rule such as PJSIP/* (issue 21, point 4).
func RuleFor(rule queue.PhoneRule, shows []broadcast.ShowConfig) queue.PhoneRule {
	var trunks []string
	for _, s := range shows {
		tech, res, ok := strings.Cut(s.CallbackLine.Dial, "/")
		if !ok {
			continue
		}
		if _, host, at := strings.Cut(res, "@"); at {
			trunks = append(trunks, tech+"/"+host)
		} else if name, _, slash := strings.Cut(res, "/"); slash {
			trunks = append(trunks, tech+"/"+name)
		}
	}
	return rule.Deny(trunks...)
}

// WarnRefused logs each stored phone that rule refuses: it is not rung
// (broadcast checks before every call) until its user sets another.
func (p *Book) WarnRefused(rule queue.PhoneRule) {
	for user, ep := range *p.m.Load() {
		if err := rule.Allow(ep); err != nil {
			p.log.Warn("phones: a user's phone is not one --phones-allowed allows; it is not rung until they set another",
				"user", user, "phone", ep, "allowed", rule.String())
		}
	}
}

// Run reloads the phones every interval until ctx ends. A failed reload is
// logged when the outage begins and when it ends, not every time.
func (p *Book) Run(ctx context.Context, every time.Duration) {
	tick.Every(ctx, every, func() {
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		err := p.Reload(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		switch was := p.failed; {
		case err != nil && !was:
			p.log.Warn("phones: cannot read the users' phones; screening rings the phones known before", "err", err)
		case err == nil && was:
			p.log.Info("phones: users' phones read again")
		}
		p.failed = err != nil
		p.mu.Unlock()
		p.reloaded.Signal(err)
	})
}
