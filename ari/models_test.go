package ari_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
)

func TestTimeJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"2026-11-26T06:08:54.762+0000",
		"2026-11-26T06:08:54.000-0500",
		"2024-02-29T23:59:59.999+0130",
		"1999-12-31T00:00:00.001-1200",
	} {
		var got ari.Time
		if err := json.Unmarshal([]byte(`"`+s+`"`), &got); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want, err := time.Parse(ari.TimeLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("%s: got %v, want %v", s, got.Time, want)
		}
		_, gotOff := got.Zone()
		_, wantOff := want.Zone()
		if gotOff != wantOff {
			t.Errorf("%s: offset %d, want %d", s, gotOff, wantOff)
		}
		enc, err := json.Marshal(got)
		if err != nil || string(enc) != `"`+s+`"` {
			t.Errorf("%s: encodes as %s, %v", s, enc, err)
		}
	}
	t.Run("RFC3339", func(t *testing.T) {
		var got ari.Time
		if err := json.Unmarshal([]byte(`"2026-11-26T06:08:54.762Z"`), &got); err != nil || got.UnixMilli() != 1795673334762 {
			t.Errorf("got %v, %v", got.Time, err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		for _, s := range []string{`""`, `null`} {
			got := ari.Time{time.Now()}
			if err := json.Unmarshal([]byte(s), &got); err != nil || !got.IsZero() {
				t.Errorf("%s: got %v, %v; want zero", s, got.Time, err)
			}
		}
		if enc, _ := json.Marshal(ari.Time{}); string(enc) != `""` {
			t.Errorf("zero Time encodes as %s", enc)
		}
	})
	for _, s := range []string{`"2026-02-30T06:08:54.762+0000"`, `"2026-13-01T06:08:54.762+0000"`, `"2026-11-26T25:08:54.762+0000"`,
		`"2026-11-26T06:08:54.7a2+0000"`, `"yesterday"`, `12`} {
		var got ari.Time
		if err := json.Unmarshal([]byte(s), &got); err == nil {
			t.Errorf("%s: got %v, want an error", s, got.Time)
		}
	}
}
