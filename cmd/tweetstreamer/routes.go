package main

import (
	"log/slog"
	"net/http"

	"github.com/tweetstreamer/tweetstreamer/assets"
	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

// addRoutes lists every route the server answers.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, cfg config, hub *rooms.Hub, ingester *stream.Ingester, live *live) {
	mux.Handle("GET /{$}", handleIndex(logger, cfg, hub, live))
	mux.Handle("GET /column", handleColumn(logger, hub))
	mux.Handle("GET /ws", hub)
	mux.Handle("GET /healthz", handleHealthz(cfg, ingester, live))
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assets.Handler()))
}

// NewServer returns the application's HTTP handler: every route, behind the
// security headers every response carries.
func NewServer(logger *slog.Logger, cfg config, hub *rooms.Hub, ingester *stream.Ingester, live *live) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, logger, cfg, hub, ingester, live)
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
