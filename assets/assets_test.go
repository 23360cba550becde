package assets

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// newServer mounts Handler the way the server does.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(Prefix, http.StripPrefix(Prefix, Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// do sends exactly the request described, with no Accept-Encoding but the
// one in header, and returns the body as it came over the wire.
func do(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
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
	return res, string(body)
}

func embedded(t *testing.T, name string) string {
	t.Helper()
	b, err := FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gunzip(t *testing.T, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the body is not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("the body is not gzip: %v", err)
	}
	return string(b)
}

func wantHeaders(t *testing.T, res *http.Response, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

var gzipOnly = http.Header{"Accept-Encoding": {"gzip"}}

func TestPathNamesTheContent(t *testing.T) {
	for _, name := range []string{"app.js", "app.css"} {
		t.Run(name+" gets the first digits of its SHA-256 before its extension", func(t *testing.T) {
			sum := sha256.Sum256([]byte(embedded(t, name)))
			base, ext, _ := strings.Cut(name, ".")
			want := "/assets/" + base + "." + hex.EncodeToString(sum[:])[:8] + "." + ext
			if got := Path(name); got != want {
				t.Errorf("Path(%q) = %q, want %q", name, got, want)
			}
		})
	}
	t.Run("an unknown name panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("Path(\"nope.js\") did not panic")
			}
		}()
		Path("nope.js")
	})
}

func TestHandlerServesEmbeddedFiles(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name        string
		path        string
		file        string
		contentType string
		cache       string
	}{
		{"the hashed script is cached for a year, immutable", Path("app.js"), "app.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"the hashed stylesheet is cached for a year, immutable", Path("app.css"), "app.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"the plain script is revalidated on every load", "/assets/app.js", "app.js", "text/javascript; charset=utf-8", "no-cache"},
		{"the plain stylesheet is revalidated on every load", "/assets/app.css", "app.css", "text/css; charset=utf-8", "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, srv, http.MethodGet, tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if body != embedded(t, tt.file) {
				t.Error("body differs from the embedded file")
			}
			sum := sha256.Sum256([]byte(body))
			wantHeaders(t, res, map[string]string{
				"Content-Type":           tt.contentType,
				"Cache-Control":          tt.cache,
				"ETag":                   `"` + hex.EncodeToString(sum[:16]) + `"`,
				"Vary":                   "Accept-Encoding",
				"Content-Encoding":       "",
				"Content-Length":         fmt.Sprint(len(body)),
				"X-Content-Type-Options": "nosniff",
			})
		})
	}
}

func TestHandlerCompressesForClientsThatAcceptGzip(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name           string
		acceptEncoding []string
		gzipped        bool
	}{
		{"gzip alone gets gzip", []string{"gzip"}, true},
		{"a browser's list gets gzip", []string{"gzip, deflate, br, zstd"}, true},
		{"gzip in capitals gets gzip", []string{"GZIP"}, true},
		{"gzip with a lower q-value gets gzip", []string{"br;q=1.0, gzip;q=0.5"}, true},
		{"gzip on a second header line gets gzip", []string{"br", "gzip"}, true},
		{"no Accept-Encoding gets the file as it is", nil, false},
		{"identity gets the file as it is", []string{"identity"}, false},
		{"only other codings get the file as it is", []string{"br, zstd"}, false},
		{"gzip refused with q=0 gets the file as it is", []string{"gzip;q=0"}, false},
		{"gzip with a q-value that does not parse gets the file as it is", []string{"gzip;q=x"}, false},
		{"a bare wildcard gets the file as it is", []string{"*"}, false},
		{"a name that only contains gzip gets the file as it is", []string{"x-gzip-not"}, false},
	}
	for _, file := range []string{"app.js", "app.css"} {
		for _, path := range []string{Path(file), "/assets/" + file} {
			for _, tt := range tests {
				t.Run(path+": "+tt.name, func(t *testing.T) {
					var header http.Header
					if tt.acceptEncoding != nil {
						header = http.Header{"Accept-Encoding": tt.acceptEncoding}
					}
					res, body := do(t, srv, http.MethodGet, path, header)
					if res.StatusCode != http.StatusOK {
						t.Fatalf("status %d, want 200", res.StatusCode)
					}
					wantHeaders(t, res, map[string]string{"Vary": "Accept-Encoding", "Content-Length": fmt.Sprint(len(body))})
					if !tt.gzipped {
						wantHeaders(t, res, map[string]string{"Content-Encoding": ""})
						if body != embedded(t, file) {
							t.Error("body differs from the embedded file")
						}
						return
					}
					wantHeaders(t, res, map[string]string{"Content-Encoding": "gzip"})
					if gunzip(t, body) != embedded(t, file) {
						t.Error("the decompressed body differs from the embedded file")
					}
					if len(body) >= len(embedded(t, file)) {
						t.Errorf("gzip is %d bytes, no smaller than the file's %d", len(body), len(embedded(t, file)))
					}
				})
			}
		}
	}
}

func TestEachRepresentationHasItsOwnETag(t *testing.T) {
	srv := newServer(t)
	plain, _ := do(t, srv, http.MethodGet, "/assets/app.js", nil)
	gzipped, body := do(t, srv, http.MethodGet, "/assets/app.js", gzipOnly)
	sum := sha256.Sum256([]byte(body))
	if got, want := gzipped.Header.Get("ETag"), `"`+hex.EncodeToString(sum[:16])+`"`; got != want {
		t.Errorf("gzip ETag = %s, want %s, of the compressed bytes", got, want)
	}
	if plain.Header.Get("ETag") == gzipped.Header.Get("ETag") {
		t.Errorf("both representations have ETag %s", plain.Header.Get("ETag"))
	}
}

func TestHandlerRevalidates(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{Path("app.js"), "/assets/app.js"} {
		for _, enc := range []string{"", "gzip"} {
			header := http.Header{}
			if enc != "" {
				header.Set("Accept-Encoding", enc)
			}
			first, body := do(t, srv, http.MethodGet, path, header)
			etag := first.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			tests := []struct {
				name        string
				ifNoneMatch string
				wantStatus  int
				wantBody    string
			}{
				{"a matching ETag gets 304 and no body", etag, http.StatusNotModified, ""},
				{"a stale ETag gets the new build", `"0123456789abcdef"`, http.StatusOK, body},
				{"a list holding the ETag gets 304", `"old", ` + etag, http.StatusNotModified, ""},
				{"the weak form of the ETag gets 304", "W/" + etag, http.StatusNotModified, ""},
			}
			for _, tt := range tests {
				t.Run(path+" Accept-Encoding "+enc+": "+tt.name, func(t *testing.T) {
					h := header.Clone()
					h.Set("If-None-Match", tt.ifNoneMatch)
					res, got := do(t, srv, http.MethodGet, path, h)
					if res.StatusCode != tt.wantStatus {
						t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
					}
					if got != tt.wantBody {
						t.Errorf("body of %d bytes, want %d", len(got), len(tt.wantBody))
					}
					wantHeaders(t, res, map[string]string{
						"ETag":          etag,
						"Vary":          "Accept-Encoding",
						"Cache-Control": first.Header.Get("Cache-Control"),
					})
				})
			}
		}
	}
	t.Run("the plain ETag sent by a client that now accepts gzip gets the gzip bytes", func(t *testing.T) {
		plain, _ := do(t, srv, http.MethodGet, "/assets/app.js", nil)
		h := gzipOnly.Clone()
		h.Set("If-None-Match", plain.Header.Get("ETag"))
		res, body := do(t, srv, http.MethodGet, "/assets/app.js", h)
		if res.StatusCode != http.StatusOK || gunzip(t, body) != embedded(t, "app.js") {
			t.Errorf("status %d, want 200 and the file in gzip", res.StatusCode)
		}
	})
}

func TestHandlerAnswersHEADAsGET(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{Path("app.css"), "/assets/app.css"} {
		for _, header := range []http.Header{nil, gzipOnly} {
			t.Run(fmt.Sprintf("%s Accept-Encoding %q: the headers of GET and no body", path, header.Get("Accept-Encoding")), func(t *testing.T) {
				get, _ := do(t, srv, http.MethodGet, path, header)
				head, body := do(t, srv, http.MethodHead, path, header)
				if head.StatusCode != http.StatusOK || body != "" {
					t.Errorf("HEAD: status %d, %d bytes; want 200 and none", head.StatusCode, len(body))
				}
				for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Cache-Control", "Vary"} {
					if g, h := get.Header.Get(k), head.Header.Get(k); g != h {
						t.Errorf("%s: GET %q, HEAD %q", k, g, h)
					}
				}
			})
		}
	}
}

func TestHandlerServesRangesOfTheRepresentation(t *testing.T) {
	srv := newServer(t)
	_, plain := do(t, srv, http.MethodGet, "/assets/app.js", nil)
	_, gzipped := do(t, srv, http.MethodGet, "/assets/app.js", gzipOnly)
	tests := []struct {
		name     string
		header   http.Header
		want     string
		encoding string
	}{
		{"without gzip, the file's own bytes", http.Header{"Range": {"bytes=0-9"}}, plain[:10], ""},
		{"with gzip, the compressed bytes", http.Header{"Range": {"bytes=0-9"}, "Accept-Encoding": {"gzip"}}, gzipped[:10], "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, srv, http.MethodGet, "/assets/app.js", tt.header)
			if res.StatusCode != http.StatusPartialContent || body != tt.want {
				t.Errorf("status %d, body %q; want 206 and %q", res.StatusCode, body, tt.want)
			}
			wantHeaders(t, res, map[string]string{"Content-Encoding": tt.encoding, "Content-Length": "10"})
		})
	}
}

func TestHandlerRefusesEverythingElse(t *testing.T) {
	srv := newServer(t)
	hashed := Path("app.js")
	hash := strings.TrimSuffix(strings.TrimPrefix(hashed, "/assets/app."), ".js")
	otherHash := "/assets/app.00000000.js"
	if hashed == otherHash {
		otherHash = "/assets/app.11111111.js"
	}
	// A hash of digits only has no capitals; then the case is one more
	// wrong hash.
	capitals := "/assets/app." + strings.ToUpper(hash) + ".js"
	if capitals == hashed {
		capitals = "/assets/app." + hash + "0.js"
	}
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"the directory is not listed", http.MethodGet, "/assets/", http.StatusNotFound},
		{"an unknown file is not found", http.MethodGet, "/assets/nope.js", http.StatusNotFound},
		{"the Go source is not found", http.MethodGet, "/assets/assets.go", http.StatusNotFound},
		{"a name in another case is not found", http.MethodGet, "/assets/APP.JS", http.StatusNotFound},
		{"a trailing slash is not found", http.MethodGet, "/assets/app.js/", http.StatusNotFound},
		{"a subdirectory is not found", http.MethodGet, "/assets/x/app.js", http.StatusNotFound},
		{"an escaped path out is not found", http.MethodGet, "/assets/..%2fgo.mod", http.StatusNotFound},
		{"another build's hash is not found", http.MethodGet, otherHash, http.StatusNotFound},
		{"another build's hash is not found by HEAD", http.MethodHead, otherHash, http.StatusNotFound},
		{"the hash in capitals is not found", http.MethodGet, capitals, http.StatusNotFound},
		{"a shortened hash is not found", http.MethodGet, hashed[:len(hashed)-4] + ".js", http.StatusNotFound},
		{"the hash of another file is not found", http.MethodGet, strings.TrimSuffix(hashed, ".js") + ".css", http.StatusNotFound},
		{"POST is not allowed", http.MethodPost, "/assets/app.js", http.StatusMethodNotAllowed},
		{"DELETE is not allowed", http.MethodDelete, "/assets/app.css", http.StatusMethodNotAllowed},
		{"PUT on a hashed name is not allowed", http.MethodPut, hashed, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := do(t, srv, tt.method, tt.path, gzipOnly)
			if res.StatusCode != tt.want {
				t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
			}
			switch tt.want {
			case http.StatusMethodNotAllowed:
				wantHeaders(t, res, map[string]string{"Allow": "GET, HEAD"})
			case http.StatusNotFound:
				// Neither a browser nor a shared cache keeps the miss, so the
				// name works as soon as a server holding it answers.
				wantHeaders(t, res, map[string]string{"Cache-Control": "no-store"})
			}
		})
	}
}

func TestEveryEmbeddedFileHasAContentType(t *testing.T) {
	err := fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := contentTypes[path]; !ok {
			t.Errorf("%s is embedded but has no content type, so it is never served", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStylesheetLoadsNothingFromElsewhere(t *testing.T) {
	css := embedded(t, "app.css")
	for _, pattern := range []string{`url\(`, `@import`, `@font-face`, `https?:`, `//[a-z0-9.-]+\.[a-z]`} {
		t.Run("no "+pattern, func(t *testing.T) {
			if loc := regexp.MustCompile(pattern).FindStringIndex(css); loc != nil {
				t.Errorf("app.css has %q", css[loc[0]:loc[1]])
			}
		})
	}
}

func TestScriptIsStrictAndSelfContained(t *testing.T) {
	js := embedded(t, "app.js")
	tests := []struct {
		name string
		ok   bool
	}{
		{"it is strict", strings.Contains(js, `"use strict";`)},
		{"it imports nothing", !regexp.MustCompile(`(?m)^\s*import\s`).MatchString(js)},
		{"it evaluates no strings", !strings.Contains(js, "eval(") && !strings.Contains(js, "new Function")},
		{"it writes no document", !strings.Contains(js, "document.write")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fail()
			}
		})
	}
}

func TestScriptParsesMarkupOnlyFromTheServer(t *testing.T) {
	js := embedded(t, "app.js")
	tests := []struct {
		name string
		ok   bool
	}{
		{"innerHTML is set in one place, parseHTML", len(regexp.MustCompile(`\.innerHTML\s*\+?=`).FindAllString(js, -1)) == 1 &&
			strings.Contains(js, "template.innerHTML = html;")},
		{"no outerHTML", !strings.Contains(js, "outerHTML")},
		{"no insertAdjacentHTML", !strings.Contains(js, "insertAdjacentHTML")},
		{"no createContextualFragment", !strings.Contains(js, "createContextualFragment")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fail()
			}
		})
	}
}

func TestScriptHandlesEveryServerMessage(t *testing.T) {
	js := embedded(t, "app.js")
	for _, typ := range []string{"joined", "tweet", "retract", "left", "stats", "skipped", "error", "trends", "source", "trending"} {
		t.Run(typ, func(t *testing.T) {
			if !strings.Contains(js, `["`+typ+`", (`) {
				t.Errorf("app.js has no handler for %q messages", typ)
			}
		})
	}
}

// TestScriptIsValidJavaScript asks Node whether the script parses. Without
// Node it is skipped on a developer's machine, never in CI (CI is set).
func TestScriptIsValidJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed, and CI needs this check: .ci/run installs it")
		}
		t.Skip("node is not installed")
	}
	if out, err := exec.Command(node, "--check", "app.js").CombinedOutput(); err != nil {
		t.Errorf("node --check app.js: %v\n%s", err, out)
	}
}
