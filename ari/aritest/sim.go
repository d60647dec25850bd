package aritest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// SimOptions describe a stream of simulated listeners calling in.
type SimOptions struct {
	App   string   // Stasis application; default "callin"
	Shows []string // show keys (the Stasis argument), picked at random
	// Rate is the mean number of callers per second; arrivals are a Poisson
	// process. Zero places callers as fast as Concurrency allows.
	Rate float64
	// Max stops after this many callers (0: until ctx ends).
	Max int
	// Patience is the mean time a caller stays before hanging up by
	// themselves (exponentially distributed). Zero: callers never hang up.
	Patience time.Duration
	// RepeatShare is the share of callers who are repeat callers, drawn
	// from the numbers already used that are not in a call now: as on a
	// real show, one number never calls twice at once, and it keeps its
	// caller ID name.
	RepeatShare float64
	// StasisRetry and RetryFor model the dialplan's retry while the app is
	// not registered (see CallOptions).
	StasisRetry, RetryFor time.Duration
	// CallbackShare is the share of callers who, offered a call-back
	// ("sound:callin-callback-offer"), press 2; called back, they press 1
	// after the prompt ("sound:callin-callback-return"), as does a caller
	// asked to confirm being next ("sound:callin-next-press-1"). The keys
	// are pressed until ctx ends (see SetPlayListener).
	CallbackShare float64
	// Concurrency bounds the calls being placed at once (default 8).
	Concurrency int
	Seed        uint64 // 0: random
}

// SimStats counts what a simulation did.
type SimStats struct {
	Placed, Failed, HungUp int
}

// Simulate places callers on s until ctx ends or Max callers were placed,
// calling onCall (if not nil) for each caller in Stasis. It returns the
// counts; the error is ctx's, or nil after Max.
func (s *Server) Simulate(ctx context.Context, o SimOptions, onCall func(*Call)) (SimStats, error) {
	o, seed, err := o.withDefaults()
	if err != nil {
		return SimStats{}, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if o.CallbackShare > 0 {
		s.pressKeys(ctx, o.CallbackShare, seed)
	}
	var (
		stats   SimStats
		book    = &simBook{busy: map[string]bool{}, names: map[string]string{}}
		sem     = make(chan struct{}, o.Concurrency)
		results = make(chan simResult, o.Concurrency)
		running int
	)
	collect := func(r simResult) {
		running--
		if !r.ok {
			stats.Failed++
			return
		}
		stats.Placed++
		if onCall != nil {
			onCall(r.call)
		}
	}
	next := arrival(rng, o.Rate)
	for placed := 0; o.Max == 0 || placed < o.Max; {
		select {
		case <-ctx.Done():
			for ; running > 0; running-- {
				<-results
			}
			return stats, ctx.Err()
		case r := <-results:
			collect(r)
			continue
		case <-next:
		}
		// Wait for a free slot, collecting results meanwhile: a worker
		// holds its slot until its result is taken.
		acquired := false
		for !acquired && ctx.Err() == nil {
			select {
			case sem <- struct{}{}:
				acquired = true
			case r := <-results:
				collect(r)
			case <-ctx.Done():
			}
		}
		if !acquired {
			continue
		}
		placed++
		running++
		co, patience := o.nextCaller(rng, book)
		go s.simCall(ctx, co, patience, sem, results, book)
		next = arrival(rng, o.Rate)
	}
	for running > 0 {
		collect(<-results)
	}
	return stats, nil
}

// withDefaults returns o with its defaults filled in and the seed to use,
// or an error if o names no show.
func (o SimOptions) withDefaults() (SimOptions, uint64, error) {
	if o.App == "" {
		o.App = "callin"
	}
	if len(o.Shows) == 0 {
		return o, 0, errors.New("aritest: Simulate needs at least one show")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return o, seed, nil
}

// arrival returns when the next caller dials: Poisson arrivals at rate
// per second, or now when rate is not positive.
func arrival(rng *rand.Rand, rate float64) <-chan time.Time {
	if rate <= 0 {
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	return time.After(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
}

// simResult is one simulated call's outcome.
type simResult struct {
	ok   bool
	call *Call
}

// simCall places one simulated caller, frees its slot in sem and sends
// the outcome; the caller hangs up after patience when it is positive.
func (s *Server) simCall(ctx context.Context, co CallOptions, patience time.Duration, sem <-chan struct{}, results chan<- simResult, book *simBook) {
	c, err := s.Call(ctx, co)
	<-sem
	if err != nil {
		book.free(co.Number)
		results <- simResult{}
		return
	}
	go func() { // the number is free again once its call is over
		select {
		case <-c.Done():
		case <-ctx.Done():
		}
		book.free(co.Number)
	}()
	if patience > 0 {
		time.AfterFunc(patience, func() { _ = c.Hangup(16) })
	}
	results <- simResult{ok: true, call: c}
}

// nextCaller draws the next simulated caller: a new or a repeat number
// not in a call now, with its caller ID name, a show, and how long they
// wait before hanging up (0: they never do).
func (o SimOptions) nextCaller(rng *rand.Rand, book *simBook) (CallOptions, time.Duration) {
	number, name := book.take(rng, o.RepeatShare)
	co := CallOptions{
		App: o.App, Args: []string{o.Shows[rng.IntN(len(o.Shows))]},
		Number: number, Name: name,
		StasisRetry: o.StasisRetry, RetryFor: o.RetryFor,
	}
	var patience time.Duration
	if o.Patience > 0 {
		patience = time.Duration(rng.ExpFloat64() * float64(o.Patience))
	}
	return co, patience
}

// simBook is a simulation's callers: each number's caller ID name, and the
// numbers in a call now. Its lock guards both (calls end on other
// goroutines).
type simBook struct {
	mu    sync.Mutex
	known []string          // numbers that have called, in order
	names map[string]string // number -> its caller ID name
	busy  map[string]bool   // numbers in a call now
}

// take draws a number not in a call and marks it busy: a repeat caller's
// (share of the time, when one is free) or a new one's, with a new name.
func (b *simBook) take(rng *rand.Rand, share float64) (number, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.known) > 0 && rng.Float64() < share {
		for range 8 { // a few tries: most known numbers are free
			if n := b.known[rng.IntN(len(b.known))]; !b.busy[n] {
				b.busy[n] = true
				return n, b.names[n]
			}
		}
	}
	for range 64 {
		n := fakeNumber(rng)
		if _, seen := b.names[n]; !seen {
			b.known = append(b.known, n)
			b.names[n] = fakeName(rng)
			b.busy[n] = true
			return n, b.names[n]
		}
		if !b.busy[n] {
			b.busy[n] = true
			return n, b.names[n]
		}
	}
	// Every number drawn is in a call: a caller who withholds theirs.
	return "anonymous", ""
}

// free marks a number's call over.
func (b *simBook) free(number string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.busy, number)
}

// pressKeys makes simulated callers answer prompts: offered a call-back,
// a share of them press 2; called back, or asked to confirm being next,
// they press 1. The callers go on pressing keys until ctx ends.
func (s *Server) pressKeys(ctx context.Context, share float64, seed uint64) {
	keys := rand.New(rand.NewPCG(seed^1, seed^2)) // the listener's own: it runs on other goroutines
	var mu sync.Mutex
	s.SetPlayListener(func(chanID, media string) {
		mu.Lock()
		press := ""
		switch media {
		case "sound:callin-callback-offer":
			if keys.Float64() < share {
				press = "2"
			}
		case "sound:callin-callback-return", "sound:callin-next-press-1":
			press = "1"
		}
		mu.Unlock()
		if c, ok := s.Caller(chanID); ok && press != "" {
			_ = c.DTMF(press)
		}
	})
	context.AfterFunc(ctx, func() { s.SetPlayListener(nil) })
}

// fakeNumber gives a North American number in the 555-01xx range that is
// reserved for fiction, in E.164.
func fakeNumber(rng *rand.Rand) string {
	areas := []string{"202", "212", "303", "312", "415", "503", "512", "617", "702", "808",
		"206", "305", "404", "602", "612", "713", "801", "907", "919", "971"}
	return fmt.Sprintf("+1%s55501%02d", areas[rng.IntN(len(areas))], rng.IntN(100))
}

// fakeName gives a caller ID name as carriers deliver them: mostly a name,
// sometimes a place or "WIRELESS CALLER", sometimes nothing, and now and then
// something hostile that the console must escape.
func fakeName(rng *rand.Rand) string {
	first := []string{"Maria", "James", "Aiko", "Olu", "Priya", "Sven", "Fatima", "Diego", "Grace", "Tomasz", "Lena", "Kwame"}
	last := []string{"Garcia", "O'Brien", "Nakamura", "Adeyemi", "Patel", "Lindqvist", "Haddad", "Moreno", "Chen", "Kowalski", "Fischer", "Mensah"}
	switch r := rng.IntN(100); {
	case r < 70:
		return first[rng.IntN(len(first))] + " " + last[rng.IntN(len(last))]
	case r < 80:
		return "WIRELESS CALLER"
	case r < 88:
		places := []string{"SPRINGFIELD OR", "PORTLAND ME", "AUSTIN TX", "DENVER CO"}
		return places[rng.IntN(len(places))]
	case r < 97:
		return ""
	default:
		return `<img src=x onerror="alert('pwned')">`
	}
}
