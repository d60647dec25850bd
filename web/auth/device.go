package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// Device cookies. A successful login leaves a cookie that names the
// device as one the user logged in from: a random id and an HMAC of the
// user's name and that id, keyed with the user's password hash, so that
// no server key is needed, any instance can check it, it lasts across
// restarts, and a new password forgets every device. A login that
// brings a device cookie good for the name it tries is not slowed by
// that name's failures from elsewhere nor held to its address's bucket
// (see limit.go): a stranger guessing at a user's password, even from
// the same proxy or NAT, cannot keep the user out of the browser they
// use. The cookie grants nothing else: the password is still needed.
const (
	deviceCookieName       = "callin_device"
	secureDeviceCookieName = "__Host-callin_device"
	deviceIDLen            = 16
	deviceMaxAge           = 365 * 24 * time.Hour
)

// deviceMAC is the HMAC of a device id for a user, keyed with their
// password hash.
func deviceMAC(passwordHash, name string, id []byte) []byte {
	m := hmac.New(sha256.New, []byte(passwordHash))
	m.Write([]byte("callin device v1\x00" + name + "\x00"))
	m.Write(id)
	return m.Sum(nil)
}

// newDeviceCookie returns a device cookie's value for name: id "." mac.
func newDeviceCookie(passwordHash, name string) string {
	id := make([]byte, deviceIDLen)
	_, _ = rand.Read(id)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(id) + "." + enc.EncodeToString(deviceMAC(passwordHash, name, id))
}

// wellFormedDevice reports whether value looks like a device cookie, so
// that junk costs no database lookup.
func wellFormedDevice(value string) bool {
	idText, macText, ok := strings.Cut(value, ".")
	enc := base64.RawURLEncoding
	return ok && enc.DecodedLen(len(idText)) == deviceIDLen && enc.DecodedLen(len(macText)) == sha256.Size
}

// deviceID returns the id of a device cookie value if it is good for
// name with passwordHash, else "".
func deviceID(value, passwordHash, name string) string {
	idText, macText, ok := strings.Cut(value, ".")
	if !ok {
		return ""
	}
	enc := base64.RawURLEncoding
	id, err1 := enc.DecodeString(idText)
	mac, err2 := enc.DecodeString(macText)
	if err1 != nil || err2 != nil || len(id) != deviceIDLen {
		return ""
	}
	if !hmac.Equal(mac, deviceMAC(passwordHash, name, id)) {
		return ""
	}
	return idText
}

func (s *Service) deviceCookieName(r *http.Request) string {
	if s.secureRequest(r) {
		return secureDeviceCookieName
	}
	return deviceCookieName
}

// deviceCookie returns r's device cookie value, or "".
func (s *Service) deviceCookie(r *http.Request) string {
	c, err := r.Cookie(s.deviceCookieName(r))
	if err != nil || len(c.Value) > 100 {
		return ""
	}
	return c.Value
}

// setDeviceCookie sets a device cookie for sess's user, if the login made
// one.
func (s *Service) setDeviceCookie(w http.ResponseWriter, r *http.Request, sess Session) {
	if sess.device == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     s.deviceCookieName(r),
		Value:    sess.device,
		Path:     "/",
		MaxAge:   int(deviceMaxAge.Seconds()),
		HttpOnly: true,
		Secure:   s.secureRequest(r),
		SameSite: http.SameSiteStrictMode,
	})
}
