package queue

import "strings"

// maxDigits bounds a phone number: E.164 allows 15 digits; international
// and trunk prefixes may add a few.
const maxDigits = 20

// NormalizeNumber returns a phone number as callers are keyed: its digits,
// with a leading + kept when the number starts with one (after spaces, or
// after "tel:"). Spaces, dashes, dots, slashes and brackets between the
// digits are dropped. Anything else (a letter, another symbol, a + that
// does not lead, more than 20 digits) makes it no phone number at all: it
// returns "", as for "anonymous" or a withheld number. So a caller ID such
// as "javascript:alert(1)//" or "../../logout?x=1#" is nobody's number,
// not the profile of "1".
func NormalizeNumber(number string) string {
	n := strings.TrimSpace(number)
	n = strings.TrimPrefix(n, "tel:")
	var b strings.Builder
	b.Grow(len(n))
	if rest, ok := strings.CutPrefix(n, "+"); ok {
		b.WriteByte('+')
		n = rest
	}
	digits := 0
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			digits++
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return ""
		}
	}
	if digits == 0 || digits > maxDigits {
		return ""
	}
	return b.String()
}
