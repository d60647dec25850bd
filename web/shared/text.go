package shared

import (
	"strings"
	"unicode/utf8"
)

// Printable returns s fit to show as text: control characters (NUL, ESC
// and the rest of C0, DEL, C1), line and paragraph separators, the
// bidirectional controls that reorder what follows them, a byte-order mark
// and bytes that are not UTF-8 each become U+FFFD. templ escapes HTML;
// this keeps the rest of a hostile caller ID's tricks off the page.
func Printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if Unprintable(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Unprintable reports whether r must not reach a page as it is.
func Unprintable(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
