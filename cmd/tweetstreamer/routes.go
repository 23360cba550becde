package main

import (
	"log/slog"
	"net/http"

	"github.com/klauspost/compress/gzhttp"

	"github.com/tweetstreamer/tweetstreamer/assets"
	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

// addRoutes lists every route the server answers. The page, a column and
// /healthz, made per request, are compressed as they are written. /ws is
// not wrapped at all: an upgrade hijacks the connection, and what follows
// is WebSocket frames, not a body to compress. The assets compress
// themselves, once at the start, and negotiate their own ETags; /metrics
// compresses itself too, when the scraper asks.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, cfg config, hub *rooms.Hub, ingester *stream.Ingester, live *live, ready func() error, metrics http.Handler) {
	compress := newCompressor()
	mux.Handle("GET /{$}", compress(handleIndex(logger, cfg, hub, live)))
	mux.Handle("GET /column", compress(handleColumn(logger, hub)))
	mux.Handle("GET /ws", hub)
	mux.Handle("GET /healthz", compress(handleHealthz(cfg, ingester, live)))
	mux.Handle("GET /readyz", handleReadyz(ready))
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET "+assets.Prefix, http.StripPrefix(assets.Prefix, assets.Handler()))
}

// addIngestRoutes lists the routes of an ingest node, which serves no
// page and no /ws: only what operators and probes ask.
func addIngestRoutes(mux *http.ServeMux, cfg config, ingester *stream.Ingester, live *live, ready func() error, metrics http.Handler) {
	mux.Handle("GET /healthz", handleHealthz(cfg, ingester, live))
	mux.Handle("GET /readyz", handleReadyz(ready))
	mux.Handle("GET /metrics", metrics)
}

// newCompressor returns middleware that gzips a response for a client that
// accepts gzip, and adds Vary: Accept-Encoding to every response.
//
// What gzhttp does, and why it is safe on the routes it wraps:
//   - It compresses once a body passes 1 KiB: a smaller one fits in one
//     packet either way. So the page and a column with tweets are
//     compressed, and /healthz, a few hundred bytes, in practice is not.
//   - It leaves HEAD uncompressed, and any response that already has a
//     Content-Encoding or a Content-Range.
//   - It keeps a response's ETag as it is when it compresses, which would
//     give two representations one strong ETag; the routes it wraps are all
//     no-store and carry no ETag, so there is none to revalidate.
//   - It hijacks through to the connection, but /ws is not wrapped anyway.
//
// zstd, which gzhttp prefers when a browser offers it, is turned off: gzip
// is what every client and proxy understands, and what the assets are
// compressed in. The page echoes what a client sends (?open) beside tweets,
// which is what BREACH exploits, but it holds no secret (no cookie, no
// token), so its compressed size reveals nothing.
func newCompressor() func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.EnableZstd(false), gzhttp.MinSize(gzhttp.DefaultMinSize))
	if err != nil {
		// NewWrapper fails only for options out of range, and these are fixed.
		panic("compression: " + err.Error())
	}
	return wrap
}

// NewServer returns the application's HTTP handler: every route, behind the
// security headers every response carries. ingester and live are nil on a
// web node, which runs no source; ready says whether the node can serve
// (/readyz); metrics serves /metrics.
func NewServer(logger *slog.Logger, cfg config, hub *rooms.Hub, ingester *stream.Ingester, live *live, ready func() error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, logger, cfg, hub, ingester, live, ready, metrics)
	return withSecurityHeaders(mux)
}

// contentSecurityPolicy allows scripts and styles from this server only, so
// no injected markup can run; avatars and thumbnails may come from any
// https host.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
