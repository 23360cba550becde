package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestClientIP(t *testing.T) {
	trusted, err := parsePrefixes([]string{"10.0.0.0/8", "192.0.2.1", "::ffff:198.51.100.1"})
	if err != nil {
		t.Fatal(err)
	}
	ip := clientIP(trusted)
	tests := []struct {
		name, peer string
		forwarded  []string
		want       string
	}{
		{"a peer that is no proxy is the client, whatever it claims", "203.0.113.9:4000", []string{"1.2.3.4"}, ""},
		{"behind a trusted proxy the client is the last hop before it", "10.1.2.3:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"addresses the client wrote before the proxies are not believed", "10.1.2.3:4000", []string{"6.6.6.6, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"several headers read as one list", "192.0.2.1:4000", []string{"6.6.6.6", "203.0.113.9"}, "203.0.113.9"},
		{"an IPv4-mapped proxy address is trusted as IPv4", "[::ffff:198.51.100.1]:4000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"a hop that is no address ends the trust", "10.1.2.3:4000", []string{"203.0.113.9, junk"}, ""},
		{"only proxies forwarded: no client named", "10.1.2.3:4000", []string{"10.4.4.4"}, ""},
		{"no header: the peer", "10.1.2.3:4000", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{"X-Forwarded-For": tt.forwarded}}
			if got := ip(r); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if clientIP(nil) != nil {
		t.Fatal("without trusted proxies the hub should use the peer's address itself")
	}
	if _, err := parsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad range was taken")
	}
}

func TestMaxConnsRefusesTheUpgrade(t *testing.T) {
	s := start(t, nil, "-max-conns", "1")
	s.dial(t)
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/ws", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second connection: %v %+v, want 503 with Retry-After", err, resp)
	}
}

// TestCustomTrendsAreCountedByAddressOverHTTPToo: a page that shows a
// column adds its trend as a join would, so the per-address limit holds
// for /column and /?open, for the address a trusted proxy names.
func TestCustomTrendsAreCountedByAddressOverHTTPToo(t *testing.T) {
	s := start(t, nil, "-trusted-proxies", "127.0.0.1", "-max-trends-per-ip", "2", "-max-trends", "50")
	getFrom := func(addr, path string) (int, string) {
		t.Helper()
		return getWith(t, s, path, func(r *http.Request) { r.Header.Set("X-Forwarded-For", addr) })
	}
	for _, room := range []string{"spam0", "spam1"} {
		if code, body := getFrom("203.0.113.5", "/column?room="+room); code != http.StatusOK {
			t.Fatalf("/column?room=%s: %d %q", room, code, body)
		}
	}
	code, body := getFrom("203.0.113.5", "/column?room=spam2")
	if code != http.StatusConflict || !strings.Contains(body, "at most 2") {
		t.Fatalf("a third trend from one address: %d %q, want 409 saying at most 2", code, body)
	}
	if _, body := getFrom("203.0.113.5", "/?open=spam3"); !strings.Contains(body, "at most 2") {
		t.Fatal("the page's follow box does not say why spam3 was not opened")
	}
	if code, body := getFrom("203.0.113.6", "/column?room=spam2"); code != http.StatusOK {
		t.Fatalf("another address: %d %q", code, body)
	}
}
