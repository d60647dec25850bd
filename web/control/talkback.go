package control

import (
	"regexp"
	"slices"
	"strings"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// TalkbackRules are what a show's talkback may use. A talkback either
// calls a producer's phone into the holding bridge or plays recorded
// messages to it, and both reach Asterisk as given: the request may only
// name what the show's configuration allows.
type TalkbackRules struct {
	// Phones are the endpoints a talkback may call ("PJSIP/prod1"); the
	// console's Talkback button calls the first. None: the console rings
	// the producer's own phone, if an admin gave them one.
	Phones []string
	// Media are the media URIs a talkback may play. None: plain sound
	// prompts only (SafeSound).
	Media []string
}

// maxTalkbackMedia bounds the messages of one talkback.
const maxTalkbackMedia = api.MaxTalkbackMedia

// safeSound is a sound name Asterisk looks up under its sounds folder:
// lower-case words in folders, no "..", no leading "/", no format.
var safeSound = regexp.MustCompile(`^[a-z0-9_-]+(/[a-z0-9_-]+)*$`)

// SafeSound reports whether media is "sound:<name>" with a plain name
// (letters, digits, '_' and '-', in folders separated by '/').
func SafeSound(media string) bool {
	name, ok := strings.CutPrefix(media, "sound:")
	return ok && safeSound.MatchString(name)
}

// Check returns nil if p may start a talkback with opts on show, or an
// error naming the field and the rule. A user may ring their own phone
// (User: their name; the phone is the one an admin gave them); a token is
// nobody's phone.
func (t TalkbackRules) Check(show string, opts broadcast.TalkbackOptions, p auth.Principal) error {
	if opts.User != "" && (p.Kind != auth.KindUser || opts.User != p.Name) {
		return shared.Invalid("user", "a talkback rings only your own phone: leave user out and name one of the show's talkback phones as endpoint")
	}
	if opts.Endpoint != "" {
		if len(t.Phones) == 0 {
			return shared.Invalid("endpoint", "show %s has no talkback phones configured (add talkback-phones=PJSIP/a|PJSIP/b to its --show)", show)
		}
		if !slices.Contains(t.Phones, opts.Endpoint) {
			return shared.Invalid("endpoint", "must be one of the show's talkback phones: %s", strings.Join(t.Phones, ", "))
		}
	}
	if len(opts.Media) > maxTalkbackMedia {
		return shared.Invalid("media", "at most %d messages", maxTalkbackMedia)
	}
	for _, m := range opts.Media {
		switch {
		case len(t.Media) > 0 && !slices.Contains(t.Media, m):
			return shared.Invalid("media", "%q is not one of the show's talkback messages: %s", m, strings.Join(t.Media, ", "))
		case len(t.Media) == 0 && !SafeSound(m):
			return shared.Invalid("media", "%q: want sound:<name>, the name of lower-case letters, digits, '_' and '-' in folders (the show configures no other talkback messages)", m)
		}
	}
	return nil
}
