package main

import (
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/rooms/natsbroker"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

// metricsSources is what a node's /metrics reads at each scrape. Every
// field but hubs may be nil: a web node runs no source, a process alone
// has no NATS link, and only a web node follows.
type metricsSources struct {
	// source names the source, the `source` label; ingester runs it and
	// status is its upstream's, for a live source.
	source   string
	ingester *stream.Ingester
	status   stream.StatusReporter
	// hubs are the node's hubs: their counts are summed, and the first
	// one's rooms are the rooms reported (on a node that sequences, the
	// sequencing hub's, which holds every room).
	hubs     []*rooms.Hub
	nats     *natsbroker.Conn
	follower *natsbroker.Follower
}

// newMetricsHandler serves the node's metrics in the Prometheus text
// format, from a registry of its own: tests run several servers in one
// process, and each must report its own.
func newMetricsHandler(src metricsSources, logger *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBuildInfo(),
		newNodeCollector(src),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
		// A metric that fails is left out; the others are still served.
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// newBuildInfo is tweetstreamer_build_info: 1, with the version of the
// binary and of the Go that built it as labels, so that a dashboard can
// tell which build each node runs.
func newBuildInfo() prometheus.Collector {
	version, revision, goVersion := "unknown", "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tweetstreamer_build_info",
		Help:        "Always 1; its labels name the build: version, vcs revision and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion},
	})
	g.Set(1)
	return g
}

// nodeCollector reads the node's counters and gauges at each scrape: the
// packages keep them, with atomic adds, and nothing is counted twice.
// Its labels take only values from bounded sets (the source's name, a
// disconnect reason, an error code, a state, an outcome), never a room's
// name: custom trends make those unbounded.
type nodeCollector struct {
	src metricsSources

	connections, opened, closed                *prometheus.Desc
	refused                                    *prometheus.Desc
	rooms, memberships                         *prometheus.Desc
	received, matched, routed                  *prometheus.Desc
	deliveries, frames, bytes                  *prometheus.Desc
	compressedConns, compressedMessages        *prometheus.Desc
	skipped, slow, recoveries, clientErrors    *prometheus.Desc
	sourceState, upstreamState                 *prometheus.Desc
	restarts, reconnects, lag                  *prometheus.Desc
	natsConnected, natsReconnects, fills, late *prometheus.Desc
}

func newNodeCollector(src metricsSources) *nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("tweetstreamer_"+name, help, labels, nil)
	}
	return &nodeCollector{
		src:                src,
		connections:        d("connections", "WebSocket connections open now."),
		opened:             d("connections_opened_total", "WebSocket connections accepted."),
		refused:            d("connections_refused_total", "WebSocket upgrades refused before the upgrade: the node full (-max-conns) or one address's limit (-max-conns-per-ip).", "reason"),
		closed:             d("connections_closed_total", "WebSocket connections ended, by the reason the server gives.", "reason"),
		rooms:              d("rooms", "Rooms this node holds now: configured trends, and custom ones added by a join or a page.", "kind"),
		memberships:        d("memberships", "Connections in rooms now, summed over the rooms: one connection in three rooms counts three."),
		received:           d("tweets_received_total", "Tweets the source produced.", "source"),
		matched:            d("tweets_matched_total", "Tweets that matched at least one trend.", "source"),
		routed:             d("tweets_routed_total", "Tweets published into rooms, once per room: a tweet that matched two trends counts two.", "source"),
		deliveries:         d("deliveries_total", "Live tweet messages queued for members: for each tweet a room got, its members not paused."),
		frames:             d("ws_frames_written_total", "WebSocket data frames written to clients; a frame carries one or more messages."),
		bytes:              d("ws_written_bytes_total", "Payload bytes of the WebSocket data frames written to clients, frame headers left out, compressed ones as sent."),
		compressedConns:    d("connections_compressed_total", "WebSocket connections accepted that negotiated permessage-deflate."),
		compressedMessages: d("messages_compressed_total", "Messages compressed to be shared by the connections that read compressed frames: a tweet once per room and variant."),
		skipped:            d("skipped_tweets_total", "Tweets reported to clients in skipped messages, whatever the cause."),
		slow:               d("slow_clients_total", "Clients that could not keep up: outcome skipped counts writes that found tweets dropped from a full queue; disconnected counts connections closed as too slow.", "outcome"),
		recoveries:         d("recoveries_total", "Joins with since, by whether everything since could be replayed.", "outcome"),
		clientErrors:       d("client_errors_total", "Error messages sent to clients, by protocol error code.", "code"),
		sourceState:        d("source_state", "1 for the ingester's state of the source: starting, streaming, backing_off, ended or stopped.", "source", "state"),
		upstreamState:      d("source_upstream_state", "1 for a live source's state with its upstream: connecting, connected, backing_off or failed.", "source", "state"),
		restarts:           d("source_restarts_total", "Times the ingester started the source again after it failed.", "source"),
		reconnects:         d("source_reconnects_total", "Connection attempts a live source made after its first: one per return after a loss, and one per backoff step while its upstream stays away.", "source"),
		lag:                d("source_lag_seconds", "Now less the newest created_at of the tweets received (capped at when each arrived): how far behind the stream the source is, or how long it has been quiet.", "source"),
		natsConnected:      d("nats_connected", "1 while the link to NATS is up, 0 while it is reconnecting."),
		natsReconnects:     d("nats_reconnects_total", "Times the link to NATS came back after a loss."),
		fills:              d("gap_fills_total", "Holes in a followed room's stream that this web node filled, by outcome: filled, skipped (some delivered as skipped) or reset (a new epoch).", "outcome"),
		late:               d("broadcast_latency_seconds", "From a tweet's ingestion to the write of the frame that carries it, once per frame, for the frame's oldest live tweet."),
	}
}

// Describe implements prometheus.Collector.
func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.connections, c.opened, c.closed, c.refused, c.rooms, c.memberships,
		c.received, c.matched, c.routed, c.deliveries, c.frames, c.bytes,
		c.compressedConns, c.compressedMessages,
		c.skipped, c.slow, c.recoveries, c.clientErrors,
		c.sourceState, c.upstreamState, c.restarts, c.reconnects, c.lag,
		c.natsConnected, c.natsReconnects, c.fills, c.late,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	m := c.hubMetrics()
	gauge(c.connections, float64(m.Connections))
	counter(c.opened, m.ConnectionsOpened)
	counter(c.refused, m.RefusedFull, "full")
	counter(c.refused, m.RefusedPerIP, "per_address")
	for name, n := range m.ConnectionsClosed {
		counter(c.closed, n, name)
	}
	gauge(c.rooms, float64(m.Rooms-m.CustomRooms), "configured")
	gauge(c.rooms, float64(m.CustomRooms), "custom")
	gauge(c.memberships, float64(m.Memberships))
	counter(c.deliveries, m.Deliveries)
	counter(c.frames, m.FramesWritten)
	counter(c.bytes, m.BytesWritten)
	counter(c.compressedConns, m.ConnectionsCompressed)
	counter(c.compressedMessages, m.MessagesCompressed)
	counter(c.skipped, m.SkippedTweets)
	counter(c.slow, m.SlowWrites, "skipped")
	counter(c.slow, m.ConnectionsClosed[rooms.DisconnectTooSlow.Name], "disconnected")
	counter(c.recoveries, m.Recovered, "recovered")
	counter(c.recoveries, m.NotRecovered, "not_recovered")
	for code, n := range m.ClientErrors {
		counter(c.clientErrors, n, code)
	}
	ch <- latencyHistogram(c.late, m.Latency)

	if in := c.src.ingester; in != nil {
		name := c.src.source
		s := in.Stats()
		counter(c.received, s.Received, name)
		counter(c.matched, s.Matched, name)
		counter(c.routed, m.TweetsRouted, name)
		counter(c.restarts, s.Restarts, name)
		gauge(c.sourceState, 1, name, strings.ReplaceAll(s.State, " ", "_"))
		if !s.NewestCreatedAt.IsZero() {
			gauge(c.lag, time.Since(s.NewestCreatedAt).Seconds(), name)
		}
		if c.src.status != nil {
			st := c.src.status.Status()
			gauge(c.upstreamState, 1, name, string(st.State))
			counter(c.reconnects, uint64(max(st.Counts[stream.CountReconnects], 0)), name)
		}
	}
	if nc := c.src.nats; nc != nil {
		s := nc.Metrics()
		connected := 0.0
		if s.Connected {
			connected = 1
		}
		gauge(c.natsConnected, connected)
		counter(c.natsReconnects, s.Reconnects)
	}
	if f := c.src.follower; f != nil {
		s := f.Metrics()
		counter(c.fills, s.Filled, "filled")
		counter(c.fills, s.Skipped, "skipped")
		counter(c.fills, s.Reset, "reset")
	}
}

// hubMetrics sums the counts of the node's hubs; the rooms are the first
// hub's (see metricsSources).
func (c *nodeCollector) hubMetrics() rooms.Metrics {
	var sum rooms.Metrics
	for i, h := range c.src.hubs {
		m := h.Metrics()
		if i == 0 {
			sum = m
			continue
		}
		sum.Add(m)
	}
	return sum
}

// latencyHistogram turns the hub's histogram into Prometheus's, whose
// buckets are cumulative and in seconds.
func latencyHistogram(d *prometheus.Desc, h rooms.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(rooms.LatencyBuckets))
	var cumulative uint64
	for i, bound := range rooms.LatencyBuckets {
		if i < len(h.Counts) {
			cumulative += h.Counts[i]
		}
		buckets[bound.Seconds()] = cumulative
	}
	if n := len(rooms.LatencyBuckets); n < len(h.Counts) {
		cumulative += h.Counts[n]
	}
	return prometheus.MustNewConstHistogram(d, cumulative, h.Sum.Seconds(), buckets)
}
