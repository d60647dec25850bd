package console_test

import (
	"strings"
	"testing"

	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestSettingsPhone: anyone sets or clears their own phone on the settings
// page; a dial string is refused naming the field.
func TestSettingsPhone(t *testing.T) {
	phones := &webtest.MemPhones{M: map[string]string{}}
	e := webenv.New(t, func(c *core.Config) { c.Phones = phones })
	if res, body := e.Console(t, "GET", "/settings", "screener", "", false); res.StatusCode != 200 || !strings.Contains(body, `data-testid="phone-form"`) {
		t.Fatalf("settings page: %d", res.StatusCode)
	}
	if res, body := e.Console(t, "POST", "/settings/phone", "screener", "phone=pjsip/screener1", true); res.StatusCode != 200 {
		t.Fatalf("set: %d %q", res.StatusCode, body)
	}
	if ep, _ := phones.Phone("screener"); ep != "PJSIP/screener1" {
		t.Errorf("stored %q, want PJSIP/screener1", ep)
	}
	if _, body := e.Console(t, "GET", "/settings", "screener", "", false); !strings.Contains(body, `value="PJSIP/screener1"`) {
		t.Error("the page does not show the phone")
	}
	if res, body := e.Console(t, "POST", "/settings/phone", "screener", "phone=PJSIP/x%26Local/900", true); res.StatusCode != 422 || !strings.Contains(body, "phone") {
		t.Errorf("dial string: %d %q, want 422 naming phone", res.StatusCode, body)
	}
	if ep, _ := phones.Phone("screener"); ep != "PJSIP/screener1" {
		t.Errorf("a refused phone changed the stored one to %q", ep)
	}
	if res, _ := e.Console(t, "POST", "/settings/phone", "screener", "phone=", true); res.StatusCode != 200 {
		t.Fatalf("clear: %d", res.StatusCode)
	}
	if _, ok := phones.Phone("screener"); ok {
		t.Error("the phone was not cleared")
	}
}
