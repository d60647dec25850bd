package queue

import (
	"fmt"
	"path"
	"strings"
)

// DefaultPhonesAllowed is the PhoneRule of an installation that sets none:
// any PJSIP endpoint by its name alone (PJSIP/screener1), never one with
// an '@' (a contact or a route through another endpoint), never a Local
// channel into a dialplan context, never another technology.
const DefaultPhonesAllowed = "PJSIP/*"

// PhoneRule says which endpoints may be a person's phone (a user's phone,
// which they set themselves): the installation's list of patterns, set by
// an admin (serve's --phones-allowed). A phone is allowed when a pattern
// matches it and no "!"-pattern does. A pattern is an endpoint as
// ParseEndpoint takes it, with '*' in its resource standing for any run
// of letters, digits and _ . + -: "PJSIP/*", "PJSIP/studio-*",
// "IAX2/desk1". A pattern with '*' never matches an endpoint with '@', and
// may not have one itself; a Local pattern must be exact
// ("Local/200@studio"): a person can never reach an arbitrary context or a
// trunk through their phone (issue 21, point 4: "Local/0019005550100@from-internal"
// originated a toll call). "!PJSIP/carrier" keeps a trunk endpoint out of
// "PJSIP/*". The zero PhoneRule is DefaultPhonesAllowed.
type PhoneRule struct {
	allow, deny []string
}

// ParsePhoneRule reads a PhoneRule from patterns separated by commas or
// spaces ("" is DefaultPhonesAllowed). It returns an error wrapping
// ErrInvalid naming the first pattern it cannot take.
func ParsePhoneRule(spec string) (PhoneRule, error) {
	var r PhoneRule
	for _, p := range strings.FieldsFunc(spec, func(c rune) bool { return c == ',' || c == ' ' }) {
		neg := strings.HasPrefix(p, "!")
		pat, err := phonePattern(strings.TrimPrefix(p, "!"))
		if err != nil {
			return PhoneRule{}, err
		}
		if neg {
			r.deny = append(r.deny, pat)
		} else {
			r.allow = append(r.allow, pat)
		}
	}
	if len(r.allow) == 0 {
		r.allow = []string{DefaultPhonesAllowed}
	}
	return r, nil
}

// phonePattern checks one pattern and returns it in ParseEndpoint's
// spelling of the technology.
func phonePattern(p string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("queue: phone pattern %q: %s: %w", p, why, ErrInvalid)
	}
	ep, err := ParseEndpoint(strings.ReplaceAll(p, "*", "x"))
	if err != nil {
		return "", bad("want TECH/resource, '*' standing for a name, e.g. PJSIP/*")
	}
	tech, _, _ := strings.Cut(ep, "/")
	_, res, _ := strings.Cut(strings.TrimSpace(p), "/")
	if strings.Contains(res, "*") {
		switch {
		case strings.Contains(res, "@"):
			return "", bad("a pattern with '*' may not have '@'")
		case tech == "Local":
			return "", bad("a Local channel must be given exactly, e.g. Local/200@studio")
		}
	}
	return tech + "/" + res, nil
}

// Allow returns nil if endpoint (as ParseEndpoint returns it) may be a
// person's phone, else an error wrapping ErrInvalid that says what is
// allowed.
func (r PhoneRule) Allow(endpoint string) error {
	if r.allow == nil {
		r.allow = []string{DefaultPhonesAllowed}
	}
	if match(r.allow, endpoint) && !match(r.deny, endpoint) {
		return nil
	}
	return fmt.Errorf("queue: the phone %q is not one this installation allows (%s): %w", endpoint, r, ErrInvalid)
}

// match reports whether a pattern of pats matches endpoint.
func match(pats []string, endpoint string) bool {
	for _, p := range pats {
		if p == endpoint {
			return true
		}
		if !strings.Contains(p, "*") || strings.Contains(endpoint, "@") {
			continue
		}
		// '*' matches no '/' in path.Match; the endpoint's one '/' is the
		// technology's, in both.
		if ok, _ := path.Match(p, endpoint); ok {
			return true
		}
	}
	return false
}

// String is the rule as ParsePhoneRule reads it: "PJSIP/*" or
// "PJSIP/*, !PJSIP/carrier".
func (r PhoneRule) String() string {
	allow := r.allow
	if allow == nil {
		allow = []string{DefaultPhonesAllowed}
	}
	out := append([]string(nil), allow...)
	for _, d := range r.deny {
		out = append(out, "!"+d)
	}
	return strings.Join(out, ", ")
}

// Deny returns the rule with endpoints added to what it refuses (exact
// endpoints such as the trunks of the shows' callbacks). Endpoints that
// ParseEndpoint refuses are left out: no phone can be one.
func (r PhoneRule) Deny(endpoints ...string) PhoneRule {
	out := PhoneRule{allow: r.allow, deny: append([]string(nil), r.deny...)}
	for _, e := range endpoints {
		if ep, err := ParseEndpoint(e); err == nil {
			out.deny = append(out.deny, ep)
		}
	}
	return out
}
