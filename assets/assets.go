// Package assets holds the page's static files, embedded in the binary, and
// the handler that serves them.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// FS holds the script and the stylesheet of the page.
//
//go:embed app.js app.css
var FS embed.FS

// contentTypes lists every file Handler serves, with its Content-Type. It is
// spelled out rather than taken from package mime, whose answer for .js can
// come from the host's configuration.
var contentTypes = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// asset is one file ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the embedded files by name under the path it is mounted at;
// the server mounts it with http.StripPrefix("/assets/", Handler()). Anything
// else is 404. Responses carry Cache-Control: no-cache and an ETag of the
// content, so a browser revalidates on every load (a 304 while the build is
// unchanged) and a reload always picks up a new build.
func Handler() http.Handler {
	files := make(map[string]asset, len(contentTypes))
	for name, contentType := range contentTypes {
		body, err := FS.ReadFile(name)
		if err != nil {
			// go:embed above fails the build when a file is missing.
			panic("assets: " + err.Error())
		}
		sum := sha256.Sum256(body)
		files[name] = asset{
			body:        body,
			contentType: contentType,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		a, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		// ServeContent answers If-None-Match with 304 from the ETag above,
		// and handles HEAD and Range.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}
