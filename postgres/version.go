package postgres

// Versions for conditional updates and merge patches (issue 22, point 2):
// what an API needs for ETag / If-Match (412 on a stale version) and for
// PATCH with RFC 7396 semantics (absent = unchanged, null = cleared).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/queue"
)

// AnyVersion, as the expected version of a conditional update, updates
// whatever the version is (a request without If-Match).
const AnyVersion int64 = -1

// ErrVersionMismatch is wrapped by a conditional update's error when the
// row's version is not the one expected: someone changed it since the
// client read it. The API answers 412 (check it before queue.ErrConflict,
// which the error wraps too).
var ErrVersionMismatch = errors.New("version mismatch")

// VersionError is a conditional update refused: the version expected and
// the one the row has (0: there is none). It wraps ErrVersionMismatch and
// queue.ErrStale (so queue.ErrConflict).
type VersionError struct {
	Op       string
	Expected int64
	Current  int64
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("postgres: %s: version %d expected, the current one is %d: %v", e.Op, e.Expected, e.Current, ErrVersionMismatch)
}

// Unwrap returns ErrVersionMismatch and queue.ErrStale.
func (e *VersionError) Unwrap() []error { return []error{ErrVersionMismatch, queue.ErrStale} }

// checkVersion returns a *VersionError unless expected is AnyVersion or
// current.
func checkVersion(op string, expected, current int64) error {
	if expected != AnyVersion && expected != current {
		return &VersionError{Op: op, Expected: expected, Current: current}
	}
	return nil
}

// PatchField is one member of an RFC 7396 merge patch: absent (the zero
// PatchField) leaves the value unchanged, null clears it, a value sets
// it. Decoded from JSON it tells the three apart (a member not in the
// object is never decoded, so stays absent), so an API can decode a PATCH
// body straight into a struct of them (NotesPatch).
type PatchField[T any] struct {
	set, null bool
	v         T
}

// PatchSet is a PatchField that sets the value to v.
func PatchSet[T any](v T) PatchField[T] { return PatchField[T]{set: true, v: v} }

// PatchNull is a PatchField that clears the value (JSON null).
func PatchNull[T any]() PatchField[T] { return PatchField[T]{null: true} }

// Absent reports whether the member was not in the patch.
func (f PatchField[T]) Absent() bool { return !f.set && !f.null }

// Null reports whether the member was null.
func (f PatchField[T]) Null() bool { return f.null }

// Apply returns the value after the patch: cur when absent, T's zero
// value when null, else the value given.
func (f PatchField[T]) Apply(cur T) T {
	switch {
	case f.null:
		var zero T
		return zero
	case f.set:
		return f.v
	}
	return cur
}

// UnmarshalJSON reads null as PatchNull and any other value as PatchSet.
func (f *PatchField[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = PatchNull[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = PatchSet(v)
	return nil
}
