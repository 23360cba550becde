package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// totals sums the counters of one group of clients, fast or slow.
type totals struct {
	clients        int
	deliveries     uint64
	backlog        uint64
	lost           uint64
	backlogGaps    uint64
	skipped        uint64
	backlogSkipped uint64
	duplicates     uint64
	fallbacks      uint64
	malformed      uint64
	untimed        uint64
	strays         uint64
	forms          [formCount]uint64
	wireBytes      uint64
}

func (t *totals) add(s *clientStats) {
	t.clients++
	t.deliveries += s.deliveries.Load()
	t.backlog += s.backlog.Load()
	t.lost += s.lost.Load()
	t.backlogGaps += s.backlogGaps.Load()
	t.skipped += s.skipped.Load()
	t.backlogSkipped += s.backlogSkipped.Load()
	t.duplicates += s.duplicates.Load()
	t.fallbacks += s.fallbacks.Load()
	t.malformed += s.malformed.Load()
	t.untimed += s.untimed.Load()
	t.strays += s.strays.Load()
	t.wireBytes += s.wireBytes.Load()
	for f := range t.forms {
		t.forms[f] += s.forms[f].Load()
	}
}

// tally sums every client's counters, fast and slow apart. With latency,
// it also merges their histograms, which costs a pass over each client's
// buckets: done once a second and at the end, never on the hot path.
type tally struct {
	fast, slow         totals
	fastHist, slowHist *histogram
}

func collect(clients []*client, latency bool) tally {
	var t tally
	if latency {
		t.fastHist, t.slowHist = new(histogram), new(histogram)
	}
	for _, c := range clients {
		g, h := &t.fast, t.fastHist
		if c.slow {
			g, h = &t.slow, t.slowHist
		}
		g.add(&c.stats)
		if latency {
			h.add(&c.stats.latency)
		}
	}
	return t
}

// report is the final result, as the JSON line prints it.
type report struct {
	// URL is the endpoint as dialled, with the -tweet form in its query.
	URL string `json:"url"`
	// Tweet is the form asked for; TweetForms counts the tweet messages
	// of the run, backlog included, by the form they came in: full only,
	// whatever was asked, from a server that does not know the parameter.
	Tweet      string            `json:"tweet"`
	TweetForms map[string]uint64 `json:"tweet_forms"`
	Clients    clientCounts      `json:"clients"`
	Rooms      int               `json:"rooms"`
	PerClient  int               `json:"per_client"`
	// ConnectS is the time from start until every client had joined (or
	// failed): when the window started.
	ConnectS float64 `json:"connect_s"`
	// DurationS is the window as it ran: -duration, unless interrupted.
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	// Complete is false when the run was interrupted or hit its time cap
	// before the window ended.
	Complete bool        `json:"complete"`
	Fast     groupReport `json:"fast"`
	Slow     groupReport `json:"slow"`
	// Errors counts errors by kind; ErrorsTotal adds them up.
	Errors         map[string]uint64 `json:"errors"`
	ErrorsTotal    uint64            `json:"errors_total"`
	ParseFallbacks uint64            `json:"parse_fallbacks"`
	// WireBytes counts what the clients read from their sockets over the
	// run, WireBytesWindow within the window; WireBytesPerDelivery divides
	// the window's bytes by its deliveries, fast and slow, so it includes
	// frame headers and the messages that are not tweets.
	WireBytes            uint64  `json:"wire_bytes"`
	WireBytesWindow      uint64  `json:"wire_bytes_window"`
	WireBytesPerDelivery float64 `json:"wire_bytes_per_delivery"`
	// Compress says whether permessage-deflate was offered, and
	// CompressedConns how many handshakes accepted it.
	Compress        bool  `json:"compress"`
	CompressedConns int64 `json:"compressed_conns"`
	// CPUPct is this process's user+sys CPU time over the window's wall
	// time, in percent of one core; CPUPctRun is the same over the run.
	CPUPct    float64 `json:"loadgen_cpu_pct"`
	CPUPctRun float64 `json:"loadgen_cpu_pct_run"`
}

type clientCounts struct {
	Asked     int   `json:"asked"`
	Connected int64 `json:"connected"`
	Joined    int64 `json:"joined"`
	Slow      int   `json:"slow"`
}

// groupReport is one group of clients, fast or slow.
type groupReport struct {
	Clients int `json:"clients"`
	// Deliveries are live tweets received in the window, and PerSecond
	// divides them by it; DeliveriesRun counts them over the whole run.
	Deliveries    uint64  `json:"deliveries"`
	PerSecond     float64 `json:"deliveries_per_s"`
	DeliveriesRun uint64  `json:"deliveries_run"`
	// Lost, Skipped and Duplicates cover the live tweets of the whole run.
	Lost       uint64 `json:"lost"`
	Skipped    uint64 `json:"skipped"`
	Duplicates uint64 `json:"duplicates"`
	// Backlog counts the tweets joins sent from history; BacklogGaps and
	// BacklogSkipped what was missing or skipped among them.
	Backlog        uint64        `json:"backlog"`
	BacklogGaps    uint64        `json:"backlog_gaps"`
	BacklogSkipped uint64        `json:"backlog_skipped"`
	Latency        latencyReport `json:"latency_ms"`
}

type latencyReport struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
}

func newLatencyReport(h *histogram) latencyReport {
	ms := func(us uint64) float64 { return float64(us) / 1000 }
	return latencyReport{
		Samples: h.count,
		P50:     ms(h.quantileUS(0.50)),
		P90:     ms(h.quantileUS(0.90)),
		P99:     ms(h.quantileUS(0.99)),
		Max:     ms(h.maxUS),
	}
}

// newGroupReport builds a group's figures from its totals at the end and
// its deliveries when the window opened and closed.
func newGroupReport(end totals, h *histogram, windowDeliveries uint64, window time.Duration) groupReport {
	g := groupReport{
		Clients:        end.clients,
		Deliveries:     windowDeliveries,
		DeliveriesRun:  end.deliveries,
		Lost:           end.lost,
		Skipped:        end.skipped,
		Duplicates:     end.duplicates,
		Backlog:        end.backlog,
		BacklogGaps:    end.backlogGaps,
		BacklogSkipped: end.backlogSkipped,
		Latency:        newLatencyReport(h),
	}
	if window > 0 {
		g.PerSecond = float64(windowDeliveries) / window.Seconds()
	}
	return g
}

// The table's columns: labels on the left, then one right-aligned column
// per group of clients.
const (
	labelWidth = 26
	cellWidth  = 16
)

// writeTable prints the report for people.
func writeTable(w io.Writer, r *report) {
	fmt.Fprintf(w, "\nloadgen: %s, %d rooms, %d per client\n", r.URL, r.Rooms, r.PerClient)
	window := fmt.Sprintf("measured %.1fs (latency after the first %gs)", r.DurationS, r.WarmupS)
	if !r.Complete {
		window += ", cut short"
	}
	fmt.Fprintf(w, "connected and joined in %.1fs, %s\n", r.ConnectS, window)
	fmt.Fprintf(w, "clients: %d asked, %d connected, %d joined, %d slow\n",
		r.Clients.Asked, r.Clients.Connected, r.Clients.Joined, r.Clients.Slow)
	fmt.Fprintf(w, "tweets: the %s form asked for, %s received\n", r.Tweet, formSummary(r.TweetForms))
	if r.TweetForms[r.Tweet] == 0 && r.TweetForms["full"] > 0 {
		fmt.Fprintln(w, "  the server sent full tweets: it does not know ?tweet=")
	}
	fmt.Fprintln(w)

	groups := []groupReport{r.Fast}
	header := fmt.Sprintf("%-*s%*s", labelWidth, "", cellWidth, "fast clients")
	if r.Clients.Slow > 0 {
		groups = append(groups, r.Slow)
		header += fmt.Sprintf("%*s", cellWidth, "slow clients")
	}
	fmt.Fprintln(w, header)
	row := func(name string, cell func(g groupReport) string) {
		fmt.Fprintf(w, "%-*s", labelWidth, name)
		for _, g := range groups {
			fmt.Fprintf(w, "%*s", cellWidth, cell(g))
		}
		fmt.Fprintln(w)
	}
	untimable := r.cardsOnly()
	latency := func(v func(l latencyReport) float64) func(g groupReport) string {
		return func(g groupReport) string {
			switch {
			case g.Latency.Samples == 0 && untimable:
				return "n/a"
			case g.Latency.Samples == 0:
				return "-"
			}
			return strconv.FormatFloat(v(g.Latency), 'f', 3, 64) + " ms"
		}
	}
	row("clients", func(g groupReport) string { return commas(uint64(g.Clients)) })
	row("deliveries in the window", func(g groupReport) string { return commas(g.Deliveries) })
	row("deliveries/s", func(g groupReport) string { return commas(uint64(g.PerSecond + 0.5)) })
	row("latency p50", latency(func(l latencyReport) float64 { return l.P50 }))
	row("latency p90", latency(func(l latencyReport) float64 { return l.P90 }))
	row("latency p99", latency(func(l latencyReport) float64 { return l.P99 }))
	row("latency max", latency(func(l latencyReport) float64 { return l.Max }))
	row("latency samples", func(g groupReport) string { return commas(g.Latency.Samples) })
	row("deliveries in the run", func(g groupReport) string { return commas(g.DeliveriesRun) })
	row("lost (seq gaps)", func(g groupReport) string { return commas(g.Lost) })
	row("skipped by the server", func(g groupReport) string { return commas(g.Skipped) })
	row("duplicates", func(g groupReport) string { return commas(g.Duplicates) })
	row("backlog tweets", func(g groupReport) string { return commas(g.Backlog) })
	row("backlog gaps/skipped", func(g groupReport) string {
		return commas(g.BacklogGaps) + " / " + commas(g.BacklogSkipped)
	})

	if untimable {
		fmt.Fprintln(w, "latency n/a: card messages carry no ingested_at, so -tweet card measures no latency")
	}

	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "\nerrors: none")
	} else {
		fmt.Fprintf(w, "\nerrors: %s\n", commas(r.ErrorsTotal))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, kind := range slices.Sorted(maps.Keys(r.Errors)) {
			fmt.Fprintf(tw, "  %s\t%s\n", kind, commas(r.Errors[kind]))
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "parse fallbacks: %s\n", commas(r.ParseFallbacks))
	fmt.Fprintf(w, "wire bytes: %s per delivery in the window, %s in the run\n",
		commas(uint64(r.WireBytesPerDelivery+0.5)), commas(r.WireBytes))
	switch {
	case r.Compress:
		fmt.Fprintf(w, "compression: offered, %s of %s connections negotiated permessage-deflate\n",
			commas(uint64(r.CompressedConns)), commas(uint64(r.Clients.Connected)))
	case r.CompressedConns > 0:
		fmt.Fprintf(w, "compression: not offered, yet %s connections negotiated it\n", commas(uint64(r.CompressedConns)))
	default:
		fmt.Fprintln(w, "compression: not offered (-compress)")
	}
	fmt.Fprintf(w, "loadgen CPU: %.0f%% of one core in the window, %.0f%% over the run (user+sys / wall)\n",
		r.CPUPct, r.CPUPctRun)
	if r.CPUPct >= 90 {
		fmt.Fprintln(w, "  the load generator was near saturation: the server may have been faster than these figures")
	}
}

// cardsOnly reports whether every tweet of the run came as a card, which
// carries no time to measure a latency from.
func (r *report) cardsOnly() bool {
	for form, n := range r.TweetForms {
		if form != "card" && n > 0 {
			return false
		}
	}
	return r.TweetForms["card"] > 0
}

// formSummary lists the tweets received by form, in the order of -tweet's
// help: "full 1,200, seq 3".
func formSummary(forms map[string]uint64) string {
	var parts []string
	for _, name := range tweetForms {
		if n := forms[name]; n > 0 {
			parts = append(parts, name+" "+commas(n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeJSON prints the report as one line, the URL's & as it is.
func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// commas writes n with thousands separators.
func commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// progress writes the line printed every second.
type progress struct {
	w          io.Writer
	start      time.Time
	last       time.Time
	lastDeliv  uint64
	lastCPU    time.Duration
	clientsAll int
}

func newProgress(w io.Writer, start time.Time, clients int) *progress {
	return &progress{w: w, start: start, last: start, lastCPU: cpuTime(), clientsAll: clients}
}

// line prints one progress line; phase says where the run is.
func (p *progress) line(now time.Time, phase string, f *fleet, t tally) {
	deliv := t.fast.deliveries + t.slow.deliveries
	cpu := cpuTime()
	wall := now.Sub(p.last)
	rate := 0.0
	if wall > 0 {
		rate = float64(deliv-p.lastDeliv) / wall.Seconds()
	}
	p99 := "-"
	if t.fastHist != nil && t.fastHist.count > 0 {
		p99 = strconv.FormatFloat(float64(t.fastHist.quantileUS(0.99))/1000, 'f', 2, 64) + "ms"
	}
	errs := uint64(0)
	for _, n := range f.errors.snapshot() {
		errs += n
	}
	errs += t.fast.malformed + t.slow.malformed + t.fast.untimed + t.slow.untimed + t.fast.strays + t.slow.strays
	fmt.Fprintf(p.w, "loadgen: %6.1fs %-14s open %d/%d  joined %d  deliveries/s %s  p99 %s  lost %s  skipped %s  errors %s  cpu %.0f%%\n",
		now.Sub(p.start).Seconds(), phase, f.open.Load(), p.clientsAll, f.joined.Load(),
		commas(uint64(rate+0.5)), p99, commas(t.fast.lost+t.slow.lost), commas(t.fast.skipped+t.slow.skipped),
		commas(errs), cpuPercent(cpu-p.lastCPU, wall))
	p.last, p.lastDeliv, p.lastCPU = now, deliv, cpu
}
