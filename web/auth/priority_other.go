//go:build !linux

package auth

import "errors"

var errNoThreadPriority = errors.New("auth: no per-thread priority on this system")

// lowerThreadPriority does nothing where a thread's priority cannot be
// set alone: the hash then runs at the process's priority.
func lowerThreadPriority() error { return errNoThreadPriority }

func threadPriority() (int, error) { return 0, errNoThreadPriority }
