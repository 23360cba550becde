package views

import (
	"net/url"

	"github.com/a-h/templ"
)

// maxURLLength bounds a link taken from a tweet; anything longer is shown as
// text rather than linked.
const maxURLLength = 2048

// httpURL reports whether raw is an absolute http or https URL that is safe
// to put in an href or src, and returns it re-encoded. It is the only way a
// URL from a tweet becomes a templ.SafeURL: templ's own sanitising would let
// through relative URLs and schemes such as mailto, which a card has no use
// for.
//
// It refuses whitespace and control characters anywhere (browsers strip them
// from schemes, which is how " javascript:" slips past naive checks), any
// scheme but http and https, a missing host, and user info, which only
// serves to disguise the real host ("https://trusted.example@evil.example").
func httpURL(raw string) (templ.SafeURL, bool) {
	if raw == "" || len(raw) > maxURLLength {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	// url.Parse lowercases the scheme, so "HTTPS:" is accepted as https.
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false
	}
	if u.Opaque != "" || u.User != nil || u.Hostname() == "" {
		return "", false
	}
	return templ.SafeURL(u.String()), true
}
