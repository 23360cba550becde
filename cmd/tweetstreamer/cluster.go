package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/rooms/natsbroker"
	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/views"
)

// newClusterNode builds a node of a cluster over NATS (-nats), for its
// -role: the ingest node runs the source and sequences the rooms; a web
// node serves the page and /ws from what the ingest node publishes; all
// runs both in one process, over NATS still.
func newClusterNode(cfg config, logger *slog.Logger) (node, error) {
	id := cfg.role + "-" + newNodeID()
	logger = logger.With("node", id)
	conn, err := natsbroker.Connect(cfg.nats, "tweetstreamer "+id, logger)
	if err != nil {
		return node{}, fmt.Errorf("-nats: %w", err)
	}
	n := node{close: conn.Close, about: fmt.Sprintf("%s node, NATS at %s", cfg.role, cfg.nats)}
	var ready []func() error
	var ingest ingestPart
	if cfg.role != "web" {
		if ingest, err = newIngestPart(cfg, logger, conn, id); err != nil {
			conn.Close()
			return node{}, err
		}
		n.ingester, n.hubs, n.loops = ingest.ingester, []*rooms.Hub{ingest.hub}, ingest.loops
		ready = append(ready, ingest.cluster.Ready)
		n.about += fmt.Sprintf(", source %s, %d trends", cfg.source, len(cfg.trends))
	}
	readyz := func() error {
		for _, r := range ready {
			if err := r(); err != nil {
				return err
			}
		}
		return nil
	}
	sources := metricsSources{source: cfg.source, ingester: ingest.ingester, nats: conn}
	if ingest.live != nil {
		sources.status = ingest.live.status
	}
	if cfg.role == "ingest" {
		sources.hubs = n.hubs
		mux := http.NewServeMux()
		addIngestRoutes(mux, cfg, ingest.ingester, ingest.live, readyz, newMetricsHandler(sources, logger))
		n.handler = withSecurityHeaders(mux)
		return n, nil
	}

	trends := natsbroker.NewTrends(conn)
	follower := natsbroker.NewFollower(conn, logger)
	hub, err := newHub(cfg, logger, trends, follower)
	if err != nil {
		conn.Close()
		return node{}, err
	}
	web := natsbroker.NewWeb(conn, trends, id, logger)
	ready = append(ready, web.Ready)
	n.hubs = append(n.hubs, hub)
	n.loops = append(n.loops, func(ctx context.Context) {
		if err := web.Run(ctx, hub); err != nil {
			logger.Error("following the ingest node", "err", err)
		}
	})
	live := ingest.live
	if live == nil {
		live = newRelayedLive(hub, web.Source)
	}
	sources.hubs, sources.follower = n.hubs, follower
	n.handler = NewServer(logger, cfg, hub, n.ingester, live, readyz, newMetricsHandler(sources, logger))
	return n, nil
}

// ingestPart is what an ingest node runs.
type ingestPart struct {
	ingester *stream.Ingester
	hub      *rooms.Hub
	live     *live
	cluster  *natsbroker.Ingest
	loops    []func(context.Context)
}

// newIngestPart builds the source, the matcher and the sequencing: a hub
// with no page and no /ws, whose broker publishes every room on NATS.
func newIngestPart(cfg config, logger *slog.Logger, conn *natsbroker.Conn, id string) (ingestPart, error) {
	trends, source, err := newTrendsAndSource(cfg, logger)
	if err != nil {
		return ingestPart{}, err
	}
	seq := natsbroker.NewSequencer(conn, cfg.history, logger)
	hub, err := rooms.NewHub(rooms.Config{
		Trends:       trends,
		Broker:       seq,
		Render:       views.CardHTML,
		Logger:       logger,
		History:      cfg.history,
		IdleTrendTTL: cfg.idleTrendTTL,
	})
	if err != nil {
		return ingestPart{}, err
	}
	live := newLive(hub, cfg, source, logger)
	cluster := natsbroker.NewIngest(conn, seq, hub, id, cfg.source, logger)
	return ingestPart{
		ingester: &stream.Ingester{Source: source, Trends: trends, Publisher: hub, Logger: logger, Observe: live.observe},
		hub:      hub,
		live:     live,
		cluster:  cluster,
		loops: []func(context.Context){live.run, func(ctx context.Context) {
			if err := cluster.Run(ctx); err != nil {
				logger.Error("serving the web nodes", "err", err)
			}
		}},
	}, nil
}

// newNodeID names this process among the cluster's nodes: random, so a
// restarted node is a new one.
func newNodeID() string { return strings.ToLower(rand.Text()[:8]) }

// handleReadyz answers 200 while the node can serve correctly, and 503 with
// the reason while it cannot (NATS lost, the ingest node silent); unlike
// /healthz, which says only that the process is alive.
func handleReadyz(ready func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %s\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}
