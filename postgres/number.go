package postgres

import "strings"

// NormalizeNumber returns a phone number as callers are keyed: its digits,
// with a leading + kept when the number starts with one (after spaces).
// Everything else (spaces, dashes, dots, brackets, letters) is dropped. It
// returns "" when no digit is left, as for "anonymous" or a withheld number.
func NormalizeNumber(number string) string {
	var b strings.Builder
	b.Grow(len(number))
	plus := strings.HasPrefix(strings.TrimSpace(number), "+")
	for _, r := range number {
		if r >= '0' && r <= '9' {
			if b.Len() == 0 && plus {
				b.WriteByte('+')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
