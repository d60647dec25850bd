package queue_test

import (
	"errors"
	"testing"

	"github.com/callin-radio/callin/queue"
)

// TestPhoneRule: which endpoints may be a person's phone (issue 21, point
// 4): PJSIP endpoints by name alone unless the admin says otherwise; Local
// channels only exactly as listed; never an '@' through a pattern.
func TestPhoneRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec           string
		allowed, nopes []string
	}{
		{"", []string{"PJSIP/screener1", "PJSIP/phone1", "PJSIP/a+b.c_d-e"},
			[]string{"Local/0019005550100@from-internal", "Local/200@studio", "PJSIP/screener1@pbx.example.org", "PJSIP/sam@carrier",
				"SIP/carol", "IAX2/bob", "DAHDI/1"}},
		{"PJSIP/*, !PJSIP/carrier", []string{"PJSIP/screener1"}, []string{"PJSIP/carrier", "Local/200@studio"}},
		{"pjsip/studio-*,IAX2/desk1,Local/200@studio", []string{"PJSIP/studio-1", "IAX2/desk1", "Local/200@studio"},
			[]string{"PJSIP/screener1", "PJSIP/studio", "IAX2/desk2", "Local/201@studio", "Local/200@from-internal"}},
	} {
		r, err := queue.ParsePhoneRule(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		for _, ep := range tc.allowed {
			if err := r.Allow(ep); err != nil {
				t.Errorf("%q allows %s: %v", tc.spec, ep, err)
			}
		}
		for _, ep := range tc.nopes {
			if err := r.Allow(ep); !errors.Is(err, queue.ErrInvalid) {
				t.Errorf("%q refuses %s: got %v, want ErrInvalid", tc.spec, ep, err)
			}
		}
	}
	var zero queue.PhoneRule
	if err := zero.Allow("Local/1@from-internal"); err == nil || zero.String() != "PJSIP/*" {
		t.Errorf("the zero rule: %v, %q; want PJSIP/* only", err, zero)
	}
	if err := zero.Deny("PJSIP/carrier").Allow("PJSIP/carrier"); err == nil {
		t.Error("Deny(PJSIP/carrier) allows it")
	}
	for _, bad := range []string{"Local/*@from-internal", "PJSIP/*@carrier", "Local/*", "PJSIP", "PJSIP/a b/c", "PJSIP/[a]", "PJSIP/?"} {
		if _, err := queue.ParsePhoneRule(bad); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("ParsePhoneRule(%q): %v, want ErrInvalid", bad, err)
		}
	}
}
