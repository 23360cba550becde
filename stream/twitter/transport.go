package twitter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dghubble/oauth1"
)

// The hosts go-twitter sends its requests to, and where they go instead
// when StreamURL or APIURL is empty.
const (
	twitterStreamHost = "stream.twitter.com"
	twitterAPIHost    = "api.twitter.com"
	defaultStreamURL  = "https://" + twitterStreamHost
	defaultAPIURL     = "https://" + twitterAPIHost
)

// parseBaseURL checks a StreamURL or APIURL: an absolute http(s) URL,
// perhaps with a path prefix, and nothing else. Empty means def.
func parseBaseURL(field, raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("twitter: %s %q: %w", field, raw, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("twitter: %s %q: give an absolute http or https URL, such as %s", field, raw, def)
	case u.User != nil:
		// The transport would not send them, and they would show in logs.
		return nil, fmt.Errorf("twitter: %s: a user name or password in the URL is not supported", field)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("twitter: %s %q: give a base URL without a query or fragment", field, raw)
	}
	return u, nil
}

// hostRewriter sends each request meant for one of Twitter's hosts to the
// base URL configured for that host instead, keeping the path under the
// base URL's path. It lies under the OAuth transport, so the signature is
// the one Twitter expects for its own URL: a proxy that forwards to
// Twitter passes it on unchanged. It refuses any other host, so that
// signed requests go nowhere else.
type hostRewriter struct {
	base  http.RoundTripper
	hosts map[string]*url.URL
}

func (h *hostRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	to, ok := h.hosts[req.URL.Host]
	if !ok {
		closeRequestBody(req)
		return nil, fmt.Errorf("twitter: refusing a request for %s, which is not a Twitter API host", req.URL.Host)
	}
	// go-twitter sends one *http.Request again on each of its reconnects,
	// and a RoundTripper must not change the request it is given: change
	// a copy.
	out := req.Clone(req.Context())
	out.URL.Scheme = to.Scheme
	out.URL.Host = to.Host
	out.URL.Path = strings.TrimSuffix(to.Path, "/") + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	return h.base.RoundTrip(out)
}

// closeRequestBody closes req's body, as a RoundTripper must even when it
// fails.
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// signer holds the OAuth 1.0a keys. A Source keeps it behind a pointer,
// so that printing a Source prints an address, not the keys.
type signer struct {
	config *oauth1.Config
	token  *oauth1.Token
}

func newSigner(c Credentials) *signer {
	config := oauth1.NewConfig(c.ConsumerKey, c.ConsumerSecret)
	// oauth1 fills in a missing Noncer on the shared Config each time it
	// builds a client, which races when the stream and the trends build
	// theirs at once; set it here, once.
	config.Noncer = oauth1.Base64Noncer{}
	return &signer{
		config: config,
		token:  oauth1.NewToken(c.AccessToken, c.AccessSecret),
	}
}

// client returns an HTTP client that signs each request and hands it to
// next. It follows no redirects: a redirect is a failure to report, and
// it would take the request somewhere the rewriter did not choose.
func (s *signer) client(next http.RoundTripper) *http.Client {
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: next})
	c := s.config.Client(ctx, s.token)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// callTransport ties every request to one call's context, which
// go-twitter's REST methods do not take, and bounds what a response body
// may hold.
type callTransport struct {
	ctx     context.Context
	next    http.RoundTripper
	maxBody int64
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req.Clone(t.ctx))
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{body: resp.Body, left: t.maxBody}
	return resp, nil
}

// errBodyTooLarge reports a response body longer than its limit.
var errBodyTooLarge = errors.New("response body too large")

// limitedBody fails a read past its limit, instead of silently stopping
// there as io.LimitReader does: a cut-off JSON document must not pass.
type limitedBody struct {
	body io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// A body exactly at the limit is fine: look for one byte more.
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			err = errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }
