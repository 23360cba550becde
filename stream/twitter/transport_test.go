package twitter

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHostRewriter(t *testing.T) {
	var sent []string
	h := &hostRewriter{
		base: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			sent = append(sent, req.URL.String()+" host="+req.Host)
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
		}),
		hosts: map[string]*url.URL{
			twitterStreamHost: mustParse(t, "http://127.0.0.1:8080"),
			twitterAPIHost:    mustParse(t, "https://proxy.example/twitter-api/"),
		},
	}
	req, err := http.NewRequest(http.MethodPost, "https://stream.twitter.com/1.1/statuses/filter.json?track=go%2Crust", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "stream.twitter.com"
	for range 2 { // go-twitter sends the same request on each reconnect
		if _, err := h.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	apiReq, _ := http.NewRequest(http.MethodGet, "https://api.twitter.com/1.1/trends/place.json?id=1", nil)
	if _, err := h.RoundTrip(apiReq); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"http://127.0.0.1:8080/1.1/statuses/filter.json?track=go%2Crust host=",
		"http://127.0.0.1:8080/1.1/statuses/filter.json?track=go%2Crust host=",
		"https://proxy.example/twitter-api/1.1/trends/place.json?id=1 host=",
	}
	if strings.Join(sent, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
	if got := req.URL.String(); got != "https://stream.twitter.com/1.1/statuses/filter.json?track=go%2Crust" || req.Host != "stream.twitter.com" {
		t.Errorf("the request given was changed: %s (host %s)", got, req.Host)
	}

	other, _ := http.NewRequest(http.MethodGet, "https://evil.example/steal", nil)
	if _, err := h.RoundTrip(other); err == nil || !strings.Contains(err.Error(), "not a Twitter API host") {
		t.Errorf("a request for another host: error %v, want a refusal", err)
	}
	if len(sent) != 3 {
		t.Errorf("a request for another host was sent")
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		raw, want, wantErr string
	}{
		{"", "https://stream.twitter.com", ""},
		{"http://127.0.0.1:9999", "http://127.0.0.1:9999", ""},
		{"https://proxy.example/twitter", "https://proxy.example/twitter", ""},
		{"stream.example.com", "", "absolute http or https URL"},
		{"ftp://stream.example.com", "", "absolute http or https URL"},
		{"https://user:hunter2@proxy.example", "", "user name or password"},
		{"https://proxy.example/?x=1", "", "without a query"},
		{"https://proxy.example/%zz", "", "invalid URL escape"},
	}
	for _, tt := range tests {
		u, err := parseBaseURL("StreamURL", tt.raw, defaultStreamURL)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseBaseURL(%q): error %v, want one containing %q", tt.raw, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("parseBaseURL(%q): error shows the password: %v", tt.raw, err)
			}
		case err != nil:
			t.Errorf("parseBaseURL(%q): %v", tt.raw, err)
		case u.String() != tt.want:
			t.Errorf("parseBaseURL(%q) = %s, want %s", tt.raw, u, tt.want)
		}
	}
}

func TestLimitedBody(t *testing.T) {
	read := func(body string, limit int64) (string, error) {
		b, err := io.ReadAll(&limitedBody{body: io.NopCloser(strings.NewReader(body)), left: limit})
		return string(b), err
	}
	if got, err := read("12345", 5); got != "12345" || err != nil {
		t.Errorf("a body at the limit: %q, %v", got, err)
	}
	if _, err := read("123456", 5); !errors.Is(err, errBodyTooLarge) {
		t.Errorf("a body over the limit: error %v, want errBodyTooLarge", err)
	}
}

func TestConnTransportMakesOneRequest(t *testing.T) {
	fc := newFakeClock()
	c := newConn(t.Context(), 1, []string{"go"}, fc, defaultStallTimeout)
	defer c.stopStallTimer()
	calls := 0
	tr := &connTransport{c: c, maxBody: 64, dropped: func(*conn, int) {},
		next: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			calls++
			if req.Context() != c.ctx {
				t.Error("the request is not tied to the connection's context")
			}
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(""))}, nil
		})}
	req, _ := http.NewRequest(http.MethodPost, "https://stream.twitter.com/1.1/statuses/filter.json", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if !c.wasConnected() {
		t.Error("a 200 did not mark the connection as connected")
	}
	io.Copy(io.Discard, resp.Body)
	if !errors.Is(c.cause(), errStreamEnded) {
		t.Errorf("after the body's end: cause %v, want errStreamEnded", c.cause())
	}
	if _, err := tr.RoundTrip(req); !errors.Is(err, errOneRequest) {
		t.Errorf("second request: error %v, want errOneRequest", err)
	}
	if calls != 1 {
		t.Errorf("%d requests went out, want 1", calls)
	}
}
