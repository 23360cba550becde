package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream"
	"github.com/tweetstreamer/tweetstreamer/stream/twitter"
	"github.com/tweetstreamer/tweetstreamer/views"
)

// shutdownTimeout bounds the whole shutdown: the process exits within it
// even when a client does not answer the close.
const shutdownTimeout = 4 * time.Second

// run starts the server and blocks until ctx is done, then shuts down in
// order: the source stops, every WebSocket is closed with 1001 and its
// goroutines awaited, and the HTTP server drains. main calls it; tests call
// it to start and stop the real server. environ is the environment, as
// os.Environ returns it: the whole list, so that a TS_ variable naming no
// flag can be reported.
func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args[1:], environ, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level, _ := parseLevel(cfg.logLevel)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	for _, v := range cfg.strayEnv {
		if v.meant != "" {
			logger.Warn("an environment variable names no flag; ignored", "var", v.name, "did_you_mean", v.meant)
		} else {
			logger.Warn("an environment variable names no flag; ignored", "var", v.name)
		}
	}
	if cfg.record {
		return record(ctx, cfg, logger, stdout)
	}
	if len(cfg.ignored) > 0 {
		logger.Warn("flags this role does not use, ignored", "role", cfg.role, "flags", strings.Join(cfg.ignored, " "))
	}

	var n node
	if cfg.nats == "" {
		n, err = newSingleNode(cfg, logger)
	} else {
		n, err = newClusterNode(cfg, logger)
	}
	if err != nil {
		return err
	}
	defer n.close()
	return serve(ctx, cfg, logger, stdout, n)
}

// node is what one process runs: its HTTP handler, the ingester when it
// runs the source, the hubs whose loops it runs and whose connections it
// closes on shutdown, and the loops that go with them.
type node struct {
	handler  http.Handler
	ingester *stream.Ingester // nil on a web node
	hubs     []*rooms.Hub
	loops    []func(context.Context)
	// close releases what the node holds, after everything stopped.
	close func()
	// about says what the node serves, for the line at the start.
	about string
}

// newSingleNode is the default: everything in one process, the rooms in
// memory.
func newSingleNode(cfg config, logger *slog.Logger) (node, error) {
	trends, source, err := newTrendsAndSource(cfg, logger)
	if err != nil {
		return node{}, err
	}
	hub, err := newHub(cfg, logger, trends, nil)
	if err != nil {
		return node{}, err
	}
	live := newLive(hub, cfg, source, logger)
	ingester := &stream.Ingester{Source: source, Trends: trends, Publisher: hub, Logger: logger, Observe: live.observe}
	metrics := newMetricsHandler(metricsSources{source: cfg.source, ingester: ingester, status: live.status, hubs: []*rooms.Hub{hub}}, logger)
	return node{
		handler:  NewServer(logger, cfg, hub, ingester, live, readyAlways, metrics),
		ingester: ingester,
		hubs:     []*rooms.Hub{hub},
		loops:    []func(context.Context){live.run},
		close:    func() {},
		about:    fmt.Sprintf("source %s, %d trends", cfg.source, len(cfg.trends)),
	}, nil
}

// newHub returns the hub of a node that serves the page: in memory, or
// with broker, following the ingest node of a cluster.
func newHub(cfg config, logger *slog.Logger, trends rooms.TrendSet, broker rooms.Broker) (*rooms.Hub, error) {
	proxies, err := parsePrefixes(cfg.trustedProxies)
	if err != nil {
		return nil, err
	}
	return rooms.NewHub(rooms.Config{
		Trends:    trends,
		Broker:    broker,
		Following: broker != nil,
		Render:    views.CardHTML,
		RenderTrends: func(list []rooms.Summary) (string, error) {
			return views.HTML(views.TrendItems(trendItems(list), views.Links{}))
		},
		Logger:               logger,
		History:              cfg.history,
		MaxRoomsPerConn:      cfg.maxRooms,
		IdleTrendTTL:         cfg.idleTrendTTL,
		FlushInterval:        flushInterval(cfg.flushInterval),
		AllowedOrigins:       cfg.allowedOrigins,
		MaxConns:             cfg.maxConns,
		MaxConnsPerIP:        cfg.maxConnsPerIP,
		ClientIP:             clientIP(proxies),
		MaxCustomTrendsPerIP: customTrendsPerIP(cfg.maxCustomTrends),
		RoomlessTimeout:      cfg.roomlessTimeout,
		NoCompression:        !cfg.compress,
	})
}

// customTrendsPerIP maps the flag, where 0 means no client may add a
// trend, to rooms.Config, where that is rooms.NoCustomTrends.
func customTrendsPerIP(n int) int {
	if n == 0 {
		return rooms.NoCustomTrends
	}
	return n
}

// readyAlways is /readyz of a process that runs alone: serving is being
// ready.
func readyAlways() error { return nil }

// serve serves n on cfg.addr and blocks until ctx is done, then shuts down
// in order.
func serve(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer, n node) error {
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, cfg.allowedHosts, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           withAllowedHosts(cfg.allowedHosts, n.handler),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	// The ingester and the hubs' loops each get their own context, so that
	// shutdown can stop the source first. serve owns every goroutine it
	// starts and waits for them before it returns.
	ingestCtx, stopIngest := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIngest()
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	// The ingester stops first, on stopIngest; shutdown waits for it up
	// to its deadline before it closes the sockets, and wg.Wait for good.
	ingesting := make(chan struct{})
	wg.Go(func() {
		defer close(ingesting)
		if n.ingester != nil {
			_ = n.ingester.Run(ingestCtx)
		}
	})
	for _, hub := range n.hubs {
		wg.Go(func() { _ = hub.Run(hubCtx) })
	}
	for _, loop := range n.loops {
		wg.Go(func() { loop(hubCtx) })
	}

	fmt.Fprintf(stdout, "tweetstreamer: serving on %s (%s)\n", displayURL(ln.Addr()), n.about)
	if n.ingester != nil {
		logger.Info("serving", "addr", ln.Addr().String(), "role", cfg.role, "source", cfg.source)
	} else {
		logger.Info("serving", "addr", ln.Addr().String(), "role", cfg.role)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		runErr = fmt.Errorf("serving: %w", runErr)
	}

	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	stopIngest()
	select {
	case <-ingesting:
	case <-shutdownCtx.Done():
		logger.Warn("the source did not stop in time")
	}
	for _, hub := range n.hubs {
		if err := hub.Close(shutdownCtx); err != nil {
			logger.Warn("closing connections", "err", err)
		}
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("stopping the HTTP server", "err", err)
		_ = srv.Close()
	}
	stopHub()
	wg.Wait()
	logger.Info("stopped")
	return runErr
}

// record runs `tweetstreamer record`: the source, matched against the
// trends, into a file for the replay source, for cfg.duration or until ctx
// is done (an interrupted recording keeps what it has).
func record(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer) error {
	trends, source, err := newTrendsAndSource(cfg, logger)
	if err != nil {
		return err
	}
	rec, err := newRecorder(cfg.output, cfg.anonymise)
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	ingester := &stream.Ingester{Source: source, Trends: trends, Publisher: rec, Logger: logger}
	fmt.Fprintf(stdout, "tweetstreamer: recording %s tweets that match %s for %s to %s\n",
		cfg.source, strings.Join(trends.List(), ","), cfg.duration, cfg.output)
	recordCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	// A source that never connects would otherwise retry for the whole
	// -duration before the speaker learns so: the watch, which this call
	// owns and waits for, ends the recording early.
	var neverConnected error
	var watch sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(recordCtx)
	if sr, ok := source.(stream.StatusReporter); ok {
		watch.Go(func() {
			if neverConnected = awaitConnection(watchCtx, sr, ingester, recordConnectWithin); neverConnected != nil {
				cancel()
			}
		})
	}
	_ = ingester.Run(recordCtx)
	stopWatch()
	watch.Wait()
	kept, removed, err := rec.finish()
	if err != nil {
		return err
	}
	if neverConnected != nil && kept == 0 {
		_ = os.Remove(cfg.output)
		return fmt.Errorf("nothing recorded, and %s removed: %w", cfg.output, neverConnected)
	}
	stats := ingester.Stats()
	if kept == 0 {
		// A speaker must learn at home, not on stage, that the recording
		// is empty because the source never got through.
		reason := stats.LastError
		if sr, ok := source.(stream.StatusReporter); ok {
			if st := sr.Status(); st.State != stream.SourceConnected {
				reason = fmt.Sprintf("%s: %s", st.State, st.Reason)
			}
		}
		if reason != "" {
			_ = os.Remove(cfg.output)
			return fmt.Errorf("nothing recorded, and %s removed: the source failed (%s)", cfg.output, reason)
		}
	}
	fmt.Fprintf(stdout, "tweetstreamer: recorded %d tweets to %s (%d received, %d deleted by their authors and left out)\n",
		kept, cfg.output, stats.Received, removed)
	return nil
}

// recordConnectWithin is how long `record` waits for a live source to
// connect once before it gives up: long enough for a slow handshake and a
// few retries, short enough that a speaker without network learns it at
// once rather than at the end of -duration.
const recordConnectWithin = 30 * time.Second

// connectCheckEvery is how often awaitConnection looks at the source.
const connectCheckEvery = time.Second

// awaitConnection returns nil once source reports itself connected or the
// ingester has received anything from it, or when ctx is done; and an
// error saying so, with the source's last state and reason, if within
// passes first.
func awaitConnection(ctx context.Context, source stream.StatusReporter, ingester *stream.Ingester, within time.Duration) error {
	connected := func() bool {
		s := ingester.Stats()
		return source.Status().State == stream.SourceConnected || s.Received > 0 || s.Retracted > 0
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(connectCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if connected() {
				return nil
			}
		case <-deadline.C:
			if connected() {
				return nil
			}
			st := source.Status()
			return fmt.Errorf("the source never connected in %s (%s: %s)", within, st.State, st.Reason)
		}
	}
}

// newTrendsAndSource builds the trend set and the source that follows it.
func newTrendsAndSource(cfg config, logger *slog.Logger) (*stream.Trends, stream.Source, error) {
	trends, err := stream.NewTrends(cfg.trends, cfg.maxTrends)
	if err != nil {
		return nil, nil, usageError{err}
	}
	source, err := newSource(cfg, trends, logger)
	if err != nil {
		return nil, nil, err
	}
	return trends, source, nil
}

// newSource builds the configured source.
func newSource(cfg config, trends *stream.Trends, logger *slog.Logger) (stream.Source, error) {
	switch cfg.source {
	case "replay":
		src, err := stream.NewReplay(stream.ReplayConfig{Path: cfg.replayFile, Speed: cfg.replaySpeed, Loop: cfg.replayLoop, Logger: logger})
		if err != nil {
			return nil, usageError{fmt.Errorf("-replay-file: %w", err)}
		}
		return src, nil
	case "jetstream":
		src, err := jetstream.New(jetstream.Config{URL: cfg.jetstreamURL, ProfileURL: cfg.profileURL, Logger: logger})
		if err != nil {
			return nil, usageError{err}
		}
		return src, nil
	case "twitter":
		src, err := twitter.New(twitter.Config{
			Credentials:     *cfg.twitterCreds,
			Trends:          trends,
			StreamURL:       cfg.twitterStream,
			APIURL:          cfg.twitterAPI,
			WOEID:           cfg.twitterWOEID,
			RetrackInterval: cfg.retrackInterval,
			Logger:          logger,
		})
		if err != nil {
			return nil, usageError{err}
		}
		return src, nil
	case "mock":
		return stream.NewMock(stream.MockConfig{Trends: trends, Rate: cfg.mockRate, Seed: cfg.mockSeed}), nil
	default:
		return nil, usageError{fmt.Errorf("-source %s is not available in this build", cfg.source)}
	}
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("-log-level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

// displayURL is the address to open in a browser.
func displayURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		port := 0
		if ok {
			port = tcp.Port
		}
		return fmt.Sprintf("http://localhost:%d", port)
	}
	return "http://" + tcp.String()
}

// serveDebug serves the runtime profiles on their own address, kept apart
// from the public one so they are never exposed by accident, until the
// returned stop is called: it closes the server and waits for its
// goroutine, which serve owns through it. It answers only requests for an
// IP address, localhost or one of hosts, so that no page on a name rebound
// to this machine can read them.
func serveDebug(addr string, hosts []string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on -debug-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: onlyHosts(hosts, mux), ReadHeaderTimeout: 10 * time.Second}
	var serving sync.WaitGroup
	serving.Go(func() { _ = srv.Serve(ln) })
	logger.Info("serving profiles", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() {
		_ = srv.Close() // a profile being taken is cut: the process is stopping
		serving.Wait()
	}, nil
}

// flushInterval maps the flag, where 0 means "write at once" (what a
// reader of -h expects of a zero interval), to rooms.Config, where zero
// means the default, as for every field, and writing at once is
// rooms.FlushAtOnce.
func flushInterval(d time.Duration) time.Duration {
	if d == 0 {
		return rooms.FlushAtOnce
	}
	return d
}
