// Package assets holds the page's static files, embedded in the binary, and
// the handler that serves them.
//
// Each file is served under two names: its own (app.js), revalidated on
// every load, and one with a hash of its content (app.3f2a9c1b.js), cached
// for a year without revalidation. The page links the hashed names (see
// Path), so a browser fetches a file once per build and a new build is
// picked up at once, because its URLs differ.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FS holds the script and the stylesheet of the page.
//
//go:embed app.js app.css
var FS embed.FS

// Prefix is the path the server mounts Handler at, with
// http.StripPrefix(Prefix, Handler()); every URL that Path returns starts
// with it.
const Prefix = "/assets/"

// contentTypes lists every file Handler serves, with its Content-Type. It is
// spelled out rather than taken from package mime, whose answer for .js can
// come from the host's configuration.
var contentTypes = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// hashLen is how many hex digits of the content's SHA-256 go into a hashed
// name. Two builds of a file collide with a chance of one in 2^32, and only
// a collision would let a browser keep an old build under a new page.
const hashLen = 8

const (
	// cacheImmutable is for a hashed name, whose bytes never change: a year
	// is the longest lifetime caches honour, and immutable stops browsers
	// revalidating it on reload.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheRevalidate is for a plain name, whose bytes change with each
	// build: a browser may keep a copy but asks each time (a 304 while the
	// build is unchanged).
	cacheRevalidate = "no-cache"
	// cacheNever is for a 404, so that a name missing now, such as another
	// build's hash during a deploy, is asked for again rather than
	// remembered as missing.
	cacheNever = "no-store"
)

// asset is one file ready to serve, in both of its representations.
type asset struct {
	name        string // app.js
	hashedName  string // app.3f2a9c1b.js
	body        []byte
	etag        string
	gzipped     []byte // nil when gzip would not make the file smaller
	gzipETag    string
	contentType string
}

// load reads, hashes and compresses every file, once: compressing at the
// start costs a few milliseconds once, where compressing per request would
// cost a fraction of a millisecond of CPU and a compressor's buffers on
// every load, and it affords the best compression level.
func load() map[string]*asset {
	files := make(map[string]*asset, len(contentTypes))
	for name, contentType := range contentTypes {
		body, err := FS.ReadFile(name)
		if err != nil {
			// go:embed above fails the build when a file is missing.
			panic("assets: " + err.Error())
		}
		a := &asset{name: name, body: body, etag: etagOf(body), contentType: contentType}
		sum := sha256.Sum256(body)
		dot := strings.LastIndexByte(name, '.')
		a.hashedName = name[:dot] + "." + hex.EncodeToString(sum[:])[:hashLen] + name[dot:]
		if gz := gzipOf(body); len(gz) < len(body) {
			// The compressed bytes get an ETag of their own: a strong
			// validator names one exact sequence of bytes.
			a.gzipped, a.gzipETag = gz, etagOf(gz)
		}
		files[name] = a
	}
	return files
}

// files holds every asset by its plain name, loaded on first use.
var files = sync.OnceValue(load)

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	// The header is left empty (no name, no time), so the same file always
	// compresses to the same bytes and the same ETag.
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic("assets: " + err.Error()) // only for a level out of range
	}
	_, _ = zw.Write(b) // a bytes.Buffer does not fail
	_ = zw.Close()
	return buf.Bytes()
}

// Path returns the URL of the embedded file name with a hash of its content
// in it, e.g. "/assets/app.3f2a9c1b.js" for "app.js", for a page to link:
// Handler serves it with a cache lifetime of a year. It panics when no file
// has that name, which is a mistake in the caller's code.
func Path(name string) string {
	a, ok := files()[name]
	if !ok {
		panic(fmt.Sprintf("assets: no file named %q", name))
	}
	return Prefix + a.hashedName
}

// Handler serves the embedded files by name under the path it is mounted at;
// the server mounts it with http.StripPrefix(Prefix, Handler()).
//
//   - A hashed name (see Path) gets Cache-Control "public, max-age=31536000,
//     immutable".
//   - A plain name (app.js) gets "no-cache", so old pages and tools that ask
//     for it get the current build, revalidated each time.
//   - Anything else is 404 with "no-store", including a hashed name with
//     another hash, such as another build's during a deploy. It is not
//     redirected to this build's file: the name promises bytes this build
//     does not hold, and a page without its script still works (its links
//     open columns). no-store keeps the miss out of every cache, so the name
//     works as soon as a server that holds it answers.
//
// Every file carries a strong ETag, so If-None-Match gets a 304, and Vary:
// Accept-Encoding. A client that accepts gzip gets the bytes compressed at
// start, with Content-Encoding: gzip and an ETag of its own; HEAD answers as
// GET would, and a Range is of the representation the client gets.
func Handler() http.Handler {
	byName := make(map[string]servedAs)
	for _, a := range files() {
		byName[a.name] = servedAs{a, cacheRevalidate}
		byName[a.hashedName] = servedAs{a, cacheImmutable}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := byName[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			w.Header().Set("Cache-Control", cacheNever)
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		f.serve(w, r)
	})
}

// servedAs is an asset under one of its names, with that name's caching.
type servedAs struct {
	*asset
	cacheControl string
}

func (f servedAs) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cacheControl)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := f.body, f.etag
	if f.gzipped != nil && acceptsGzip(r) {
		body, etag = f.gzipped, f.gzipETag
		h.Set("Content-Encoding", "gzip")
		// ServeContent leaves out Content-Length once Content-Encoding is
		// set, in case the bytes are compressed as they are written; these
		// are compressed already, so their length is known.
		w = fullLength{w, strconv.Itoa(len(body))}
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match with 304 from the ETag above, and
	// handles HEAD, Range and the other preconditions.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

// fullLength sets Content-Length on a 200, which carries the whole body.
type fullLength struct {
	http.ResponseWriter
	length string
}

func (w fullLength) WriteHeader(code int) {
	if code == http.StatusOK {
		w.Header().Set("Content-Length", w.length)
	}
	w.ResponseWriter.WriteHeader(code)
}

// acceptsGzip reports whether r's Accept-Encoding names gzip with a q-value
// above zero. A bare "*" is not taken to mean gzip: clients that send it
// often expect the bytes as they are, and the compressor of the other routes
// reads it the same way.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(coding, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			return qValue(params) > 0
		}
	}
	return false
}

// qValue returns the q parameter of an Accept-Encoding entry: 1 when there
// is none, 0 when it does not parse.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}
