package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Timing rules of a run. Together they keep a run within runCap:
// connecting takes clients/connect-rate plus at most setupSlack, the window
// -duration, and the closing at most stopWait, and setupSlack + stopWait
// is less than the 30 s runCap allows beyond the first two.
const (
	// paceTick is how often the pacer opens the connections that are due:
	// short enough that the opening is smooth, long enough to cost nothing.
	paceTick = 10 * time.Millisecond
	// reportEvery is the period of the progress line.
	reportEvery = time.Second
	// setupSlack is how long, past the time pacing needs, the run waits for
	// every client to join before it starts the window with those that did.
	setupSlack = 20 * time.Second
	// stopWait is how long the run waits for the clients to close; it must
	// exceed closeWait, the longest a client waits for the server's answer.
	stopWait = closeWait + 2*time.Second
	// probeWait bounds fetching the trend list before the run.
	probeWait = 5 * time.Second
)

// setupError is a run that could not start: no client could connect or
// join. The command exits with 1.
type setupError struct{ err error }

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

// run parses args (args[0] is the program's name), runs the load and
// writes the report to stdout, progress and problems to stderr. It returns
// when the run is over and every connection closed, or when ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args[1:], stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	start := time.Now()
	cpuStart := cpuTime()
	// The hard cap leaves stopWait for the clients to close.
	ctx, cancel := context.WithTimeout(ctx, cfg.runCap()-stopWait)
	defer cancel()

	header := http.Header{}
	if cfg.origin != "" {
		header.Set("Origin", cfg.origin)
	}
	dialer := &websocket.Dialer{
		// A fill of this buffer reads a frame's header with up to 16 KiB
		// after it in one system call: a typical frame whole (8 full tweets
		// are 9 KB, 8 seq ones under 1 KB), or several small ones queued;
		// the rest of a larger frame goes straight into the frame buffer
		// with one more. Every client holds one as long as it lives, and
		// the trend list it is sent on connect fills it: at 64 KiB, 10,000
		// idle clients held 640 MiB of them.
		ReadBufferSize: 16 << 10,
		// Clients write only small joins and their close; a pool lends
		// write buffers only while they write, so idle clients hold none.
		WriteBufferSize:  1 << 10,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: handshakeTimeout,
		// Off unless asked: inflating every frame costs this process more
		// than deflating costs the server, which deflates once a frame.
		EnableCompression: cfg.compress,
	}

	endpoint := cfg.endpoint()
	rooms, err := chooseRooms(ctx, cfg, endpoint, dialer, header, stderr)
	if err != nil {
		return err
	}
	cfg.rooms = len(rooms)
	f := newFleet(stderr)
	clients := make([]*client, cfg.clients)
	for i := range clients {
		clients[i] = newClient(i < cfg.slow, roomsFor(i, cfg.perClient, rooms), f)
	}

	// Every client goroutine is started by the loop below, stopped through
	// clientsCtx and awaited through wg (for stopWait at most) before run
	// returns.
	clientsCtx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	var wg sync.WaitGroup

	pace := time.NewTicker(paceTick)
	defer pace.Stop()
	tick := time.NewTicker(reportEvery)
	defer tick.Stop()
	prog := newProgress(stderr, start, cfg.clients)
	setupDeadline := start.Add(connectTime(cfg.clients, cfg.connectRate) + setupSlack)

	var (
		started   int
		measuring bool
		complete  bool
		win       window
	)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-pace.C:
			due := min(cfg.clients, int(cfg.connectRate*now.Sub(start).Seconds())+1)
			for ; started < due; started++ {
				c := clients[started]
				wg.Go(func() { c.run(clientsCtx, dialer, endpoint, header) })
			}
			switch {
			case !measuring && (f.settled.Load() == int64(cfg.clients) || now.After(setupDeadline)):
				if f.joined.Load() == 0 {
					break loop // no client to measure: a setup failure
				}
				measuring = true
				win.open(now, cfg.warmup, f, clients)
			case measuring && now.Sub(win.start) >= cfg.duration:
				complete = true
				break loop
			}
		case now := <-tick.C:
			phase := "connecting"
			if measuring {
				phase = fmt.Sprintf("measuring %.0f/%.0fs", now.Sub(win.start).Seconds(), cfg.duration.Seconds())
			}
			prog.line(now, phase, f, collect(clients, measuring))
		}
	}
	end := time.Now()
	if measuring {
		win.close(end, f, clients)
	}
	stopClients()
	waitClients(&wg, stderr)

	if f.connected.Load() == 0 {
		return setupError{fmt.Errorf("no client could connect to %s%s", endpoint, errorSummary(f.errors.snapshot()))}
	}
	if f.joined.Load() == 0 {
		return setupError{fmt.Errorf("no client could join its rooms%s", errorSummary(f.errors.snapshot()))}
	}
	r := win.report(cfg, f, collect(clients, true))
	r.Complete = complete
	r.CPUPctRun = cpuPercent(cpuTime()-cpuStart, end.Sub(start))
	r.ConnectS = win.start.Sub(start).Seconds()
	if !measuring {
		r.ConnectS = end.Sub(start).Seconds()
	}
	writeTable(stdout, r)
	if cfg.json {
		return writeJSON(stdout, r)
	}
	return nil
}

// waitClients waits for every client to close, for stopWait at most: each
// client gives up on its own after closeWait, so only a bug outlasts it.
func waitClients(wg *sync.WaitGroup, stderr io.Writer) {
	done := make(chan struct{})
	// This goroutine ends with the last client; only a stuck client, which
	// the warning below reports, would leave it behind as the process exits.
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(stopWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		fmt.Fprintf(stderr, "loadgen: some clients had not closed after %v\n", stopWait)
	}
}

// window is the measured part of the run: what the counters held when it
// opened and closed.
type window struct {
	start, end           time.Time
	cpuStart, cpuEnd     time.Duration
	fastStart, slowStart uint64
	fastEnd, slowEnd     uint64
	wireStart, wireEnd   uint64
	warmup               time.Duration
}

func (w *window) open(now time.Time, warmup time.Duration, f *fleet, clients []*client) {
	t := collect(clients, false)
	w.start, w.cpuStart, w.warmup = now, cpuTime(), warmup
	w.fastStart, w.slowStart = t.fast.deliveries, t.slow.deliveries
	w.wireStart = t.fast.wireBytes + t.slow.wireBytes
	w.end, w.fastEnd, w.slowEnd, w.wireEnd = now, w.fastStart, w.slowStart, w.wireStart
	f.measureFrom.Store(now.Add(warmup).UnixNano())
}

func (w *window) close(now time.Time, f *fleet, clients []*client) {
	f.measureUntil.Store(now.UnixNano())
	t := collect(clients, false)
	w.end, w.cpuEnd = now, cpuTime()
	w.fastEnd, w.slowEnd = t.fast.deliveries, t.slow.deliveries
	w.wireEnd = t.fast.wireBytes + t.slow.wireBytes
}

func (w *window) report(cfg config, f *fleet, t tally) *report {
	d := w.end.Sub(w.start)
	r := &report{
		URL:   cfg.endpoint(),
		Tweet: cfg.tweet,
		Clients: clientCounts{
			Asked: cfg.clients, Connected: f.connected.Load(), Joined: f.joined.Load(), Slow: cfg.slow,
		},
		Rooms:     cfg.rooms,
		PerClient: cfg.perClient,
		DurationS: d.Seconds(),
		WarmupS:   w.warmup.Seconds(),
		Fast:      newGroupReport(t.fast, t.fastHist, w.fastEnd-w.fastStart, d),
		Slow:      newGroupReport(t.slow, t.slowHist, w.slowEnd-w.slowStart, d),
		Errors:    f.errors.snapshot(),
		CPUPct:    cpuPercent(w.cpuEnd-w.cpuStart, d),
	}
	if r.Errors == nil {
		r.Errors = map[string]uint64{}
	}
	for kind, n := range map[string]uint64{
		kindMalformed: t.fast.malformed + t.slow.malformed,
		kindUntimed:   t.fast.untimed + t.slow.untimed,
		kindStray:     t.fast.strays + t.slow.strays,
	} {
		if n > 0 {
			r.Errors[kind] += n
		}
	}
	for _, n := range r.Errors {
		r.ErrorsTotal += n
	}
	r.ParseFallbacks = t.fast.fallbacks + t.slow.fallbacks
	r.Compress, r.CompressedConns = cfg.compress, f.compressed.Load()
	r.WireBytes = t.fast.wireBytes + t.slow.wireBytes
	r.WireBytesWindow = w.wireEnd - w.wireStart
	if n := r.Fast.Deliveries + r.Slow.Deliveries; n > 0 {
		r.WireBytesPerDelivery = float64(r.WireBytesWindow) / float64(n)
	}
	r.TweetForms = map[string]uint64{}
	for form, n := range t.fast.forms {
		if n += t.slow.forms[form]; n > 0 {
			r.TweetForms[tweetForms[form]] = n
		}
	}
	return r
}

// errorSummary lists the errors for a setup failure's message.
func errorSummary(errs map[string]uint64) string {
	if len(errs) == 0 {
		return ""
	}
	var parts []string
	for _, kind := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", kind, errs[kind]))
	}
	return ": " + strings.Join(parts, ", ")
}

// roomsFor returns the rooms client i joins: per of them, consecutive
// modulo the list, so the clients spread evenly over every room.
func roomsFor(i, per int, rooms []string) []string {
	out := make([]string, per)
	for k := range out {
		out[k] = rooms[(i*per+k)%len(rooms)]
	}
	return out
}

// chooseRooms returns the -rooms rooms of the run. From -room-names, it
// warns about the names that the server does not announce: joining them
// adds them as custom trends. Otherwise it takes them from the trends
// the server announces, configured ones first, so that a run adds no
// trend: a -rooms above their number is a usage error.
func chooseRooms(ctx context.Context, cfg config, url string, dialer *websocket.Dialer, header http.Header, stderr io.Writer) ([]string, error) {
	announced, err := fetchTrends(ctx, dialer, url, header)
	if len(cfg.roomNames) > 0 {
		rooms := cfg.roomNames[:cfg.rooms]
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\nloadgen: a name of -room-names that the server does not have becomes a custom trend, %s\n", err, customTrendStays)
		} else if added := unannounced(rooms, announced); len(added) > 0 {
			fmt.Fprintf(stderr, "loadgen: the server does not have %s: joining makes a custom trend of each, %s\n",
				listSome(added, 3), customTrendStays)
		}
		return rooms, nil
	}
	if err != nil {
		return nil, setupError{err}
	}
	if len(announced) == 0 {
		return nil, setupError{errors.New("the server has no trends: give -room-names")}
	}
	names := make([]string, 0, len(announced))
	for _, custom := range []bool{false, true} {
		for _, t := range announced {
			if t.Custom == custom {
				names = append(names, t.Room)
			}
		}
	}
	n := cfg.rooms
	switch {
	case n == 0:
		n = len(names)
	case n > len(names):
		return nil, usageError{fmt.Errorf("-rooms %d: the server announces %d trends; "+
			"start it with %d, for example: go run ./cmd/tweetstreamer -trends \"$(seq -f 'load-%%04g' %d | paste -sd, -)\" -max-trends %d "+
			"(with a -mock-rate to load them), or name the rooms with -room-names", n, len(names), n, n, n)}
	}
	if cfg.perClient > n {
		return nil, usageError{fmt.Errorf("-per-client %d: the server announces %d trends", cfg.perClient, n)}
	}
	return names[:n], nil
}

// customTrendStays ends the warnings about the custom trends a run adds.
const customTrendStays = "which stay on its trend list (and its page) for its -idle-trend-ttl after the run (10 minutes by default)"

// unannounced returns the rooms that are none of the announced trends,
// as the server compares names: without regard to case.
func unannounced(rooms []string, announced []announcedTrend) []string {
	var out []string
	for _, room := range rooms {
		if !slices.ContainsFunc(announced, func(t announcedTrend) bool { return strings.EqualFold(t.Room, room) }) {
			out = append(out, room)
		}
	}
	return out
}

// listSome names the first n of names and counts the rest:
// "load-0001, load-0002, load-0003 and 97 more".
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// fetchTrends connects once to read the trend list the server sends first.
func fetchTrends(ctx context.Context, dialer *websocket.Dialer, url string, header http.Header) ([]announcedTrend, error) {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	conn, resp, err := dialer.DialContext(ctx, url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		hint := ""
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			hint = " (is the server running?)"
		case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
			hint = " (raise the limit with `ulimit -n 65536`)"
		case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
			hint = fmt.Sprintf(" (status %d; a 403 may want -origin)", resp.StatusCode)
		}
		return nil, fmt.Errorf("connecting to %s for the trend list: %w%s", url, err, hint)
	}
	defer conn.Close()
	defer func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}()
	_ = conn.SetReadDeadline(time.Now().Add(probeWait))
	conn.SetReadLimit(readLimit)
	for {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("reading the trend list from %s (or give -room-names): %w", url, err)
		}
		for line := range bytes.SplitSeq(frame, []byte("\n")) {
			var m message
			if parseMessage(line, &m) != nil || m.kind != kindTrends {
				continue
			}
			trends, err := parseTrendList(line)
			if err != nil {
				return nil, fmt.Errorf("reading the trend list from %s (or give -room-names): %w", url, err)
			}
			return trends, nil
		}
	}
}
