package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	// MinPasswordLen is the fewest characters (not bytes) a password may have.
	MinPasswordLen = 12
	// MaxPasswordLen is the most bytes a password may have: enough for any
	// passphrase, and a bound on what an attacker can make us hash.
	MaxPasswordLen = 1024
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane). Memory-hard, so a GPU farm gains little; about 20 ms and 19 MiB per hash on
// our 2-core machine (see BenchmarkHashPassword). They are written into each
// hash, so raising them later leaves old hashes verifiable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on the parameters VerifyPassword accepts from a stored hash, so a
// corrupt or hostile row cannot make a login allocate gigabytes.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// argonSlots bounds the argon2id runs of the whole process (hashes and
// verifications alike) to half the CPUs, at least one: a burst of logins,
// or of password changes, never takes every core from the calls, the
// consoles and the streams, nor more than that many times 19 MiB.
var argonSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// argonRunning and argonPeak count the argon2id runs under way and their
// most at once (for tests).
var argonRunning, argonPeak atomic.Int32

// ErrBusy means a login waited too long for the password hashing, all of
// whose slots were taken by other logins: try again in a few seconds.
var ErrBusy = errors.New("auth: too many logins at once")

// idKey is argon2.IDKey run in one of argonSlots. It waits for a slot at
// most wait (no bound if 0), then returns ErrBusy, or ctx's error once ctx
// is done.
func idKey(ctx context.Context, wait time.Duration, password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	var expired <-chan struct{}
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, wait, ErrBusy)
		defer cancel()
		expired = ctx.Done()
	}
	select {
	case argonSlots <- struct{}{}:
	case <-ctx.Done():
		if ctx.Done() == expired && context.Cause(ctx) == ErrBusy {
			return nil, ErrBusy
		}
		return nil, ctx.Err()
	}
	defer func() { <-argonSlots }()
	n := argonRunning.Add(1)
	defer argonRunning.Add(-1)
	for p := argonPeak.Load(); n > p && !argonPeak.CompareAndSwap(p, n); p = argonPeak.Load() {
	}
	var key []byte
	inBackground(func() { key = argon2.IDKey(password, salt, time, memory, threads, keyLen) })
	return key, nil
}

// inBackground runs f on one of the hashing threads, and returns when f
// has. A hash is tens of milliseconds of one core's work that nothing
// else waits for but one login: run like the requests, it takes a CPU
// from them (and from PostgreSQL and Asterisk beside callin) for all that
// time whenever the machine is busy. The hashing threads run at a lower
// priority (nice hashNice), so that the kernel runs the requests, the
// database and Asterisk first, preempting a hash whenever one of them
// wakes: a burst of logins is paid by the logins, slower, not by the
// consoles and the streams. Callers hold an argonSlot, so a hashing
// thread is always free.
func inBackground(f func()) {
	startHashers.Do(func() {
		for range cap(argonSlots) {
			go hasher()
		}
	})
	done := make(chan struct{})
	hashJobs <- func() { f(); close(done) }
	<-done
}

// hashNice is the hashing threads' nice value. At 10 a hash still gets
// about a tenth of a core from a machine kept busy by other work (a login
// then takes a quarter of a second, not two: at 19 it would get 1.5 %).
const hashNice = 10

var (
	hashJobs     = make(chan func())
	startHashers sync.Once
)

// hasher runs hashJobs for the life of the process on a thread of its
// own at nice hashNice. The goroutine stays locked to its thread so
// that nothing else runs at that priority; and it never ends, since the
// runtime would end the thread with it, and a child process started from
// that thread with a parent-death signal (pgcluster's PostgreSQL, sipp in
// the tests) would get the signal.
func hasher() {
	runtime.LockOSThread()
	_ = lowerThreadPriority() // where it cannot, hashes run as any goroutine
	for f := range hashJobs {
		f()
	}
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// CheckPassword returns an error wrapping queue.ErrInvalid if password breaks
// the length rules.
func CheckPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return fmt.Errorf("auth: password has %d characters, want at least %d: %w", n, MinPasswordLen, queue.ErrInvalid)
	}
	if len(password) > MaxPasswordLen {
		return fmt.Errorf("auth: password longer than %d bytes: %w", MaxPasswordLen, queue.ErrInvalid)
	}
	return nil
}

// HashPassword checks password against the length rules (see CheckPassword)
// and returns its argon2id hash as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // never fails; see crypto/rand.Read
	// Hashes are an administrator's (a user added, a password set): they
	// wait for a slot as long as it takes.
	key, err := idKey(context.Background(), 0, []byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash from
// HashPassword, comparing keys in constant time. It returns an error only
// for a malformed hash.
func VerifyPassword(encoded, password string) (bool, error) {
	return verifyPassword(context.Background(), 0, encoded, password)
}

// verifyPassword is VerifyPassword waiting at most wait for a hashing slot
// (see idKey).
func verifyPassword(ctx context.Context, wait time.Duration, encoded, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, fmt.Errorf("auth: password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("auth: password hash: version %q, want v=%d", parts[2], argon2.Version)
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false, fmt.Errorf("auth: password hash: parameters %q: %v", parts[3], err)
	}
	if memory < 8*uint32(threads) || memory > maxArgonMemory || time < 1 || time > maxArgonTime ||
		threads < 1 || threads > maxArgonThreads {
		return false, fmt.Errorf("auth: password hash: parameters %q out of bounds", parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, fmt.Errorf("auth: password hash: bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, fmt.Errorf("auth: password hash: bad key")
	}
	got, err := idKey(ctx, wait, []byte(password), salt, time, memory, threads, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
