package assets

import (
	"crypto/sha256"
	"encoding/hex"
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
	mux.Handle("/assets/", http.StripPrefix("/assets/", Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := srv.Client().Do(req)
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

func TestHandlerServesEmbeddedFiles(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path        string
		file        string
		contentType string
	}{
		{"/assets/app.js", "app.js", "text/javascript; charset=utf-8"},
		{"/assets/app.css", "app.css", "text/css; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" is served with its type, no-cache and a content ETag", func(t *testing.T) {
			res, body := do(t, srv, http.MethodGet, tt.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if body != embedded(t, tt.file) {
				t.Error("body differs from the embedded file")
			}
			sum := sha256.Sum256([]byte(body))
			want := map[string]string{
				"Content-Type":           tt.contentType,
				"Cache-Control":          "no-cache",
				"ETag":                   `"` + hex.EncodeToString(sum[:16]) + `"`,
				"X-Content-Type-Options": "nosniff",
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	srv := newServer(t)
	first, body := do(t, srv, http.MethodGet, "/assets/app.js", nil)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, got := do(t, srv, http.MethodGet, "/assets/app.js", http.Header{"If-None-Match": {tt.ifNoneMatch}})
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got != tt.wantBody {
				t.Errorf("body of %d bytes, want %d", len(got), len(tt.wantBody))
			}
		})
	}
}

func TestHandlerAnswersHEADWithoutBody(t *testing.T) {
	res, body := do(t, newServer(t), http.MethodHead, "/assets/app.css", nil)
	if res.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD: status %d, %d bytes; want 200 and none", res.StatusCode, len(body))
	}
	if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
}

func TestHandlerRefusesEverythingElse(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"the directory is not listed", http.MethodGet, "/assets/", http.StatusNotFound},
		{"an unknown file is not found", http.MethodGet, "/assets/nope.js", http.StatusNotFound},
		{"the Go source is not served", http.MethodGet, "/assets/assets.go", http.StatusNotFound},
		{"a name in another case is not found", http.MethodGet, "/assets/APP.JS", http.StatusNotFound},
		{"a trailing slash is not found", http.MethodGet, "/assets/app.js/", http.StatusNotFound},
		{"a subdirectory is not found", http.MethodGet, "/assets/x/app.js", http.StatusNotFound},
		{"an escaped path out is not found", http.MethodGet, "/assets/..%2fgo.mod", http.StatusNotFound},
		{"POST is not allowed", http.MethodPost, "/assets/app.js", http.StatusMethodNotAllowed},
		{"DELETE is not allowed", http.MethodDelete, "/assets/app.css", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := do(t, srv, tt.method, tt.path, nil)
			if res.StatusCode != tt.want {
				t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
			}
			if tt.want == http.StatusMethodNotAllowed && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", res.Header.Get("Allow"), "GET, HEAD")
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
