package auth

import "time"

// ArgonPeak is the most argon2id runs at once so far.
func ArgonPeak() int { return int(argonPeak.Load()) }

// SetHashWait sets how long s's logins wait for a hashing slot.
func SetHashWait(s *Service, d time.Duration) { s.hashWait = d }
