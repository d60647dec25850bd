package shared

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeJSON reads a JSON body into v, refusing a body not sent as
// application/json (415), unknown fields, a key given twice, a key in
// another case than the schema's, trailing data and text that is not
// UTF-8 (which encoding/json would quietly turn into U+FFFD); an empty
// body leaves v as it is. The body is bounded by the bound middleware
// (413 beyond Limits.MaxBodyBytes).
func DecodeJSON(r *http.Request, v any) error {
	_, err := decodeJSON(r, v, "application/json")
	return err
}

// MergePatchMedia is the media type of an RFC 7396 merge patch.
const MergePatchMedia = "application/merge-patch+json"

// DecodeMergePatch is DecodeJSON for an RFC 7396 merge patch, sent as
// application/merge-patch+json or application/json: the body must be an
// object, and the names of its members that are null are returned, sorted
// (decoding into a pointer cannot tell null from absent).
func DecodeMergePatch(r *http.Request, v any) (nulls []string, err error) {
	b, err := decodeJSON(r, v, MergePatchMedia, "application/json")
	if err != nil || len(b) == 0 {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, BadRequest("body", "a merge patch must be a JSON object")
	}
	for name, raw := range members {
		if string(bytes.TrimSpace(raw)) == "null" {
			nulls = append(nulls, name)
		}
	}
	slices.Sort(nulls)
	return nulls, nil
}

// decodeJSON is DecodeJSON with the media types the body may be sent
// as; it returns the body it read (nil for none).
func decodeJSON(r *http.Request, v any, media ...string) ([]byte, error) {
	if r.Body == nil || r.ContentLength == 0 {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, TooLarge(mb.Limit)
		}
		return nil, BadRequest("body", "could not be read: %v", err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	if err := checkJSONType(r.Header.Get("Content-Type"), media); err != nil {
		return nil, err
	}
	if err := checkUTF8(b); err != nil {
		return nil, err
	}
	return b, decodeStrict(b, v)
}

// decodeStrict decodes b into v with DecodeJSON's rules.
func decodeStrict(b []byte, v any) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return BadRequest("body", "must be a JSON object, not null")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return BadRequest(typeErr.Field, "must be %s", jsonKind(typeErr.Type))
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return BadRequest("body", "malformed JSON at offset %d", syn.Offset)
		}
		if field, ok := unknownField(err); ok {
			return BadRequest(field, "unknown field")
		}
		return BadRequest("body", "%v", err)
	}
	if dec.More() {
		return BadRequest("body", "trailing data after the JSON object")
	}
	return checkKeys(b, reflect.TypeOf(v))
}

// jsonKind names a Go type as JSON calls its values, for a message
// ("must be an integer", never Go's "must be a int").
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// checkJSONType refuses (415) a body whose Content-Type is not one of
// media, or names a charset other than UTF-8: a form or text/plain is
// what a cross-site page can send without asking.
func checkJSONType(ct string, media []string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(media, mt) {
		return &InputError{http.StatusUnsupportedMediaType, "Content-Type", "send the body as " + strings.Join(media, " or ")}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &InputError{http.StatusUnsupportedMediaType, "Content-Type", "the body must be UTF-8"}
	}
	return nil
}

// checkUTF8 refuses a JSON text with bytes that are not UTF-8 or with a
// \u escape of a lone surrogate: encoding/json replaces both with U+FFFD
// without a word, so a name or a reason would be stored other than sent.
func checkUTF8(b []byte) error {
	if !utf8.Valid(b) {
		return BadRequest("body", "must be UTF-8 text")
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: skip it
			continue
		}
		r, ok := hex4(b[i+2:])
		if !ok || !utf16.IsSurrogate(r) {
			i += 5
			continue
		}
		// A high surrogate must be followed by a low one.
		if r < 0xDC00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			if lo, ok := hex4(b[i+8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11
				continue
			}
		}
		return BadRequest("body", "has a \\u escape of a lone surrogate (not UTF-8 text)")
	}
	return nil
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// unknownField extracts the name from encoding/json's unknown-field error.
func unknownField(err error) (string, bool) {
	var name string
	if _, e := fmt.Sscanf(err.Error(), "json: unknown field %q", &name); e == nil {
		return name, true
	}
	return "", false
}
