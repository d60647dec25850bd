package queue

import (
	"fmt"
	"strings"
)

// maxEndpoint bounds an endpoint's length: real ones are a few dozen
// characters; the bound keeps a pasted paragraph out of a dial.
const maxEndpoint = 128

// endpointTechs are the channel technologies a person's phone may use, in
// the spelling Asterisk's documentation gives them.
var endpointTechs = []string{"PJSIP", "SIP", "IAX2", "DAHDI", "Local"}

// ParseEndpoint returns endpoint as callin stores and dials it, or an
// error wrapping ErrInvalid if it is not a plain Asterisk endpoint:
// TECH/resource, TECH one of PJSIP, SIP, IAX2, DAHDI or Local (in any case;
// returned in Asterisk's spelling), resource letters, digits and _ . + -,
// optionally followed by @ and a context or host of letters, digits and
// _ . - ("PJSIP/screener1", "Local/200@studio"). Spaces around it are
// dropped. Anything a dial string would read as more than one endpoint or
// as options ('/', ',', '&', '|', '(', spaces, ':') makes it no endpoint,
// so a phone set by a person can never become a free dial string.
func ParseEndpoint(endpoint string) (string, error) {
	s := strings.TrimSpace(endpoint)
	tech, resource, ok := strings.Cut(s, "/")
	if !ok || len(s) > maxEndpoint {
		return "", endpointError(endpoint)
	}
	canon := ""
	for _, t := range endpointTechs {
		if strings.EqualFold(tech, t) {
			canon = t
			break
		}
	}
	user, host, at := strings.Cut(resource, "@")
	if canon == "" || !endpointPart(user, true) || (at && !endpointPart(host, false)) {
		return "", endpointError(endpoint)
	}
	return canon + "/" + resource, nil
}

// endpointPart reports whether s is one or more letters, digits, '_', '.',
// '-' and (before the '@' only) '+'.
func endpointPart(s string, plus bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		case c == '+' && plus:
		default:
			return false
		}
	}
	return true
}

func endpointError(endpoint string) error {
	if len(endpoint) > maxEndpoint {
		endpoint = endpoint[:maxEndpoint] + "…"
	}
	return fmt.Errorf("queue: endpoint %q: want TECH/resource, TECH one of %s, the resource letters, digits and _ . + - with an optional @context (e.g. PJSIP/screener1): %w",
		endpoint, strings.Join(endpointTechs, ", "), ErrInvalid)
}
