package twittertest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Twitter's own base URLs, which a client signs requests for whatever
// server it sends them to.
const (
	twitterStream = "https://stream.twitter.com"
	twitterAPI    = "https://api.twitter.com"
)

// secrets are what the server checks OAuth signatures with.
type secrets struct{ consumer, token string }

// Verify makes the server check each request's OAuth 1.0a HMAC-SHA1
// signature with these secrets, as Twitter would, for Twitter's own URL
// (https://stream.twitter.com or https://api.twitter.com, then the path):
// Request.Verified reports the result.
func (s *Server) Verify(consumerSecret, tokenSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = &secrets{consumerSecret, tokenSecret}
}

// signed reports whether r carries an OAuth 1.0a signature.
func signed(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	return strings.HasPrefix(auth, "OAuth ") && strings.Contains(auth, "oauth_signature=")
}

// verified reports whether r's signature is right for baseURL and sec.
// It parses r's form.
func verified(r *http.Request, baseURL string, sec *secrets) bool {
	if sec == nil || !signed(r) || r.ParseForm() != nil {
		return false
	}
	oauth := authParams(r.Header.Get("Authorization"))
	got := oauth.Get("oauth_signature")
	oauth.Del("oauth_signature")
	oauth.Del("realm")
	params := make(url.Values)
	for _, values := range []url.Values{oauth, r.Form} { // r.Form: query and form body
		for k, v := range values {
			params[k] = append(params[k], v...)
		}
	}
	base := r.Method + "&" + encode(baseURL+r.URL.Path) + "&" + encode(normalize(params))
	mac := hmac.New(sha1.New, []byte(encode(sec.consumer)+"&"+encode(sec.token)))
	mac.Write([]byte(base))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(got), []byte(want))
}

// authParams parses the parameters of an OAuth Authorization header.
func authParams(header string) url.Values {
	params := make(url.Values)
	for _, pair := range strings.Split(strings.TrimPrefix(header, "OAuth "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		k, _ = url.PathUnescape(k)
		v, _ = url.PathUnescape(strings.Trim(v, `"`))
		params.Add(k, v)
	}
	return params
}

// normalize is RFC 5849's parameter string: encoded pairs, sorted by
// name, then value.
func normalize(params url.Values) string {
	var pairs [][2]string
	for k, values := range params {
		for _, v := range values {
			pairs = append(pairs, [2]string{encode(k), encode(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	joined := make([]string, len(pairs))
	for i, p := range pairs {
		joined[i] = p[0] + "=" + p[1]
	}
	return strings.Join(joined, "&")
}

// encode is RFC 3986 percent-encoding, which leaves only letters,
// digits and "-._~" alone.
func encode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
