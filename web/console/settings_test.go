package console_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/callin-radio/callin/queue"
)

// memPhones is a Phones in memory.
type memPhones struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *memPhones) Phone(user string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ep, ok := p.m[user]
	return ep, ok
}

func (p *memPhones) SetPhone(_ context.Context, user, ep string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ep == "" {
		delete(p.m, user)
		return "", nil
	}
	v, err := queue.ParseEndpoint(ep)
	if err != nil {
		return "", err
	}
	p.m[user] = v
	return v, nil
}

// TestSettingsPhone: anyone sets or clears their own phone on the settings
// page; a dial string is refused naming the field.
func TestSettingsPhone(t *testing.T) {
	phones := &memPhones{m: map[string]string{}}
	e := newEnv(t, func(c *Config) { c.Phones = phones })
	if res, body := e.console(t, "GET", "/settings", "screener", "", false); res.StatusCode != 200 || !strings.Contains(body, `data-testid="phone-form"`) {
		t.Fatalf("settings page: %d", res.StatusCode)
	}
	if res, body := e.console(t, "POST", "/settings/phone", "screener", "phone=pjsip/screener1", true); res.StatusCode != 200 {
		t.Fatalf("set: %d %q", res.StatusCode, body)
	}
	if ep, _ := phones.Phone("screener"); ep != "PJSIP/screener1" {
		t.Errorf("stored %q, want PJSIP/screener1", ep)
	}
	if _, body := e.console(t, "GET", "/settings", "screener", "", false); !strings.Contains(body, `value="PJSIP/screener1"`) {
		t.Error("the page does not show the phone")
	}
	if res, body := e.console(t, "POST", "/settings/phone", "screener", "phone=PJSIP/x%26Local/900", true); res.StatusCode != 422 || !strings.Contains(body, "phone") {
		t.Errorf("dial string: %d %q, want 422 naming phone", res.StatusCode, body)
	}
	if ep, _ := phones.Phone("screener"); ep != "PJSIP/screener1" {
		t.Errorf("a refused phone changed the stored one to %q", ep)
	}
	if res, _ := e.console(t, "POST", "/settings/phone", "screener", "phone=", true); res.StatusCode != 200 {
		t.Fatalf("clear: %d", res.StatusCode)
	}
	if _, ok := phones.Phone("screener"); ok {
		t.Error("the phone was not cleared")
	}
}
