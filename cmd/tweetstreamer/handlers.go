package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/tweetstreamer/tweetstreamer/assets"
	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/views"
)

// handleIndex renders the page: the trend list, and a column for each trend
// in ?open=a,b (the page keeps its open columns there, so a reload or a
// shared link restores them). Each column embeds its room's epoch and seq.
func handleIndex(logger *slog.Logger, cfg config, hub *rooms.Hub, live *live) http.Handler {
	stylesheet, script := assets.Path("app.css"), assets.Path("app.js")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, tags, window := live.snapshot()
		m := views.PageModel{
			Title:          "Tweet Streamer",
			Source:         cfg.source,
			Trends:         trendItems(hub.Summaries()),
			MaxColumns:     cfg.maxRooms,
			Trending:       tags,
			TrendingWindow: window,
			StylesheetURL:  stylesheet,
			ScriptURL:      script,
		}
		if status != nil {
			m.SourceStatus = views.NewSourceBanner(cfg.source, *status)
		}
		q := r.URL.Query()
		m.Big = q.Get("big") == "1"
		seen := map[string]bool{}
		var dropped []string
		for _, v := range q["open"] {
			for _, name := range strings.Split(v, ",") {
				if strings.TrimSpace(name) == "" {
					continue
				}
				room, err := stream.NormalizeTrend(name)
				if err != nil {
					// The follow box submits ?open, so its refusal goes
					// beside the box.
					m.FollowError = err.Error()
					continue
				}
				if seen[room] {
					continue
				}
				seen[room] = true
				if len(m.Columns) == cfg.maxRooms {
					dropped = append(dropped, room)
					continue
				}
				m.Columns = append(m.Columns, columnModel(hub, room))
			}
		}
		if len(dropped) > 0 {
			m.Notice = fmt.Sprintf("A page can follow at most %d trends at once, so %s %s not opened: close a column first.",
				cfg.maxRooms, strings.Join(dropped, ", "), plural(len(dropped), "was", "were"))
		}
		render(w, r, logger, http.StatusOK, views.Page(m))
	})
}

// handleColumn renders one column as a fragment, for the script to insert
// before it joins the room with the embedded epoch and seq.
func handleColumn(logger *slog.Logger, hub *rooms.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		room, err := stream.NormalizeTrend(r.URL.Query().Get("room"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		render(w, r, logger, http.StatusOK, views.Column(columnModel(hub, room)))
	})
}

// handleHealthz answers 200 while the server is serving, with the source's
// state for a human or a probe to read: the ingester's view, and for a live
// source its upstream's (connected, backing off until when, failed and why)
// and its own counters.
func handleHealthz(cfg config, ingester *stream.Ingester, live *live) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := ingester.Stats()
		source := map[string]any{
			"name": cfg.source, "state": s.State, "last_error": s.LastError,
			"received": s.Received, "matched": s.Matched, "unmatched": s.Unmatched, "restarts": s.Restarts,
		}
		if upstream, _, _ := live.snapshot(); upstream != nil {
			source["upstream"] = upstream
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "source": source})
	})
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func columnModel(hub *rooms.Hub, room string) views.ColumnModel {
	snap, ok := hub.Snapshot(room)
	if !ok {
		return views.ColumnModel{Room: room}
	}
	tweets := make([]views.CardItem, len(snap.Tweets))
	for i, it := range snap.Tweets {
		tweets[i] = views.CardItem{Seq: it.Seq, Tweet: it.Tweet, Matched: it.Matched}
	}
	return views.ColumnModel{
		Room: snap.Room, Epoch: snap.Epoch, Seq: snap.Seq,
		Members: snap.Members, PerMinute: snap.PerMinute, Tweets: tweets,
	}
}

func trendItems(summaries []rooms.Summary) []views.TrendItem {
	items := make([]views.TrendItem, len(summaries))
	for i, s := range summaries {
		items[i] = views.TrendItem{Name: s.Room, Members: s.Members, PerMinute: s.PerMinute, Custom: s.Custom}
	}
	return items
}

// render renders c into a buffer first, so that a failed render sends a
// plain 500 rather than half a page.
func render(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		logger.Error("rendering a page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
