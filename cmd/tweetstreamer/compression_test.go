package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/assets"
)

var acceptGzip = http.Header{"Accept-Encoding": {"gzip"}}

// varies reports whether res says that it depends on Accept-Encoding.
func varies(res *http.Response) bool {
	for _, v := range res.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return true
			}
		}
	}
	return false
}

// waitForCards waits until the column of room holds tweets, so that it is
// past the size below which nothing is compressed.
func (s *server) waitForCards(t *testing.T, room string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, body := s.fetch(t, http.MethodGet, "/column?room="+room, nil); bytes.Contains(body, []byte(`data-testid="card"`)) {
			return
		}
	}
	t.Fatalf("no tweet reached %s within 5 s", room)
}

func TestResponsesAreCompressedWhenTheClientAcceptsGzip(t *testing.T) {
	s := start(t, nil, "-mock-rate", "200")
	s.waitForCards(t, "golang")
	// isPage checks a body made per request, which no two requests share.
	isPage := func(marker string) func(t *testing.T, b []byte) {
		return func(t *testing.T, b []byte) {
			if !bytes.Contains(b, []byte(marker)) {
				t.Errorf("body lacks %q", marker)
			}
		}
	}
	// isFile checks a body against the embedded file, byte for byte.
	isFile := func(name string) func(t *testing.T, b []byte) {
		return func(t *testing.T, b []byte) {
			if !bytes.Equal(b, embeddedAsset(t, name)) {
				t.Errorf("body of %d bytes differs from the embedded %s", len(b), name)
			}
		}
	}
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, b []byte)
	}{
		{"the page", "/?open=golang,rust", isPage(`data-testid="column" data-room="rust"`)},
		{"a column", "/column?room=golang", isPage(`data-testid="column" data-room="golang"`)},
		{"the hashed script", assets.Path("app.js"), isFile("app.js")},
		{"the hashed stylesheet", assets.Path("app.css"), isFile("app.css")},
		{"the plain script", "/assets/app.js", isFile("app.js")},
		{"the plain stylesheet", "/assets/app.css", isFile("app.css")},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is gzipped for a client that accepts gzip", func(t *testing.T) {
			res, body := s.fetch(t, http.MethodGet, tt.path, acceptGzip)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding"); got != "gzip" {
				t.Fatalf("Content-Encoding = %q, want gzip", got)
			}
			if !varies(res) {
				t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Values("Vary"))
			}
			plain := decoded(t, res, body)
			if len(body) >= len(plain) {
				t.Errorf("%d bytes gzipped, no fewer than %d plain", len(body), len(plain))
			}
			tt.check(t, plain)
		})
		t.Run(tt.name+" is sent as it is to a client that does not", func(t *testing.T) {
			for _, header := range []http.Header{nil, {"Accept-Encoding": {"identity"}}, {"Accept-Encoding": {"gzip;q=0"}}} {
				res, body := s.fetch(t, http.MethodGet, tt.path, header)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
				if got := res.Header.Get("Content-Encoding"); got != "" {
					t.Errorf("Accept-Encoding %q: Content-Encoding = %q, want none", header.Get("Accept-Encoding"), got)
				}
				if !varies(res) {
					t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Values("Vary"))
				}
				tt.check(t, body)
			}
		})
	}
	t.Run("zstd alone is not used: the page is sent as it is", func(t *testing.T) {
		res, _ := s.fetch(t, http.MethodGet, "/", http.Header{"Accept-Encoding": {"zstd"}})
		if got := res.Header.Get("Content-Encoding"); got != "" {
			t.Errorf("Content-Encoding = %q, want none", got)
		}
	})
	t.Run("a browser offering zstd and br too gets gzip", func(t *testing.T) {
		for _, path := range []string{"/", assets.Path("app.js")} {
			res, _ := s.fetch(t, http.MethodGet, path, http.Header{"Accept-Encoding": {"gzip, deflate, br, zstd"}})
			if got := res.Header.Get("Content-Encoding"); got != "gzip" {
				t.Errorf("%s: Content-Encoding = %q, want gzip", path, got)
			}
		}
	})
	t.Run("health is JSON whichever way it is sent", func(t *testing.T) {
		res, body := s.fetch(t, http.MethodGet, "/healthz", acceptGzip)
		var v map[string]any
		if err := json.Unmarshal(decoded(t, res, body), &v); err != nil || v["status"] != "ok" {
			t.Errorf("healthz: %v, %v", v, err)
		}
		if !varies(res) {
			t.Errorf("Vary = %q, want Accept-Encoding", res.Header.Values("Vary"))
		}
	})
}

func TestAssetsRevalidateInEitherEncoding(t *testing.T) {
	s := start(t, nil)
	for _, path := range []string{assets.Path("app.js"), "/assets/app.js", assets.Path("app.css"), "/assets/app.css"} {
		for _, accept := range []string{"", "gzip"} {
			t.Run(path+" with Accept-Encoding "+accept+": its ETag gets 304", func(t *testing.T) {
				header := http.Header{}
				if accept != "" {
					header.Set("Accept-Encoding", accept)
				}
				first, _ := s.fetch(t, http.MethodGet, path, header)
				etag := first.Header.Get("ETag")
				if etag == "" || strings.HasPrefix(etag, "W/") {
					t.Fatalf("ETag = %q, want a strong one", etag)
				}
				header.Set("If-None-Match", etag)
				res, body := s.fetch(t, http.MethodGet, path, header)
				if res.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Fatalf("status %d, %d bytes; want 304 and none", res.StatusCode, len(body))
				}
				if res.Header.Get("ETag") != etag || !varies(res) {
					t.Errorf("304 has ETag %q and Vary %q, want %q and Accept-Encoding", res.Header.Get("ETag"), res.Header.Values("Vary"), etag)
				}
			})
		}
	}
	t.Run("the page is never revalidated: no-store and no ETag", func(t *testing.T) {
		res, _ := s.fetch(t, http.MethodGet, "/", acceptGzip)
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("ETag") != "" {
			t.Errorf("Cache-Control %q, ETag %q", res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
		}
	})
}

func TestHEADSendsNoBody(t *testing.T) {
	s := start(t, nil)
	t.Run("the page: 200 and no body, not compressed", func(t *testing.T) {
		res, body := s.fetch(t, http.MethodHead, "/", acceptGzip)
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("status %d, %d bytes; want 200 and none", res.StatusCode, len(body))
		}
		if res.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("Content-Encoding %q, Content-Type %q", res.Header.Get("Content-Encoding"), res.Header.Get("Content-Type"))
		}
	})
	t.Run("a hashed asset: the headers GET would send, and no body", func(t *testing.T) {
		get, full := s.fetch(t, http.MethodGet, assets.Path("app.js"), acceptGzip)
		res, body := s.fetch(t, http.MethodHead, assets.Path("app.js"), acceptGzip)
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("status %d, %d bytes; want 200 and none", res.StatusCode, len(body))
		}
		for _, k := range []string{"Content-Encoding", "Content-Length", "ETag", "Cache-Control"} {
			if res.Header.Get(k) != get.Header.Get(k) {
				t.Errorf("%s: HEAD %q, GET %q", k, res.Header.Get(k), get.Header.Get(k))
			}
		}
		if res.ContentLength != int64(len(full)) {
			t.Errorf("Content-Length %d, want the %d bytes GET sends", res.ContentLength, len(full))
		}
	})
}

func TestWebSocketUpgradeIsUntouchedByCompression(t *testing.T) {
	s := start(t, nil, "-mock-rate", "200", "-trends", "golang,rust")
	for _, accept := range []string{"gzip", "gzip, deflate, br, zstd"} {
		t.Run("Accept-Encoding "+accept+": the socket upgrades and carries messages", func(t *testing.T) {
			conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.url, "http")+"/ws", http.Header{"Accept-Encoding": {accept}})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			t.Cleanup(func() { conn.Close() })
			if res.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("status %d, want 101", res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q on the upgrade", got)
			}
			c := &wsClient{t: t, conn: conn}
			c.send(`{"type":"join","room":"golang"}`)
			if m := c.next(); m["type"] != "joined" || m["room"] != "golang" {
				t.Fatalf("got %v, want joined golang", m)
			}
			if m := c.next(); m["type"] != "tweet" || m["room"] != "golang" {
				t.Fatalf("got %v, want a golang tweet", m)
			}
		})
	}
	t.Run("the socket route is not wrapped: its refusal of a plain GET has no Vary", func(t *testing.T) {
		res, _ := s.fetch(t, http.MethodGet, "/ws", acceptGzip)
		if res.StatusCode == http.StatusSwitchingProtocols || varies(res) || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("status %d, Vary %q, Content-Encoding %q; want a refusal untouched by compression",
				res.StatusCode, res.Header.Values("Vary"), res.Header.Get("Content-Encoding"))
		}
	})
}

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	s := start(t, nil)
	etag := func(path string, header http.Header) string {
		res, _ := s.fetch(t, http.MethodGet, path, header)
		return res.Header.Get("ETag")
	}
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
	}{
		{"the page, gzipped", http.MethodGet, "/?open=golang,rust", acceptGzip, http.StatusOK},
		{"the page, as it is", http.MethodGet, "/", nil, http.StatusOK},
		{"the page, HEAD", http.MethodHead, "/", acceptGzip, http.StatusOK},
		{"a column, gzipped", http.MethodGet, "/column?room=golang", acceptGzip, http.StatusOK},
		{"health", http.MethodGet, "/healthz", acceptGzip, http.StatusOK},
		{"a hashed asset, gzipped", http.MethodGet, assets.Path("app.js"), acceptGzip, http.StatusOK},
		{"a hashed asset, as it is", http.MethodGet, assets.Path("app.css"), nil, http.StatusOK},
		{"a plain asset, gzipped", http.MethodGet, "/assets/app.js", acceptGzip, http.StatusOK},
		{"a hashed asset, HEAD", http.MethodHead, assets.Path("app.js"), acceptGzip, http.StatusOK},
		{"a hashed asset, revalidated", http.MethodGet, assets.Path("app.js"),
			http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag(assets.Path("app.js"), acceptGzip)}}, http.StatusNotModified},
		{"a plain asset, revalidated", http.MethodGet, "/assets/app.css",
			http.Header{"If-None-Match": {etag("/assets/app.css", nil)}}, http.StatusNotModified},
		{"another build's hash", http.MethodGet, "/assets/app.00000000.js", acceptGzip, http.StatusNotFound},
		{"an unknown path", http.MethodGet, "/nope", acceptGzip, http.StatusNotFound},
	}
	want := map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := s.fetch(t, tt.method, tt.path, tt.header)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
