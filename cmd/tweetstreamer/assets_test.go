package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/tweetstreamer/tweetstreamer/assets"
)

// fetch sends exactly the request described: unlike http.Get, it adds no
// Accept-Encoding of its own and decompresses nothing, so the test sees
// the body as it came over the wire.
func (s *server) fetch(t *testing.T, method, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// decoded returns body as the client reads it, undoing a gzip
// Content-Encoding.
func decoded(t *testing.T, res *http.Response, body []byte) []byte {
	t.Helper()
	switch res.Header.Get("Content-Encoding") {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("Content-Encoding is gzip, but the body is not: %v", err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("Content-Encoding is gzip, but the body is not: %v", err)
		}
		return b
	default:
		t.Fatalf("unexpected Content-Encoding %q", res.Header.Get("Content-Encoding"))
		return nil
	}
}

func embeddedAsset(t *testing.T, name string) []byte {
	t.Helper()
	b, err := assets.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestThePageLinksTheHashedAssets(t *testing.T) {
	s := start(t, nil)
	res, body := s.fetch(t, http.MethodGet, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		file string
	}{
		{"the stylesheet", doc.Find(`head link[rel="stylesheet"]`).AttrOr("href", ""), "app.css"},
		{"the script", doc.Find("head script[defer]").AttrOr("src", ""), "app.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is linked by its hashed URL, which serves it for a year", func(t *testing.T) {
			if tt.url != assets.Path(tt.file) {
				t.Fatalf("the page links %q, want %q", tt.url, assets.Path(tt.file))
			}
			res, body := s.fetch(t, http.MethodGet, tt.url, nil)
			if res.StatusCode != http.StatusOK || !bytes.Equal(body, embeddedAsset(t, tt.file)) {
				t.Fatalf("GET %s: status %d, %d bytes; want 200 and the embedded file", tt.url, res.StatusCode, len(body))
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
		})
	}
}

func TestAssetsAreCachedByTheirName(t *testing.T) {
	s := start(t, nil)
	tests := []struct {
		name   string
		path   string
		status int
		cache  string
	}{
		{"the hashed script is cached for a year, immutable", assets.Path("app.js"), http.StatusOK, "public, max-age=31536000, immutable"},
		{"the hashed stylesheet is cached for a year, immutable", assets.Path("app.css"), http.StatusOK, "public, max-age=31536000, immutable"},
		{"the plain script still works, revalidated on every load", "/assets/app.js", http.StatusOK, "no-cache"},
		{"the plain stylesheet still works, revalidated on every load", "/assets/app.css", http.StatusOK, "no-cache"},
		{"a script with another build's hash is not found, and not remembered", "/assets/app.00000000.js", http.StatusNotFound, "no-store"},
		{"a stylesheet with another build's hash is not found, and not remembered", "/assets/app.ffffffff.css", http.StatusNotFound, "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := s.fetch(t, http.MethodGet, tt.path, nil)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if tt.status == http.StatusOK && res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if tt.status == http.StatusNotFound && bytes.Contains(body, []byte("use strict")) {
				t.Error("a wrong hash was answered with a script")
			}
		})
	}
}
