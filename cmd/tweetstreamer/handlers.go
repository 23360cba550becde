package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
			Source:         live.sourceName(),
			MaxColumns:     cfg.maxRooms,
			Trending:       tags,
			TrendingWindow: window,
			StylesheetURL:  stylesheet,
			ScriptURL:      script,
		}
		if status != nil {
			m.SourceStatus = views.NewSourceBanner(m.Source, *status)
		}
		m.Big = r.URL.Query().Get("big") == "1"
		seen := map[string]bool{}
		var dropped, refused []string
		for _, name := range openedRooms(r.URL.RawQuery) {
			if strings.TrimSpace(name) == "" {
				continue
			}
			room, err := stream.NormalizeTrend(name)
			if err != nil {
				// The follow box submits ?open, so its refusal goes
				// beside the box.
				msg, _ := refusal(logger, name, err)
				refused = append(refused, msg)
				continue
			}
			room = listedRoom(hub, room)
			if seen[room] {
				continue
			}
			seen[room] = true
			if len(m.Columns) == cfg.maxRooms {
				dropped = append(dropped, room)
				continue
			}
			col, err := columnModel(hub, r, room, mayFollow(r, "document"))
			if err != nil {
				msg, _ := refusal(logger, room, err)
				refused = append(refused, msg)
				continue
			}
			m.Columns = append(m.Columns, col)
		}
		// Listed after the columns, which may have added a trend.
		m.Trends = trendItems(hub.Summaries())
		m.FollowError = strings.Join(refused, "; ")
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
			msg, status := refusal(logger, room, err)
			http.Error(w, msg, status)
			return
		}
		col, err := columnModel(hub, r, listedRoom(hub, room), mayFollow(r, "empty"))
		if err != nil {
			msg, status := refusal(logger, room, err)
			http.Error(w, msg, status)
			return
		}
		render(w, r, logger, http.StatusOK, views.Column(col))
	})
}

// refusal says in words why a column could not be shown, and with what
// status: the trend set's refusal (full, a bad name) as a join gets it;
// anything else (the ingest node or NATS away) is logged, and the reader is
// told only that the trend is unavailable for now.
func refusal(logger *slog.Logger, room string, err error) (string, int) {
	e, ok := rooms.Refusal(err)
	switch {
	case !ok:
		logger.Warn("a column could not be shown", "room", room, "err", err)
		return fmt.Sprintf("%s is unavailable right now: try again in a moment", room), http.StatusServiceUnavailable
	case e.Code == rooms.CodeTooManyTrends:
		return e.Message, http.StatusConflict
	case e.Code == rooms.CodeBadRoom:
		return e.Message, http.StatusBadRequest
	default:
		return e.Message, http.StatusServiceUnavailable
	}
}

// handleHealthz answers 200 while the process is alive (it is liveness;
// whether a node can serve is /readyz's to say), with the source's state
// for a human or a probe to read. A web node, which runs no source, names
// its role only. README.md documents each field.
func handleHealthz(cfg config, ingester *stream.Ingester, live *live) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{"status": "ok", "role": cfg.role}
		if ingester != nil {
			s := ingester.Stats()
			upstream, _, _ := live.snapshot()
			state := sourceState(s, upstream)
			source := map[string]any{
				"name": cfg.source, "state": state, "last_error": s.LastError,
				"received": s.Received, "matched": s.Matched, "unmatched": s.Unmatched, "restarts": s.Restarts,
			}
			if upstream != nil {
				source["upstream"] = upstream
			}
			body["source"] = source
			body["status"] = healthStatus(state)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(body)
	})
}

// sourceState is the one state /healthz gives the source. While the
// ingester runs a source that reports its upstream, the upstream's state
// is the truth: the source is connected before its first post arrives, and
// backs off inside its own Stream, where the ingester sees neither. The
// ingester's state is the truth otherwise: for a source that reports none
// (the mock, a replay), and once the source ended, stopped or is waiting
// to be started again.
func sourceState(s stream.IngestStats, upstream *stream.SourceStatus) string {
	if upstream != nil && s.Running() {
		return string(upstream.State)
	}
	return s.State
}

// healthStatus sums the source's state up for the top of /healthz:
// "degraded" while the source waits to reach its upstream again or was
// refused, "ok" otherwise.
func healthStatus(sourceState string) string {
	switch stream.SourceState(sourceState) {
	case stream.SourceBackingOff, stream.SourceFailed:
		return "degraded"
	}
	return "ok"
}

// openedRooms returns the names in every ?open of a raw query, in order.
// A value lists names separated by a literal ",", each query-escaped, so a
// name may hold a comma (written %2C): the value is split before it is
// unescaped. A name that does not unescape is kept as it came, for
// NormalizeTrend to judge.
func openedRooms(rawQuery string) []string {
	var names []string
	for _, pair := range strings.Split(rawQuery, "&") {
		key, value, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err != nil || k != "open" {
			continue
		}
		for _, part := range strings.Split(value, ",") {
			if name, err := url.QueryUnescape(part); err == nil {
				part = name
			}
			names = append(names, part)
		}
	}
	return names
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listedRoom is the room to open for room: room itself, unless only its
// other spelling has one ("webdev" from "trending now" when "#webdev" is
// listed, or "#rust" typed when "rust" is). Both match the same tweets, so
// the listed room is used rather than a second one, as the script does
// for a tag (openTag in assets/app.js).
func listedRoom(hub *rooms.Hub, room string) string {
	other, ok := strings.CutPrefix(room, "#")
	if !ok {
		other = "#" + room
	}
	if hub.Has(room) || !hub.Has(other) {
		return room
	}
	return other
}

// mayFollow reports whether a request for a column may add its trend (see
// Hub.Open): a GET the browser makes as a page (dest "document") or as the
// script's fetch (dest "empty") of this site, or one from a client that
// does not say (curl, a feed reader). What a page of another site embeds
// (an image, a frame) or fetches, and a HEAD, only looks.
func mayFollow(r *http.Request, dest string) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if d := r.Header.Get("Sec-Fetch-Dest"); d != "" && d != dest {
		return false
	}
	if dest == "empty" {
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			return false
		}
	}
	return true
}

// columnModel is the column of room: followed, when follow is set (see
// Hub.Open), else as it is, empty when there is no room yet.
func columnModel(hub *rooms.Hub, r *http.Request, room string, follow bool) (views.ColumnModel, error) {
	var snap rooms.Snapshot
	if follow {
		var err error
		if snap, err = hub.Open(room, hub.ClientAddr(r)); err != nil {
			return views.ColumnModel{}, err
		}
	} else if s, ok := hub.Snapshot(room); ok {
		snap = s
	} else {
		return views.ColumnModel{Room: room}, nil
	}
	tweets := make([]views.CardItem, len(snap.Tweets))
	for i, it := range snap.Tweets {
		tweets[i] = views.CardItem{Seq: it.Seq, Tweet: it.Tweet, Matched: it.Matched}
	}
	return views.ColumnModel{
		Room: snap.Room, Epoch: snap.Epoch, Seq: snap.Seq,
		Members: snap.Members, PerMinute: snap.PerMinute, Tweets: tweets,
	}, nil
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
